"""Claude: the data export (typed content blocks, attachments, out-of-order messages) and
the real samples (an older export, one conversation from the web API)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api.accounts.users import workspace_id
from api.db.session import Caller, Connection, transaction_as
from api.importers.claude import parse_export
from api.importers.detect import parse
from api.importers.inputs import Input, collect
from api.importers.model import Conversation, Ignored, ItemError, Skipped
from api.pipeline.ingest import import_paths
from tests.conftest import FIXTURES, SAMPLES

EXPORT = FIXTURES / "claude" / "conversations.json"


def load(path: Path = EXPORT) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def conversations(data: Any) -> list[Conversation]:
    return [c for c in parse_export(data) if isinstance(c, Conversation)]


def test_content_blocks_attachments_and_order() -> None:
    hike = conversations(load())[0]
    assert (hike.kind, hike.platform, hike.title) == (
        "claude_export",
        "claude",
        "Packing list for a winter hike",
    )
    assert hike.external_id == "5d0c1f2e-7b3a-4c9d-8e1f-2a3b4c5d6e7f"
    assert hike.url == "https://claude.ai/chat/5d0c1f2e-7b3a-4c9d-8e1f-2a3b4c5d6e7f"
    # Put back in time order; the tool call and its result split the answer where they were.
    assert [(m.role, m.metadata.get("block")) for m in hike.messages] == [
        ("user", None),
        ("assistant", None),
        ("tool", "tool_use"),
        ("tool", "tool_result"),
        ("assistant", None),
        ("user", None),
        ("assistant", None),
    ]
    prompt = hike.messages[0]
    assert "Attached file gear-list.txt:" in prompt.text and "microspikes" in prompt.text
    assert prompt.metadata == {"attachments": ["gear-list.txt"]}
    assert hike.messages[2].text == "web_search: avalanche bulletin Cairngorms"
    assert hike.messages[2].author == "web_search"
    assert hike.messages[3].text.startswith("Considerable avalanche hazard")
    assert not any("SECRET-REASONING" in m.text for m in hike.messages)  # thinking blocks
    assert hike.left_out["files"] == 1  # the photo
    assert hike.started_at is not None and hike.started_at.isoformat().startswith("2025-01-11")


def test_empty_and_malformed_conversations_fail_alone() -> None:
    items = list(parse_export(load()))
    assert [type(i).__name__ for i in items] == [
        "Conversation",
        "Skipped",
        "ItemError",
        "Conversation",
    ]
    error = items[2]
    assert isinstance(error, ItemError) and "'Broken one'" in error.item
    older = items[3]
    assert isinstance(older, Conversation)
    assert older.messages[1].text.startswith("約80度のお湯")  # antThinking removed
    assert isinstance(items[1], Skipped)


def test_export_zip_is_detected_by_content(tmp_path: Path) -> None:
    archive = tmp_path / "data-2025-01-14-10-00-00.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(EXPORT, "conversations.json")
        z.writestr("users.json", '[{"uuid": "u", "full_name": "A", "email_address": "a@b.c"}]')
        z.writestr("projects.json", "[]")
    inputs = [i for i in collect([archive]) if isinstance(i, Input)]
    assert [i.name for i in inputs] == [
        f"{archive}:conversations.json",
        f"{archive}:projects.json",
    ]
    outcomes = [c for i in inputs for c in parse(i)]
    kinds = [c.kind for c in outcomes if isinstance(c, Conversation)]
    assert kinds == ["claude_export", "claude_export"]
    # No projects is no failure (the one error is the fixture's broken conversation).
    assert [c.item for c in outcomes if isinstance(c, ItemError)] == [
        f"{archive}:conversations.json, conversation 3 ('Broken one')"
    ]


def test_branches_follow_the_current_leaf() -> None:
    """Where messages link to parents, the branch ending at current_leaf_message_uuid is
    the one kept; a regenerated answer left behind is not imported."""
    root = "00000000-0000-4000-8000-000000000000"
    conversation = {
        "uuid": "c1",
        "name": "Branches",
        "current_leaf_message_uuid": "a2",
        "chat_messages": [
            {
                "uuid": "h1",
                "sender": "human",
                "text": "Name a blue fruit",
                "parent_message_uuid": root,
            },
            {
                "uuid": "a1",
                "sender": "assistant",
                "text": "OLD: a plum",
                "parent_message_uuid": "h1",
            },
            {
                "uuid": "a2",
                "sender": "assistant",
                "text": "A blueberry",
                "parent_message_uuid": "h1",
            },
        ],
    }
    [only] = conversations(conversation)
    assert [m.text for m in only.messages] == ["Name a blue fruit", "A blueberry"]


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is not present")
def test_real_older_export() -> None:
    [calc] = conversations(
        load(SAMPLES / "claude" / "simonw-claude-to-sqlite-artifacts-conversations.json")
    )
    assert calc.title == "LLM Pricing Calculator"
    assert len(calc.messages) == 20
    assert calc.messages[0].text.startswith("Built me an artifact with no react")
    assert calc.messages[6].text.startswith("Add a onkeyup event too")
    assert [m.role for m in calc.messages] == ["user", "assistant"] * 10
    assert calc.left_out["files"] == 5


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is not present")
def test_real_web_api_conversation() -> None:
    sample = SAMPLES / "claude" / "osteele-claude-bakery-chat-webapi.json"
    [bakery] = [c for c in parse(Input(str(sample), sample.read_bytes()))]
    assert isinstance(bakery, Conversation)
    assert bakery.title == "Interactive Bakery Comparison Visualization"
    assert [m.role for m in bakery.messages] == ["user", "assistant", "user", "assistant"]
    assert bakery.messages[1].model == "claude-3-5-sonnet-20240620"
    assert "<antThinking>" not in bakery.messages[1].text
    assert "antArtifact" in bakery.messages[1].text  # the artifact is what the person saw


def test_nul_characters_valid_in_json_are_dropped_before_storage() -> None:
    conversation = {
        "uuid": "c2",
        "name": "Nul\u0000 title",
        "chat_messages": [{"sender": "human", "text": "tab\u0000 separated"}],
    }
    [only] = conversations(conversation)
    assert (only.title, only.messages[0].text) == ("Nul title", "tab separated")


def test_half_an_emoji_and_a_nul_anywhere_are_stored_not_lost(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    """JSON can escape half of a UTF-16 pair (a title cut in the middle of an emoji) and a
    NUL; PostgreSQL's text and jsonb take neither. The conversation hashing its text
    crashed the whole import on the first, and a NUL in its summary lost it."""
    export = [
        {
            "uuid": "11111111-2222-3333-4444-555555555555",
            "name": "Cut short \ud83d",
            "summary": "a \u0000 nul",
            "project": {"uuid": "p-1", "name": "Half \udc00 project"},
            "chat_messages": [{"sender": "human", "text": "ends in half an emoji \ud83d"}],
        }
    ]
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(export))
    assert "\\ud83d" in path.read_text()  # escaped in the file, as JSON.stringify writes it
    caller = make_user()
    report = import_paths(conn, caller, workspace_id(conn, caller), [path])
    assert (report.added, report.failed) == (1, [])
    with transaction_as(conn, caller):
        row = conn.execute(
            "select s.title, s.metadata, c.content from public.sources s"
            " join public.chunks c on c.source_id = s.id"
        ).fetchone()
    assert row is not None
    assert row["title"] == "Cut short \ufffd"
    assert (row["metadata"]["summary"], row["metadata"]["project"]) == (
        "a  nul",
        "Half \ufffd project",
    )
    assert "ends in half an emoji \ufffd" in row["content"]


EXPORT_2025 = FIXTURES / "claude" / "export-2025"


def test_newest_export_blocks_projects_and_side_files(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    """conversations.json with voice notes, thinking and web search; projects.json as one
    source per project; users.json and memories.json counted as side files."""
    archive = tmp_path / "claude-export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for file in sorted(EXPORT_2025.iterdir()):
            z.write(file, file.name)
    caller = make_user()
    ws = workspace_id(conn, caller)
    report = import_paths(conn, caller, ws, [archive])
    assert report.failed == []
    [item] = report.items.values()
    assert (item.formats, item.added, item.skipped, item.side_files) == (
        ["Claude export"],
        2,
        1,  # the project without description, instructions or documents
        2,
    )
    assert dict(item.left_out) == {"audio": 1, "reasoning": 1, "files": 1}
    with transaction_as(conn, caller):
        rows = conn.execute(
            "select s.title, s.metadata, c.role, c.author, c.content from public.sources s"
            " join public.chunks c on c.source_id = s.id order by s.title, c.message_index"
        ).fetchall()
    text = " ".join(r["content"] for r in rows)
    assert "What cone should I bisque fire stoneware to?" in text  # the voice note
    assert "Firing 12: ramp 300C/h" in text  # the attachment's text, with its message
    assert "HIDDENCLAUDETHOUGHT" not in text and "HIDDENMEMORY" not in text
    assert "potter@example.com" not in text
    tools = [(r["author"], r["content"]) for r in rows if r["role"] == "tool"]
    assert tools[0] == ("web_search", "web_search: stoneware bisque cone")
    project = [r for r in rows if r["title"] == "Project: Pottery studio"]
    assert [r["role"] for r in project] == ["document"] * 3
    assert project[0]["metadata"]["project"] == "Pottery studio"
    assert "Answer in metric units" in project[1]["content"]
    assert project[2]["author"] == "glaze-recipes.md" and "Celadon" in project[2]["content"]
    again = import_paths(conn, caller, ws, [EXPORT_2025])
    assert (again.added, again.updated, again.skipped, again.failed) == (0, 0, 3, [])


def test_project_conversations_are_linked_to_their_project(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    """A conversation that names its project only by uuid is listed under the project's
    name (from projects.json, imported before or after it), and the project's filter lists
    the project's own source (its documents) with its conversations."""
    chats = load(EXPORT_2025 / "conversations.json")
    chats[0]["project_uuid"] = "7a0b0c0d-0000-4000-8000-00000000p001"
    export = tmp_path / "export"
    export.mkdir()
    (export / "conversations.json").write_text(json.dumps(chats), encoding="utf-8")
    caller = make_user()
    ws = workspace_id(conn, caller)
    import_paths(conn, caller, ws, [export / "conversations.json"])

    def listed(project_id: str | None = None) -> list[dict[str, Any]]:
        with transaction_as(conn, caller):
            return conn.execute(
                "select title, project_id, project, is_project"
                " from public.list_sources(project_id => %s) order by title",
                [project_id],
            ).fetchall()

    kiln = next(r for r in listed() if r["title"] == "Kiln firing schedule")
    assert (kiln["project_id"], kiln["project"]) == ("7a0b0c0d-0000-4000-8000-00000000p001", None)
    import_paths(conn, caller, ws, [EXPORT_2025 / "projects.json"])
    pottery = listed("7a0b0c0d-0000-4000-8000-00000000p001")
    assert [(r["title"], r["project"], r["is_project"]) for r in pottery] == [
        ("Kiln firing schedule", "Pottery studio", False),
        ("Project: Pottery studio", "Pottery studio", True),
    ]
    assert listed("7a0b0c0d-0000-4000-8000-00000000p002") == []


def test_memories_json_alone_is_a_side_file_not_a_failure() -> None:
    [memories] = list(parse(Input("memories.json", (EXPORT_2025 / "memories.json").read_bytes())))
    assert isinstance(memories, Ignored) and memories.count == 1
