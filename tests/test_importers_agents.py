"""Coding-agent sessions beside chats: Claude Code (`~/.claude/projects/<project>/*.jsonl`),
Codex CLI (`~/.codex/sessions/**/rollout-*.jsonl`) and Gemini CLI chats, imported as
conversations with their project, branch, words and tool calls; a grown session updates
its copy in place, an unchanged one adds nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.accounts.users import workspace_id
from api.db.session import Caller, Connection, transaction_as
from api.importers.detect import parse
from api.importers.inputs import Input
from api.importers.model import Conversation, ItemError
from api.pipeline.ingest import import_paths
from api.search.hybrid import SearchRequest, search
from tests.conftest import FIXTURES

AGENTS = FIXTURES / "agents"
CLAUDE_PROJECTS = AGENTS / "claude-projects"
HIDDEN = [
    "HIDDENAGENTTHOUGHT",
    "HIDDENSUBAGENT",
    "HIDDENCODEXREASONING",
    "HIDDENGEMINITHOUGHT",
    "HIDDENCLIINFO",
    "environment_context",
    "Caveat:",
    "<command-name>",
]


def rows(conn: Connection, caller: Caller) -> list[dict[str, Any]]:
    with transaction_as(conn, caller):
        return conn.execute(
            "select s.platform, s.kind, s.title, s.metadata, c.role, c.author, c.model,"
            " c.content from public.sources s join public.chunks c on c.source_id = s.id"
            " order by s.platform, c.message_index, c.chunk_index"
        ).fetchall()


def test_sessions_of_three_agents_import_as_conversations(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    caller = make_user()
    ws = workspace_id(conn, caller)
    report = import_paths(conn, caller, ws, [AGENTS])
    assert report.failed == [] and report.added == 3
    [item] = report.items.values()
    assert item.formats == ["coding-agent session"]
    assert dict(item.left_out) == {"plumbing": 5, "reasoning": 3}
    found = rows(conn, caller)
    by_platform = {r["platform"]: r for r in found}
    assert set(by_platform) == {"claude_code", "codex", "gemini_cli"}
    assert all(r["kind"] == "agent_session" for r in found)
    claude = by_platform["claude_code"]
    assert claude["title"] == "Hive weight chart with pandas"
    assert claude["metadata"]["project"] == "/home/me/beehive-tracker"
    assert claude["metadata"]["git_branch"] == "feature/weights"
    codex = by_platform["codex"]
    assert codex["metadata"]["git_branch"] == "main"
    assert codex["metadata"]["project"] == "/home/me/honey-shop"
    tools = [(r["platform"], r["author"], r["content"]) for r in found if r["role"] == "tool"]
    assert ("claude_code", "Bash", "3 passed in 0.41s") in tools
    assert ("codex", "shell", "src/cart.py:41:    deposit = 0  # TODO") in tools
    assert any(p == "gemini_cli" and a == "search_file_content" for p, a, _ in tools)
    models = {r["platform"]: r["model"] for r in found if r["role"] == "assistant"}
    assert models == {
        "claude_code": "claude-sonnet-4-20250514",
        "codex": "gpt-5-codex",
        "gemini_cli": "gemini-2.5-pro",
    }
    text = " ".join(str(r["content"]) for r in found)
    for hidden in HIDDEN:
        assert hidden not in text, hidden
    [hit, *_] = search(conn, caller, SearchRequest("jar deposit"))
    assert hit["platform"] == "codex"


def test_a_grown_session_updates_its_copy_and_an_unchanged_one_adds_nothing(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    projects = tmp_path / "projects"
    shutil.copytree(CLAUDE_PROJECTS, projects)
    caller = make_user()
    ws = workspace_id(conn, caller)
    first = import_paths(conn, caller, ws, [projects])
    assert (first.added, first.updated, first.skipped) == (1, 0, 0)
    again = import_paths(conn, caller, ws, [projects])
    assert (again.added, again.updated, again.skipped, again.passages) == (0, 0, 1, 0)
    [session] = list(projects.rglob("*.jsonl"))
    last = json.loads(session.read_text().splitlines()[-2])
    grown = dict(last, uuid="u9", parentUuid="c1", timestamp="2025-09-14T09:00:00.000Z")
    grown["message"] = {"role": "user", "content": "Now add a legend for each hive"}
    with session.open("a") as handle:
        handle.write(json.dumps(grown) + "\n")
        handle.write('{"type": "assistant", "message": {"role": "assi')  # still being written
    later = import_paths(conn, caller, ws, [projects])
    assert (later.added, later.updated, later.failed) == (0, 1, [])
    with transaction_as(conn, caller):
        count = conn.execute("select count(*) as n from public.sources").fetchone()
    assert count is not None and count["n"] == 1
    assert any("legend for each hive" in str(r["content"]) for r in rows(conn, caller))


def test_unknown_json_lines_are_a_clear_error() -> None:
    [error] = list(parse(Input("notes.jsonl", b'{"a": 1}\n{"b": 2}\n')))
    assert isinstance(error, ItemError)
    assert "JSON Lines in a shape knitter does not know" in error.message
    [history] = list(parse(Input("history.jsonl", b'{"session_id": "s", "ts": 1, "text": "hi"}\n')))
    assert not isinstance(history, ItemError | Conversation)  # Codex's prompt history: a side file
