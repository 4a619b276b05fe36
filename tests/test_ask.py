"""POST /v1/ask: passages found by hybrid search as the caller, an answer citing them.
The extractive fallback runs for real with the local model; OpenAI and Gemini are replayed
with respx from bodies shaped like their real streaming responses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from api.accounts.users import workspace_id
from api.answers import answering
from api.db.session import Caller, Connection
from api.http.app import create_app
from api.importers.model import Conversation, Message
from api.pipeline.ingest import write_conversation
from tests.conftest import FIXTURES
from tests.test_api import auth, make_settings

OPENAI_URL = "https://api.openai.com/v1/chat/completions"
GEMINI_URL = (
    r"^https://generativelanguage\.googleapis\.com/v1(beta)?/"
    r"models/gemini-2\.5-flash:streamGenerateContent\?alt=sse$"
)
OPENAI_KEY = "sk-test-" + "q" * 40 + "cdef"
GEMINI_KEY = "AIza-test-knitter-0123456789abcdef"
QUESTION = "Why did my sourdough starter smell of acetone?"
ACETONE = "The acetone smell means the starter is hungry, so feed it twice a day."


@pytest.fixture
def settings_for(db_url: str) -> Callable[..., Any]:
    def make(**overrides: Any) -> Any:
        keys: dict[str, Any] = {"openai_api_key": None, "gemini_api_key": None}
        return make_settings(db_url, **{**keys, **overrides})

    return make


@pytest.fixture
def client(settings_for: Callable[..., Any]) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for())) as c:
        yield c


@pytest.fixture
def baker(conn: Connection, make_user: Callable[[], Caller]) -> Caller:
    """A user with a sourdough conversation and an unrelated one."""
    me = make_user()
    ws = workspace_id(conn, me)
    for title, texts in (
        (
            "Sourdough starter troubleshooting",
            [
                "My sourdough starter smells like nail polish remover. What is wrong?",
                f"{ACETONE} Keep it at room temperature. Discard half before each feeding.",
            ],
        ),
        ("Bicycle maintenance", ["The rear derailleur skips gears when the cable is loose."]),
    ):
        messages = [
            Message(role="user" if i % 2 == 0 else "assistant", text=t) for i, t in enumerate(texts)
        ]
        conversation = Conversation(kind="text", platform="chatgpt", title=title, messages=messages)
        write_conversation(conn, me, ws, conversation)
    return me


def sse(text: str) -> list[tuple[str, Any]]:
    """(event, data) pairs of a text/event-stream body."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def ask(client: TestClient, caller: Caller, accept: str, **body: Any) -> Any:
    headers = {**auth(caller), "Accept": accept}
    return client.post("/v1/ask", json={"question": QUESTION, **body}, headers=headers)


def stream_reply(provider: str, status: int = 200) -> httpx.Response:
    if status != 200:
        body = (FIXTURES / f"{provider}_chat" / f"error_{status}.json").read_bytes()
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})
    body = (FIXTURES / f"{provider}_chat" / "stream.txt").read_bytes()
    return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


def acetone_citation(citations: list[dict[str, Any]]) -> int:
    return int(next(c["n"] for c in citations if ACETONE in c["content"]))


# --- without a key: extractive ----------------------------------------------------------


def test_extractive_answer_without_any_key(client: TestClient, baker: Caller) -> None:
    response = ask(client, baker, "application/json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["extractive"] is True and body["provider"] is None
    assert body["answer"].startswith(answering.EXTRACTIVE_NOTE)
    n = acetone_citation(body["citations"])
    cited = next(c for c in body["citations"] if c["n"] == n)
    assert cited["source_title"] == "Sourdough starter troubleshooting"
    assert isinstance(cited["chunk_id"], int) and cited["source_id"]
    # The best sentence comes first, with its citation; the bicycle is not in the answer.
    lines = body["answer"].split("\n\n", 1)[1].splitlines()
    assert lines[0] == f"- {ACETONE} [{n}]"
    assert "derailleur" not in body["answer"]
    assert body["cited"][0] == n


def test_extractive_answer_streams_as_server_sent_events(client: TestClient, baker: Caller) -> None:
    response = ask(client, baker, "text/event-stream")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse(response.text)
    assert [e for e, _ in events] == ["citations", "delta", "done"]
    n = acetone_citation(events[0][1])
    assert f"{ACETONE} [{n}]" in events[1][1]["text"]
    assert events[2][1]["extractive"] is True and n in events[2][1]["cited"]


def test_others_passages_are_never_used(
    client: TestClient, baker: Caller, make_user: Callable[[], Caller]
) -> None:
    stranger = make_user()
    body = ask(client, stranger, "application/json").json()
    assert body["citations"] == [] and body["answer"] == answering.NO_PASSAGES
    assert body["extractive"] is False
    assert client.post("/v1/ask", json={"question": QUESTION}).status_code == 401


def test_a_named_provider_without_a_key_is_a_400(client: TestClient, baker: Caller) -> None:
    response = ask(client, baker, "application/json", provider="openai")
    assert response.status_code == 400 and "no openai API key" in response.json()["detail"]


# --- OpenAI -----------------------------------------------------------------------------


def test_openai_answer_streams_with_the_users_key(client: TestClient, baker: Caller) -> None:
    stored = client.put("/v1/keys/openai", json={"key": OPENAI_KEY}, headers=auth(baker))
    assert stored.status_code == 200
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(OPENAI_URL).mock(side_effect=lambda _: stream_reply("openai"))
        response = ask(client, baker, "text/event-stream")
        as_json = ask(client, baker, "application/json").json()
    assert response.status_code == 200, response.text
    events = sse(response.text)
    names = [e for e, _ in events]
    assert names[0] == "citations" and names[-1] == "done"
    deltas = [d["text"] for e, d in events if e == "delta"]
    assert deltas == [
        "Your starter",
        " smelled of acetone",
        " because it was hungry",
        "; feeding it",
        " twice a day fixed it [1].",
    ]
    assert events[-1][1] == {
        "cited": [1],
        "extractive": False,
        "provider": "openai",
        "model": "gpt-4o-mini",
    }
    assert as_json["answer"] == "".join(deltas) and as_json["cited"] == [1]

    sent = route.calls[0].request
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    payload = json.loads(sent.content)
    assert payload["stream"] is True and payload["model"] == "gpt-4o-mini"
    system, user = payload["messages"]
    assert system["role"] == "system" and "only the numbered passages" in system["content"]
    assert "cannot answer" in system["content"]
    assert user["content"].endswith(f"Question: {QUESTION}")
    assert "[1] Sourdough starter troubleshooting" in user["content"]


def test_openai_refusing_the_key_is_a_clear_400_without_the_key(
    settings_for: Callable[..., Any], baker: Caller
) -> None:
    with (
        TestClient(create_app(settings_for(openai_api_key=OPENAI_KEY))) as c,
        respx.mock(assert_all_mocked=True) as mock,
    ):
        mock.post(OPENAI_URL).mock(return_value=stream_reply("openai", 401))
        response = ask(c, baker, "text/event-stream")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("OpenAI refused the API key (HTTP 401)")
    assert OPENAI_KEY not in response.text and "cdef" not in response.text


# --- Gemini -----------------------------------------------------------------------------


def test_gemini_answer_streams_with_the_server_key(
    settings_for: Callable[..., Any], baker: Caller
) -> None:
    with (
        TestClient(create_app(settings_for(gemini_api_key=GEMINI_KEY))) as c,
        respx.mock(assert_all_mocked=True) as mock,
    ):
        route = mock.post(url__regex=GEMINI_URL).mock(side_effect=lambda _: stream_reply("gemini"))
        response = ask(c, baker, "text/event-stream")
        as_json = ask(c, baker, "application/json").json()
    assert response.status_code == 200, response.text
    events = sse(response.text)
    deltas = [d["text"] for e, d in events if e == "delta"]
    assert deltas == [
        "Your starter smelled of acetone because it was hungry",
        "; feeding it twice a day fixed it [1].",
    ]
    assert events[-1][1]["provider"] == "gemini" and events[-1][1]["cited"] == [1]
    assert as_json["model"] == "gemini-2.5-flash" and as_json["extractive"] is False

    sent = route.calls[0].request
    assert sent.headers["x-goog-api-key"] == GEMINI_KEY
    payload = json.loads(sent.content)
    assert "only the numbered passages" in payload["systemInstruction"]["parts"][0]["text"]
    assert payload["contents"][0]["parts"][0]["text"].endswith(f"Question: {QUESTION}")


def test_gemini_refusing_the_key_is_a_clear_400_without_the_key(
    settings_for: Callable[..., Any], baker: Caller
) -> None:
    with (
        TestClient(create_app(settings_for(gemini_api_key=GEMINI_KEY))) as c,
        respx.mock(assert_all_mocked=True) as mock,
    ):
        mock.post(url__regex=GEMINI_URL).mock(return_value=stream_reply("gemini", 401))
        response = ask(c, baker, "application/json")
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("Gemini refused the API key (HTTP 401")
    assert GEMINI_KEY not in response.text


def test_a_provider_failing_mid_answer_ends_the_stream_with_an_error_event(
    settings_for: Callable[..., Any], baker: Caller
) -> None:
    lines = (FIXTURES / "openai_chat" / "stream.txt").read_text().split("\n\n")
    failure = {"error": {"message": "The server had an error", "type": "server_error"}}
    broken = "\n\n".join([*lines[:3], f"data: {json.dumps(failure)}", ""])
    with (
        TestClient(create_app(settings_for(openai_api_key=OPENAI_KEY))) as c,
        respx.mock(assert_all_mocked=True) as mock,
    ):
        mock.post(OPENAI_URL).mock(
            return_value=httpx.Response(
                200, content=broken.encode(), headers={"content-type": "text/event-stream"}
            )
        )
        response = ask(c, baker, "text/event-stream")
    assert response.status_code == 200
    events = sse(response.text)
    assert [e for e, _ in events] == ["citations", "delta", "delta", "error"]
    assert "OpenAI failed mid-answer: The server had an error" in events[-1][1]["detail"]
