"""The ChatGPT export importer, on fixtures in the export's shape and on real samples."""

from __future__ import annotations

import copy
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api.accounts.users import workspace_id
from api.db.session import Caller, Connection, transaction_as
from api.importers.chatgpt import parse_export
from api.importers.detect import parse
from api.importers.inputs import Input, collect
from api.importers.model import Conversation, ItemError, Message, Skipped
from api.pipeline.ingest import import_conversations, import_paths
from api.search.hybrid import SearchRequest, search
from tests.conftest import FIXTURES, SAMPLES

EXPORT = FIXTURES / "chatgpt" / "conversations.json"


def load(path: Path = EXPORT) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def conversations(data: Any) -> list[Conversation]:
    return [c for c in parse_export(data) if isinstance(c, Conversation)]


def texts(conversation: Conversation) -> list[str]:
    return [m.text for m in conversation.messages]


def test_the_active_branch_is_rebuilt_from_current_node() -> None:
    sourdough = conversations(load())[0]
    assert sourdough.title == "Sourdough starter troubleshooting"
    assert sourdough.external_id == "c0ffee00-0000-4000-8000-000000000001"
    assert [m.role for m in sourdough.messages] == ["user", "assistant", "user", "assistant"]
    joined = " ".join(texts(sourdough))
    assert "Not dead, just hungry" in joined  # the regenerated answer
    assert "OLD ANSWER" not in joined and "ABANDONED" not in joined
    assert [m.model for m in sourdough.messages] == [None, "gpt-4o", None, "gpt-4o-mini"]
    assert sourdough.started_at is not None and sourdough.started_at.year == 2024
    assert all(m.created_at is not None for m in sourdough.messages)


def test_hidden_and_tool_plumbing_are_skipped_and_non_text_parts_counted() -> None:
    cafe = conversations(load())[1]
    assert cafe.title == "Café menu — 東京 trip ☕"
    assert [m.role for m in cafe.messages] == ["user", "assistant", "assistant", "tool"]
    assert texts(cafe)[0] == "Translate this menu photo: 抹茶ラテ and ほうじ茶 prices?"
    # The citation marker is gone; the browsing call and its raw results are not messages.
    assert "【" not in texts(cafe)[1] and "¥500." in texts(cafe)[1]
    assert not any("search(" in t or "hidden browsing" in t for t in texts(cafe))
    # The code the assistant ran and its output, as the person saw them.
    assert texts(cafe)[2] == "```python\nprint(650 + 500)\n```"
    assert texts(cafe)[3] == "1150"
    assert cafe.left_out == {"images": 1, "plumbing": 2}
    assert cafe.metadata["left_out"] == cafe.left_out


def test_empty_conversations_are_skipped_not_failed() -> None:
    items = list(parse_export(load()))
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert len(skipped) == 1 and "Empty chat" in skipped[0].item
    assert not any(isinstance(i, ItemError) for i in items)


def test_without_current_node_the_latest_branch_is_followed() -> None:
    gears = conversations(load())[2]
    assert texts(gears)[1].startswith("A stretched chain")


def test_a_malformed_conversation_fails_alone() -> None:
    data = load()
    data[1]["mapping"] = "not a mapping"
    items = list(parse_export(data))
    errors = [i for i in items if isinstance(i, ItemError)]
    assert len(errors) == 1 and "mapping" in errors[0].message
    assert len([i for i in items if isinstance(i, Conversation)]) == 2


def test_cycles_in_the_tree_do_not_hang() -> None:
    data = load()
    mapping = data[0]["mapping"]
    mapping["root"]["parent"] = "a3"  # a loop: a3 → … → root → a3
    assert conversations(data)[0].messages


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is not present")
def test_real_export_with_branches() -> None:
    [tree] = conversations(load(SAMPLES / "chatgpt" / "librechat-chatgpt-tree-branches.json"))
    assert tree.title == "Assist user with summary"
    assert texts(tree)[:2] == ["hi there", "Hello! How can I assist you today?"]
    assert texts(tree)[-2] == "tell me a joke"
    assert "so cool bro" not in texts(tree)  # another branch than current_node's
    assert [m.role for m in tree.messages] == ["user", "assistant"] * (len(tree.messages) // 2)


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is not present")
def test_real_export_with_web_browsing() -> None:
    first, second = conversations(
        load(SAMPLES / "chatgpt" / "librechat-chatgpt-export-websearch.json")
    )
    assert [m.role for m in first.messages] == ["user", "assistant"] * 3
    assert not any(m.role == "tool" for m in first.messages)
    assert first.messages[0].text.startswith("What is the fuel consumption")
    assert second.messages[-1].text.startswith("Certainly!")


def test_export_zip_reads_only_the_conversations(tmp_path: Path) -> None:
    archive = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(EXPORT, "conversations.json")
        z.writestr("chat.html", "<html>viewer</html>")
        z.writestr("file-abc.png", b"\x89PNG\r\n")
    inputs = list(collect([archive]))
    assert [i.name for i in inputs if isinstance(i, Input)] == [f"{archive}:conversations.json"]
    found = [c for i in inputs if isinstance(i, Input) for c in parse(i)]
    assert len([c for c in found if isinstance(c, Conversation)]) == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"mapping": {', "not valid JSON"),
        (b'{"conversations": []}', "shape knitter does not know"),
        (b"[]", "holds no conversations"),
        (b"\xff\xfe[\x00", "not valid JSON"),
    ],
)
def test_malformed_files_give_clear_errors(data: bytes, message: str) -> None:
    [item] = list(parse(Input("conversations.json", data)))
    assert isinstance(item, ItemError) and message in item.message


def count_rows(conn: Connection, caller: Caller) -> tuple[int, int]:
    with transaction_as(conn, caller):
        row = conn.execute(
            "select (select count(*) from public.sources) as s,"
            " (select count(*) from public.chunks) as c"
        ).fetchone()
    assert row is not None
    return row["s"], row["c"]


def test_import_is_idempotent_and_updates_changed_conversations(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    caller = make_user()
    ws = workspace_id(conn, caller)
    first = import_paths(conn, caller, ws, [EXPORT])
    assert (first.added, first.updated, first.skipped, first.failed) == (3, 0, 1, [])
    assert count_rows(conn, caller) == (3, first.passages)

    again = import_paths(conn, caller, ws, [EXPORT])
    assert (again.added, again.updated, again.skipped, again.passages) == (0, 0, 4, 0)
    assert count_rows(conn, caller) == (3, first.passages)

    data = load()
    continued = copy.deepcopy(data[3])  # "Bicycle gears"
    mapping = continued["mapping"]
    mapping["a2"]["children"] = ["u9"]
    mapping["u9"] = {
        "id": "u9",
        "parent": "a2",
        "children": [],
        "message": {
            "id": "u9",
            "author": {"role": "user"},
            "create_time": 1717000400.0,
            "content": {"content_type": "text", "parts": ["And how do I measure chain wear?"]},
            "metadata": {},
            "recipient": "all",
        },
    }
    continued["current_node"] = "u9"
    changed = tmp_path / "conversations.json"
    changed.write_text(json.dumps([continued]))
    update = import_paths(conn, caller, ws, [changed])
    assert (update.added, update.updated) == (0, 1)
    assert count_rows(conn, caller) == (3, first.passages + 1)
    hits = search(conn, caller, SearchRequest("measure chain wear"))
    assert "And how do I measure chain wear?" in {h["content"] for h in hits}


def test_unicode_round_trip(conn: Connection, make_user: Callable[[], Caller]) -> None:
    caller = make_user()
    import_paths(conn, caller, workspace_id(conn, caller), [EXPORT])
    [hit, *_] = search(conn, caller, SearchRequest("抹茶ラテ"))
    assert hit["source_title"] == "Café menu — 東京 trip ☕"
    assert "<mark>抹茶ラテ</mark>" in hit["snippet"]


def test_failures_write_nothing_and_do_not_stop_the_batch(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    caller = make_user()
    ws = workspace_id(conn, caller)
    broken = tmp_path / "broken.json"
    broken.write_bytes(EXPORT.read_bytes()[:5000])  # truncated mid-file
    report = import_paths(conn, caller, ws, [broken, tmp_path / "missing.json", EXPORT])
    assert [f.item for f in report.failed] == [str(broken), str(tmp_path / "missing.json")]
    assert "not valid JSON" in report.failed[0].message
    assert "no such file" in report.failed[1].message
    assert report.added == 3
    assert count_rows(conn, caller) == (3, report.passages)


def test_a_database_error_rolls_back_only_that_source(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    """A passage the schema refuses fails its whole source; the next one still lands."""
    caller = make_user()
    [good, *_] = conversations(load())
    bad = Conversation(kind="text", platform="Not A Platform!", title="bad", messages=good.messages)
    report = import_conversations(conn, caller, workspace_id(conn, caller), [bad, good])
    assert report.added == 1 and len(report.failed) == 1
    assert "could not be stored" in report.failed[0].message
    assert count_rows(conn, caller) == (1, report.passages)


def test_conversations_are_written_a_batch_per_transaction(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    """One transaction per conversation made a big export slow (commits, round trips):
    conversations that arrive together share one (a bad one still fails alone: see
    test_a_database_error_rolls_back_only_that_source)."""
    caller = make_user()
    ws = workspace_id(conn, caller)
    items = [
        Conversation(
            kind="text",
            platform="notes",
            title=f"note {i}",
            messages=[Message(role="user", text=f"batch note number {i} about sourdough")],
        )
        for i in range(20)
    ]
    report = import_conversations(conn, caller, ws, items)
    assert report.added == 20 and not report.failed
    row = conn.execute(
        "select count(*) as sources, count(distinct xmin::text) as transactions,"
        " (select count(*) from public.chunks c where c.workspace_id = %s) as passages"
        " from public.sources where workspace_id = %s",
        [ws, ws],
    ).fetchone()
    assert row is not None
    assert (row["sources"], row["passages"]) == (20, report.passages) == (20, 20)
    assert row["transactions"] <= 3, row


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is not present")
def test_real_2025_export_skips_a_conversation_without_mapping() -> None:
    sample = SAMPLES / "chatgpt" / "librechat-chatgpt-modern-export.json"
    items = list(parse(Input(str(sample), sample.read_bytes())))
    assert not any(isinstance(i, ItemError) for i in items)
    [skipped] = [i for i in items if isinstance(i, Skipped)]
    assert skipped.item.endswith("conversation 2 ('Corrupted entry')")
    deploy, pasta = [i for i in items if isinstance(i, Conversation)]
    assert texts(deploy) == [
        "How do I roll back the deploy?",
        "Run `helm rollback staging`.",
        "And if that fails?",
        "Restore from the last known-good chart.",
    ]
    assert deploy.left_out == {"plumbing": 1}  # the hidden custom instructions
    assert texts(pasta) == ["Something with anchovies?", "Puttanesca."]


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is not present")
def test_real_code_interpreter_export_keeps_code_and_output() -> None:
    [chat] = conversations(load(SAMPLES / "chatgpt" / "chatgpt2graph-code-interpreter.json"))
    code = [m for m in chat.messages if m.metadata.get("tool") == "python"]
    outputs = [m for m in chat.messages if m.role == "tool"]
    assert len(code) == 11 and all(m.text.startswith("```python\n") for m in code)
    assert [m.text for m in outputs] == ["0", "0", "1/3", "Code execution state reset."]
    assert chat.left_out == {"images": 7}
    assert not any("ImageDisplayed" in m.text for m in chat.messages)
