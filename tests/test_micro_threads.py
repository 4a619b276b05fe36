"""Micro-threads on passages: answered from the passage and its neighbours, stored as the
asker, readable by the workspace's members only, deletable by the asker only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
import respx
from fastapi.testclient import TestClient

from api.accounts.users import ensure_workspace
from api.answers import answering
from api.db.session import Caller, Connection, transaction_as
from api.http.app import create_app
from api.importers.model import Conversation, Message
from api.pipeline.ingest import write_conversation
from tests.conftest import FIXTURES
from tests.membership import add_member
from tests.test_api import auth, make_settings

TEXTS = [
    "I want to bake bread this weekend.",
    "Start a sourdough starter a week ahead.",
    "My starter smells like nail polish remover.",
    "The acetone smell means the starter is hungry, so feed it twice a day.",
    "Should I use rye flour?",
    "Rye flour makes the starter more active.",
    "Thanks, the loaf rose well.",
]


@dataclass
class Team:
    owner: Caller
    viewer: Caller
    stranger: Caller
    workspace: UUID
    chunks: list[int]  # in reading order


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    settings = make_settings(db_url, openai_api_key=None, gemini_api_key=None)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def team(conn: Connection, make_user: Callable[[], Caller]) -> Team:
    owner, viewer, stranger = make_user(), make_user(), make_user()
    ws = ensure_workspace(conn, owner, "bakery")
    messages = [
        Message(role="user" if i % 2 == 0 else "assistant", text=t) for i, t in enumerate(TEXTS)
    ]
    conversation = Conversation(
        kind="text", platform="chatgpt", title="Sourdough", messages=messages
    )
    write_conversation(conn, owner, ws, conversation)
    add_member(conn, owner, ws, viewer, "viewer")
    with transaction_as(conn, owner):
        rows = conn.execute(
            "select id from public.chunks where workspace_id = %s"
            " order by message_index, chunk_index",
            [ws],
        ).fetchall()
    assert len(rows) == len(TEXTS)
    return Team(owner, viewer, stranger, ws, [r["id"] for r in rows])


def post(client: TestClient, caller: Caller, chunk: int, question: str, **body: Any) -> Any:
    return client.post(
        f"/v1/passages/{chunk}/threads", json={"question": question, **body}, headers=auth(caller)
    )


def listed(client: TestClient, caller: Caller, chunk: int) -> Any:
    return client.get(f"/v1/passages/{chunk}/threads", headers=auth(caller))


def test_a_thread_answers_from_the_passage_and_its_neighbours(
    client: TestClient, team: Team
) -> None:
    focus = team.chunks[2]  # "My starter smells like nail polish remover."
    response = post(client, team.owner, focus, "Why does it smell like that?")
    assert response.status_code == 201, response.text
    thread = response.json()
    assert thread["model"] == "extractive" and thread["chunk_id"] == focus
    assert thread["workspace_id"] == str(team.workspace)
    assert thread["user_id"] == str(team.owner.user_id)
    ids = [c["chunk_id"] for c in thread["citations"]]
    # [1] is the passage itself, then two neighbours either side in reading order.
    assert ids == [focus, team.chunks[0], team.chunks[1], team.chunks[3], team.chunks[4]]
    assert [c["n"] for c in thread["citations"]] == [1, 2, 3, 4, 5]
    assert thread["answer"].startswith(answering.EXTRACTIVE_NOTE)
    assert f"{TEXTS[3]} [4]" in thread["answer"]
    assert TEXTS[6] not in thread["answer"]  # beyond the neighbours

    edge = post(client, team.owner, team.chunks[0], "What did I want to bake?").json()
    assert [c["chunk_id"] for c in edge["citations"]] == team.chunks[:3]


def test_members_read_threads_and_strangers_see_nothing(
    client: TestClient, conn: Connection, team: Team
) -> None:
    focus = team.chunks[3]
    assert post(client, team.owner, focus, "How often should I feed it?").status_code == 201
    # A viewer may read the passage, so may read and ask about it.
    assert post(client, team.viewer, focus, "Why twice a day?").status_code == 201
    for member in (team.owner, team.viewer):
        got = listed(client, member, focus)
        assert got.status_code == 200
        assert [t["question"] for t in got.json()["threads"]] == [
            "How often should I feed it?",
            "Why twice a day?",
        ]
    assert listed(client, team.stranger, focus).status_code == 404
    assert post(client, team.stranger, focus, "Tell me").status_code == 404
    with transaction_as(conn, team.stranger):
        seen = conn.execute("select * from public.micro_threads where chunk_id = %s", [focus])
        assert seen.fetchall() == []
    # Nor can a stranger plant a thread on it directly, or under someone else's name.
    planted = (
        "insert into public.micro_threads (chunk_id, workspace_id, user_id, question, answer)"
        " values (%s, %s, %s, 'q', 'a')"
    )
    for caller, as_user in ((team.stranger, team.stranger), (team.viewer, team.owner)):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, caller):
            conn.execute(planted, [focus, team.workspace, as_user.user_id])
    # Each asker deletes their own thread only; nobody edits one.
    with transaction_as(conn, team.viewer):
        assert (
            conn.execute(
                "delete from public.micro_threads where user_id = %s", [team.owner.user_id]
            ).rowcount
            == 0
        )
        assert (
            conn.execute("delete from public.micro_threads where chunk_id = %s", [focus]).rowcount
            == 1
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, team.owner):
        conn.execute("update public.micro_threads set answer = 'x'")


def test_the_asker_alone_deletes_a_thread_through_the_api(client: TestClient, team: Team) -> None:
    focus = team.chunks[1]
    mine = post(client, team.owner, focus, "When do I start the starter?").json()
    theirs = post(client, team.viewer, focus, "Which flour?").json()
    url = f"/v1/passages/{focus}/threads"
    # Another member may read the thread but not delete it; a stranger does not see it.
    assert client.delete(f"{url}/{mine['id']}", headers=auth(team.viewer)).status_code == 403
    assert client.delete(f"{url}/{mine['id']}", headers=auth(team.stranger)).status_code == 404
    assert client.delete(f"{url}/{mine['id']}", headers=auth(team.owner)).status_code == 204
    assert client.delete(f"{url}/{mine['id']}", headers=auth(team.owner)).status_code == 404
    left = [t["id"] for t in listed(client, team.owner, focus).json()["threads"]]
    assert left == [theirs["id"]]


def test_a_thread_is_answered_by_the_chat_model_when_a_key_exists(db_url: str, team: Team) -> None:
    stream = (FIXTURES / "openai_chat" / "stream.txt").read_bytes()
    settings = make_settings(db_url, openai_api_key="sk-test-server-0000", gemini_api_key=None)
    with (
        TestClient(create_app(settings)) as c,
        respx.mock(assert_all_mocked=True) as mock,
    ):
        route = mock.post("https://api.openai.com/v1/chat/completions").mock(
            return_value=httpx.Response(
                200, content=stream, headers={"content-type": "text/event-stream"}
            )
        )
        response = post(c, team.owner, team.chunks[2], "Why does it smell?")
    assert response.status_code == 201, response.text
    thread = response.json()
    assert thread["model"] == "openai:gpt-4o-mini"
    assert thread["answer"] == (
        "Your starter smelled of acetone because it was hungry;"
        " feeding it twice a day fixed it [1]."
    )
    prompt = json.loads(route.calls[0].request.content)["messages"][1]["content"]
    assert prompt.startswith("Passages:\n\n[1] Sourdough (user")
    assert TEXTS[2] in prompt and TEXTS[4] in prompt and TEXTS[5] not in prompt
