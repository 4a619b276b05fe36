"""Users and their workspaces, looked up by email as the CLI names them."""

from __future__ import annotations

from uuid import UUID

from api.db.migrate import is_supabase
from api.db.session import Caller, Connection, transaction_as
from api.errors import KnitterError, UserNotFoundError


def find_user(conn: Connection, email: str) -> UUID | None:
    row = conn.execute(
        "select id from auth.users where lower(email) = lower(%s) and not is_anonymous"
        " order by created_at limit 1",
        [email],
    ).fetchone()
    return row["id"] if row else None


def caller_for(conn: Connection, email: str, *, create: bool = False) -> Caller:
    """The caller for this email. With create, a missing user is made on the local stack
    (never on a Supabase project, where people sign up through Supabase Auth)."""
    email = email.strip()
    if "@" not in email:
        raise KnitterError(f"{email!r} is not an email address")
    user_id = find_user(conn, email)
    if user_id is None:
        if not create or is_supabase(conn):
            raise UserNotFoundError(f"no user with email {email}")
        with conn.transaction():
            row = conn.execute(
                "insert into auth.users (email, email_confirmed_at) values (%s, now())"
                " returning id",
                [email],
            ).fetchone()
        assert row is not None
        user_id = row["id"]
    return Caller.user(user_id, email)


def workspace_id(conn: Connection, caller: Caller, name: str | None = None) -> UUID:
    """The caller's workspace by name, or their personal workspace."""
    with transaction_as(conn, caller):
        if name is None:
            row = conn.execute(
                "select id from public.workspaces where owner_id = auth.uid() and is_personal"
            ).fetchone()
        else:
            rows = conn.execute(
                "select id from public.workspaces where name = %s order by created_at", [name]
            ).fetchall()
            if len(rows) > 1:
                raise KnitterError(f"more than one workspace is named {name!r}")
            row = rows[0] if rows else None
    if row is None:
        raise KnitterError(
            f"no workspace named {name!r}" if name else "the user has no personal workspace"
        )
    return UUID(str(row["id"]))


def ensure_workspace(conn: Connection, caller: Caller, name: str) -> UUID:
    """The caller's workspace of that name, created (owned by the caller) if missing."""
    try:
        return workspace_id(conn, caller, name)
    except KnitterError:
        pass
    with transaction_as(conn, caller):
        row = conn.execute("select public.create_workspace(%s) as id", [name]).fetchone()
    assert row is not None
    return UUID(str(row["id"]))
