"""GoTrue's state in the database: users in the shim's auth.users, sessions and their
rotating refresh tokens in auth.sessions / auth.refresh_tokens (auth_schema.sql).

Statements run as the gateway's own connection (the database owner), as GoTrue runs as
`supabase_auth_admin`; the API roles cannot read these tables."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from api.db.session import Connection
from api.gateway.errors import AuthApiError

AUTH_SCHEMA = Path(__file__).with_name("auth_schema.sql")
# Any constant will do; it keeps two gateways starting at once from racing on the DDL.
SCHEMA_LOCK_ID = 0x6B6E6761

USER_COLUMNS = """
    id, aud, role, email, encrypted_password, email_confirmed_at, last_sign_in_at,
    raw_app_meta_data, raw_user_meta_data, is_anonymous, created_at, updated_at
"""


def apply_auth_schema(conn: Connection) -> None:
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", [SCHEMA_LOCK_ID])
        conn.execute(AUTH_SCHEMA.read_text(encoding="utf-8"))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_by_id(conn: Connection, user_id: UUID | str) -> dict[str, Any] | None:
    return conn.execute(
        f"select {USER_COLUMNS} from auth.users where id = %s", [user_id]
    ).fetchone()


def user_by_email(conn: Connection, email: str) -> dict[str, Any] | None:
    return conn.execute(
        f"select {USER_COLUMNS} from auth.users"
        " where lower(email) = lower(%s) and not is_anonymous order by created_at limit 1",
        [email],
    ).fetchone()


def create_user(
    conn: Connection,
    *,
    email: str | None,
    password_hash: str | None,
    user_metadata: dict[str, Any],
    anonymous: bool,
) -> dict[str, Any]:
    """A new user; the shim's trigger gives them a personal workspace in the same
    transaction. An email already registered is GoTrue's 422 `user_already_exists`."""
    app_metadata: dict[str, Any] = (
        {} if anonymous else {"provider": "email", "providers": ["email"]}
    )
    already = AuthApiError(422, "user_already_exists", "User already registered")
    try:
        with conn.transaction():
            if email is not None and user_by_email(conn, email) is not None:
                raise already
            row = conn.execute(
                f"""
                insert into auth.users (email, encrypted_password, email_confirmed_at,
                                        raw_app_meta_data, raw_user_meta_data, is_anonymous)
                values (%s, %s, case when %s::text is null then null else now() end,
                        %s, %s, %s)
                returning {USER_COLUMNS}
                """,
                [email, password_hash, email, Jsonb(app_metadata), Jsonb(user_metadata), anonymous],
            ).fetchone()
    except psycopg.errors.UniqueViolation:
        raise already from None  # a concurrent sign-up with the same email won
    assert row is not None
    return row


def start_session(conn: Connection, user_id: UUID) -> tuple[UUID, str, dict[str, Any]]:
    """A new session with its first refresh token; returns (session id, token, user)."""
    token = secrets.token_urlsafe(32)
    with conn.transaction():
        session = conn.execute(
            "insert into auth.sessions (user_id) values (%s) returning id", [user_id]
        ).fetchone()
        assert session is not None
        conn.execute(
            "insert into auth.refresh_tokens (token, user_id, session_id) values (%s, %s, %s)",
            [_token_hash(token), user_id, session["id"]],
        )
        user = conn.execute(
            f"update auth.users set last_sign_in_at = now() where id = %s returning {USER_COLUMNS}",
            [user_id],
        ).fetchone()
    assert user is not None
    return UUID(str(session["id"])), token, user


def rotate_refresh_token(conn: Connection, token: str) -> tuple[UUID, str, dict[str, Any]]:
    """Trades a refresh token for a new one in the same session (the old one is revoked).
    A revoked token presented again means it leaked or was replayed: as GoTrue does, the
    whole session is ended."""
    new_token = secrets.token_urlsafe(32)
    ended = False
    with conn.transaction():
        row = conn.execute(
            "select id, user_id, session_id, revoked from auth.refresh_tokens"
            " where token = %s for update",
            [_token_hash(token)],
        ).fetchone()
        if row is None:
            raise AuthApiError(
                400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"
            )
        if row["revoked"]:
            conn.execute("delete from auth.sessions where id = %s", [row["session_id"]])
            ended = True
        else:
            conn.execute(
                "update auth.refresh_tokens set revoked = true, updated_at = now() where id = %s",
                [row["id"]],
            )
            conn.execute(
                "insert into auth.refresh_tokens (token, user_id, session_id, parent)"
                " values (%s, %s, %s, %s)",
                [_token_hash(new_token), row["user_id"], row["session_id"], _token_hash(token)],
            )
            conn.execute(
                "update auth.sessions set updated_at = now() where id = %s", [row["session_id"]]
            )
            user = user_by_id(conn, row["user_id"])
    if ended:
        raise AuthApiError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
    if user is None:
        raise AuthApiError(400, "user_not_found", "User not found")
    return UUID(str(row["session_id"])), new_token, user


def session_exists(conn: Connection, session_id: str) -> bool:
    row = conn.execute(
        "select exists (select from auth.sessions where id = %s::uuid) as yes", [session_id]
    ).fetchone()
    return bool(row and row["yes"])


def end_sessions(conn: Connection, user_id: str, session_id: str | None, scope: str) -> None:
    """Logout: `global` ends every session of the user, `local` only this one, `others` all
    but this one. Their refresh tokens go with them (foreign key cascade)."""
    if scope == "global":
        conn.execute("delete from auth.sessions where user_id = %s::uuid", [user_id])
    elif session_id is None:
        return  # local/others need the session the token was issued for
    elif scope == "local":
        conn.execute("delete from auth.sessions where id = %s::uuid", [session_id])
    else:
        conn.execute(
            "delete from auth.sessions where user_id = %s::uuid and id <> %s::uuid",
            [user_id, session_id],
        )
