"""The user's past queries (recorded by search, cleared by the user) and suggestions drawn
from them and from the titles of the sources the user can read."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.db.session import Caller, Connection, transaction_as


def record(conn: Connection, caller: Caller, query: str, workspace_id: UUID | None) -> None:
    """Remembers a query as the user; empty queries are not. A workspace the user cannot
    read is recorded as none (RLS hides it), so searching it stays a plain empty result."""
    if caller.user_id is None:
        return
    with transaction_as(conn, caller):
        insert(conn, caller, query, workspace_id)


def insert(conn: Connection, caller: Caller, query: str, workspace_id: UUID | None) -> None:
    """`record` inside a transaction_as of the caller's."""
    query = query.strip()
    if not query or caller.user_id is None:
        return
    conn.execute(
        "insert into public.search_history (user_id, query, workspace_id)"
        " select auth.uid(), %s, (select w.id from public.workspaces w where w.id = %s)",
        [query[:1000], workspace_id],
    )


def recent(conn: Connection, caller: Caller, limit: int = 50) -> list[dict[str, Any]]:
    with transaction_as(conn, caller):
        return conn.execute(
            "select query, workspace_id, created_at from public.search_history"
            " order by created_at desc, id desc limit %s",
            [limit],
        ).fetchall()


def clear(conn: Connection, caller: Caller) -> int:
    with transaction_as(conn, caller):
        row = conn.execute("select public.clear_search_history() as n").fetchone()
    return int(row["n"]) if row else 0


def suggestions(
    conn: Connection, caller: Caller, prefix: str, limit: int = 8
) -> list[dict[str, Any]]:
    with transaction_as(conn, caller):
        return conn.execute(
            "select suggestion, kind, score from public.search_suggestions(%s, %s)",
            [prefix, limit],
        ).fetchall()
