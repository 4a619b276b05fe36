"""A slow provider is given up on within the model's one timeout, its retries and the
waits between them included (issue 14): OpenAI and Gemini, embeddings, chat and a key's
test. The provider is a real HTTP server on the loopback that replays the providers' real
error bodies (tests/fixtures) and then stops answering; the clients' own timeouts fire.

No assertion reads a clock: the SDKs used to give every attempt the whole timeout again
(six attempts of it for OpenAI), which shows in how many attempts reached the server and
in the read timeout the OpenAI SDK announces on each (`x-stainless-read-timeout`)."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from api.accounts.users import caller_for
from api.db.session import Connection
from api.errors import ProviderError
from api.http.app import create_app
from api.providers import choice
from api.providers.gemini_chat import GeminiChat
from api.providers.gemini_embeddings import GeminiModel
from api.providers.openai_chat import OpenAIChat
from api.providers.openai_embeddings import OpenAIModel
from tests.conftest import FIXTURES
from tests.test_api import auth, make_settings

KEY = "sk-test-knitter-0123456789abcdef"
# Seconds a whole call may take: room for the SDKs' first-call imports on a busy machine.
BOUND = 4.0


@dataclass
class Provider:
    """Answers the first requests at once with the error replies, then holds every later
    one until the test ends."""

    base: str
    errors: list[tuple[int, bytes]]
    seen: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def provider() -> Iterator[Callable[..., Provider]]:
    release = threading.Event()
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(*replies: tuple[int, str]) -> Provider:
        state = Provider("", [(status, (FIXTURES / f).read_bytes()) for status, f in replies])

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                state.seen.append({k.lower(): v for k, v in self.headers.items()})
                if state.errors:
                    status, payload = state.errors.pop(0)
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                release.wait(30)  # a provider that never answers (bounded for the test)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        state.base = f"http://127.0.0.1:{server.server_port}"
        return state

    yield start
    release.set()
    for server in servers:
        server.shutdown()
        server.server_close()


def warmed(state: Provider, call: Callable[[], object]) -> None:
    """One call answered by the first error reply, forgotten: the SDK's first request
    imports and builds its types, which on a busy machine took seconds of the bound."""
    with pytest.raises(ProviderError):
        call()
    state.seen.clear()


def read_timeouts(state: Provider) -> list[float]:
    return [float(h["x-stainless-read-timeout"]) for h in state.seen]


def assert_timed_out(caught: pytest.ExceptionInfo[ProviderError]) -> None:
    assert caught.value.kind == "unavailable"
    assert "did not answer in time" in str(caught.value)
    assert KEY not in str(caught.value)


def test_openai_embeddings_stop_at_the_one_timeout(provider: Callable[..., Provider]) -> None:
    """A 500, then silence. Five retries are allowed, but after the pause the second
    attempt gets only what is left of the bound and there is no time for a third."""
    slow = provider((500, "openai/error_500.json"), (500, "openai/error_500.json"))
    model = OpenAIModel(
        "text-embedding-3-small", KEY, 4, base_url=f"{slow.base}/v1", timeout=BOUND, retries=5
    )
    warmed(
        slow,
        lambda: OpenAIModel(
            "text-embedding-3-small", KEY, 4, base_url=f"{slow.base}/v1", retries=0
        ).embed(["warm"]),
    )
    with pytest.raises(ProviderError) as caught:
        model.embed(["sourdough"])
    assert_timed_out(caught)
    first, second = read_timeouts(slow)  # not six attempts of 2 s each
    assert first <= BOUND
    # At least the 0.375 s pause has gone from the bound.
    assert second <= BOUND - 0.375


def test_openai_chat_stops_at_the_one_timeout(provider: Callable[..., Provider]) -> None:
    slow = provider((500, "openai/error_500.json"), (500, "openai/error_500.json"))
    chat = OpenAIChat("gpt-4o-mini", KEY, base_url=f"{slow.base}/v1", timeout=BOUND, retries=5)
    warmed(
        slow,
        lambda: list(
            OpenAIChat("gpt-4o-mini", KEY, base_url=f"{slow.base}/v1", retries=0).stream("s", "p")
        ),
    )
    with pytest.raises(ProviderError) as caught:
        list(chat.stream("You answer.", "What is sourdough?"))
    assert_timed_out(caught)
    assert [h.get("accept") for h in slow.seen] == ["application/json"] * 2
    first, second = read_timeouts(slow)
    assert first <= BOUND and second <= BOUND - 0.375


def test_gemini_embeddings_stop_at_the_one_timeout(provider: Callable[..., Provider]) -> None:
    """google-genai retries timeouts too, each with the whole timeout: five retries were
    six attempts of the whole timeout (and their waits). Now the second attempt is the last."""
    slow = provider((503, "gemini/error_503.json"), (503, "gemini/error_503.json"))
    warmed(
        slow,
        lambda: GeminiModel("gemini-embedding-001", KEY, 4, base_url=slow.base, retries=0).embed(
            ["warm"]
        ),
    )
    model = GeminiModel(
        "gemini-embedding-001",
        KEY,
        4,
        base_url=slow.base,
        timeout=BOUND,
        retries=5,
        backoff=0.3,
    )
    with pytest.raises(ProviderError) as caught:
        model.embed(["sourdough"])
    assert_timed_out(caught)
    assert len(slow.seen) == 2
    assert all(h["x-goog-api-key"] == KEY for h in slow.seen)


def test_gemini_chat_stops_at_its_timeout(provider: Callable[..., Provider]) -> None:
    slow = provider()
    chat = GeminiChat("gemini-2.5-flash", KEY, base_url=slow.base, timeout=1.0)
    with pytest.raises(ProviderError) as caught:
        list(chat.stream("You answer.", "What is sourdough?"))
    assert_timed_out(caught)
    assert len(slow.seen) == 1
    assert slow.seen[0]["x-server-timeout"] == "1"


def test_a_keys_test_frees_its_worker_within_its_bound(
    provider: Callable[..., Provider],
    db_url: str,
    conn: Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """POST /v1/keys/openai/test against an OpenAI that never answers: the route answers
    "Could not reach" after its own short bound (4 s, 1.5 s here), not after the
    embedding model's 30 s times six attempts."""
    slow = provider()
    monkeypatch.setenv("OPENAI_BASE_URL", f"{slow.base}/v1")
    monkeypatch.setattr(choice, "KEY_TEST_TIMEOUT_S", 1.5)
    me = caller_for(conn, f"deadline-{uuid.uuid4().hex[:10]}@example.com", create=True)
    with TestClient(create_app(make_settings(db_url))) as client:
        stored = client.put("/v1/keys/openai", json={"key": KEY}, headers=auth(me))
        assert stored.status_code == 200, stored.text
        tried = client.post("/v1/keys/openai/test", headers=auth(me))
    assert tried.status_code == 200, tried.text
    assert tried.json()["ok"] is False
    assert "Could not reach OpenAI" in tried.json()["message"]
    assert read_timeouts(slow) == [pytest.approx(1.5, abs=0.1)]
