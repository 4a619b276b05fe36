"""Versions of a conversation on the real database: a conversation that grew is updated in
place with only its new messages written; a different conversation that reuses a stored
id (files derived from different exports) is kept beside it, never dropped."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api.accounts.users import workspace_id
from api.db.session import Caller, Connection, transaction_as
from api.importers.model import Conversation, Message
from api.pipeline.ingest import import_conversations, import_paths
from api.search.hybrid import SearchRequest, search
from tests.conftest import FIXTURES, SAMPLES

SHARED_ID = "0d1e5a1e-0000-4000-8000-00000000c1a5"


def chat(title: str, turns: list[tuple[str, str]], updated: float = 1_733_000_000.0) -> Any:
    """One conversation of a ChatGPT export's conversations.json, turns in one branch."""
    mapping: dict[str, Any] = {
        "root": {"id": "root", "message": None, "parent": None, "children": []}
    }
    parent = "root"
    for position, (role, text) in enumerate(turns):
        node = f"n{position}"
        mapping[parent]["children"].append(node)
        mapping[node] = {
            "id": node,
            "parent": parent,
            "children": [],
            "message": {
                "id": node,
                "author": {"role": role, "name": None, "metadata": {}},
                "create_time": 1_733_000_000.0 + position,
                "content": {"content_type": "text", "parts": [text]},
                "status": "finished_successfully",
                "metadata": {},
                "recipient": "all",
            },
        }
        parent = node
    return {
        "title": title,
        "create_time": 1_733_000_000.0,
        "update_time": updated,
        "mapping": mapping,
        "current_node": parent,
        "conversation_id": SHARED_ID,
        "id": SHARED_ID,
        "default_model_slug": "gpt-4o",
    }


def write(path: Path, *items: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(list(items)), encoding="utf-8")
    return path


def sources(conn: Connection, caller: Caller) -> list[dict[str, Any]]:
    with transaction_as(conn, caller):
        return conn.execute(
            "select s.title, s.external_id, count(c.id) as passages,"
            " array_agg(c.id order by c.message_index, c.chunk_index) as chunk_ids"
            " from public.sources s left join public.chunks c on c.source_id = s.id"
            " group by s.id order by s.imported_at, s.title"
        ).fetchall()


QUINCE = [("user", "How long do quinces take to poach?"), ("assistant", "About 2 hours.")]
KOMBU = [("user", "What is kombu dashi?"), ("assistant", "A broth of kelp.")]


def test_same_id_different_conversations_are_both_kept(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    caller = make_user()
    ws = workspace_id(conn, caller)
    one = write(tmp_path / "a" / "conversations.json", chat("Quince", QUINCE))
    two = write(tmp_path / "b" / "conversations.json", chat("Kombu", KOMBU))
    first = import_paths(conn, caller, ws, [one, two])
    assert (first.added, first.updated, first.skipped, first.failed) == (2, 0, 0, [])
    rows = sources(conn, caller)
    assert [r["title"] for r in rows] == ["Quince", "Kombu"]
    assert rows[0]["external_id"] == SHARED_ID
    assert rows[1]["external_id"].startswith(SHARED_ID + "#")
    for words, title in (("poach quinces", "Quince"), ("kombu dashi", "Kombu")):
        [hit, *_] = search(conn, caller, SearchRequest(words))
        assert hit["source_title"] == title
    again = import_paths(conn, caller, ws, [two, one])
    assert (again.added, again.updated, again.skipped) == (0, 0, 2)
    # The second conversation, grown, updates its own copy, not the first's.
    grown = write(
        tmp_path / "c" / "conversations.json",
        chat("Kombu", [*KOMBU, ("user", "And katsuobushi?")], updated=1_733_000_500.0),
    )
    later = import_paths(conn, caller, ws, [grown])
    assert (later.added, later.updated, later.passages) == (0, 1, 1)
    rows = sources(conn, caller)
    assert [(r["title"], r["passages"]) for r in rows] == [("Quince", 2), ("Kombu", 3)]


def test_a_conversation_that_grew_is_updated_in_place_with_only_its_new_messages(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    caller = make_user()
    ws = workspace_id(conn, caller)
    import_paths(
        conn, caller, ws, [write(tmp_path / "1" / "conversations.json", chat("Q", QUINCE))]
    )
    [before] = sources(conn, caller)
    more = [*QUINCE, ("user", "With vanilla?"), ("assistant", "Yes, one pod.")]
    grown = write(
        tmp_path / "2" / "conversations.json", chat("Quince", more, updated=1_733_000_900.0)
    )
    dry = import_paths(conn, caller, ws, [grown], dry_run=True)
    assert (dry.updated, dry.passages) == (1, 2)
    report = import_paths(conn, caller, ws, [grown])
    assert (report.added, report.updated, report.passages) == (0, 1, 2)
    [after] = sources(conn, caller)
    assert after["title"] == "Quince" and after["passages"] == 4
    assert after["chunk_ids"][:2] == before["chunk_ids"]  # kept, with their embeddings
    # An older copy (an earlier export) never replaces the newer one.
    old = import_paths(conn, caller, ws, [tmp_path / "1" / "conversations.json"])
    assert (old.updated, old.skipped) == (0, 1)


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is not present")
def test_every_sample_imports_once_with_nothing_lost(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    caller = make_user()
    ws = workspace_id(conn, caller)
    report = import_paths(conn, caller, ws, [SAMPLES])
    assert report.updated == 0
    # The InnerTube player response is what knitter fetches for a video, not an export.
    assert [Path(f.item).name for f in report.failed] == [
        "youtube-transcript-api-ww1_nl_en.innertube.json"
    ]
    titles = [r["title"] for r in sources(conn, caller)]
    # Two LibreChat-derived files give different conversations the id d6523d1e…: both kept.
    assert "Citation Convo" in titles and "Conversation 1. Web Search" in titles
    assert len(titles) == report.added
    again = import_paths(conn, caller, ws, [SAMPLES])
    assert (again.added, again.updated, again.skipped) == (0, 0, report.added + report.skipped)


def test_a_grown_agent_session_adds_only_its_new_passages(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    projects = tmp_path / "projects"
    shutil.copytree(FIXTURES / "agents" / "claude-projects", projects)
    caller = make_user()
    ws = workspace_id(conn, caller)
    first = import_paths(conn, caller, ws, [projects])
    [before] = sources(conn, caller)
    [session] = list(projects.rglob("*.jsonl"))
    lines = session.read_text().splitlines()
    last = json.loads(lines[-2])
    for position, text in enumerate(["Add a legend per hive", "Also export the chart as PNG"]):
        line = dict(last, uuid=f"g{position}", timestamp=f"2025-09-14T09:0{position}:00.000Z")
        line["message"] = {"role": "user", "content": text}
        with session.open("a") as handle:
            handle.write(json.dumps(line) + "\n")
        report = import_paths(conn, caller, ws, [projects])
        assert (report.added, report.updated, report.passages, report.failed) == (0, 1, 1, [])
    [after] = sources(conn, caller)
    assert after["passages"] == before["passages"] + 2 == first.passages + 2
    assert after["chunk_ids"][: before["passages"]] == before["chunk_ids"]
    [hit, *_] = search(conn, caller, SearchRequest("export the chart as PNG"))
    assert hit["source_title"] == before["title"]


def test_a_page_whose_text_changed_entirely_is_updated_not_doubled(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    """A web page's URL names one source: new text replaces the old, sharing nothing."""
    caller = make_user()
    ws = workspace_id(conn, caller)

    def page(text: str) -> Conversation:
        return Conversation(
            kind="html",
            platform="web",
            title="Opening hours",
            messages=[Message("document", text)],
            url="https://example.org/hours",
            external_id="https://example.org/hours",
        )

    first = import_conversations(conn, caller, ws, [page("Open Monday to Friday.")])
    later = import_conversations(conn, caller, ws, [page("Closed for the winter.")])
    assert (first.added, later.added, later.updated) == (1, 0, 1)
    [row] = sources(conn, caller)
    assert row["external_id"] == "https://example.org/hours" and row["passages"] == 1
    [hit] = search(conn, caller, SearchRequest("closed winter"))
    assert hit["source_title"] == "Opening hours"
    assert search(conn, caller, SearchRequest("Monday Friday")) == []
