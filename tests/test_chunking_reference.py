"""The fast chunking gives exactly what the straightforward one gave: passages are
content-addressed, so a byte of difference would make a re-import write every source again.

The reference below is the algorithm as it was before count_tokens stopped making its
tokens and split_text stopped counting each passage twice; it is kept here, not in api/."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.importers.inputs import DEFAULT_LIMITS, collect
from api.importers.model import Conversation
from api.pipeline.chunking import (
    PARAGRAPH_BREAK,
    SENTENCE_END,
    TOKEN,
    count_tokens,
    split_counted,
    split_text,
)
from api.pipeline.ingest import parsed
from tests.conftest import FIXTURES, SAMPLES

Unit = tuple[str, int, bool]  # text, tokens, starts a paragraph


def reference_count(text: str) -> int:
    return len(TOKEN.findall(text))


def _reference_hard_split(text: str, max_tokens: int) -> list[Unit]:
    spans = [m.span() for m in TOKEN.finditer(text)]
    pieces: list[Unit] = []
    for i in range(0, len(spans), max_tokens):
        group = spans[i : i + max_tokens]
        piece = text[group[0][0] : group[-1][1]].strip()
        if piece:
            pieces.append((piece, reference_count(piece), not pieces))
    return pieces


def _reference_units(text: str, max_tokens: int) -> list[Unit]:
    units: list[Unit] = []
    for paragraph in PARAGRAPH_BREAK.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        tokens = reference_count(paragraph)
        if tokens <= max_tokens:
            units.append((paragraph, tokens, True))
            continue
        first = True
        for sentence in SENTENCE_END.split(paragraph):
            sentence = sentence.strip()
            if not sentence:
                continue
            tokens = reference_count(sentence)
            if tokens <= max_tokens:
                pieces = [(sentence, tokens, True)]
            else:
                pieces = _reference_hard_split(sentence, max_tokens)
            for text_, tokens_, _ in pieces:
                units.append((text_, tokens_, first))
                first = False
    return units


def _reference_tail(passage: list[Unit], budget: int) -> list[Unit]:
    tail: list[Unit] = []
    used = 0
    for text, _, _ in reversed(passage):
        for sentence in reversed(SENTENCE_END.split(text)):
            tokens = reference_count(sentence)
            if not sentence.strip():
                continue
            if used + tokens > budget:
                return tail
            tail.insert(0, (sentence.strip(), tokens, False))
            used += tokens
    return tail


def reference_split(text: str, max_tokens: int = 200, overlap_tokens: int = 30) -> list[str]:
    passages: list[list[Unit]] = []
    current: list[Unit] = []
    size = 0
    for unit in _reference_units(text, max_tokens):
        if current and size + unit[1] > max_tokens:
            passages.append(current)
            current = _reference_tail(current, min(overlap_tokens, max_tokens - unit[1]))
            size = sum(u[1] for u in current)
        current.append(unit)
        size += unit[1]
    if current:
        passages.append(current)
    return [
        "".join(u[0] if i == 0 else ("\n\n" if u[2] else " ") + u[0] for i, u in enumerate(p))
        for p in passages
    ]


SETTINGS = [(200, 30), (20, 5), (50, 30), (1, 0)]


def assert_same(text: str) -> None:
    assert count_tokens(text) == reference_count(text)
    for max_tokens, overlap in SETTINGS:
        expected = reference_split(text, max_tokens, overlap)
        counted = split_counted(text, max_tokens, overlap)
        assert [p for p, _ in counted] == expected
        assert [n for _, n in counted] == [reference_count(p) for p in expected]
        assert split_text(text, max_tokens, overlap) == expected


def test_every_character_counts_as_the_token_pattern_says() -> None:
    """Each code point's class: between two letters it makes 1 token if it joins their run,
    3 if it is a token alone, 2 if it is in none. One by one in the BMP, beyond it (where
    the code is the same) block by block."""
    for code in range(0x10000):
        probe = f"a{chr(code)}a"
        assert count_tokens(probe) == reference_count(probe), hex(code)
    for start in range(0x10000, 0x110000, 4096):
        probe = " ".join(f"a{chr(c)}a" for c in range(start, start + 4096))
        assert count_tokens(probe) == reference_count(probe), hex(start)


# Characters where the patterns' edges are: Unicode whitespace that str.strip and \s
# both know, sentence ends (Latin and CJK), CJK and Hangul, symbols, emoji, a surrogate.
EDGES = (
    " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000.!?\u3002\uff01\uff1f・、日本語한글aé_9-'\"😀\ud800"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(EDGES) | st.characters(), max_size=2500))
def test_generated_text_splits_as_before(text: str) -> None:
    assert_same(text)


def test_long_mixed_text_splits_as_before() -> None:
    rng = random.Random(7)
    words = ["word", "日本語の文章。", "Satz.", "emoji😀!", "x" * 300, "\n\n", "\n \n", "?", " "]
    for _ in range(20):
        assert_same(" ".join(rng.choice(words) for _ in range(rng.randrange(1, 400))))


def _message_texts(root: Path) -> list[str]:
    items = parsed(collect([root], DEFAULT_LIMITS))
    conversations = [i for i in items if isinstance(i, Conversation)]
    return [m.text for c in conversations for m in [*c.messages, *c.alternatives]]


def test_fixture_messages_split_as_before() -> None:
    texts = _message_texts(FIXTURES)
    assert len(texts) > 50
    for text in texts:
        assert_same(text)


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is not present")
def test_real_sample_messages_split_as_before() -> None:
    texts = _message_texts(SAMPLES)
    assert len(texts) > 50 and any(count_tokens(t) > 200 for t in texts)
    for text in texts:
        assert_same(text)
