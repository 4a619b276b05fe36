"""Split messages into passages: along message boundaries, long messages at paragraph and
then sentence boundaries, to a bounded token count with a small overlap."""

from __future__ import annotations

import re
from dataclasses import dataclass

# An approximate token: a CJK character, a run of other word characters, or one symbol.
# Close enough to a model tokenizer to keep passages inside all-MiniLM-L6-v2's 256 tokens.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Latin sentence ends need a following space; CJK full stops, ! and ? end one outright.
SENTENCE_END = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+|(?<=[\u3002\uff01\uff1f])")

MAX_TOKENS = 200
OVERLAP_TOKENS = 30


def count_tokens(text: str) -> int:
    return len(TOKEN.findall(text))


@dataclass(frozen=True)
class Piece:
    text: str
    tokens: int
    starts_paragraph: bool = True


def _hard_split(text: str, max_tokens: int) -> list[Piece]:
    """Cut text with no usable boundary at token boundaries."""
    spans = [m.span() for m in TOKEN.finditer(text)]
    pieces: list[Piece] = []
    for i in range(0, len(spans), max_tokens):
        group = spans[i : i + max_tokens]
        piece = text[group[0][0] : group[-1][1]].strip()
        if piece:
            pieces.append(Piece(piece, count_tokens(piece), starts_paragraph=not pieces))
    return pieces


def _units(text: str, max_tokens: int) -> list[Piece]:
    """Paragraphs, with paragraphs that are too long broken into sentences, and sentences
    that are too long cut hard."""
    units: list[Piece] = []
    for paragraph in PARAGRAPH_BREAK.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        tokens = count_tokens(paragraph)
        if tokens <= max_tokens:
            units.append(Piece(paragraph, tokens))
            continue
        first = True
        for sentence in SENTENCE_END.split(paragraph):
            sentence = sentence.strip()
            if not sentence:
                continue
            tokens = count_tokens(sentence)
            if tokens <= max_tokens:
                pieces = [Piece(sentence, tokens)]
            else:
                pieces = _hard_split(sentence, max_tokens)
            for piece in pieces:
                units.append(Piece(piece.text, piece.tokens, starts_paragraph=first))
                first = False
    return units


def split_text(
    text: str, max_tokens: int = MAX_TOKENS, overlap_tokens: int = OVERLAP_TOKENS
) -> list[str]:
    """Passages of at most max_tokens (approximate) tokens. A passage after the first starts
    with the last sentences of the one before, up to overlap_tokens, so that a thought cut at a
    boundary is still found whole."""
    units = _units(text, max_tokens)
    passages: list[list[Piece]] = []
    current: list[Piece] = []
    size = 0
    for unit in units:
        if current and size + unit.tokens > max_tokens:
            passages.append(current)
            current = _tail(current, min(overlap_tokens, max_tokens - unit.tokens))
            size = sum(p.tokens for p in current)
        current.append(unit)
        size += unit.tokens
    if current:
        passages.append(current)
    return ["".join(_join(i, p) for i, p in enumerate(passage)) for passage in passages]


def _tail(passage: list[Piece], budget: int) -> list[Piece]:
    """The last whole sentences of a passage, at most budget tokens: the overlap."""
    tail: list[Piece] = []
    used = 0
    for piece in reversed(passage):
        for sentence in reversed(SENTENCE_END.split(piece.text)):
            tokens = count_tokens(sentence)
            if not sentence.strip():
                continue
            if used + tokens > budget:
                return tail
            tail.insert(0, Piece(sentence.strip(), tokens, starts_paragraph=False))
            used += tokens
    return tail


def _join(position: int, piece: Piece) -> str:
    if position == 0:
        return piece.text
    return ("\n\n" if piece.starts_paragraph else " ") + piece.text
