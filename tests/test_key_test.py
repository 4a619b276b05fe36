"""POST /v1/keys/{provider}/test fails fast with a human message: one attempt (no retries
with backoff) when the provider is unreachable, overloaded or refuses the key. Providers
are replayed with respx in the shape of their real responses."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from api.db.session import Caller
from api.http.routes.keys import KEY_TEST_SECONDS, probe_model
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


def test_the_openai_probe_gives_up_within_seconds() -> None:
    model = probe_model("openai", "text-embedding-3-small", SECRETS["openai"])
    sdk = model._client  # type: ignore[attr-defined]
    assert sdk.max_retries == 0 and sdk.timeout == KEY_TEST_SECONDS <= 5
