"""Micro-threads: a question about one passage, answered from that passage and its
neighbours in the conversation, and kept with the passage for everyone who can read it."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from api.answers.answering import CitedPassage
from api.db.session import Caller, Connection, transaction_as
from api.errors import NotAllowedError, NotFoundError

# Passages either side of the one asked about that the answer may draw on.
NEIGHBOURS = 2


def context(conn: Connection, caller: Caller, chunk_id: int) -> list[CitedPassage] | None:
    """The passage as [1], then its neighbours in reading order as [2]…; None when the
    caller cannot read it."""
    with transaction_as(conn, caller):
        rows = conn.execute(
            """
            with focus as (
              select c.id, c.source_id, c.message_index, c.chunk_index,
                     c.metadata -> 'branch' as branch
              from public.chunks c where c.id = %(chunk)s
            ),
            -- Neighbours on the passage's own branch: the current one, or the other
            -- version (edit, regeneration) it belongs to.
            ordered as (
              select c.*, row_number() over (order by c.message_index, c.chunk_index) as pos
              from public.chunks c join focus f on c.source_id = f.source_id
              where c.metadata -> 'branch' is not distinct from f.branch
            )
            select o.id as chunk_id, o.source_id, s.title as source_title, s.platform, s.url,
                   o.role, o.created_at, o.content, o.workspace_id, o.id = f.id as is_focus
            from ordered o
            join focus f on true
            join public.sources s on s.id = o.source_id
            where abs(o.pos - (select x.pos from ordered x where x.id = f.id)) <= %(around)s
            order by o.id <> f.id, o.message_index, o.chunk_index
            """,
            {"chunk": chunk_id, "around": NEIGHBOURS},
        ).fetchall()
    return CitedPassage.from_rows(rows) if rows else None


def workspace_of(conn: Connection, caller: Caller, chunk_id: int) -> UUID | None:
    with transaction_as(conn, caller):
        row = conn.execute(
            "select workspace_id from public.chunks where id = %s", [chunk_id]
        ).fetchone()
    return UUID(str(row["workspace_id"])) if row else None


def store(
    conn: Connection,
    caller: Caller,
    chunk_id: int,
    question: str,
    answer: str,
    model: str | None,
    citations: list[dict[str, Any]],
) -> dict[str, Any]:
    """Saves the thread as the caller (RLS: they must be able to read the passage), in the
    API's writer role: only the API stores answers attributed to a model."""
    with transaction_as(conn, caller.as_writer()):
        row = conn.execute(
            """
            insert into public.micro_threads
              (chunk_id, workspace_id, user_id, question, answer, model, citations)
            select c.id, c.workspace_id, auth.uid(), %s, %s, %s, %s::jsonb
            from public.chunks c where c.id = %s
            returning *
            """,
            [question, answer, model, json.dumps(citations), chunk_id],
        ).fetchone()
    assert row is not None
    return row


def of_passage(conn: Connection, caller: Caller, chunk_id: int) -> list[dict[str, Any]]:
    """The passage's threads, oldest first, as far as the caller may read them."""
    with transaction_as(conn, caller):
        return conn.execute(
            "select * from public.micro_threads where chunk_id = %s order by created_at, id",
            [chunk_id],
        ).fetchall()


def delete(conn: Connection, caller: Caller, chunk_id: int, thread_id: UUID) -> None:
    """Deletes the caller's own thread on the passage, as the caller (RLS: only the asker
    may). A thread the caller cannot see is a NotFoundError, another member's a
    NotAllowedError."""
    with transaction_as(conn, caller):
        row = conn.execute(
            "select user_id from public.micro_threads where id = %s and chunk_id = %s",
            [thread_id, chunk_id],
        ).fetchone()
        if row is None:
            raise NotFoundError("no such micro-thread")
        if row["user_id"] != caller.user_id:
            raise NotAllowedError("only the member who asked deletes a micro-thread")
        conn.execute("delete from public.micro_threads where id = %s", [thread_id])
