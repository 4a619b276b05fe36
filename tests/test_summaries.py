"""Summaries of conversations and topic threads: extracted offline for real, written by a
chat model (replayed OpenAI stream) when a key is there; stored, refreshable, editors only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from api.accounts.users import ensure_workspace
from api.answers import summaries
from api.db.session import Caller, Connection, transaction_as
from api.http.app import create_app
from api.importers.model import Conversation, Message
from api.pipeline.ingest import write_conversation
from api.topics import terms
from tests.conftest import FIXTURES
from tests.membership import add_member
from tests.test_api import auth, make_settings

OPENAI_URL = "https://api.openai.com/v1/chat/completions"
OPENAI_KEY = "sk-test-" + "s" * 40 + "wxyz"
MESSAGES = [
    "My sourdough starter smells like nail polish remover, is it dead?",
    "No. The acetone smell means the yeast has run out of food. Feed your sourdough starter"
    " twice a day with equal weights of flour and water and keep it at room temperature.",
    "Thanks! Should I use rye flour for the feedings?",
    "A little whole rye flour makes the sourdough starter more active, because rye carries"
    " more nutrients for the yeast and bacteria.",
    "After two days of feedings it doubled again and smells yeasty.",
    "Great. Once it reliably doubles within six hours of a feeding it is ready to bake with.",
]


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    settings = make_settings(db_url, openai_api_key=None, gemini_api_key=None)
    with TestClient(create_app(settings)) as c:
        yield c


def make_source(conn: Connection, owner: Caller) -> tuple[UUID, UUID]:
    ws = ensure_workspace(conn, owner, "kitchen")
    messages = [
        Message(role="user" if i % 2 == 0 else "assistant", text=t) for i, t in enumerate(MESSAGES)
    ]
    write_conversation(
        conn,
        owner,
        ws,
        Conversation(kind="text", platform="claude", title="Starter rescue", messages=messages),
    )
    with transaction_as(conn, owner):
        row = conn.execute("select id from public.sources where workspace_id = %s", [ws]).fetchone()
    assert row is not None
    return ws, row["id"]


def stored(conn: Connection, caller: Caller, source_id: UUID) -> dict[str, Any] | None:
    with transaction_as(conn, caller):
        return conn.execute("select * from public.source_details(%s)", [source_id]).fetchone()


def test_central_sentences_pick_what_the_text_is_about() -> None:
    text = " ".join(MESSAGES)
    picked = terms.central_sentences(text, 2)
    assert len(picked) == 2
    assert all(p in text for p in picked)
    assert all("sourdough" in p.lower() or "starter" in p.lower() for p in picked)
    # In reading order.
    assert text.index(picked[0]) < text.index(picked[1])
    assert terms.central_sentences("Too short.", 3) == []


def test_a_sentence_said_three_times_is_summarised_once() -> None:
    repeated = "Feed the sourdough starter with flour and water every single day."
    text = " ".join(
        [repeated, "We went to the market on Sunday with two friends.", repeated, repeated]
    )
    # Three asked for, two different ones there: the summary is those two, not a repeat.
    picked = terms.central_sentences(text, 3)
    assert picked.count(repeated) == 1, picked
    assert len(picked) == 2


def test_the_reply_is_split_into_summary_and_topics() -> None:
    assert summaries.parse_reply("It is about bread.\nTopics: bread, starter.") == (
        "It is about bread.",
        ["bread", "starter"],
    )
    assert summaries.parse_reply("Only a summary.") == ("Only a summary.", [])


def test_an_extractive_summary_without_any_key(
    client: TestClient, conn: Connection, make_user: Callable[[], Caller]
) -> None:
    owner = make_user()
    _, source = make_source(conn, owner)
    assert stored(conn, owner, source) == {
        "summary": None,
        "key_topics": [],
        "summary_model": None,
        "summarized_at": None,
        "thread_id": None,
        "thread_title": None,
    }
    response = client.post(f"/v1/sources/{source}/summary", json={}, headers=auth(owner))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "extractive"
    assert "starter" in body["summary"].lower()
    picked = terms.sentences(body["summary"])
    assert len(picked) == summaries.SUMMARY_SENTENCES
    assert all(any(sentence in m for m in MESSAGES) for sentence in picked)
    assert "sourdough" in body["key_topics"] and "starter" in body["key_topics"]
    row = stored(conn, owner, source)
    assert row is not None and row["summary"] == body["summary"]
    assert row["summary_model"] == "extractive" and row["key_topics"] == body["key_topics"]

    # Refreshing replaces it (here with the same text, at a later time).
    again = client.post(f"/v1/sources/{source}/summary", json={}, headers=auth(owner)).json()
    assert again["summarized_at"] > body["summarized_at"]


def test_a_chat_model_writes_the_summary_with_the_users_key(
    client: TestClient, conn: Connection, make_user: Callable[[], Caller]
) -> None:
    owner = make_user()
    _, source = make_source(conn, owner)
    put = client.put("/v1/keys/openai", json={"key": OPENAI_KEY}, headers=auth(owner))
    assert put.status_code == 200
    body = (FIXTURES / "openai_chat" / "summary_stream.txt").read_bytes()
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(OPENAI_URL).mock(
            return_value=httpx.Response(
                200, content=body, headers={"content-type": "text/event-stream"}
            )
        )
        response = client.post(f"/v1/sources/{source}/summary", json={}, headers=auth(owner))
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["summary"] == (
        "The starter smelled of acetone because it was underfed; feeding it twice a day made"
        " it rise again."
    )
    assert summary["key_topics"] == ["sourdough starter", "feeding schedule", "acetone"]
    assert summary["model"] == "openai:gpt-4o-mini"
    sent = route.calls[0].request
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    prompt = json.loads(sent.content)["messages"][1]["content"]
    assert prompt.startswith("Starter rescue") and MESSAGES[1] in prompt
    assert OPENAI_KEY not in response.text


def test_only_editors_summarise_and_strangers_see_nothing(
    client: TestClient, conn: Connection, make_user: Callable[[], Caller]
) -> None:
    owner, viewer, stranger = make_user(), make_user(), make_user()
    ws, source = make_source(conn, owner)
    add_member(conn, owner, ws, viewer, "viewer")
    url = f"/v1/sources/{source}/summary"
    denied = client.post(url, json={}, headers=auth(viewer))
    assert denied.status_code == 403
    assert denied.json() == {"detail": "only editors of the workspace can summarise"}
    hidden = client.post(url, json={}, headers=auth(stranger))
    assert hidden.status_code == 404 and hidden.json() == {"detail": "no such conversation"}
    row = stored(conn, owner, source)
    assert row is not None and row["summary"] is None
    named = client.post(url, json={"provider": "openai"}, headers=auth(owner))
    assert named.status_code == 400 and "no openai API key" in named.json()["detail"]


def test_a_thread_summary_draws_on_its_conversations(
    client: TestClient, conn: Connection, make_user: Callable[[], Caller]
) -> None:
    owner = make_user()
    ws, source = make_source(conn, owner)
    with transaction_as(conn, owner):
        thread = conn.execute(
            "insert into public.topic_threads (workspace_id) values (%s) returning id", [ws]
        ).fetchone()
        assert thread is not None
        conn.execute(
            "update public.sources set thread_id = %s where id = %s", [thread["id"], source]
        )
    url = f"/v1/threads/{thread['id']}/summary"
    response = client.post(url, json={"provider": "extractive"}, headers=auth(owner))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "extractive" and "starter" in body["summary"].lower()
    with transaction_as(conn, owner):
        row = conn.execute(
            "select * from public.list_topic_threads(%s, %s)", [ws, thread["id"]]
        ).fetchone()
    assert row is not None
    assert row["summary"] == body["summary"] and row["key_topics"] == body["key_topics"]
    # Summarising titled the untitled thread from its words.
    assert row["title_source"] == "terms" and "Starter" in row["title"]
    details = stored(conn, owner, source)
    assert details is not None and details["thread_id"] == thread["id"]
    assert details["thread_title"] == row["title"]

    missing = client.post(
        "/v1/threads/00000000-0000-4000-8000-000000000000/summary", json={}, headers=auth(owner)
    )
    assert missing.status_code == 404


def test_terms_leave_out_numbers_stopwords_and_overlong_strings() -> None:
    text = "The 2024 Kubernetes ingress " + "x" * 31 + " ingress"
    assert terms.words(text) == ["kubernetes", "ingress", "ingress"]
