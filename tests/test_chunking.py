"""Passages: bounded size, message boundaries kept, nothing lost, a small overlap."""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from api.importers.model import Conversation, Message
from api.pipeline.chunking import MAX_TOKENS, count_tokens, split_text
from api.pipeline.ingest import passages_of


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def test_short_text_is_one_passage() -> None:
    assert split_text("Just a short answer.") == ["Just a short answer."]


def test_long_text_splits_at_paragraphs_then_sentences_with_overlap() -> None:
    paragraphs = [
        " ".join(f"Sentence {p}.{s} says something useful." for s in range(12)) for p in range(6)
    ]
    passages = split_text("\n\n".join(paragraphs))
    assert len(passages) > 1
    assert all(count_tokens(p) <= MAX_TOKENS for p in passages)
    # Every sentence survives, whole, in some passage.
    for p in range(6):
        for s in range(12):
            assert any(f"Sentence {p}.{s} says something useful." in x for x in passages)
    # Consecutive passages share their seam.
    for first, second in itertools.pairwise(passages):
        assert words(second)[:3] != [] and " ".join(words(second)[:4]) in " ".join(words(first))


def test_text_without_boundaries_is_cut_hard() -> None:
    blob = "x" * 10 + " " + "y" * 5
    assert split_text(blob, max_tokens=1, overlap_tokens=0) == ["x" * 10, "y" * 5]
    cjk = "日本語の文章" * 100  # no spaces, no sentence ends
    passages = split_text(cjk)
    assert "".join(passages) == cjk
    assert all(count_tokens(p) <= MAX_TOKENS for p in passages)


def test_passages_follow_message_boundaries() -> None:
    conversation = Conversation(
        kind="text",
        platform="notes",
        title="t",
        messages=[
            Message(role="user", text="question " * 5),
            Message(role="assistant", text="answer. " * 400),
        ],
    )
    passages = passages_of(conversation)
    assert passages[0].message_index == 0 and passages[0].role == "user"
    assert {p.message_index for p in passages[1:]} == {1}
    assert [p.chunk_index for p in passages[1:]] == list(range(len(passages) - 1))


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=3000))
def test_no_text_is_lost_or_oversized(text: str) -> None:
    passages = split_text(text)
    assert all(p.strip() for p in passages)
    assert all(count_tokens(p) <= MAX_TOKENS for p in passages)
    joined = set(words(" ".join(passages)))
    assert set(words(text)) <= joined
