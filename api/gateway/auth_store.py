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


def update_user(
    conn: Connection,
    user: dict[str, Any],
    *,
    email: str | None,
    password_hash: str | None,
    user_metadata: dict[str, Any] | None,
    session_id: str | None,
) -> dict[str, Any]:
    """GoTrue's `PUT /user` for a signed-in user, in one transaction. A new email is taken
    at once (this stand-in sends no mail; on Supabase a guest's is confirmed at once too,
    with autoconfirm on), which turns a guest into a permanent email user keeping their id
    and so all their data. A new password ends the user's other sessions, as GoTrue does.
    `user_metadata` is merged key by key; a null value removes its key."""
    taken = AuthApiError(
        422, "email_exists", "A user with this email address has already been registered"
    )
    try:
        with conn.transaction():
            if email is not None:
                other = user_by_email(conn, email)
                if other is not None and other["id"] != user["id"]:
                    raise taken
            row = conn.execute(
                f"""
                update auth.users set
                  email = coalesce(%(email)s, email),
                  email_confirmed_at = case when %(email)s::text is null then email_confirmed_at
                                            else now() end,
                  is_anonymous = is_anonymous and %(email)s::text is null,
                  raw_app_meta_data = case when %(email)s::text is null then raw_app_meta_data
                    else raw_app_meta_data
                         || '{{"provider": "email", "providers": ["email"]}}'::jsonb end,
                  encrypted_password = coalesce(%(password)s, encrypted_password),
                  raw_user_meta_data = case when %(data)s::jsonb is null then raw_user_meta_data
                    else (raw_user_meta_data || %(data)s::jsonb) - array(
                      select key from jsonb_each(%(data)s::jsonb) where value = 'null') end,
                  updated_at = now()
                where id = %(id)s
                returning {USER_COLUMNS}
                """,
                {
                    "email": email,
                    "password": password_hash,
                    "data": Jsonb(user_metadata) if user_metadata is not None else None,
                    "id": user["id"],
                },
            ).fetchone()
            if password_hash is not None:
                if session_id is None:
                    conn.execute("delete from auth.sessions where user_id = %s", [user["id"]])
                else:
                    conn.execute(
                        "delete from auth.sessions where user_id = %s and id <> %s::uuid",
                        [user["id"], session_id],
                    )
    except psycopg.errors.UniqueViolation:
        raise taken from None  # a concurrent sign-up with the same email won
    assert row is not None
    return row


def issue_recovery_token(conn: Connection, user_id: UUID, email: str) -> str:
    """A new recovery token for the user (the previous one stops working); only its hash
    is kept. Returned once, for the mail."""
    token = secrets.token_hex(28)  # as long as GoTrue's token hashes (56 hex digits)
    with conn.transaction():
        conn.execute(
            """
            insert into auth.one_time_tokens (user_id, token_type, token_hash, relates_to)
            values (%s, 'recovery_token', %s, %s)
            on conflict (user_id, token_type) do update
              set token_hash = excluded.token_hash, relates_to = excluded.relates_to,
                  created_at = now()
            """,
            [user_id, _token_hash(token), email],
        )
    return token


def spend_recovery_token(conn: Connection, token: str, max_age_seconds: int) -> dict[str, Any]:
    """The user a recovery token was issued to; the token is spent (deleted) whether or not
    it was still fresh. An unknown, used or expired one is GoTrue's 403 `otp_expired`.
    Verifying proves the email is theirs, so it counts as confirmed."""
    user = None
    with conn.transaction():
        row = conn.execute(
            "delete from auth.one_time_tokens where token_hash = %s and token_type ="
            " 'recovery_token' returning user_id, created_at > now() - make_interval(secs => %s)"
            " as fresh",
            [_token_hash(token), max_age_seconds],
        ).fetchone()
        if row is not None and row["fresh"]:
            user = conn.execute(
                "update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now())"
                f" where id = %s returning {USER_COLUMNS}",
                [row["user_id"]],
            ).fetchone()
    if user is None:
        raise AuthApiError(403, "otp_expired", "Email link is invalid or has expired")
    return user
