"""The HTTP API against the real embedded PostgreSQL and the real Redis: auth, RLS through
every endpoint, import → search, keys, limits, health and metrics."""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import re
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jwt
import pytest
import redis
import respx
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from httpx import Response

from api.accounts.keyring import Keyring, Sealed
from api.accounts.users import caller_for
from api.config import Settings
from api.db.session import Caller, Connection
from api.embeddings.cache import EmbeddingCache
from api.embeddings.local import DEFAULT_MODEL
from api.embeddings.static import STATIC_MODEL
from api.http.app import create_app
from api.http.auth import AuthError, TokenVerifier
from api.search.hybrid import ModelRef, embed_with
from api.shared_redis import SharedRedis
from tests.conftest import FIXTURES, redis_url

SECRET = "test-jwt-secret-with-at-least-32-characters!"
JWKS_URL = "https://project.supabase.co/auth/v1/.well-known/jwks.json"
EXPORT = FIXTURES / "chatgpt" / "conversations.json"
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def token(
    user: Caller | str,
    *,
    secret: str = SECRET,
    aud: str = "authenticated",
    expires_in: int = 3600,
    anonymous: bool = False,
    algorithm: str = "HS256",
) -> str:
    sub = user if isinstance(user, str) else str(user.user_id)
    now = int(time.time())
    claims = {
        "sub": sub,
        "role": "authenticated",
        "aud": aud,
        "email": f"{sub}@example.com",
        "iat": now,
        "exp": now + expires_in,
        "session_id": str(uuid.uuid4()),
        "is_anonymous": anonymous,
    }
    if algorithm == "ES256":
        return jwt.encode(claims, EC_KEY, algorithm="ES256", headers={"kid": "key-1"})
    return jwt.encode(claims, secret, algorithm="HS256")


def auth(user: Caller | str, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user, **kwargs)}"}


def make_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": db_url,
        "supabase_jwt_secret": SECRET,
        "supabase_jwks_url": JWKS_URL,
        "encryption_key": new_key(),
        "redis_url": redis_url(),
        "rate_limit": "1000/minute",
        "search_rate_limit": "1000/minute",
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(db_url))) as c:
        yield c


@pytest.fixture
def user(conn: Connection) -> Callable[[], Caller]:
    def make() -> Caller:
        return caller_for(conn, f"api-{uuid.uuid4().hex[:10]}@example.com", create=True)

    return make


def upload(client: TestClient, caller: Caller, *paths: Path, **kwargs: Any) -> dict[str, Any]:
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    response = client.post("/v1/imports", files=files, headers=auth(caller, **kwargs))
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


# --- auth ---------------------------------------------------------------------------


def test_valid_tokens_pass_and_bad_ones_get_401(
    client: TestClient, user: Callable[[], Caller]
) -> None:
    me = user()
    body = {"query": "sourdough", "keyword_only": True}
    assert client.post("/v1/search", json=body, headers=auth(me)).status_code == 200
    cases = {
        "none": {},
        "expired": auth(me, expires_in=-120),
        "wrong audience": auth(me, aud="anon-audience"),
        "wrong signature": auth(me, secret="another-secret-of-more-than-32-chars!!"),
        "garbage": {"Authorization": "Bearer not.a.jwt"},
    }
    for name, headers in cases.items():
        response = client.post("/v1/search", json=body, headers=headers)
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"].startswith("Bearer"), name
    expired = client.post("/v1/search", json=body, headers=cases["expired"])
    assert expired.json()["detail"] == "the token has expired"


def test_a_verified_token_is_refused_once_it_expires(user: Callable[[], Caller]) -> None:
    """Verified tokens are remembered, but only until their expiry (plus the leeway)."""
    verifier = TokenVerifier(jwt_secret=SECRET, leeway_seconds=1)
    soon = token(user(), expires_in=1)
    assert verifier.caller(soon).user_id is not None
    assert verifier.caller(soon).user_id is not None  # the remembered claims
    time.sleep(2.2)
    with pytest.raises(AuthError, match="expired"):
        verifier.caller(soon)
    with pytest.raises(AuthError):  # remembered for one audience, not for another
        verifier.service(soon)


def test_asymmetric_tokens_from_the_projects_jwks(
    client: TestClient, user: Callable[[], Caller]
) -> None:
    public = jwt.algorithms.ECAlgorithm.to_jwk(EC_KEY.public_key(), as_dict=True)
    jwks = {"keys": [{**public, "kid": "key-1", "alg": "ES256", "use": "sig"}]}
    me = user()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(JWKS_URL).mock(return_value=Response(200, json=jwks))
        ok = client.post(
            "/v1/search",
            json={"query": "x", "keyword_only": True},
            headers=auth(me, algorithm="ES256"),
        )
        assert ok.status_code == 200, ok.text
        # A token signed by a key the project does not publish.
        other = ec.generate_private_key(ec.SECP256R1())
        forged = jwt.encode(
            {
                "sub": str(me.user_id),
                "aud": "authenticated",
                "role": "authenticated",
                "exp": int(time.time()) + 60,
            },
            other,
            algorithm="ES256",
            headers={"kid": "key-1"},
        )
        bad = client.post(
            "/v1/search",
            json={"query": "x", "keyword_only": True},
            headers={"Authorization": f"Bearer {forged}"},
        )
        assert bad.status_code == 401
        assert route.call_count == 1  # the key set is cached


# --- imports, search, RLS ------------------------------------------------------------


def test_import_then_search_round_trip(client: TestClient, user: Callable[[], Caller]) -> None:
    me = user()
    job = upload(client, me, EXPORT)
    assert job["status"] == "queued" and job["items_total"] == 1
    done = client.get(f"/v1/imports/{job['id']}", headers=auth(me)).json()
    assert done["status"] == "succeeded"
    assert (done["added"], done["skipped"], done["failed"], done["items_done"]) == (3, 1, 0, 1)
    assert done["passages"] > 0 and done["embedding_pending"] == 0

    found = client.post(
        "/v1/search", json={"query": "my starter smells of acetone", "limit": 3}, headers=auth(me)
    )
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["semantic"] is True
    assert body["results"][0]["source_title"] == "Sourdough starter troubleshooting"
    assert "<mark>" in body["results"][0]["snippet"] or body["results"][0]["semantic_rank"]


def test_an_import_jobs_conversations_join_topic_threads(
    client: TestClient, user: Callable[[], Caller], conn: Connection
) -> None:
    """The step after embedding runs for API imports as for the CLI and the worker (no
    worker runs here): every imported conversation is in a titled topic thread."""
    me = user()
    job = upload(client, me, EXPORT)
    done = client.get(f"/v1/imports/{job['id']}", headers=auth(me)).json()
    assert done["status"] == "succeeded" and done["embedding_pending"] == 0
    rows = conn.execute(
        "select s.thread_id, t.title, t.title_source from public.sources s"
        " left join public.topic_threads t on t.id = s.thread_id where s.workspace_id = %s",
        [job["workspace_id"]],
    ).fetchall()
    assert len(rows) == 3
    assert all(r["thread_id"] is not None for r in rows)
    assert all(r["title"] and r["title_source"] == "terms" for r in rows)


def test_an_import_job_reports_each_item(
    client: TestClient, user: Callable[[], Caller], tmp_path: Path
) -> None:
    """The job says per uploaded file what the CLI prints: format, outcomes, messages, what
    was left out and the export's side files; an export's side files are no failures."""
    me = user()
    archive = tmp_path / "chatgpt-export.zip"
    folder = FIXTURES / "chatgpt" / "export-2025"
    with zipfile.ZipFile(archive, "w") as z:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                z.write(file, file.relative_to(folder).as_posix())
    job = upload(client, me, archive, EXPORT)
    done = client.get(f"/v1/imports/{job['id']}", headers=auth(me)).json()
    assert done["status"] == "succeeded" and done["failed"] == 0 and done["errors"] == []
    zipped, single = done["items"]
    assert zipped == {
        "item": "chatgpt-export.zip",
        "formats": ["ChatGPT export"],
        "added": 7,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
        "messages": 25,
        "alternatives": 0,
        "left_out": {"audio": 4, "files": 1, "images": 2, "plumbing": 11, "reasoning": 3},
        "side_files": 10,
        "skips": [],
    }
    assert (single["item"], single["added"], single["skipped"]) == ("conversations.json", 3, 1)
    # The CLI's "skipped: …" line under the item, for the web app to show.
    assert single["skips"] == ["conversation 3 ('Empty chat'): no messages"]
    assert single["alternatives"] == 4  # a regenerated answer, an edit and its answer, a retry


def test_no_user_reaches_another_users_data(client: TestClient, user: Callable[[], Caller]) -> None:
    owner, other = user(), user()
    job = upload(client, owner, EXPORT)
    assert client.get(f"/v1/imports/{job['id']}", headers=auth(other)).status_code == 404
    hits = client.post("/v1/search", json={"query": "sourdough starter"}, headers=auth(other))
    assert hits.status_code == 200 and hits.json()["results"] == []
    owner_ws = client.get(f"/v1/imports/{job['id']}", headers=auth(owner)).json()["workspace_id"]
    # Naming the other user's workspace does not help: neither for searching...
    sneaky = client.post(
        "/v1/search",
        headers=auth(other),
        json={"query": "sourdough", "filters": {"workspace_id": owner_ws}},
    )
    assert sneaky.status_code in (200, 404) and sneaky.json().get("results", []) == []
    # ...nor for importing into it.
    files = [("files", ("n.md", b"# hi\n\nplanted", "text/markdown"))]
    planted = client.post(
        "/v1/imports", files=files, data={"workspace_id": owner_ws}, headers=auth(other)
    )
    assert planted.status_code == 403


def test_guests_have_a_smaller_upload_limit(db_url: str, user: Callable[[], Caller]) -> None:
    settings = make_settings(db_url, guest_max_upload_bytes=1000, max_upload_bytes=100_000)
    with TestClient(create_app(settings)) as c:
        guest = user()
        big = [("files", ("big.txt", b"x" * 5000, "text/plain"))]
        refused = c.post("/v1/imports", files=big, headers=auth(guest, anonymous=True))
        assert refused.status_code == 413
        accepted = c.post("/v1/imports", files=big, headers=auth(guest))
        assert accepted.status_code == 202


# --- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"query": "   "}, 422),
        ({"query": "x" * 1001}, 422),
        ({"query": "ok", "limit": 0}, 422),
        ({"query": "ok", "limit": 51}, 422),
        ({"query": "ok", "filters": {"colour": "red"}}, 422),
        ({"query": "ok", "semantic_weight": -1}, 422),
        ({"query": "\u0000"}, 422),
        ({"query": "ok", "filters": {"kind": "\u0000"}}, 422),
        # Found by schemathesis: an offset PostgreSQL does not take (it is sent in UTC).
        ({"query": "ok", "filters": {"date_to": "2000-01-01T00:00:00+16:00"}}, 200),
    ],
)
def test_search_validation(
    client: TestClient, user: Callable[[], Caller], body: dict[str, Any], status: int
) -> None:
    assert client.post("/v1/search", json=body, headers=auth(user())).status_code == status


def test_import_validation(client: TestClient, user: Callable[[], Caller]) -> None:
    me = auth(user())
    assert (
        client.post(
            "/v1/imports", content=b"x", headers={**me, "content-type": "text/plain"}
        ).status_code
        == 415
    )
    no_files = {"other": ("a.txt", b"x", "text/plain")}
    assert client.post("/v1/imports", files=no_files, headers=me).status_code == 422
    assert client.post("/v1/imports", json={"urls": []}, headers=me).status_code == 422


def test_embed_endpoint(client: TestClient, user: Callable[[], Caller]) -> None:
    response = client.post("/v1/embed", json={"texts": ["hello", "world"]}, headers=auth(user()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["provider"], body["model"], body["dims"]) == ("local", "all-MiniLM-L6-v2", 384)
    assert len(body["embeddings"]) == 2
    norm = sum(x * x for x in body["embeddings"][0])
    assert abs(norm - 1) < 1e-3
    missing = client.post(
        "/v1/embed", json={"texts": ["x"], "provider": "openai"}, headers=auth(user())
    )
    assert missing.status_code == 400 and "no openai API key" in missing.json()["detail"]


# --- keys ----------------------------------------------------------------------------


def test_keys_are_stored_encrypted_and_never_returned(
    client: TestClient, user: Callable[[], Caller], conn: Connection
) -> None:
    me = user()
    secret = "sk-test-" + uuid.uuid4().hex
    put = client.put("/v1/keys/openai", json={"key": secret}, headers=auth(me))
    assert put.status_code == 200, put.text
    assert put.json()["last_four"] == secret[-4:] and secret not in put.text
    got = client.get("/v1/keys/openai", headers=auth(me))
    assert got.status_code == 200 and secret not in got.text
    assert client.get("/v1/keys/openai", headers=auth(user())).status_code == 404
    row = conn.execute(
        "select ciphertext, nonce, key_version from public.api_keys where user_id = %s",
        [me.user_id],
    ).fetchone()
    assert row is not None and secret.encode() not in row["ciphertext"]
    keyring = client.app.state.services.keyring  # type: ignore[attr-defined]
    assert me.user_id is not None
    sealed = Sealed(row["ciphertext"], row["nonce"], row["key_version"])
    assert keyring.open(sealed, me.user_id, "openai") == secret
    with pytest.raises(Exception, match="does not decrypt"):
        keyring.open(sealed, me.user_id, "gemini")  # other associated data
    with pytest.raises(Exception, match="does not decrypt"):
        Keyring(1, {1: os.urandom(32)}).open(sealed, me.user_id, "openai")
    assert client.delete("/v1/keys/openai", headers=auth(me)).status_code == 204
    assert client.delete("/v1/keys/openai", headers=auth(me)).status_code == 404


def test_guests_cannot_store_keys(client: TestClient, user: Callable[[], Caller]) -> None:
    response = client.put(
        "/v1/keys/gemini", json={"key": "AIza-something-long"}, headers=auth(user(), anonymous=True)
    )
    assert response.status_code == 403


def test_rotation_re_encrypts_with_the_new_key(
    db_url: str, user: Callable[[], Caller], conn: Connection
) -> None:
    old, new = new_key(), new_key()
    me = user()
    with TestClient(create_app(make_settings(db_url, encryption_key=old))) as c:
        assert (
            c.put(
                "/v1/keys/openai", json={"key": "sk-rotate-me-1234"}, headers=auth(me)
            ).status_code
            == 200
        )
    rotated = make_settings(
        db_url, encryption_key=new, encryption_key_version=2, encryption_keys_previous=f"1:{old}"
    )
    from api.accounts.keys import user_key

    keyring = Keyring.from_settings(rotated)
    assert user_key(conn, keyring, me.user_id, "openai") == "sk-rotate-me-1234"  # type: ignore[arg-type]
    row = conn.execute(
        "select key_version from public.api_keys where user_id = %s", [me.user_id]
    ).fetchone()
    assert row == {"key_version": 2}
    only_new = Keyring.from_settings(
        make_settings(db_url, encryption_key=new, encryption_key_version=2)
    )
    assert user_key(conn, only_new, me.user_id, "openai") == "sk-rotate-me-1234"  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["not base64!!", base64.b64encode(b"short").decode()])
def test_a_wrong_encryption_key_refuses_to_start(db_url: str, bad: str) -> None:
    with pytest.raises(Exception, match="generate_encryption_key") as caught:
        create_app(make_settings(db_url, encryption_key=bad))
    assert bad not in str(caught.value)


# --- limits, health, metrics -----------------------------------------------------------


def test_rate_limit_429_then_reset(db_url: str, user: Callable[[], Caller]) -> None:
    settings = make_settings(db_url, search_rate_limit="3 per 2 seconds")
    me = auth(user())
    body = {"query": "x", "keyword_only": True}
    with TestClient(create_app(settings)) as c:
        codes = [c.post("/v1/search", json=body, headers=me).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = c.post("/v1/search", json=body, headers=me)
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 3
        wait = limited.headers["retry-after"]
        assert limited.json()["detail"] == (
            f"too many requests (at most 3 per 2 seconds); try again in {wait} s"
        )
        time.sleep(int(limited.headers["retry-after"]) + 0.1)
        assert c.post("/v1/search", json=body, headers=me).status_code == 200
        # Another user has their own budget.
        assert c.post("/v1/search", json=body, headers=auth(user())).status_code == 200
    keys = redis.Redis.from_url(redis_url()).keys("knitter:limit:*")
    assert keys, "the limits live in Redis"


def test_every_route_a_caller_can_call_is_rate_limited(
    db_url: str, user: Callable[[], Caller]
) -> None:
    """Limits are declared per route or per router (dependencies=[rate_limit(...)]), so a
    new route without one would be unlimited: each operation the API documents is called
    until it answers 429. The limit is counted before the request is validated, so a
    made-up id or a body meant for search does (search, which counts on its worker
    thread, validates first). The queue drain is the service role's."""
    settings = make_settings(db_url, rate_limit="1/minute", search_rate_limit="1/minute")
    me = auth(user())
    with TestClient(create_app(settings)) as c:
        paths = c.get("/openapi.json").json()["paths"]
        operations = [
            (method, re.sub(r"\{[^}]+\}", "x", path))
            for path, item in paths.items()
            if path.startswith("/v1/") and path != "/v1/queue/drain"
            for method in item
        ]
        assert len(operations) > 20
        for method, path in operations:
            # The account's own limits are 10 and 5 a minute; every other is 1 here.
            body = {"query": "x", "keyword_only": True} if method != "get" else None
            codes = [c.request(method, path, headers=me, json=body).status_code for _ in range(11)]
            assert 429 in codes and max(codes) < 500, (method, path, codes)


def test_a_request_is_logged_when_answered_not_after_its_background_job(
    client: TestClient, user: Callable[[], Caller], conn: Connection
) -> None:
    """An import runs after its 202: the request's log line and latency are the answer's,
    not the job's (they were once the whole import's, and logged when it ended)."""
    me = user()
    statuses: list[str] = []

    class Probe(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.__dict__.get("route") == "/v1/imports" and record.__dict__["status"] == 202:
                row = conn.execute(
                    "select status from public.import_jobs where user_id = %s", [me.user_id]
                ).fetchone()
                statuses.append(row["status"] if row else "none")

    logger = logging.getLogger("knitter.api")
    probe, level = Probe(), logger.level
    logger.addHandler(probe)
    logger.setLevel(logging.INFO)
    try:
        job = upload(client, me, EXPORT)
    finally:
        logger.removeHandler(probe)
        logger.setLevel(level)
    assert statuses == ["queued"]
    done = client.get(f"/v1/imports/{job['id']}", headers=auth(me)).json()
    assert done["status"] == "succeeded"


def test_health_and_metrics(client: TestClient, user: Callable[[], Caller]) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    body = health.json()
    assert body["database"] == "ok" and body["migrations"] == "current"
    assert set(body) == {"status", "version", "environment", "database", "migrations", "checked_at"}
    assert SECRET not in health.text
    client.post("/v1/search", json={"query": "x", "keyword_only": True}, headers=auth(user()))
    metrics = client.get("/metrics").text
    assert 'knitter_http_requests_total{method="POST",route="/v1/search",status="200"}' in metrics
    assert "knitter_http_request_duration_seconds_bucket" in metrics
    assert "knitter_imported_passages_total" in metrics
    assert health.headers["x-content-type-options"] == "nosniff"
    assert health.headers["x-frame-options"] == "DENY"


def test_a_flood_of_health_checks_the_database_once_a_second(client: TestClient) -> None:
    """/health needs no token, and each check takes a pooled connection: a flood of it
    must not take the pool from the requests that need it."""
    started = time.monotonic()
    with ThreadPoolExecutor(8) as threads:
        answers = list(threads.map(lambda _: client.get("/health").json(), range(200)))
    elapsed = time.monotonic() - started
    assert {a["status"] for a in answers} == {"ok"}
    checks = {a["checked_at"] for a in answers}
    assert len(checks) <= math.ceil(elapsed) + 1, (len(checks), elapsed)


def test_health_reports_an_unreachable_database(db_url: str) -> None:
    settings = make_settings("postgresql://postgres@127.0.0.1:1/none", db_pool_min=0)
    with TestClient(create_app(settings)) as c:
        response = c.get("/health")
        alive = c.get("/livez")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"
    # The process is fine: a liveness probe must not restart it for the database.
    assert alive.status_code == 200 and alive.json()["status"] == "alive"


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in (
        "/v1/imports",
        "/v1/imports/{job_id}",
        "/v1/search",
        "/v1/embed",
        "/v1/keys/{provider}",
        "/v1/keys/{provider}/test",
        "/health",
        "/metrics",
    ):
        assert path in schema["paths"], path
    assert "multipart/form-data" in json.dumps(schema["paths"]["/v1/imports"])


# --- secrets, replicas, cache, CORS ------------------------------------------------------


def test_secrets_are_scrubbed_from_logs_and_sentry_events() -> None:
    import logging

    from api.http.observability import JsonFormatter, before_send

    key = "sk-proj-" + "A1b2" * 8
    record = logging.LogRecord(
        "t",
        logging.ERROR,
        __file__,
        1,
        "calling with api_key=%s and Bearer %s",
        (key, token("x")),
        None,
    )
    line = JsonFormatter().format(record)
    assert key not in line and "eyJ" not in line and "[redacted]" in line
    event = {
        "request": {
            "headers": {"Authorization": f"Bearer {key}", "Accept": "json"},
            "data": {"key": key, "query": "fine"},
        },
        "exception": {"values": [{"value": f"provider said: invalid key {key}"}]},
        "extra": {"encryption_key": "c2VjcmV0"},
    }
    scrubbed = json.dumps(before_send(event, {}))
    assert key not in scrubbed and "c2VjcmV0" not in scrubbed
    assert '"Accept": "json"' in scrubbed and '"query": "fine"' in scrubbed


def test_reads_go_to_the_read_replica_when_set(
    db_url: str, new_database: Callable[[], str], user: Callable[[], Caller]
) -> None:
    """A second, empty database as the "replica": searches read from it, imports write to
    the primary."""
    from api.db.migrate import migrate
    from api.db.session import connect

    replica = new_database()
    with connect(replica) as rconn:
        rconn.autocommit = True
        migrate(rconn)
    me = user()
    with TestClient(create_app(make_settings(db_url, database_read_url=replica))) as c:
        upload(c, me, EXPORT)
        body = {"query": "sourdough", "keyword_only": True}
        assert c.post("/v1/search", json=body, headers=auth(me)).json()["results"] == []
    with TestClient(create_app(make_settings(db_url))) as c:
        assert c.post("/v1/search", json=body, headers=auth(me)).json()["results"]


def test_query_embeddings_are_cached_in_redis(
    client: TestClient, user: Callable[[], Caller]
) -> None:
    query = f"cache me {uuid.uuid4().hex}"
    r = redis.Redis.from_url(redis_url())
    before = set(r.keys("knitter:qemb:*"))
    assert client.post("/v1/search", json={"query": query}, headers=auth(user())).status_code == 200
    added = set(r.keys("knitter:qemb:*")) - before
    # The query embedded with the workspace's model and with its static model.
    assert len(added) == 2
    assert all(0 < r.ttl(key) <= 86_400 for key in added)
    # float32, four bytes a dimension
    assert sorted(len(r.get(key)) // 4 for key in added) == [256, 384]  # type: ignore[arg-type]
    # The same query again is served from the cache: same key, no new one.
    assert client.post("/v1/search", json={"query": query}, headers=auth(user())).status_code == 200
    assert set(r.keys("knitter:qemb:*")) - before == added


def test_a_cached_query_vector_is_the_models_not_a_row_ids(local_model: object) -> None:
    """Two databases sharing one Redis may give the same row id to different models: the
    cache once served one model's vector for the other (384 numbers for a 256-dimension
    model)."""
    cache = EmbeddingCache(SharedRedis(redis_url()), 60)
    query = f"which model {uuid.uuid4().hex}"
    quality = ModelRef(1, "local", DEFAULT_MODEL, 384)
    static = ModelRef(1, "local", STATIC_MODEL, 256)  # the same id, in another database
    assert len(embed_with(quality, query, cache=cache).vector) == 384
    assert len(embed_with(static, query, cache=cache).vector) == 256


def test_cors_allows_only_the_configured_origins(db_url: str) -> None:
    settings = make_settings(db_url, cors_origins="https://app.example.com")
    with TestClient(create_app(settings)) as c:
        ok = c.options(
            "/v1/search",
            headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
        )
        assert ok.headers.get("access-control-allow-origin") == "https://app.example.com"
        evil = c.options(
            "/v1/search",
            headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in evil.headers


def test_key_test_uses_the_stored_key_against_the_provider(
    client: TestClient, user: Callable[[], Caller]
) -> None:
    """OpenAI replayed (respx) in the shape of its real responses: the stored key is sent,
    a rejected key is reported without being echoed."""
    me = user()
    secret = "sk-test-" + "k" * 40 + "cdef"
    assert client.put("/v1/keys/openai", json={"key": secret}, headers=auth(me)).status_code == 200
    one = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.5] * 1536}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    rejected = json.loads((FIXTURES / "openai" / "error_401.json").read_text())
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post("https://api.openai.com/v1/embeddings").mock(
            side_effect=[Response(200, json=one), Response(401, json=rejected)]
        )
        ok = client.post("/v1/keys/openai/test", headers=auth(me))
        assert ok.status_code == 200 and ok.json()["ok"] is True, ok.text
        assert route.calls[0].request.headers["authorization"] == f"Bearer {secret}"
        bad = client.post("/v1/keys/openai/test", headers=auth(me))
    assert bad.status_code == 200 and bad.json()["ok"] is False
    assert "cdef" not in bad.text and secret not in bad.text


def test_url_imports_never_read_server_files_or_private_addresses(
    client: TestClient, user: Callable[[], Caller]
) -> None:
    me = user()
    for path in ("/etc/passwd", "file:///etc/passwd", str(EXPORT)):
        response = client.post("/v1/imports", json={"urls": [path]}, headers=auth(me))
        assert response.status_code == 422, path
    job = client.post("/v1/imports", json={"urls": ["http://127.0.0.1:5432/"]}, headers=auth(me))
    assert job.status_code == 202
    done = client.get(f"/v1/imports/{job.json()['id']}", headers=auth(me)).json()
    assert (done["status"], done["added"], done["failed"]) == ("succeeded", 0, 1)
    assert done["errors"][0]["item"] == "http://127.0.0.1:5432/"


# --- the embedding queue, and replicas -------------------------------------------------


def service_key(secret: str = SECRET) -> dict[str, str]:
    """A service-role key as Supabase issues them: role claim, no sub, no aud."""
    claims = {"role": "service_role", "iss": "supabase", "exp": int(time.time()) + 3600}
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


def queued_passage(conn: Connection, caller: Caller, text: str) -> int:
    from api.accounts.users import workspace_id
    from api.importers.model import Conversation, Message
    from api.pipeline.ingest import write_conversation

    conversation = Conversation(
        kind="text", platform="notes", title=text, messages=[Message(role="document", text=text)]
    )
    write_conversation(conn, caller, workspace_id(conn, caller), conversation)
    row = conn.execute("select id from public.chunks where content = %s", [text]).fetchone()
    assert row is not None
    return int(row["id"])


def embedded(conn: Connection, chunk_id: int) -> bool:
    row = conn.execute(
        "select exists (select from public.chunk_embeddings where chunk_id = %s) as yes",
        [chunk_id],
    ).fetchone()
    return bool(row and row["yes"])


def threaded(conn: Connection, chunk_id: int) -> bool:
    row = conn.execute(
        "select s.thread_id from public.sources s join public.chunks c on c.source_id = s.id"
        " where c.id = %s",
        [chunk_id],
    ).fetchone()
    return bool(row and row["thread_id"])


def test_queue_drain_endpoint_needs_the_service_role(
    client: TestClient, user: Callable[[], Caller], conn: Connection
) -> None:
    me = user()
    chunk = queued_passage(conn, me, f"queued {uuid.uuid4().hex}")
    assert client.post("/v1/queue/drain", json={}).status_code == 401
    assert client.post("/v1/queue/drain", json={}, headers=auth(me)).status_code == 403
    forged = service_key("some-other-secret-of-32-characters-or-more")
    assert client.post("/v1/queue/drain", json={}, headers=forged).status_code == 403
    assert not embedded(conn, chunk)
    response = client.post("/v1/queue/drain", json={"max_batches": 100}, headers=service_key())
    assert response.status_code == 200, response.text
    assert response.json()["embedded"] >= 1 and embedded(conn, chunk)
    # Fully embedded, its conversation was put into a topic thread.
    assert response.json()["threaded"] >= 1 and threaded(conn, chunk)


def test_the_background_worker_embeds_new_passages(
    db_url: str, user: Callable[[], Caller], conn: Connection
) -> None:
    me = user()
    settings = make_settings(db_url, embed_worker=True, embed_worker_interval_seconds=0.2)
    with TestClient(create_app(settings)):
        chunk = queued_passage(conn, me, f"worker {uuid.uuid4().hex}")
        deadline = time.monotonic() + 120
        while not threaded(conn, chunk) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert embedded(conn, chunk) and threaded(conn, chunk)


def test_two_replicas_share_rate_limits_through_redis(
    db_url: str, user: Callable[[], Caller]
) -> None:
    settings = make_settings(db_url, search_rate_limit="3 per 30 seconds")
    me = auth(user())
    body = {"query": "x", "keyword_only": True}
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        assert a.post("/v1/search", json=body, headers=me).status_code == 200
        assert b.post("/v1/search", json=body, headers=me).status_code == 200
        assert a.post("/v1/search", json=body, headers=me).status_code == 200
        assert b.post("/v1/search", json=body, headers=me).status_code == 429


def test_a_model_that_cannot_embed_does_not_block_the_queue(
    client: TestClient, user: Callable[[], Caller], conn: Connection
) -> None:
    """Passages queued for a model with no key (or no provider) stay queued; the default
    model's passages are embedded all the same."""
    from api.db.session import transaction_as

    me = user()
    chunk = queued_passage(conn, me, f"unblocked {uuid.uuid4().hex}")
    with transaction_as(conn, Caller.service()):
        stuck = conn.execute(
            "insert into public.embedding_models (provider, name, dims)"
            " values ('openai', %s, 8) returning id",
            [f"no-key-{uuid.uuid4().hex[:8]}"],
        ).fetchone()
        assert stuck is not None
        conn.execute(
            "insert into public.embedding_queue (chunk_id, model_id, workspace_id)"
            " select id, %s, workspace_id from public.chunks where id = %s",
            [stuck["id"], chunk],
        )
    response = client.post("/v1/queue/drain", json={"max_batches": 100}, headers=service_key())
    assert response.status_code == 200, response.text
    assert embedded(conn, chunk)
    waiting = conn.execute(
        "select count(*) as n from public.embedding_queue where model_id = %s", [stuck["id"]]
    ).fetchone()
    assert waiting == {"n": 1}
