"""The local Supabase gateway, served by uvicorn on loopback and driven by the real
supabase-py client: GoTrue's email, refresh-token and anonymous flows, and PostgREST's RPC
with the caller's role and claims, row-level security and PostgREST's error bodies."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from postgrest.exceptions import APIError
from pydantic import SecretStr
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from api.accounts.users import workspace_id
from api.config import Settings
from api.db.session import Caller, Connection
from api.errors import KnitterError
from api.gateway import LocalKeys, create_gateway, local_secrets, mint_api_key, with_gateway
from api.gateway.passwords import hash_password, verify_password
from api.http.app import create_app
from api.http.auth import TokenVerifier
from api.importers.model import Conversation, Message
from api.pipeline.ingest import write_conversation
from supabase import Client, create_client
from tests.test_api import make_settings

# The supabase client itself passes postgrest-py options that postgrest-py deprecates.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:supabase.*")

PASSWORD = "correct horse battery"
OTHER_SECRET = "another-secret-that-is-at-least-32-characters-long"


@dataclass(frozen=True)
class Gateway:
    url: str
    keys: LocalKeys


@pytest.fixture(scope="module")
def gateway(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    keys = local_secrets(tmp_path_factory.mktemp("knitter-home"))
    settings = Settings(
        environment="test",
        database_url=db_url,
        supabase_jwt_secret=SecretStr(keys.jwt_secret),
        db_pool_min=1,
        db_pool_max=4,
        # This module signs up many users from one address; throttling has its own tests
        # (test_gateway_hostile).
        auth_rate_limit="1000/minute",
        auth_email_rate_limit="1000/minute",
    )
    app = create_gateway(settings, db_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.02)
    yield Gateway(f"http://127.0.0.1:{port}", keys)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def client(gw: Gateway, key: str | None = None) -> Client:
    return create_client(gw.url, key or gw.keys.anon_key)


def new_email() -> str:
    return f"gw-{uuid.uuid4().hex[:10]}@example.com"


def signed_up(gw: Gateway) -> tuple[Client, str]:
    sb = client(gw)
    email = new_email()
    sb.auth.sign_up({"email": email, "password": PASSWORD})
    return sb, email


def claims_of(token: str, gw: Gateway) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(
        token, gw.keys.jwt_secret, algorithms=["HS256"], audience="authenticated"
    )
    return decoded


def user_row(conn: Connection, user_id: str) -> dict[str, Any]:
    row = conn.execute("select * from auth.users where id = %s", [user_id]).fetchone()
    assert row is not None
    return row


def caller_of(sb: Client) -> Caller:
    session = sb.auth.get_session()
    assert session is not None
    return Caller(
        "authenticated", jwt.decode(session.access_token, options={"verify_signature": False})
    )


def import_note(conn: Connection, caller: Caller, text: str) -> None:
    conversation = Conversation(
        kind="text", platform="notes", title=text, messages=[Message(role="document", text=text)]
    )
    write_conversation(conn, caller, workspace_id(conn, caller), conversation)


# --- keys and passwords --------------------------------------------------------------


def test_local_secrets_are_made_once_private_and_reused(tmp_path: Path) -> None:
    first = local_secrets(tmp_path)
    path = tmp_path / "supabase-keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_secrets(tmp_path) == first
    for key, role in ((first.anon_key, "anon"), (first.service_role_key, "service_role")):
        claims = jwt.decode(key, first.jwt_secret, algorithms=["HS256"])
        assert claims["role"] == role
    os.chmod(path, 0o644)
    assert local_secrets(tmp_path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_secrets(tmp_path / "other") != first
    path.write_text("{not json")
    with pytest.raises(KnitterError, match="damaged"):
        local_secrets(tmp_path)


def test_passwords_are_salted_scrypt_hashes() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    assert stored != hash_password(PASSWORD)
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "!", stored)
    assert not verify_password(PASSWORD, None)
    assert not verify_password(PASSWORD, "garbage")


def test_the_gateway_refuses_production_and_a_missing_secret(db_url: str) -> None:
    with pytest.raises(KnitterError, match="local stack only"):
        create_gateway(
            Settings(environment="production", supabase_jwt_secret=SecretStr("x" * 40)), db_url
        )
    with pytest.raises(KnitterError, match="SUPABASE_JWT_SECRET"):
        create_gateway(Settings(environment="test", supabase_jwt_secret=None), db_url)


# --- /auth/v1 --------------------------------------------------------------------------


def test_sign_up_issues_a_supabase_session(gateway: Gateway, conn: Connection) -> None:
    sb = client(gateway)
    email = new_email()
    response = sb.auth.sign_up(
        {"email": email, "password": PASSWORD, "options": {"data": {"name": "Ada"}}}
    )
    session, user = response.session, response.user
    assert session is not None and user is not None
    assert session.token_type == "bearer" and session.expires_in == 3600
    assert session.expires_at is not None and session.refresh_token
    assert user.email == email and not user.is_anonymous
    assert user.user_metadata == {"name": "Ada"}
    claims = claims_of(session.access_token, gateway)
    assert claims["sub"] == user.id
    assert claims["role"] == "authenticated" and claims["aud"] == "authenticated"
    assert claims["email"] == email and claims["is_anonymous"] is False
    assert claims["exp"] - claims["iat"] == 3600 and claims["session_id"]
    row = user_row(conn, user.id)
    assert row["encrypted_password"].startswith("scrypt$")
    # The shim's trigger gave the new user a personal workspace.
    assert conn.execute(
        "select count(*) as n from public.workspaces where owner_id = %s and is_personal",
        [user.id],
    ).fetchone() == {"n": 1}


def test_gateway_tokens_are_accepted_by_the_api(gateway: Gateway) -> None:
    sb, _ = signed_up(gateway)
    session = sb.auth.get_session()
    assert session is not None
    caller = TokenVerifier(jwt_secret=gateway.keys.jwt_secret).caller(session.access_token)
    assert caller.role == "authenticated" and str(caller.user_id) == session.user.id


def test_sign_up_with_a_taken_email_or_weak_password_is_refused(gateway: Gateway) -> None:
    _, email = signed_up(gateway)
    with pytest.raises(AuthApiError) as taken:
        client(gateway).auth.sign_up({"email": email.upper(), "password": PASSWORD})
    assert (taken.value.status, taken.value.code) == (422, "user_already_exists")
    with pytest.raises(AuthWeakPasswordError) as weak:
        client(gateway).auth.sign_up({"email": new_email(), "password": "12345"})
    assert weak.value.status == 422 and weak.value.reasons == ["length"]
    with pytest.raises(AuthApiError) as bad_email:
        client(gateway).auth.sign_up({"email": "not-an-email", "password": PASSWORD})
    assert (bad_email.value.status, bad_email.value.code) == (400, "validation_failed")


def test_sign_in_with_password(gateway: Gateway) -> None:
    _, email = signed_up(gateway)
    sb = client(gateway)
    response = sb.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert response.session is not None and response.user is not None
    assert response.user.email == email
    assert claims_of(response.session.access_token, gateway)["amr"][0]["method"] == "password"


@pytest.mark.parametrize("which", ["wrong password", "unknown email"])
def test_wrong_credentials_are_invalid_credentials(gateway: Gateway, which: str) -> None:
    _, email = signed_up(gateway)
    credentials = (
        {"email": email, "password": PASSWORD + "x"}
        if which == "wrong password"
        else {"email": new_email(), "password": PASSWORD}
    )
    with pytest.raises(AuthApiError) as error:
        client(gateway).auth.sign_in_with_password(credentials)  # type: ignore[arg-type]
    assert (error.value.status, error.value.code) == (400, "invalid_credentials")
    assert error.value.message == "Invalid login credentials"


def test_refresh_rotates_the_refresh_token(gateway: Gateway) -> None:
    sb, _ = signed_up(gateway)
    before = sb.auth.get_session()
    assert before is not None
    after = sb.auth.refresh_session().session
    assert after is not None
    assert after.refresh_token != before.refresh_token
    old, new = claims_of(before.access_token, gateway), claims_of(after.access_token, gateway)
    assert new["sub"] == old["sub"] and new["session_id"] == old["session_id"]
    # The old token was used: presenting it again ends the session (GoTrue's reuse check).
    with pytest.raises(AuthApiError) as reused:
        client(gateway).auth.refresh_session(before.refresh_token)
    assert (reused.value.status, reused.value.code) == (400, "refresh_token_already_used")
    with pytest.raises(AuthApiError):
        client(gateway).auth.refresh_session(after.refresh_token)


def test_an_unknown_refresh_token_is_refused(gateway: Gateway) -> None:
    with pytest.raises(AuthApiError) as error:
        client(gateway).auth.refresh_session("not-a-token")
    assert (error.value.status, error.value.code) == (400, "refresh_token_not_found")


def test_anonymous_sign_in_is_a_guest_user(gateway: Gateway, conn: Connection) -> None:
    sb = client(gateway)
    response = sb.auth.sign_in_anonymously()
    assert response.session is not None and response.user is not None
    assert response.user.is_anonymous and not response.user.email
    claims = claims_of(response.session.access_token, gateway)
    assert claims["is_anonymous"] is True and claims["role"] == "authenticated"
    row = user_row(conn, response.user.id)
    assert row["is_anonymous"] is True and row["email"] is None
    assert row["encrypted_password"] is None
    user = sb.auth.get_user()
    assert user is not None and user.user.id == response.user.id and user.user.is_anonymous


def test_get_user_returns_the_signed_in_user(gateway: Gateway) -> None:
    sb, email = signed_up(gateway)
    found = sb.auth.get_user()
    assert found is not None and found.user.email == email
    assert found.user.app_metadata["provider"] == "email"
    with pytest.raises(AuthApiError) as error:
        sb.auth.get_user(jwt=mint_api_key(OTHER_SECRET, "authenticated"))
    assert error.value.status == 403 and error.value.code == "bad_jwt"


def test_sign_out_revokes_the_refresh_token(gateway: Gateway, conn: Connection) -> None:
    sb, _ = signed_up(gateway)
    session = sb.auth.get_session()
    assert session is not None
    sb.auth.sign_out()
    assert sb.auth.get_session() is None
    with pytest.raises(AuthApiError) as refresh:
        client(gateway).auth.refresh_session(session.refresh_token)
    assert (refresh.value.status, refresh.value.code) == (400, "refresh_token_not_found")
    # The access token's session is gone too: GoTrue no longer answers for it.
    with pytest.raises(AuthApiError) as user:
        client(gateway).auth.get_user(session.access_token)
    assert (user.value.status, user.value.code) == (403, "session_not_found")
    assert conn.execute(
        "select count(*) as n from auth.refresh_tokens where user_id = %s", [session.user.id]
    ).fetchone() == {"n": 0}


def test_requests_without_a_valid_api_key_are_refused(gateway: Gateway) -> None:
    with httpx.Client(base_url=gateway.url) as http:
        missing = http.post("/auth/v1/token?grant_type=password", json={})
        assert missing.status_code == 401
        assert missing.json() == {"message": "No API key found in request"}
        forged = mint_api_key(OTHER_SECRET, "anon")
        wrong = http.post("/rest/v1/rpc/hybrid_search", headers={"apikey": forged}, json={})
        assert wrong.status_code == 401 and wrong.json() == {"message": "Invalid API key"}


# --- /rest/v1/rpc ------------------------------------------------------------------------


def test_rpc_hybrid_search_sees_only_the_callers_passages(
    gateway: Gateway, conn: Connection
) -> None:
    me, _ = signed_up(gateway)
    other, _ = signed_up(gateway)
    word = f"zyx{uuid.uuid4().hex[:8]}"
    import_note(conn, caller_of(me), f"my note about {word} and sourdough")
    import_note(conn, caller_of(other), f"their note about {word} and bicycles")

    mine = rows_of(me.rpc("hybrid_search", {"query_text": word, "match_count": 5}).execute())
    assert len(mine) == 1
    assert "sourdough" in mine[0]["content"] and mine[0]["platform"] == "notes"
    assert f"<mark>{word}</mark>" in mine[0]["snippet"]
    theirs = rows_of(other.rpc("hybrid_search", {"query_text": word}).execute())
    assert [row["content"] for row in theirs] == [f"their note about {word} and bicycles"]
    # jsonb arguments arrive as JSON; no match is an empty array.
    filtered = me.rpc(
        "hybrid_search", {"query_text": word, "filters": {"platform": "chatgpt"}}
    ).execute()
    assert filtered.data == []
    # A vector argument arrives as pgvector's JSON-like text: the semantic branch runs (no
    # embeddings yet, so the keyword match alone comes back).
    model = conn.execute("select id, dims from public.embedding_models where is_default").fetchone()
    assert model is not None
    both = me.rpc(
        "hybrid_search",
        {"query_text": word, "query_embedding": [0.5] * model["dims"], "model_id": model["id"]},
    ).execute()
    assert [row["chunk_id"] for row in rows_of(both)] == [mine[0]["chunk_id"]]
    # hybrid_search is stable: GET with query parameters, the jsonb one as JSON text.
    for platform, expected in (("notes", 1), ("chatgpt", 0)):
        got = me.rpc(
            "hybrid_search", {"query_text": word, "filters": {"platform": platform}}, get=True
        ).execute()
        assert len(rows_of(got)) == expected


@pytest.mark.parametrize("run", ["-" * 66, "-" * 65, "- " * 33, "-!" * 40, "-&-|-<-)" * 10])
def test_rpc_hybrid_search_takes_runs_of_search_operators(
    gateway: Gateway, conn: Connection, run: str
) -> None:
    """32+ negations in a row overflowed websearch_to_tsquery's stack: a 500 from the RPC
    called directly. Each run now means what it says: an even one negates nothing."""
    me, _ = signed_up(gateway)
    word = f"zyx{uuid.uuid4().hex[:8]}"
    import_note(conn, caller_of(me), f"a note about {word} and sourdough")
    assert rows_of(me.rpc("hybrid_search", {"query_text": run}).execute()) == []
    hits = rows_of(me.rpc("hybrid_search", {"query_text": f"{word} {run}sourdough"}).execute())
    assert len(hits) == (0 if run.count("-") % 2 else 1)


def rows_of(response: Any) -> list[dict[str, Any]]:
    data = response.data
    assert isinstance(data, list)
    return data


def test_rpc_as_anon_is_refused_with_postgrests_error(gateway: Gateway) -> None:
    with pytest.raises(APIError) as error:
        client(gateway).rpc("hybrid_search", {"query_text": "anything"}).execute()
    assert error.value.code == "42501"
    assert error.value.message is not None and "permission denied" in error.value.message
    with httpx.Client(base_url=gateway.url) as http:
        response = http.post(
            "/rest/v1/rpc/hybrid_search",
            headers={"apikey": gateway.keys.anon_key},
            json={"query_text": "anything"},
        )
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "details", "hint"}


def test_rpc_with_a_bad_token_is_401(gateway: Gateway) -> None:
    expired = jwt.encode(
        {"sub": str(uuid.uuid4()), "role": "authenticated", "exp": int(time.time()) - 60},
        gateway.keys.jwt_secret,
        algorithm="HS256",
    )
    with httpx.Client(base_url=gateway.url) as http:
        response = http.post(
            "/rest/v1/rpc/hybrid_search",
            headers={"apikey": gateway.keys.anon_key, "Authorization": f"Bearer {expired}"},
            json={"query_text": "x"},
        )
    assert response.status_code == 401 and response.json()["code"] == "PGRST303"


def test_rpc_unknown_function_is_404(gateway: Gateway) -> None:
    sb, _ = signed_up(gateway)
    with pytest.raises(APIError) as error:
        sb.rpc("no_such_function", {"a": 1}).execute()
    assert error.value.code == "PGRST202"
    assert error.value.message == (
        "Could not find the function public.no_such_function(a) in the schema cache"
    )
    # Known function, unknown argument: no candidate either, with a hint.
    with pytest.raises(APIError) as wrong_args:
        sb.rpc("hybrid_search", {"query": "x"}).execute()
    assert wrong_args.value.code == "PGRST202"
    assert wrong_args.value.hint is not None and "hybrid_search(query_text" in wrong_args.value.hint
    with httpx.Client(base_url=gateway.url) as http:
        response = http.post(
            "/rest/v1/rpc/no_such_function", headers={"apikey": gateway.keys.anon_key}, json={}
        )
    assert response.status_code == 404


def test_only_the_public_schema_is_exposed(gateway: Gateway) -> None:
    sb, _ = signed_up(gateway)
    with pytest.raises(APIError) as error:
        sb.schema("private").rpc("workspace_ids_for", {"min_role": "owner"}).execute()
    assert error.value.code == "PGRST106"


@pytest.fixture
def test_functions(conn: Connection) -> Iterator[str]:
    """Throwaway functions in `public` (the only exposed schema), dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    conn.execute(
        f"""
        create function public.test_raise_{suffix}(message text) returns integer
        language plpgsql as $$ begin raise exception '%', message; end $$;
        create function public.test_add_{suffix}(a integer, b integer default 10,
                                                  tags text[] default '{{}}')
        returns table (total integer, who text, tag_count integer)
        language sql stable as $$
          select a + b, auth.role(), coalesce(cardinality(tags), 0)
        $$;
        create function public.test_boom_{suffix}() returns boolean
        language plpgsql as $$ begin
          raise unique_violation using message = 'duplicate key', detail = 'Key (x)=(1)';
        end $$;
        create function public.test_unique_{suffix}() returns void
        language sql as $$ select 1 from (values (1), (1)) v(x) group by x
                           having public.test_boom_{suffix}() $$;
        create function public.test_echo_{suffix}(doc jsonb) returns jsonb
        language sql volatile as $$ select doc || '{{"seen": true}}' $$;
        """
    )
    try:
        yield suffix
    finally:
        conn.execute(
            f"""
            drop function public.test_raise_{suffix}(text);
            drop function public.test_add_{suffix}(integer, integer, text[]);
            drop function public.test_unique_{suffix}();
            drop function public.test_boom_{suffix}();
            drop function public.test_echo_{suffix}(jsonb);
            """
        )


def test_rpc_raise_is_400_p0001(gateway: Gateway, test_functions: str) -> None:
    sb, _ = signed_up(gateway)
    with pytest.raises(APIError) as error:
        sb.rpc(f"test_raise_{test_functions}", {"message": "nope, not today"}).execute()
    assert (error.value.code, error.value.message) == ("P0001", "nope, not today")
    with httpx.Client(base_url=gateway.url) as http:
        token = caller_token(sb)
        response = http.post(
            f"/rest/v1/rpc/test_raise_{test_functions}",
            headers={"apikey": gateway.keys.anon_key, "Authorization": f"Bearer {token}"},
            json={"message": "again"},
        )
    assert response.status_code == 400
    assert response.json() == {"code": "P0001", "message": "again", "details": None, "hint": None}


def test_rpc_unique_violation_is_409(gateway: Gateway, test_functions: str) -> None:
    sb, _ = signed_up(gateway)
    with httpx.Client(base_url=gateway.url) as http:
        response = http.post(
            f"/rest/v1/rpc/test_unique_{test_functions}",
            headers={
                "apikey": gateway.keys.anon_key,
                "Authorization": f"Bearer {caller_token(sb)}",
            },
        )
    assert response.status_code == 409
    assert response.json()["code"] == "23505"
    assert response.json()["details"] == "Key (x)=(1)"


def caller_token(sb: Client) -> str:
    session = sb.auth.get_session()
    assert session is not None
    return session.access_token


def test_rpc_get_with_query_parameters_for_a_stable_function(
    gateway: Gateway, test_functions: str
) -> None:
    sb, _ = signed_up(gateway)
    name = f"test_add_{test_functions}"
    rows = sb.rpc(name, {"a": 5, "tags": ["x", "y, z"]}, get=True).execute().data
    assert rows == [{"total": 15, "who": "authenticated", "tag_count": 2}]
    rows = sb.rpc(name, {"a": 1, "b": 2}, get=True).execute().data
    assert rows == [{"total": 3, "who": "authenticated", "tag_count": 0}]
    # The same function by POST, and as the service role.
    service = client(gateway, gateway.keys.service_role_key)
    assert service.rpc(name, {"a": 1, "tags": ["q"]}).execute().data == [
        {"total": 11, "who": "service_role", "tag_count": 1}
    ]


def test_rpc_get_is_refused_for_a_volatile_function(gateway: Gateway, test_functions: str) -> None:
    sb, _ = signed_up(gateway)
    name = f"test_echo_{test_functions}"
    assert sb.rpc(name, {"doc": {"a": 1}}).execute().data == {"a": 1, "seen": True}
    with pytest.raises(APIError) as error:
        sb.rpc(name, {"doc": json.dumps({"a": 1})}, get=True).execute()
    assert error.value.code == "PGRST101"


# --- one origin with another app ---------------------------------------------------------


def test_with_gateway_serves_both_apps_and_runs_the_gateways_lifespan(
    db_url: str, tmp_path: Path
) -> None:
    keys = local_secrets(tmp_path)
    settings = Settings(
        environment="test",
        supabase_jwt_secret=SecretStr(keys.jwt_secret),
        cors_origins=["http://localhost:5173"],
    )
    other = FastAPI()

    @other.get("/v1/ping")
    def ping() -> dict[str, str]:
        return {"app": "api"}

    app = with_gateway(other, create_gateway(settings, db_url))
    with TestClient(app) as http:
        assert http.get("/v1/ping").json() == {"app": "api"}
        signed = http.post(
            "/auth/v1/signup",
            headers={"apikey": keys.anon_key},
            json={"email": new_email(), "password": PASSWORD},
        )
        assert signed.status_code == 200, signed.text
        assert signed.json()["user"]["email"].startswith("gw-")
        # A refusal a browser can read: CORS headers on the API-key check too.
        refused = http.get("/auth/v1/user", headers={"Origin": "http://localhost:5173"})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == "http://localhost:5173"


# --- admin: deleting users ---------------------------------------------------------------


def test_the_service_role_deletes_a_user_through_supabase_py(
    gateway: Gateway, conn: Connection
) -> None:
    sb, _ = signed_up(gateway)
    user_id = caller_of(sb).claims["sub"]
    import_note(conn, caller_of(sb), "a note that goes with its owner")
    with pytest.raises(AuthApiError) as refused:
        client(gateway).auth.admin.delete_user(user_id)  # the anon key is no admin
    assert refused.value.status == 403
    admin = client(gateway, gateway.keys.service_role_key).auth.admin
    admin.delete_user(user_id)
    assert conn.execute("select 1 from auth.users where id = %s", [user_id]).fetchone() is None
    left = conn.execute(
        "select count(*) as n from public.workspaces where owner_id = %s", [user_id]
    ).fetchone()
    assert left == {"n": 0}
    with pytest.raises(AuthApiError) as missing:
        admin.delete_user(user_id)
    assert missing.value.status == 404


def test_the_api_deletes_accounts_through_supabase_auth_when_configured(
    gateway: Gateway, conn: Connection, db_url: str
) -> None:
    """On a hosted project the API has no right to auth.users: with SUPABASE_URL and the
    service-role key it deletes the account through Auth's admin API."""

    def settings(service_key: str) -> Settings:
        return make_settings(
            db_url,
            supabase_url=gateway.url,
            supabase_jwks_url=None,
            supabase_jwt_secret=SecretStr(gateway.keys.jwt_secret),
            supabase_service_role_key=SecretStr(service_key),
        )

    sb, _ = signed_up(gateway)
    session = sb.auth.get_session()
    assert session is not None
    import_note(conn, caller_of(sb), "the API deletes this through Auth")
    body = {"confirm": "delete my account"}
    bearer = {"Authorization": f"Bearer {session.access_token}"}
    # The anon key is no service-role key: Auth refuses, and nothing is deleted (the SQL
    # path, which this database's role could take, is not used).
    with TestClient(create_app(settings(gateway.keys.anon_key))) as api:
        refused = api.request("DELETE", "/v1/account", json=body, headers=bearer)
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Supabase Auth refused to delete the user (403)"}
    assert conn.execute("select 1 from auth.users where id = %s", [session.user.id]).fetchone()
    with TestClient(create_app(settings(gateway.keys.service_role_key))) as api:
        deleted = api.request("DELETE", "/v1/account", json=body, headers=bearer)
    assert deleted.status_code == 204, deleted.text
    gone = conn.execute("select 1 from auth.users where id = %s", [session.user.id]).fetchone()
    assert gone is None
    assert conn.execute(
        "select count(*) as n from public.sources s join public.workspaces w"
        " on w.id = s.workspace_id where w.owner_id = %s",
        [session.user.id],
    ).fetchone() == {"n": 0}
