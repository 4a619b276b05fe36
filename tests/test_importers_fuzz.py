"""Every parser, fed truncated, reordered, mutated and random bytes: a clear error
(ItemError), a skip or a valid conversation, never an exception; and what is written is
whole sources or nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.accounts.users import workspace_id
from api.db.session import Caller, Connection, transaction_as
from api.importers.detect import parse
from api.importers.inputs import Input, UrlItem
from api.importers.model import Conversation, Ignored, ItemError, Parsed, Skipped
from api.pipeline.chunking import count_tokens
from api.pipeline.ingest import import_conversations, passages_of
from tests.conftest import FIXTURES
from tests.test_importers_youtube import VIDEO, caption_tracks, player, replay_youtube

# (name the input goes by, its bytes): one per format and importer.
SOURCES: list[tuple[str, bytes]] = [
    (f"in/{path.name}", path.read_bytes())
    for path in [
        FIXTURES / "chatgpt" / "conversations.json",
        FIXTURES / "chatgpt" / "export-2025" / "conversations-000.json",
        FIXTURES / "chatgpt" / "export-2025" / "conversations-001.json",
        FIXTURES / "chatgpt-share" / "share-react-router.html",
        FIXTURES / "chatgpt-share" / "share-next-data.html",
        FIXTURES / "chatgpt-share" / "share-remix-2024.html",
        FIXTURES / "claude" / "conversations.json",
        FIXTURES / "claude" / "export-2025" / "conversations.json",
        FIXTURES / "claude" / "export-2025" / "projects.json",
        FIXTURES / "takeout" / "MyActivity.json",
        FIXTURES / "takeout" / "MyActivity-2025.json",
        *sorted((FIXTURES / "agents").rglob("*.json*")),
        FIXTURES / "takeout" / "MyActivity.html",
        FIXTURES / "pdf" / "field-guide.pdf",
        FIXTURES / "pdf" / "gemini-chat.pdf",
        FIXTURES / "html" / "cast-iron.html",
    ]
]
NAMES = ["notes.md", "conversations.json", "MyActivity.html", "page", "doc.pdf", "a.txt"]
KINDS = {
    "chatgpt_export", "chatgpt_share", "claude_export", "gemini_takeout", "gemini_pdf",
    "youtube", "pdf", "text", "markdown", "html", "agent_session",
}  # fmt: skip
PLATFORM = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(items: list[Parsed]) -> list[Conversation]:
    """Only the three outcomes, and every conversation fit to store."""
    assert items, "every input gives at least one outcome"
    conversations = []
    for item in items:
        assert isinstance(item, Conversation | ItemError | Skipped | Ignored), item
        if isinstance(item, ItemError):
            assert item.message.strip()
            continue
        if isinstance(item, Skipped | Ignored):
            continue
        assert item.kind in KINDS and PLATFORM.match(item.platform)
        assert isinstance(item.title, str) and item.messages
        passages = passages_of(item)
        assert passages and all(p.content.strip() and len(p.content) <= 100_000 for p in passages)
        assert all(count_tokens(p.content) == p.token_count for p in passages)
        json.dumps(item.metadata)
        for message in item.messages:
            json.dumps(message.metadata)
        conversations.append(item)
    return conversations


def run(name: str, data: bytes) -> list[Conversation]:
    return check(list(parse(Input(name, data))))


sources = st.sampled_from(SOURCES)


@FUZZ
@given(source=sources, cut=st.floats(0, 1))
def test_truncated_inputs(source: tuple[str, bytes], cut: float) -> None:
    name, data = source
    run(name, data[: int(len(data) * cut)])


@FUZZ
@given(source=sources, data=st.data())
def test_reordered_inputs(source: tuple[str, bytes], data: st.DataObject) -> None:
    name, raw = source
    pieces = data.draw(st.integers(2, 12))
    size = max(1, len(raw) // pieces)
    chunks = [raw[i : i + size] for i in range(0, len(raw), size)]
    run(name, b"".join(data.draw(st.permutations(chunks))))


@FUZZ
@given(source=sources, data=st.data())
def test_inputs_with_bytes_flipped_or_spliced(
    source: tuple[str, bytes], data: st.DataObject
) -> None:
    name, raw = source
    mutated = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(mutated) - 1))
        mutated[at : at + data.draw(st.integers(0, 40))] = data.draw(st.binary(max_size=40))
    run(name, bytes(mutated))


@FUZZ
@given(
    name=st.sampled_from(NAMES),
    prefix=st.sampled_from([b"", b"%PDF-1.7\n", b"[{", b"{", b"<!DOCTYPE html><html>", b"PK"]),
    body=st.binary(max_size=3000),
)
def test_random_bytes(name: str, prefix: bytes, body: bytes) -> None:
    run(name, prefix + body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
JSON_SOURCES = [(name, json.loads(data)) for name, data in SOURCES if name.endswith(".json")]


def mutate(document: Any, data: st.DataObject) -> Any:
    """The document with one value somewhere inside replaced by random JSON."""
    if not isinstance(document, dict | list) or not document or data.draw(st.booleans()):
        return data.draw(json_values)
    if isinstance(document, list):
        at = data.draw(st.integers(0, len(document) - 1))
        return [*document[:at], mutate(document[at], data), *document[at + 1 :]]
    key = data.draw(st.sampled_from(sorted(document)))
    return {**document, key: mutate(document[key], data)}


@FUZZ
@given(source=st.sampled_from(JSON_SOURCES), data=st.data())
def test_structurally_mutated_exports(source: tuple[str, Any], data: st.DataObject) -> None:
    name, document = source
    mutated = document
    for _ in range(data.draw(st.integers(1, 4))):
        mutated = mutate(mutated, data)
    run(name, json.dumps(mutated).encode())


@settings(max_examples=40, deadline=None)
@given(
    xml=st.one_of(
        st.binary(max_size=400),
        st.sampled_from(
            [b"", b"<transcript/>", b"<transcript><text start='1'>a</text>", b"<text>x</text>"]
        ),
    )
)
def test_random_transcript_responses(xml: bytes) -> None:
    with respx.mock(assert_all_called=False) as router:
        response = player()
        replay_youtube(router, response)
        for track in caption_tracks(response):
            router.get(track["baseUrl"].replace("&fmt=srv3", "")).mock(
                return_value=httpx.Response(200, content=xml)
            )
        check(list(parse(UrlItem(f"https://youtu.be/{VIDEO}"))))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(source=sources, data=st.data())
def test_what_is_written_is_whole(
    conn: Connection,
    make_user: Callable[[], Caller],
    source: tuple[str, bytes],
    data: st.DataObject,
) -> None:
    """Damaged inputs written for real: each source lands with all its passages or not at all."""
    name, raw = source
    cut = data.draw(st.integers(0, len(raw)))
    mutated = (
        raw[:cut]
        + data.draw(st.binary(max_size=64))
        + raw[cut:][: data.draw(st.integers(0, len(raw)))]
    )
    items = list(parse(Input(name, mutated)))
    expected = {id(c): len(passages_of(c)) for c in check(items)}
    caller = make_user()
    report = import_conversations(conn, caller, workspace_id(conn, caller), items)
    with transaction_as(conn, caller):
        rows = conn.execute(
            "select s.id, count(c.id) as n from public.sources s"
            " left join public.chunks c on c.source_id = s.id group by s.id"
        ).fetchall()
    assert len(rows) == report.added
    assert sum(r["n"] for r in rows) == report.passages
    assert all(r["n"] > 0 for r in rows)
    assert report.passages <= sum(expected.values())


def test_fixture_list_covers_every_file_format() -> None:
    suffixes = {Path(name).suffix for name, _ in SOURCES}
    assert suffixes == {".json", ".jsonl", ".html", ".pdf"}
