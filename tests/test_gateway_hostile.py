"""The local gateway under hostile input and password guessing: each case answered a 5xx,
or let every attempt through, before it was fixed. Real embedded PostgreSQL, the real
gateway app; only the anon key is needed for all of it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.config import Settings
from api.gateway import create_gateway, local_secrets

PASSWORD = "correct horse battery"


def gateway_client(db_url: str, home: Path, **overrides: Any) -> TestClient:
    keys = local_secrets(home)
    settings = Settings(
        environment="test",
        database_url=db_url,
        supabase_jwt_secret=SecretStr(keys.jwt_secret),
        db_pool_min=1,
        db_pool_max=4,
        **overrides,
    )
    client = TestClient(create_gateway(settings, db_url))
    client.headers["apikey"] = keys.anon_key
    return client


@pytest.fixture(scope="module")
def gw(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("gw-home")
    with gateway_client(
        db_url, home, auth_rate_limit="1000/minute", auth_email_rate_limit="1000/minute"
    ) as client:
        yield client


def email() -> str:
    return f"h-{uuid.uuid4().hex[:10]}@example.com"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/v1/signup", {"email": "a\u0000b@example.com", "password": PASSWORD}),
        ("/auth/v1/signup", {"email": "nul@example.com", "password": "pass\u0000word"}),
        ("/auth/v1/signup", {"data": {"name": "x\u0000y"}}),
        ("/auth/v1/signup", {"data": {"k\u0000": 1}}),
        ("/auth/v1/token?grant_type=password", {"email": "a\u0000@x.org", "password": "p"}),
        ("/auth/v1/token?grant_type=refresh_token", {"refresh_token": "r\u0000"}),
    ],
)
def test_nul_characters_are_a_400(gw: TestClient, path: str, body: dict[str, Any]) -> None:
    response = gw.post(path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_failed"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/v1/signup", '{"email": "a@example.com", "password": "half \\ud83d pair"}'),
        ("/auth/v1/signup", '{"data": {"name": "x\\udc00y"}}'),
        ("/auth/v1/token?grant_type=password", '{"email": "\\ud800@x.org", "password": "p"}'),
        ("/rest/v1/rpc/search_suggestions", '{"prefix": "\\ud83d"}'),
        ("/rest/v1/rpc/list_sources", '{"\\ud83d": 1}'),
    ],
)
def test_a_lone_surrogate_is_a_400(gw: TestClient, path: str, body: str) -> None:
    """Half of a UTF-16 pair, as JSON may escape it: each of these answered a 500."""
    response = gw.post(path, content=body.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert "surrogate" in response.text


def test_user_metadata_is_bounded(gw: TestClient) -> None:
    big = {"email": email(), "password": PASSWORD, "data": {"bio": "x" * (2 * 1024 * 1024)}}
    response = gw.post("/auth/v1/signup", json=big)
    assert response.status_code == 400 and "KiB" in response.json()["msg"]
    small = {"email": email(), "password": PASSWORD, "data": {"bio": "x" * 1000}}
    assert gw.post("/auth/v1/signup", json=small).status_code == 200


@pytest.mark.parametrize("path", ["/auth/v1/signup", "/rest/v1/rpc/list_embedding_models"])
def test_deeply_nested_json_is_a_400(gw: TestClient, path: str) -> None:
    body = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = gw.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text


def test_a_nul_in_a_get_rpc_argument_or_name_is_a_400(gw: TestClient) -> None:
    argument = gw.get("/rest/v1/rpc/search_suggestions", params={"prefix": "a\u0000"})
    assert argument.status_code == 400, argument.text
    assert argument.json()["code"] == "22P05"
    name = gw.get("/rest/v1/rpc/list%00models")
    assert name.status_code == 400, name.text


def test_sign_in_is_throttled_per_email_with_retry_after(db_url: str, tmp_path: Path) -> None:
    with gateway_client(
        db_url, tmp_path, auth_rate_limit="100/minute", auth_email_rate_limit="5/minute"
    ) as client:
        target = email()
        assert client.post("/auth/v1/signup", json={"email": target, "password": PASSWORD})
        statuses = [
            client.post(
                "/auth/v1/token?grant_type=password",
                json={"email": target.upper(), "password": f"guess-{i}"},
            )
            for i in range(8)
        ]
        codes = [r.status_code for r in statuses]
        assert codes[:4] == [400] * 4  # the sign-up counted as the first attempt
        assert set(codes[4:]) == {429}, codes
        refused = statuses[-1]
        assert refused.json()["code"] == "over_request_rate_limit"
        assert refused.json()["msg"] == "Request rate limit reached: at most 5 per minute per email"
        assert 1 <= int(refused.headers["Retry-After"]) <= 61
        # Even the right password waits: the email is locked for the window.
        right = client.post(
            "/auth/v1/token?grant_type=password", json={"email": target, "password": PASSWORD}
        )
        assert right.status_code == 429
        # Another person signing in from the same address is not locked out.
        other = email()
        assert (
            client.post("/auth/v1/signup", json={"email": other, "password": PASSWORD}).status_code
            == 200
        )


def test_sign_up_and_sign_in_are_throttled_per_address(db_url: str, tmp_path: Path) -> None:
    with gateway_client(
        db_url, tmp_path, auth_rate_limit="4/minute", auth_email_rate_limit="100/minute"
    ) as client:
        codes = [
            client.post(
                "/auth/v1/signup", json={"email": email(), "password": PASSWORD}
            ).status_code
            for _ in range(4)
        ]
        assert codes == [200] * 4
        over = client.post("/auth/v1/signup", json={})  # a guest sign-in counts too
        assert over.status_code == 429 and "Retry-After" in over.headers
        guess = client.post(
            "/auth/v1/token?grant_type=password", json={"email": email(), "password": "x"}
        )
        assert guess.status_code == 429


def test_many_sign_ups_at_once_hold_one_hash_per_core_in_memory() -> None:
    """Each scrypt hash holds 16 MiB while it runs: 16 sign-ups at once held ~256 MiB,
    and the allocator kept it. Now one hash per core runs at a time, and with the
    allocator set as the server sets it at start, the blocks go back when freed."""
    script = """
import os, resource, threading
from api.allocator import return_large_blocks
from api.gateway.passwords import hash_password
assert return_large_blocks()
def rss():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024
before, rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, rss()
threads = [threading.Thread(target=hash_password, args=("p" * 12,)) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024, rss() - rss_before)
"""
    peak_growth_mib, kept_mib = map(
        int,
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        ).stdout.split(),
    )
    cores = os.cpu_count() or 2
    assert peak_growth_mib < 16 * cores + 48, peak_growth_mib
    assert kept_mib < 24, kept_mib
