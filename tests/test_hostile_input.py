"""The API under hostile input: each case here answered a 5xx (or held memory it should
not) before it was fixed. Real embedded PostgreSQL, real Redis, the real app."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.accounts.deletion import delete_auth_row
from api.db.session import Caller, Connection
from api.http.app import create_app
from api.http.schemas import RequestBody
from api.search.hybrid import keyword_query
from tests.test_api import auth, make_settings, new_key


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(db_url))) as c:
        yield c


@pytest.mark.parametrize("body", [b"{", b"", b"[", b'{"urls": ', b"\xff\xfe", b"null"])
def test_malformed_json_to_imports_is_a_422(
    client: TestClient, make_user: Callable[[], Caller], body: bytes
) -> None:
    response = client.post(
        "/v1/imports",
        content=body,
        headers={**auth(make_user()), "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        "-" * 66,
        "- " * 33 + "x",
        "-!" * 40 + "sourdough",
        "-(" * 40 + "x",
        "-&-|-<-)" * 10 + "x",
        "sourdough " + "-\t" * 40 + "starter",
    ],
)
def test_runs_of_search_operators_are_a_query_not_an_error(
    client: TestClient, make_user: Callable[[], Caller], query: str
) -> None:
    response = client.post(
        "/v1/search", json={"query": query, "keyword_only": True}, headers=auth(make_user())
    )
    assert response.status_code == 200, response.text


def test_negation_runs_keep_their_meaning() -> None:
    assert keyword_query("sourdough -starter").strip() == "sourdough -starter"
    assert keyword_query("a - - -b") == "a -b"  # odd: still a negation
    assert keyword_query("a --b") == "a  b"  # even: none
    assert keyword_query("e-mail well-known") == "e-mail well-known"


def test_storing_a_key_with_the_token_of_a_deleted_account_is_a_4xx(
    client: TestClient, make_user: Callable[[], Caller], conn: Connection
) -> None:
    gone = make_user()
    assert gone.user_id is not None
    delete_auth_row(conn, gone.user_id)
    response = client.put("/v1/keys/openai", json={"key": "sk-" + "x" * 40}, headers=auth(gone))
    assert response.status_code == 404, response.text
    assert "no longer exists" in response.json()["detail"]


def test_a_token_of_an_account_that_never_existed_stores_nothing(client: TestClient) -> None:
    response = client.put(
        "/v1/keys/gemini", json={"key": "AIza" + "x" * 35}, headers=auth(str(uuid.uuid4()))
    )
    assert response.status_code == 404, response.text


def test_embed_takes_only_registered_models(
    client: TestClient, make_user: Callable[[], Caller]
) -> None:
    me = auth(make_user())
    # A path on the server (or any unregistered spelling) would load another model copy.
    for model in ("/usr/lib/python3", "./all-MiniLM-L6-v2", "all-minilm-l6-v2", "bert-base"):
        response = client.post("/v1/embed", json={"texts": ["x"], "model": model}, headers=me)
        assert response.status_code == 422, (model, response.text)
        assert "not a registered" in response.json()["detail"]
        assert "all-MiniLM-L6-v2" in response.json()["detail"]  # says what is
    wrong_dims = client.post("/v1/embed", json={"texts": ["x"], "dims": 100}, headers=me)
    assert wrong_dims.status_code == 422, wrong_dims.text
    named = client.post("/v1/embed", json={"texts": ["x"], "model": "all-MiniLM-L6-v2"}, headers=me)
    assert named.status_code == 200 and named.json()["dims"] == 384


def test_search_holds_one_connection_when_there_is_no_replica(
    db_url: str, make_user: Callable[[], Caller]
) -> None:
    """With a pool of one connection, a search that wanted two would wait for itself
    until the pool timed out (a 500); concurrent searches deadlocked the same way."""
    settings = make_settings(db_url, db_pool_min=1, db_pool_max=1, encryption_key=new_key())
    with TestClient(create_app(settings)) as c:
        response = c.post("/v1/search", json={"query": "sourdough"}, headers=auth(make_user()))
        assert response.status_code == 200, response.text


def guest_searches(settings_overrides: dict[str, object], db_url: str, guest: Caller) -> list[int]:
    # Counted in memory: a rerun within the minute starts afresh.
    settings = make_settings(
        db_url, search_rate_limit="5/minute", redis_url=None, **settings_overrides
    )
    with TestClient(create_app(settings)) as c:
        return [
            c.post(
                "/v1/search",
                json={"query": "sourdough", "keyword_only": True},
                headers={**auth(guest, anonymous=True), "X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(8)
        ]


def test_a_rotating_forwarded_for_does_not_lift_the_guest_limit(
    db_url: str, make_user: Callable[[], Caller]
) -> None:
    # Guests are limited per address; by default no proxy is believed.
    codes = guest_searches({}, db_url, make_user())
    assert codes.count(200) == 5 and codes.count(429) == 3, codes


def test_forwarded_for_is_believed_from_a_configured_proxy(
    db_url: str, make_user: Callable[[], Caller]
) -> None:
    # The test client connects from "testclient": as a configured proxy, the address it
    # forwards is the client's, so each forwarded address has its own allowance.
    codes = guest_searches({"forwarded_allow_ips": "testclient"}, db_url, make_user())
    assert codes == [200] * 8, codes


# Half of an emoji's UTF-16 pair, as JSON may escape it: Python reads a lone surrogate,
# which the tokenizer, Redis and PostgreSQL all refuse (each of these answered a 500).
HALF_EMOJI = '"half \\ud83d an emoji"'


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/search", '{"query": ' + HALF_EMOJI + "}"),
        ("POST", "/v1/search", '{"query": "ok", "filters": {"platform": ' + HALF_EMOJI + "}}"),
        ("POST", "/v1/embed", '{"texts": [' + HALF_EMOJI + "]}"),
        ("POST", "/v1/ask", '{"question": ' + HALF_EMOJI + "}"),
        ("POST", "/v1/packs", '{"question": ' + HALF_EMOJI + "}"),
        ("PUT", "/v1/keys/openai", '{"key": ' + HALF_EMOJI + "}"),
    ],
)
def test_a_lone_surrogate_in_a_body_is_a_422_that_says_so(
    client: TestClient, make_user: Callable[[], Caller], method: str, path: str, body: str
) -> None:
    response = client.request(
        method,
        path,
        content=body.encode(),
        headers={**auth(make_user()), "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.content.isascii()  # the error echoes the input, escaped
    assert "half of a UTF-16 surrogate pair" in response.json()["detail"][0]["msg"]


def test_every_json_body_refuses_a_lone_surrogate(client: TestClient) -> None:
    """The refusal lives in schemas.RequestBody: a body model that does not derive from it
    would answer that request with a 500 again."""

    def descendants(cls: type) -> set[str]:
        subclasses: list[type] = cls.__subclasses__()
        return {name for sub in subclasses for name in {sub.__name__, *descendants(sub)}}

    bodies = {
        body["schema"]["$ref"].rsplit("/", 1)[1]
        for ops in client.app.openapi()["paths"].values()  # type: ignore[attr-defined]
        for op in ops.values()
        if (body := op.get("requestBody", {}).get("content", {}).get("application/json"))
        and "$ref" in body["schema"]
    }
    assert "SearchBody" in bodies and "DrainBody" in bodies
    assert bodies <= descendants(RequestBody), bodies - descendants(RequestBody)
