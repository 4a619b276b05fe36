"""OpenAI and Gemini embedding providers, replayed with respx from response bodies shaped
like the real ones (tests/fixtures/openai, tests/fixtures/gemini). No test touches the
network: respx refuses any request it has no route for."""

from __future__ import annotations

import contextlib
import http.server
import json
import logging
import math
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from api.db.session import Caller, Connection
from api.embeddings.registry import get_model, model_for_id, register_model
from api.errors import KnitterError, ProviderError
from api.providers.gemini_embeddings import GeminiModel
from api.providers.openai_embeddings import OpenAIModel
from tests.conftest import FIXTURES

OPENAI_KEY = "sk-test-knitter-0123456789abcdef"
# How OpenAI echoes that key in its 401 message (tests/fixtures/openai/error_401.json).
OPENAI_MASKED_KEY = "sk-test-********************cdef"
GEMINI_KEY = "AIza-test-knitter-0123456789abcdef"
OPENAI_URL = "https://api.openai.com/v1/embeddings"
GEMINI_URL = (
    r"^https://generativelanguage\.googleapis\.com/v1(beta)?/"
    r"models/gemini-embedding-001:batchEmbedContents$"
)


def fixture(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


def reply(provider: str, name: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=fixture(provider, name), headers=headers)


def body(call: respx.models.Call) -> Any:
    return json.loads(call.request.content)


def norm(vector: list[float]) -> float:
    return math.sqrt(math.fsum(x * x for x in vector))


def marker(text: str) -> int:
    """Texts in the batching tests start "t<i>"; their vectors point along (1, i)."""
    found = re.match(r"t(\d+)", text)
    assert found is not None
    return int(found[1])


def direction(vector: list[float]) -> float:
    return vector[1] / vector[0]


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses the OpenAI SDK takes between retries (time.sleep), recorded instead."""
    taken: list[float] = []
    monkeypatch.setattr(time, "sleep", taken.append)
    return taken


@pytest.fixture
def openai(router: respx.MockRouter, sleeps: list[float]) -> OpenAIModel:
    return OpenAIModel("text-embedding-3-small", OPENAI_KEY, 4, retries=2)


@pytest.fixture
def gemini(router: respx.MockRouter) -> GeminiModel:
    return GeminiModel("gemini-embedding-001", GEMINI_KEY, 4, retries=2, backoff=0)


# OpenAI


def openai_echo(request: httpx.Request) -> httpx.Response:
    """A real-shaped reply to any batch of "t<i>" texts, listed in reverse index order."""
    sent = json.loads(request.content)
    page = fixture("openai", "embeddings")
    dims = sent.get("dimensions", 1536)
    page["data"] = [
        {
            "object": "embedding",
            "index": n,
            "embedding": [1.0, float(marker(t))] + [0.0] * (dims - 2),
        }
        for n, t in reversed(list(enumerate(sent["input"])))
    ]
    return httpx.Response(200, json=page)


def test_openai_request_and_unit_vectors_in_order(
    router: respx.MockRouter, openai: OpenAIModel
) -> None:
    route = router.post(OPENAI_URL).mock(return_value=reply("openai", "embeddings"))
    vectors = openai.embed(["sourdough", "derailleur", "tides"])
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert body(route.calls.last) == {
        "model": "text-embedding-3-small",
        "input": ["sourdough", "derailleur", "tides"],
        "encoding_format": "float",
        "dimensions": 4,
    }
    assert vectors == [[0.0, 0.6, 0.0, 0.8], [-0.5, 0.5, 0.5, -0.5], [1.0, 0.0, 0.0, 0.0]]
    assert openai.embed([]) == []
    assert route.call_count == 1


def test_openai_default_sizes_send_no_dimensions(router: respx.MockRouter) -> None:
    route = router.post(OPENAI_URL).mock(side_effect=openai_echo)
    small = get_model("openai", "text-embedding-3-small", api_key=OPENAI_KEY)
    large = get_model("openai", "text-embedding-3-large", api_key=OPENAI_KEY)
    assert (small.dims, large.dims) == (1536, 3072)
    [vector] = small.embed(["t2"], "query")
    assert "dimensions" not in body(route.calls.last)
    assert len(vector) == 1536 and norm(vector) == pytest.approx(1.0)
    assert get_model("openai", "text-embedding-3-large", 256, OPENAI_KEY).dims == 256
    with pytest.raises(KnitterError, match="3072"):
        get_model("openai", "text-embedding-3-large", 4096, OPENAI_KEY)


def test_openai_batches_by_count_and_bytes(router: respx.MockRouter, openai: OpenAIModel) -> None:
    route = router.post(OPENAI_URL).mock(side_effect=openai_echo)
    texts = [f"t{i}" for i in range(2049)]
    vectors = openai.embed(texts)
    assert [len(body(c)["input"]) for c in route.calls] == [2048, 1]
    assert [round(direction(v)) for v in vectors] == list(range(2049))
    assert all(norm(v) == pytest.approx(1.0) for v in vectors)

    # 300,000 UTF-8 bytes per request: three 100,000-byte texts fit, a fourth does not;
    # "é" is two bytes, so 80,000 of them fill more than half a request.
    route.reset()
    openai.embed([f"t{i}" + "x" * (100_000 - 2) for i in range(4)])
    assert [len(body(c)["input"]) for c in route.calls] == [3, 1]
    route.reset()
    openai.embed([f"t{i}" + "é" * 80_000 for i in range(3)])
    assert [len(body(c)["input"]) for c in route.calls] == [1, 1, 1]


def test_openai_retries_429_and_500_honouring_retry_after(
    router: respx.MockRouter, sleeps: list[float]
) -> None:
    route = router.post(OPENAI_URL).mock(
        side_effect=[
            reply("openai", "error_429", 429, **{"retry-after": "2"}),
            reply("openai", "error_429", 429, **{"retry-after-ms": "145"}),
            reply("openai", "error_500", 500),
            reply("openai", "embeddings"),
        ]
    )
    model = OpenAIModel("text-embedding-3-small", OPENAI_KEY, 4)
    vectors = model.embed(["a", "b", "c"])
    assert route.call_count == 4
    assert len(vectors) == 3
    assert sleeps[:2] == [2.0, 0.145]
    # Without a header: exponential backoff with jitter, 0.5 s doubling, at most 8 s.
    assert 0.5 * 2**2 * 0.75 <= sleeps[2] <= 0.5 * 2**2


@pytest.mark.parametrize(
    ("fixture_name", "status", "kind", "calls"),
    [
        ("error_401", 401, "auth", 1),
        ("error_403_not_embedding_model", 403, "bad_request", 1),
        ("error_400", 400, "bad_request", 1),
        ("error_429", 429, "rate_limit", 3),
        # The SDK retries every 429, an exhausted quota too.
        ("error_429_insufficient_quota", 429, "rate_limit", 3),
        ("error_500", 500, "unavailable", 3),
    ],
)
def test_openai_errors(
    router: respx.MockRouter,
    openai: OpenAIModel,
    fixture_name: str,
    status: int,
    kind: str,
    calls: int,
) -> None:
    route = router.post(OPENAI_URL).mock(return_value=reply("openai", fixture_name, status))
    with pytest.raises(ProviderError) as caught:
        openai.embed(["sourdough"])
    error = caught.value
    assert (error.provider, error.kind, error.status) == ("openai", kind, status)
    assert route.call_count == calls
    assert fixture("openai", fixture_name)["error"]["message"][:20] in str(error)
    for shown in (str(error), repr(error)):
        assert OPENAI_KEY not in shown and OPENAI_MASKED_KEY not in shown


def test_openai_timeouts_and_html_errors(router: respx.MockRouter, openai: OpenAIModel) -> None:
    route = router.post(OPENAI_URL).mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(ProviderError, match="in time") as caught:
        openai.embed(["a"])
    assert caught.value.kind == "unavailable" and route.call_count == 3

    route.mock(side_effect=None, return_value=httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(ProviderError, match="Bad Gateway") as caught:
        openai.embed(["a"])
    assert caught.value.kind == "unavailable"


def test_openai_timeout_and_base_url_settings(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1/")
    route = router.post("http://127.0.0.1:8080/v1/embeddings").mock(side_effect=openai_echo)
    OpenAIModel("nomic-embed-text", "local", 8, timeout=7).embed(["t1"])
    # What is left of the 7 s the whole call may take.
    assert 6 < route.calls.last.request.extensions["timeout"]["read"] <= 7
    assert body(route.calls.last)["dimensions"] == 8

    other = router.post("https://proxy.example/openai/embeddings").mock(side_effect=openai_echo)
    proxied = OpenAIModel(
        "text-embedding-3-small", OPENAI_KEY, base_url="https://proxy.example/openai"
    )
    proxied.embed(["t1"])
    assert other.call_count == 1
    with pytest.raises(KnitterError, match="dimensions"):
        OpenAIModel("nomic-embed-text", "local")


# Gemini


def gemini_echo(request: httpx.Request) -> httpx.Response:
    """A real-shaped reply to any batch of "t<i>" texts."""
    sent = json.loads(request.content)["requests"]
    return httpx.Response(
        200,
        json={
            "embeddings": [
                {
                    "values": [1.0, float(marker(r["content"]["parts"][0]["text"]))]
                    + [0.0] * (r["outputDimensionality"] - 2)
                }
                for r in sent
            ]
        },
    )


def test_gemini_request_and_unit_vectors_in_order(
    router: respx.MockRouter, gemini: GeminiModel
) -> None:
    route = router.post(url__regex=GEMINI_URL).mock(
        return_value=reply("gemini", "batch_embed_contents")
    )
    vectors = gemini.embed(["sourdough", "derailleur", "tides"])
    request = route.calls.last.request
    assert request.headers["x-goog-api-key"] == GEMINI_KEY
    assert body(route.calls.last) == {
        "requests": [
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": text}], "role": "user"},
                "taskType": "RETRIEVAL_DOCUMENT",
                "outputDimensionality": 4,
            }
            for text in ["sourdough", "derailleur", "tides"]
        ]
    }
    assert vectors == [[0.0, 0.6, 0.0, 0.8], [-0.5, 0.5, 0.5, -0.5], [1.0, 0.0, 0.0, 0.0]]

    route.mock(side_effect=gemini_echo)
    gemini.embed(["t1"], "query")
    assert body(route.calls.last)["requests"][0]["taskType"] == "RETRIEVAL_QUERY"
    assert gemini.embed([]) == []


def test_gemini_default_size_and_batches(router: respx.MockRouter) -> None:
    route = router.post(url__regex=GEMINI_URL).mock(side_effect=gemini_echo)
    model = get_model("gemini", "gemini-embedding-001", api_key=GEMINI_KEY)
    assert model.dims == 3072
    texts = [f"t{i}" for i in range(250)]
    vectors = model.embed(texts)
    assert [len(body(c)["requests"]) for c in route.calls] == [100, 100, 50]
    assert {r["outputDimensionality"] for c in route.calls for r in body(c)["requests"]} == {3072}
    assert [round(direction(v)) for v in vectors] == list(range(250))
    assert all(len(v) == 3072 and norm(v) == pytest.approx(1.0) for v in vectors)
    assert get_model("gemini", "gemini-embedding-001", 768, GEMINI_KEY).dims == 768
    with pytest.raises(KnitterError, match="3072"):
        get_model("gemini", "gemini-embedding-001", 4096, GEMINI_KEY)


def test_gemini_retries_429_and_500(router: respx.MockRouter, gemini: GeminiModel) -> None:
    route = router.post(url__regex=GEMINI_URL).mock(
        side_effect=[
            reply("gemini", "error_429", 429),
            reply("gemini", "error_500", 500),
            reply("gemini", "batch_embed_contents"),
        ]
    )
    assert len(gemini.embed(["a", "b", "c"])) == 3
    assert route.call_count == 3


@pytest.mark.parametrize(
    ("fixture_name", "status", "kind", "calls"),
    [
        ("error_400_api_key_invalid", 400, "auth", 1),
        ("error_401", 401, "auth", 1),
        ("error_403_consumer_suspended", 403, "auth", 1),
        ("error_400_too_many_requests", 400, "bad_request", 1),
        ("error_429", 429, "rate_limit", 3),
        ("error_500", 500, "unavailable", 3),
        ("error_503", 503, "unavailable", 3),
    ],
)
def test_gemini_errors(
    router: respx.MockRouter,
    gemini: GeminiModel,
    fixture_name: str,
    status: int,
    kind: str,
    calls: int,
) -> None:
    route = router.post(url__regex=GEMINI_URL).mock(
        return_value=reply("gemini", fixture_name, status)
    )
    with pytest.raises(ProviderError) as caught:
        gemini.embed(["sourdough"])
    error = caught.value
    assert (error.provider, error.kind, error.status) == ("gemini", kind, status)
    assert route.call_count == calls
    assert fixture("gemini", fixture_name)["error"]["message"][:20] in str(error)
    for shown in (str(error), repr(error)):
        assert GEMINI_KEY not in shown


def test_gemini_timeout(router: respx.MockRouter) -> None:
    route = router.post(url__regex=GEMINI_URL).mock(side_effect=httpx.ReadTimeout("timed out"))
    model = GeminiModel("gemini-embedding-001", GEMINI_KEY, 4, timeout=7, retries=1, backoff=0)
    with pytest.raises(ProviderError, match="in time") as caught:
        model.embed(["a"])
    assert caught.value.kind == "unavailable"
    assert route.call_count == 2
    # What is left of the 7 s the whole call may take.
    assert 6 < route.calls.last.request.extensions["timeout"]["read"] <= 7


# Both


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_a_missing_key_says_a_key_is_needed(provider: str) -> None:
    name = {"openai": "text-embedding-3-small", "gemini": "gemini-embedding-001"}[provider]
    for key in (None, ""):
        with pytest.raises(KnitterError, match=r"needs an? \w+ API key") as caught:
            get_model(provider, name, api_key=key)
        assert isinstance(caught.value, ProviderError) and caught.value.kind == "auth"


def test_the_key_stays_out_of_reprs_and_logs(
    router: respx.MockRouter,
    openai: OpenAIModel,
    gemini: GeminiModel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    router.post(OPENAI_URL).mock(
        side_effect=[reply("openai", "error_429", 429), reply("openai", "error_401", 401)]
    )
    router.post(url__regex=GEMINI_URL).mock(
        side_effect=[reply("gemini", "error_500", 500), reply("gemini", "batch_embed_contents")]
    )
    with pytest.raises(ProviderError):
        openai.embed(["a"])
    gemini.embed(["a", "b", "c"])
    assert "Retrying" in caplog.text  # the retry was logged
    assert repr(openai) == (
        "OpenAIModel(name='text-embedding-3-small', dims=4, base_url='https://api.openai.com/v1')"
    )
    assert repr(gemini) == "GeminiModel(name='gemini-embedding-001', dims=4)"
    for shown in (caplog.text, repr(openai), str(openai), repr(gemini), str(gemini)):
        assert OPENAI_KEY not in shown and GEMINI_KEY not in shown


# The database


def index_definition(conn: Connection, model_id: int) -> str:
    row = conn.execute(
        "select indexdef from pg_indexes where indexname = %s",
        [f"chunk_embeddings_model_{model_id}_hnsw"],
    ).fetchone()
    assert row is not None, "registering the model created no index"
    return str(row["indexdef"])


def test_registering_openai_1536_creates_a_vector_hnsw_index(
    conn: Connection, router: respx.MockRouter
) -> None:
    model_id = register_model(
        conn, get_model("openai", "text-embedding-3-small", api_key=OPENAI_KEY)
    )
    definition = index_definition(conn, model_id)
    assert "USING hnsw" in definition
    assert "vector(1536)" in definition and "vector_cosine_ops" in definition
    assert "halfvec" not in definition
    assert f"WHERE (model_id = {model_id})" in definition

    # The worker's way back from the row: the stored size is asked for explicitly.
    route = router.post(OPENAI_URL).mock(side_effect=openai_echo)
    model = model_for_id(conn, Caller.service(), model_id, OPENAI_KEY)
    assert isinstance(model, OpenAIModel) and model.dims == 1536
    [vector] = model.embed(["t3"])
    assert body(route.calls.last)["dimensions"] == 1536 and len(vector) == 1536


def test_registering_gemini_3072_creates_a_halfvec_hnsw_index(conn: Connection) -> None:
    model = get_model("gemini", "gemini-embedding-001", api_key=GEMINI_KEY)
    model_id = register_model(conn, model)
    assert register_model(conn, model) == model_id
    definition = index_definition(conn, model_id)
    assert "USING hnsw" in definition
    assert "halfvec(3072)" in definition and "halfvec_cosine_ops" in definition
    assert f"WHERE (model_id = {model_id})" in definition


def test_output_sizes_are_checked_before_any_request() -> None:
    assert OpenAIModel("text-embedding-3-large", OPENAI_KEY).dims == 3072
    assert GeminiModel("gemini-embedding-001", GEMINI_KEY, 768).dims == 768
    assert OpenAIModel("text-embedding-ada-002", OPENAI_KEY).dims == 1536
    with pytest.raises(KnitterError, match="give the number of dimensions of the OpenAI model"):
        OpenAIModel("some-compatible-model", OPENAI_KEY)
    with pytest.raises(KnitterError, match="gives 1 to 3072 dimensions, not 4000"):
        GeminiModel("gemini-embedding-001", GEMINI_KEY, 4000)
    with pytest.raises(KnitterError, match="gives 1536 dimensions, not 512"):
        OpenAIModel("text-embedding-ada-002", OPENAI_KEY, 512)


def test_a_slow_openai_is_given_up_on_at_the_timeout() -> None:
    """The embeddings answer (the real response body) comes after 1.5 s; the model may
    take 0.5 s in all. The SDK used to give each of its retries the whole timeout again;
    now the first attempt uses up the bound and is the last, an `unavailable` error."""
    requests: list[str] = []
    reply = (FIXTURES / "openai" / "embeddings.json").read_bytes()

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            requests.append(self.path)
            self.rfile.read(int(self.headers["content-length"]))
            time.sleep(1.5)
            with contextlib.suppress(OSError):  # the client has gone
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        model = OpenAIModel(
            "text-embedding-3-small",
            OPENAI_KEY,
            base_url=f"http://127.0.0.1:{server.server_port}/v1",
            timeout=0.5,
        )
        with pytest.raises(ProviderError, match=r"in time|within|timed out") as caught:
            model.embed(["sourdough"])
        assert caught.value.kind == "unavailable"
        assert requests == ["/v1/embeddings"]
    finally:
        server.shutdown()
        server.server_close()
