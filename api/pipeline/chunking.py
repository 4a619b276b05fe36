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

# count_tokens counts TOKEN's matches without making them (a regex match per token was most
# of an import's Python time): every character maps to its class, "a" for one that runs
# into a token with its word neighbours, "." for one that is a token by itself (CJK,
# symbols), " " for one that is in no token (whitespace); the tokens are then the "."s
# plus the runs of "a"s.
_RUN = re.compile(rf"[^\W{_CJK}]")
_ALONE = re.compile(rf"[{_CJK}]|[^\w\s]")
_CLASS_CACHE_MAX = 1 << 16  # distinct characters remembered: bounded for any input


def _class_of(char: str) -> str:
    return "a" if _RUN.fullmatch(char) else "." if _ALONE.fullmatch(char) else " "


class _Classes(dict[int, str]):
    """A str.translate table filled as characters are met (Unicode is too big to fill)."""

    def __missing__(self, code: int) -> str:
        value = _class_of(chr(code))
        if len(self) < _CLASS_CACHE_MAX:
            self[code] = value
        return value


_CLASSES = _Classes((i, _class_of(chr(i))) for i in range(128))
_ASCII_CLASSES = bytes(ord(_CLASSES[i]) for i in range(128)) + bytes(128)


def count_tokens(text: str) -> int:
    """len(TOKEN.findall(text)), without making the tokens (~9x faster on ASCII)."""
    if text.isascii():
        classes = text.encode().translate(_ASCII_CLASSES)
    else:
        classes = text.translate(_CLASSES).encode()
    runs = classes.count(b" a") + classes.count(b".a") + classes.startswith(b"a")
    return classes.count(b".") + runs


@dataclass(frozen=True, slots=True)
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


def _paragraphs(text: str) -> list[str]:
    return [p for p in (p.strip() for p in PARAGRAPH_BREAK.split(text)) if p]


def _units(paragraphs: list[str], max_tokens: int) -> list[Piece]:
    """Paragraphs, with paragraphs that are too long broken into sentences, and sentences
    that are too long cut hard."""
    units: list[Piece] = []
    for paragraph in paragraphs:
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


def split_counted(
    text: str, max_tokens: int = MAX_TOKENS, overlap_tokens: int = OVERLAP_TOKENS
) -> list[tuple[str, int]]:
    """split_text's passages, each with its count_tokens: the sum of its pieces' counts,
    since pieces are stripped and joined with whitespace, which no token spans."""
    paragraphs = _paragraphs(text)
    # Most messages fit in one passage: their paragraphs, joined (the loop below would
    # give the same, piece by piece).
    tokens = count_tokens(text)
    if tokens <= max_tokens:
        return [("\n\n".join(paragraphs), tokens)] if paragraphs else []
    units = _units(paragraphs, max_tokens)
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
    return [
        ("".join(_join(i, p) for i, p in enumerate(passage)), sum(p.tokens for p in passage))
        for passage in passages
    ]


def split_text(
    text: str, max_tokens: int = MAX_TOKENS, overlap_tokens: int = OVERLAP_TOKENS
) -> list[str]:
    """Passages of at most max_tokens (approximate) tokens. A passage after the first starts
    with the last sentences of the one before, up to overlap_tokens, so that a thought cut at a
    boundary is still found whole."""
    return [passage for passage, _ in split_counted(text, max_tokens, overlap_tokens)]


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
