"""Personal access tokens: made, listed and revoked by their owners through the RPCs, as
PostgREST runs them; stored only as a hash; resolved by the API to their user and scope."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from api.accounts.access_tokens import TokenRefused, resolve
from api.db.session import Caller, Connection, transaction_as


def create(conn: Connection, caller: Caller, **args: Any) -> dict[str, Any]:
    args = {"name": "agent", **args}
    named = ", ".join(f"{k} => %({k})s" for k in args)
    with transaction_as(conn, caller):
        row = conn.execute(f"select * from public.create_access_token({named})", args).fetchone()
    assert row is not None
    return row


def test_a_token_is_shown_once_and_stored_as_its_hash(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    me = make_user()
    made = create(conn, me, scope="read-write", expires_in_days=30)
    token = made["token"]
    assert token.startswith("knt_") and len(token) == 4 + 64
    assert made["token_prefix"] == token[:12]
    stored = conn.execute(
        "select token_hash, scope, user_id from public.access_tokens where id = %s", [made["id"]]
    ).fetchone()
    assert stored is not None
    assert bytes(stored["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert stored["scope"] == "read-write" and stored["user_id"] == me.user_id
    assert token not in str(stored)

    with transaction_as(conn, me):
        listed = conn.execute("select * from public.list_access_tokens()").fetchall()
    assert [r["id"] for r in listed] == [made["id"]]
    assert "token_hash" not in listed[0] and "token" not in listed[0]

    principal = resolve(conn, token)
    assert principal.caller.user_id == me.user_id
    assert principal.can_write and principal.token_id == made["id"]


def test_tokens_are_private_to_their_owner(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    me, other = make_user(), make_user()
    made = create(conn, me)
    with transaction_as(conn, other):
        assert conn.execute("select * from public.list_access_tokens()").fetchall() == []
        assert conn.execute("select id from public.access_tokens").fetchall() == []
        revoked = conn.execute("select public.revoke_access_token(%s) as ok", [made["id"]])
        assert revoked.fetchone() == {"ok": False}
    assert resolve(conn, made["token"]).scope == "read"  # still valid


@pytest.mark.parametrize(
    "statement",
    [
        "select token_hash from public.access_tokens",
        "insert into public.access_tokens (user_id, name, token_prefix, token_hash, scope,"
        " expires_at) values (auth.uid(), 'x', 'knt_00000000', '\\x00', 'read', now())",
        "update public.access_tokens set revoked_at = null",
        "delete from public.access_tokens",
        "select * from public.resolve_access_token('knt_x')",
    ],
)
def test_users_cannot_read_hashes_or_write_the_table(
    conn: Connection, make_user: Callable[[], Caller], statement: str
) -> None:
    me = make_user()
    create(conn, me)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, me):
        conn.execute(statement)


def test_anon_and_guests_cannot_make_tokens(conn: Connection) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, Caller.anon()):
        conn.execute("select * from public.create_access_token('x')")
    row = conn.execute(
        "insert into auth.users (is_anonymous) values (true) returning id"
    ).fetchone()
    assert row is not None
    guest = Caller.user(row["id"], None, anonymous=True)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="guests"):
        create(conn, guest)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"scope": "admin"}, "scope must be"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 366}, "expires_in_days"),
        ({"name": "  "}, "name must be"),
    ],
)
def test_bad_requests_are_refused_clearly(
    conn: Connection, make_user: Callable[[], Caller], args: dict[str, Any], message: str
) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        create(conn, make_user(), **args)


def test_revoked_expired_and_unknown_tokens_are_refused(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    me = make_user()
    revoked, expired = create(conn, me), create(conn, me)
    with transaction_as(conn, me):
        ok = conn.execute("select public.revoke_access_token(%s) as ok", [revoked["id"]])
        assert ok.fetchone() == {"ok": True}
    conn.execute(
        "update public.access_tokens set created_at = now() - interval '2 days',"
        " expires_at = now() - interval '1 day' where id = %s",
        [expired["id"]],
    )
    with pytest.raises(TokenRefused, match="revoked"):
        resolve(conn, revoked["token"])
    with pytest.raises(TokenRefused, match="expired"):
        resolve(conn, expired["token"])
    with pytest.raises(TokenRefused, match="unknown"):
        resolve(conn, "knt_" + "0" * 64)
    with transaction_as(conn, me):
        listed = {r["id"]: r for r in conn.execute("select * from public.list_access_tokens()")}
    assert listed[revoked["id"]]["revoked_at"] is not None
    assert listed[expired["id"]]["last_used_at"] is not None  # resolving stamps it
