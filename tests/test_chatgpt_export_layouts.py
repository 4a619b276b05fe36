"""ChatGPT exports as people have them in 2025-2026: split conversations files beside side
files (zipped or unzipped), overlapping monthly exports, voice, canvas, reasoning, code,
images and tool plumbing; the per-item report, --dry-run, and concurrent imports."""

from __future__ import annotations

import json
import shutil
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api.accounts.users import find_user, workspace_id
from api.cli import cli
from api.db.session import Caller, Connection, connect, transaction_as
from api.embeddings.registry import EmbeddingModel
from api.importers.detect import parse
from api.importers.inputs import Input, collect
from api.importers.model import ItemError, Skipped
from api.pipeline.embedding_queue import drain
from api.pipeline.ingest import ImportReport, import_paths
from api.search.hybrid import SearchRequest, search
from tests.conftest import FIXTURES

EXPORT = FIXTURES / "chatgpt" / "export-2025"
SIDE_FILES = 10  # every file of the folder but the two conversations files
# Words that are only in what the person never saw (hidden prompts, reasoning, plumbing).
HIDDEN = [
    "SECRETINSTRUCTIONS",
    "HIDDENTHOUGHT",
    "HIDDENSUMMARY",
    "HIDDENQUOTE",
    "HIDDENFILESEARCH",
    "HIDDENWEB",
    "Successfully created text document",
    "redacted",
    "Model set context updated",
    "Rate limit",
    "ImageDisplayed",
    "plainly visible",
    "Thought for 14 seconds",
    "Reasoned about",
]


def export_zip(tmp_path: Path, name: str = "chatgpt-export.zip", folder: Path = EXPORT) -> Path:
    archive = tmp_path / name
    with zipfile.ZipFile(archive, "w") as z:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                z.write(file, file.relative_to(folder).as_posix())
    return archive


def all_text(conn: Connection, caller: Caller) -> dict[str, str]:
    with transaction_as(conn, caller):
        rows = conn.execute(
            "select s.title, string_agg(c.content, ' ' order by c.message_index, c.chunk_index)"
            " as text from public.sources s join public.chunks c on c.source_id = s.id"
            " group by s.title"
        ).fetchall()
    return {r["title"]: r["text"] for r in rows}


def counts(conn: Connection, caller: Caller) -> tuple[int, int]:
    with transaction_as(conn, caller):
        row = conn.execute(
            "select (select count(*) from public.sources) as s,"
            " (select count(*) from public.chunks) as c"
        ).fetchone()
    assert row is not None
    return row["s"], row["c"]


def check_report(report: ImportReport, item: str, added: int = 7, skipped: int = 0) -> None:
    assert report.failed == []
    [per_item] = report.items.values()
    assert per_item.item == item
    assert per_item.formats == ["ChatGPT export"]
    assert (per_item.added, per_item.updated, per_item.skipped) == (added, 0, skipped)
    assert per_item.messages == 25
    assert dict(per_item.left_out) == {
        "audio": 4,
        "files": 1,
        "images": 2,
        "plumbing": 11,
        "reasoning": 3,
    }
    assert per_item.side_files == SIDE_FILES


@pytest.mark.parametrize("layout", ["folder", "zip"])
def test_a_split_export_imports_whole_and_its_side_files_are_counted(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path, layout: str
) -> None:
    caller = make_user()
    ws = workspace_id(conn, caller)
    path = EXPORT if layout == "folder" else export_zip(tmp_path)
    report = import_paths(conn, caller, ws, [path])
    check_report(report, str(path))
    assert counts(conn, caller) == (7, report.passages)
    again = import_paths(conn, caller, ws, [path])
    check_report(again, str(path), added=0, skipped=7)
    assert again.passages == 0 and counts(conn, caller) == (7, report.passages)


def test_content_is_kept_as_the_person_saw_it(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    caller = make_user()
    import_paths(conn, caller, workspace_id(conn, caller), [EXPORT])
    text = all_text(conn, caller)
    # Voice mode: both sides' words; a voice-only chat is a conversation.
    assert "inspect a beehive in spring" in text["Voice: hive inspection"]
    assert "seven to ten days" in text["Voice: hive inspection"]
    assert "fünfzehn bis dreißig Kilo" in text["New chat"]
    # Canvas: the document once, in its latest version, with its title.
    canvas = text["Canvas: honey harvest plan"]
    assert "Harvest plan" in canvas and "late August once the nectar flow ends" in canvas
    assert "Draft one" not in canvas
    # Code interpreter: the code and its output; reasoning's final answer only.
    assert "pd.read_csv" in text["Code: colony weights"] and "41.25" in text["Code: colony weights"]
    assert "Oxalic acid dribble" in text["Reasoning: varroa treatment"]
    # Image generation: the prompt is a line of the conversation.
    assert "honeybee wearing a tiny golden crown" in text["Image: bee logo"]
    everything = " ".join(text.values())
    for hidden in HIDDEN:
        assert hidden not in everything, hidden
    hits = search(conn, caller, SearchRequest("nectar flow"))
    assert {h["source_title"] for h in hits} == {"Canvas: honey harvest plan"}
    assert not search(conn, caller, SearchRequest("SECRETINSTRUCTIONS"))


def test_gpts_and_projects_are_recorded(conn: Connection, make_user: Callable[[], Caller]) -> None:
    caller = make_user()
    import_paths(conn, caller, workspace_id(conn, caller), [EXPORT])
    with transaction_as(conn, caller):
        rows = conn.execute("select title, metadata from public.sources").fetchall()
    metadata = {r["title"]: r["metadata"] for r in rows}
    assert metadata["Image: bee logo"]["gizmo_id"] == "g-2fkFE8rbu"
    assert metadata["Project: apiary notes"]["project_id"].startswith("g-p-6811")
    assert "gizmo_id" not in metadata["Voice: hive inspection"]


def with_changes(tmp_path: Path, change: Callable[[list[Any], list[Any]], None]) -> Path:
    folder = tmp_path / "next-month"
    shutil.copytree(EXPORT, folder)
    first, second = (json.loads((folder / f"conversations-00{i}.json").read_text()) for i in (0, 1))
    change(first, second)
    (folder / "conversations-000.json").write_text(json.dumps(first))
    (folder / "conversations-001.json").write_text(json.dumps(second))
    return folder


def test_overlapping_monthly_exports_import_as_one_set(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    def next_month(first: list[Any], second: list[Any]) -> None:
        voice = first[0]
        voice["mapping"]["v2"]["message"]["content"]["parts"][0]["text"] += " Look for eggs."
        voice["update_time"] += 86400
        new = json.loads(json.dumps(second[2]))
        new["id"] = new["conversation_id"] = "67f0a000-0000-8000-8000-00000000a0ff"
        new["title"] = "Wax moths"
        new["mapping"]["o1"]["message"]["content"]["parts"][0]["text"] = "Wax moths in the shed?"
        second.append(new)

    caller = make_user()
    ws = workspace_id(conn, caller)
    april = export_zip(tmp_path, "april.zip")
    may = export_zip(tmp_path, "may.zip", with_changes(tmp_path, next_month))
    report = import_paths(conn, caller, ws, [april, may])
    assert report.failed == []
    assert [(i.added, i.updated, i.skipped) for i in report.items.values()] == [
        (7, 0, 0),
        (1, 1, 6),
    ]
    assert counts(conn, caller)[0] == 8
    assert "Look for eggs." in all_text(conn, caller)["Voice: hive inspection"]
    # April's export again, after May's: its older copy does not replace the newer one.
    again = import_paths(conn, caller, ws, [april])
    assert (again.added, again.updated, again.skipped) == (0, 0, 7)
    assert "Look for eggs." in all_text(conn, caller)["Voice: hive inspection"]


def test_an_export_with_no_conversations_fails(tmp_path: Path) -> None:
    empty = json.loads((FIXTURES / "chatgpt" / "conversations.json").read_text())[2:3]
    [skipped, error] = list(parse(Input("conversations.json", json.dumps(empty).encode())))
    assert isinstance(skipped, Skipped)
    assert isinstance(error, ItemError)
    assert error.message == "no conversations found in this ChatGPT export (1 empty)"
    assert skipped.item == "conversations.json, conversation 1 ('Empty chat')"
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("chat.html", "<html></html>")
        z.writestr("user.json", "{}")
    [failure] = list(collect([archive]))
    assert isinstance(failure, ItemError) and "holds no conversations file" in failure.message


def test_cli_report_dry_run_and_error_lines(db_url: str, conn: Connection, tmp_path: Path) -> None:
    broken = tmp_path / "conversations.json"
    broken.write_text('[{"mapping": ')
    side_only = tmp_path / "side-only.zip"
    with zipfile.ZipFile(side_only, "w") as z:
        z.writestr("chat.html", "<html></html>")
        z.writestr("user.json", "{}")
    runner = CliRunner()
    args = ["--database-url", db_url, "import", str(EXPORT), "--user", "dry@example.com"]
    dry = runner.invoke(cli, [*args, "--dry-run", str(broken), str(side_only)])
    assert dry.exit_code == 1, dry.output
    lines = dry.output.splitlines()
    assert lines[0] == (
        f"{EXPORT}: ChatGPT export; 7 added; 25 messages kept;"
        " left out: 11 hidden tool and system messages, 4 audio clips, 3 reasoning steps,"
        " 2 images, 1 attached file;"
        f" ignored: {SIDE_FILES} side files"
    )
    # Each failing item is named once.
    failed = [line for line in lines if "failed:" in line]
    assert [line.split(":")[1] for line in failed] == [
        " not valid JSON",
        " looks like a ChatGPT or Claude export but holds no conversations file",
    ]
    assert all(str(tmp_path) not in line for line in failed)
    assert f"{broken}: nothing imported; 0 added, 1 failed" in lines  # no "0 messages kept"
    assert lines[-1].endswith("(dry run: nothing written)")
    assert lines[-1].startswith("in all: 7 added, 2 failed; ")
    assert find_user(conn, "dry@example.com") is None

    done = runner.invoke(cli, [*args, "--no-embed"])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == lines[0]
    again = runner.invoke(cli, [*args, "--no-embed", "--dry-run"])
    assert again.exit_code == 0
    assert "; 0 added, 7 already imported; 25 messages kept" in again.output.splitlines()[0]


def test_concurrent_overlapping_imports_lose_nothing(
    db_url: str,
    conn: Connection,
    make_user: Callable[[], Caller],
    tmp_path: Path,
    local_model: EmbeddingModel,
) -> None:
    """The zip and its folder, two monthly exports, the same file twice: imported at once
    by six importers, each embedding after its import as an API job does, every
    conversation ends present exactly once and nobody fails."""

    def changed(first: list[Any], second: list[Any]) -> None:
        for conversation in first + second:
            conversation["update_time"] += 1
            for node in conversation["mapping"].values():
                message = node.get("message") or {}
                parts = (message.get("content") or {}).get("parts")
                user = message.get("author", {}).get("role") == "user"
                if user and parts and isinstance(parts[0], str):
                    parts[0] += " (again)"

    caller = make_user()
    ws = workspace_id(conn, caller)
    zipped = export_zip(tmp_path)
    later = with_changes(tmp_path, changed)
    batches = [[EXPORT], [zipped], [later], [EXPORT, later], [zipped, EXPORT], [later]]
    reports: list[ImportReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(batches))

    def run(paths: list[Path]) -> None:
        try:
            with connect(db_url) as own:
                own.autocommit = True
                start.wait()
                reports.append(import_paths(own, caller, ws, paths))
                drain(own, ws, batch_size=8)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [f for r in reports for f in r.failed] == []
    with transaction_as(conn, caller):
        rows = conn.execute(
            "select external_id, count(*) as n from public.sources group by external_id"
        ).fetchall()
    assert len(rows) == 7 and all(r["n"] == 1 for r in rows)
    outcomes = sum(r.added + r.updated + r.skipped for r in reports)
    assert outcomes == 7 * sum(len(b) for b in batches)


def test_the_report_lists_the_items_in_the_order_they_were_named(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    """Conversations wait in a batch while a later item's failure is recorded at once: the
    report listed a folder whose only file was broken before the exports named ahead of
    it (knitter import chatgpt claude chatgpt-share youtube printed youtube second)."""
    note = tmp_path / "plan.md"
    note.write_text("# Launch plan\n\nShip the relay firmware on Monday, then tell support.\n")
    broken = tmp_path / "more"
    broken.mkdir()
    (broken / "player.json").write_text('{"playabilityStatus": {}}')
    caller = make_user()
    report = import_paths(conn, caller, workspace_id(conn, caller), [note, broken])
    assert list(report.items) == [str(note), str(broken)]
    assert report.items[str(broken)].failed == 1 and report.items[str(note)].added == 1
