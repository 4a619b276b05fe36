"""A fuzzer against the local gateway's `/auth/v1` and `/rest/v1/rpc` (hypothesis): any
JSON (deep, wide, NUL characters, odd numbers), any argument names and query strings, as
anon and as a signed-in user: never a server error. The API itself is fuzzed from its
OpenAPI schema in tests/test_api_schemathesis.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.db.session import connect
from tests.test_gateway_hostile import gateway_client

# Values that broke the gateway once, mixed into what hypothesis makes up.
TRICKY = [
    "\x00",
    "a\x00b@example.com",
    "-" * 66,
    "x" * 5000,
    "2000-01-01T00:00:00+16:00",
    "NaN",
    "{",
    "\ud7ff\U0010ffff",
]
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(TRICKY)
EMAIL = st.builds(lambda a, b: f"{a}@{b}", TEXT, TEXT)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def gw(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with gateway_client(
        db_url,
        tmp_path_factory.mktemp("fuzz-home"),
        auth_rate_limit="100000/minute",
        auth_email_rate_limit="100000/minute",
    ) as client:
        yield client


@pytest.fixture(scope="module")
def user_token(gw: TestClient) -> str:
    r = gw.post("/auth/v1/signup", json={"email": "gw-fuzz@example.com", "password": "secret1"})
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


@pytest.fixture(scope="module")
def functions(db_url: str) -> dict[str, list[str]]:
    """Every RPC of the public schema and its argument names."""
    with connect(db_url) as conn:
        rows = conn.execute(
            "select p.proname as name, coalesce(p.proargnames, '{}') as args from pg_proc p"
            " join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = 'public' and p.prokind = 'f' order by 1"
        ).fetchall()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["name"], []).extend(a for a in row["args"] if a)
    return found


def check(response: Any, failures: list[str], what: str) -> None:
    if response.status_code >= 500:
        failures.append(f"{what}: {response.status_code} {response.text[:200]}")


def test_auth_endpoints_never_answer_a_server_error(gw: TestClient, user_token: str) -> None:
    failures: list[str] = []
    paths = [
        "/auth/v1/signup",
        "/auth/v1/token?grant_type=password",
        "/auth/v1/token?grant_type=refresh_token",
        "/auth/v1/logout",
    ]

    @FUZZ
    @given(
        path=st.sampled_from(paths), body=JSON, raw=st.binary(max_size=64), as_user=st.booleans()
    )
    def fuzz(path: str, body: Any, raw: bytes, as_user: bool) -> None:
        headers = {"Authorization": f"Bearer {user_token}"} if as_user else {}
        check(gw.post(path, json=body, headers=headers), failures, f"POST {path} {body!r}")
        check(
            gw.post(path, content=raw, headers={**headers, "content-type": "application/json"}),
            failures,
            f"POST {path} raw {raw!r}",
        )

    @FUZZ
    @given(
        fields=st.fixed_dictionaries(
            {},
            optional={"email": EMAIL | JSON, "password": TEXT | JSON, "data": JSON, "phone": JSON},
        )
    )
    def fuzz_fields(fields: dict[str, Any]) -> None:
        check(gw.post("/auth/v1/signup", json=fields), failures, f"signup {fields!r}")
        check(
            gw.post("/auth/v1/token?grant_type=password", json=fields),
            failures,
            f"token {fields!r}",
        )

    fuzz()
    fuzz_fields()
    check(gw.get("/auth/v1/user", headers={"Authorization": "Bearer x"}), failures, "user")
    assert not failures, "\n".join(failures[:10])


def test_rpc_never_answers_a_server_error(
    gw: TestClient, user_token: str, functions: dict[str, list[str]]
) -> None:
    failures: list[str] = []
    names = sorted(functions)
    assert len(names) >= 10

    @FUZZ
    @given(data=st.data(), as_user=st.booleans(), post=st.booleans())
    def fuzz(data: st.DataObject, as_user: bool, post: bool) -> None:
        name = data.draw(st.sampled_from(names))
        keys = st.sampled_from(functions[name]) if functions[name] else TEXT
        arguments = data.draw(st.dictionaries(keys | TEXT, JSON, max_size=5))
        headers = {"Authorization": f"Bearer {user_token}"} if as_user else {}
        if post:
            response = gw.post(f"/rest/v1/rpc/{name}", json=arguments, headers=headers)
        else:
            params = {
                k: json.dumps(v) if not isinstance(v, str) else v for k, v in arguments.items()
            }
            response = gw.get(f"/rest/v1/rpc/{name}", params=params, headers=headers)
        check(response, failures, f"{'POST' if post else 'GET'} {name} {arguments!r}")

    fuzz()
    assert not failures, "\n".join(failures[:10])


def test_paths_and_query_strings_never_answer_a_server_error(gw: TestClient) -> None:
    failures: list[str] = []

    @FUZZ
    @given(name=TEXT, query=st.dictionaries(TEXT, TEXT, max_size=3))
    def fuzz(name: str, query: dict[str, str]) -> None:
        path = f"/rest/v1/rpc/{quote(name, safe='')}"
        check(gw.post(path, params=query, json={}), failures, f"{name!r} {query!r}")

    fuzz()
    assert not failures, "\n".join(failures[:10])
