"""A saved YouTube transcript file (timedtext XML) imports as a YouTube transcript in timed
passages, not as a note of raw XML; a broken one fails with a one-line reason."""

from __future__ import annotations

import pytest

from api.importers.detect import parse
from api.importers.inputs import Input
from api.importers.model import Conversation, ItemError
from tests.conftest import FIXTURES, SAMPLES


def test_a_timedtext_file_is_a_youtube_transcript() -> None:
    path = FIXTURES / "youtube" / "timedtext-en-asr.xml"
    [item] = list(parse(Input(path.name, path.read_bytes())))
    assert isinstance(item, Conversation)
    assert (item.kind, item.platform, item.title) == ("youtube", "youtube", "timedtext-en-asr")
    assert all(m.role == "speaker" for m in item.messages)
    assert "we're sharpening a chef's knife" in item.messages[0].text  # entities decoded
    assert "<text" not in item.messages[0].text
    assert item.messages[0].metadata["start"] == 0.0
    assert item.messages[-1].metadata["end"] > item.messages[0].metadata["end"]


@pytest.mark.skipif(not (SAMPLES / "youtube").is_dir(), reason="needs ../shared/samples")
def test_the_real_sample_transcript_drops_markup() -> None:
    path = SAMPLES / "youtube" / "youtube-transcript-api-transcript.xml"
    [item] = list(parse(Input(path.name, path.read_bytes())))
    assert isinstance(item, Conversation) and item.platform == "youtube"
    text = " ".join(m.text for m in item.messages)
    assert "this is not the original transcript" in text and "<i>" not in text


def test_a_broken_transcript_fails_with_a_reason() -> None:
    broken = b'<?xml version="1.0"?><transcript><text start="x">oops</text></transcript>'
    [item] = list(parse(Input("talk.xml", broken)))
    assert isinstance(item, ItemError)
    assert item.message == "talk.xml: not a readable YouTube transcript"
