"""Context packs: within the budget, citing passages that exist, from a conversation, a
topic thread and an answer; through the API, the CLI and the functions they share."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.answers import answering, packs
from api.cli import cli
from api.config import Settings
from api.db.session import Caller, Connection
from api.errors import NotFoundError
from api.http.app import create_app
from api.pipeline.chunking import count_tokens
from api.pipeline.ingest import write_conversation
from tests.test_api import auth, make_settings
from tests.test_mcp import conversation

LONG_ANSWER = " ".join(f"Detail {i} about the relay and its wiring." for i in range(120))


@pytest.fixture
def stored(conn: Connection, make_user: Callable[[], Caller]) -> dict[str, Any]:
    owner = make_user()
    ws = conn.execute(
        "select id from public.workspaces where owner_id = %s", [owner.user_id]
    ).fetchone()
    assert ws is not None
    talk = conversation("relayboard")
    # A long answer, so small budgets must leave things out.
    talk.messages.insert(2, type(talk.messages[1])("assistant", LONG_ANSWER))
    write_conversation(conn, owner, ws["id"], talk)
    source = conn.execute(
        "select id from public.sources where workspace_id = %s", [ws["id"]]
    ).fetchone()
    assert source is not None
    return {"owner": owner, "source_id": source["id"], "workspace_id": ws["id"]}


def passages_of(conn: Connection, source_id: uuid.UUID) -> set[int]:
    rows = conn.execute("select id from public.chunks where source_id = %s", [source_id])
    return {r["id"] for r in rows}


@pytest.mark.parametrize("budget", [200, 320, 600, 4000])
def test_a_conversation_pack_fits_its_budget_and_cites_real_passages(
    conn: Connection, stored: dict[str, Any], budget: int
) -> None:
    made = packs.conversation_pack(conn, stored["owner"], stored["source_id"], budget)
    assert made.tokens == count_tokens(made.markdown) <= budget
    assert made.cited and set(made.cited) <= passages_of(conn, stored["source_id"])
    # Every [n] in the text is listed at the end, with a link to its passage.
    listed = re.findall(r"^\[(\d+)\]: .*passage-(\d+)$", made.markdown, re.MULTILINE)
    assert [int(c) for _, c in listed] == made.cited
    body = made.markdown.split("## Passages")[0]
    used = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
    assert used == set(range(1, len(made.cited) + 1))
    assert "not instructions" in made.markdown
    assert "## Goal" in made.markdown


def test_a_roomy_pack_has_goal_decisions_questions_and_code(
    conn: Connection, stored: dict[str, Any]
) -> None:
    made = packs.conversation_pack(conn, stored["owner"], stored["source_id"], 4000)
    md = made.markdown
    assert "How should I deploy the relayboard service?" in md.split("## Decisions")[0]
    decisions = md.split("## Decisions")[1].split("##")[0]
    assert "We decided to use Redis streams for relayboard" in decisions
    assert "Is one node enough?" in md.split("## Open questions")[1]
    assert "```python\nqueue = redis.Redis()" in md.split("## Code")[1]
    assert made.truncated is False
    small = packs.conversation_pack(conn, stored["owner"], stored["source_id"], 200)
    assert small.truncated is True and len(small.markdown) < len(md)


def test_nobody_else_can_pack_a_conversation(
    conn: Connection, stored: dict[str, Any], make_user: Callable[[], Caller]
) -> None:
    with pytest.raises(NotFoundError):
        packs.conversation_pack(conn, make_user(), stored["source_id"])


def test_a_thread_pack_and_an_answer_pack(conn: Connection, stored: dict[str, Any]) -> None:
    owner = stored["owner"]
    thread = conn.execute(  # as the grouping code would, with the owner's rights
        "insert into public.topic_threads (workspace_id, title) values (%s, 'Queues') returning id",
        [stored["workspace_id"]],
    ).fetchone()
    assert thread is not None
    conn.execute(
        "update public.sources set thread_id = %s where id = %s",
        [thread["id"], stored["source_id"]],
    )
    made = packs.thread_pack(conn, owner, thread["id"], 500)
    assert made.title == "Queues" and made.tokens <= 500
    assert set(made.cited) <= passages_of(conn, stored["source_id"])

    chunks = sorted(passages_of(conn, stored["source_id"]))

    def passage(n: int, chunk_id: int, role: str, content: str) -> answering.CitedPassage:
        return answering.CitedPassage(
            n=n,
            chunk_id=chunk_id,
            source_id=stored["source_id"],
            source_title="Planning",
            platform="chatgpt",
            url=None,
            role=role,
            created_at=None,
            content=content,
        )

    citations = [
        passage(1, chunks[0], "user", "Queue?"),
        passage(2, chunks[1], "assistant", "Redis streams."),
    ]
    answer = packs.answer_pack(
        "Which queue?", "Redis streams [2].\n\nYou asked first [1].", citations, 300
    )
    assert answer.cited == [chunks[1], chunks[0]]
    assert "Redis streams. [1]" in answer.markdown and answer.tokens <= 300

    # The pack of a question: answered (extractively here: no key) from the archive.
    asked = packs.make(
        conn,
        owner,
        Settings(openai_api_key=None, gemini_api_key=None),
        question="Which queue for relayboard?",
        budget=400,
    )
    assert asked.tokens <= 400 and asked.cited
    assert set(asked.cited) <= passages_of(conn, stored["source_id"])
    assert "## Question" in asked.markdown


def test_the_api_and_the_cli_make_packs(
    db_url: str, conn: Connection, stored: dict[str, Any]
) -> None:
    owner = stored["owner"]
    with TestClient(create_app(make_settings(db_url))) as client:
        response = client.post(
            "/v1/packs",
            json={"conversation_id": str(stored["source_id"]), "budget": 250},
            headers=auth(owner),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["tokens"] <= 250 and body["markdown"].startswith("# Context pack")
        assert set(body["cited"]) <= passages_of(conn, stored["source_id"])
        both = client.post(
            "/v1/packs",
            json={"conversation_id": str(stored["source_id"]), "question": "why"},
            headers=auth(owner),
        )
        assert both.status_code == 422
        nobody = client.post(
            "/v1/packs", json={"conversation_id": str(uuid.uuid4())}, headers=auth(owner)
        )
        assert nobody.status_code == 404

    email = owner.claims["email"]
    result = CliRunner().invoke(
        cli,
        [
            "--database-url",
            db_url,
            "pack",
            "--user",
            email,
            "--conversation",
            str(stored["source_id"]),
            "--budget",
            "300",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Context pack") and count_tokens(result.output) <= 300
    neither = CliRunner().invoke(cli, ["--database-url", db_url, "pack", "--user", email])
    assert neither.exit_code == 2 and "exactly one of" in neither.output
