"""POST /v1/keys/{provider}/test fails fast with a human message: one attempt (no retries
with backoff) when the provider is unreachable, overloaded or refuses the key. Providers
are replayed with respx in the shape of their real responses."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from api.db.session import Caller
from api.providers.choice import KEY_TEST_TIMEOUT_S
from tests.conftest import FIXTURES
from tests.test_api import auth, client, user

__all__ = ["client", "user"]  # the fixtures

OPENAI_URL = "https://api.openai.com/v1/embeddings"
GEMINI_URL = (
    r"^https://generativelanguage\.googleapis\.com/v1(beta)?/"
    r"models/gemini-embedding-001:batchEmbedContents$"
)
SECRETS = {"openai": "sk-test-" + "q" * 40 + "wxyz", "gemini": "AIza-test-" + "q" * 30 + "wxyz"}


def fixture(provider: str, name: str) -> object:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text())


def stored(client: TestClient, me: Caller, provider: str) -> None:
    put = client.put(f"/v1/keys/{provider}", json={"key": SECRETS[provider]}, headers=auth(me))
    assert put.status_code == 200, put.text


@pytest.mark.parametrize("provider", ["openai", "gemini"])
@pytest.mark.parametrize(
    ("failure", "says"),
    [
        (httpx.ConnectError("[Errno -2] Name or service not known"), "Could not reach"),
        (httpx.ReadTimeout("timed out"), "Could not reach"),
        ("error_503", "Could not reach"),
        ("error_401", "refused this key"),
        ("error_429", "rate limit or quota"),
    ],
)
def test_a_failing_key_test_makes_one_attempt_and_says_why(
    client: TestClient,
    user: Callable[[], Caller],
    provider: str,
    failure: Exception | str,
    says: str,
) -> None:
    me = user()
    stored(client, me, provider)
    if isinstance(failure, str):
        name = failure if (FIXTURES / provider / f"{failure}.json").exists() else "error_500"
        status = int(failure.split("_")[1])
        side: Exception | httpx.Response = httpx.Response(status, json=fixture(provider, name))
    else:
        side = failure
    with respx.mock(assert_all_mocked=True) as mock:
        url = OPENAI_URL if provider == "openai" else None
        route = mock.post(url) if url else mock.post(url__regex=GEMINI_URL)
        if isinstance(side, Exception):
            route.mock(side_effect=side)
        else:
            route.mock(return_value=side)
        response = client.post(f"/v1/keys/{provider}/test", headers=auth(me))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is False and says in body["message"], body
    assert route.call_count == 1  # no retries: the person is waiting
    assert "Errno" not in body["message"] and "wxyz" not in response.text
    assert SECRETS[provider] not in response.text


def test_a_provider_that_answers_too_slowly_is_given_up_on(
    client: TestClient, user: Callable[[], Caller]
) -> None:
    """The SDK's timeout is per read: a reply trickling in later than the key test's
    deadline (replayed here as a 200 that comes after it) is reported as unreachable."""
    me = user()
    stored(client, me, "openai")
    one = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.5] * 1536}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }

    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(KEY_TEST_TIMEOUT_S + 1.5)
        return httpx.Response(200, json=one)

    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(OPENAI_URL).mock(side_effect=slow)
        response = client.post("/v1/keys/openai/test", headers=auth(me))
        body = response.json()
        assert body["ok"] is False and "Could not reach OpenAI" in body["message"], body
        time.sleep(2)  # the abandoned probe finishes inside the mock
