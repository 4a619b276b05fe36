"""Drain `embedding_queue`: embed waiting passages with their model and store the vectors.

Rows are taken `for update skip locked` and deleted in the transaction that stores their
embeddings: concurrent workers share the work, and a crash puts the rows back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.db.session import Caller, Connection, transaction_as
from api.db.vectors import Vector, register_vector
from api.embeddings.registry import model_for_id
from api.errors import KnitterError
from api.http.observability import EMBEDDED_TEXTS
from api.providers.choice import KeyFor

BATCH_SIZE = 256


def pending_count(conn: Connection, workspace_id: UUID | None = None) -> int:
    with transaction_as(conn, Caller.service()):
        row = conn.execute(
            "select count(*) as n from public.embedding_queue"
            " where %(ws)s::uuid is null or workspace_id = %(ws)s::uuid",
            {"ws": workspace_id},
        ).fetchone()
    return int(row["n"]) if row else 0


@dataclass(frozen=True)
class Stages:
    """How far a workspace's passages are indexed: searchable by meaning at all (a static
    or a quality vector) and with the model's own, full-quality vector."""

    passages: int
    meaning: int
    quality: int

    def line(self) -> str:
        return (
            f"searchable by meaning: {self.meaning:,} / {self.passages:,}"
            f" · full quality: {self.quality:,} / {self.passages:,}"
        )


def stages(conn: Connection, workspace_id: UUID) -> Stages:
    with transaction_as(conn, Caller.service()):
        row = conn.execute(
            """
            select (select count(*) from public.chunks c where c.workspace_id = w.id) as passages,
                   (select count(*) from public.embedding_queue q
                    where q.workspace_id = w.id and q.model_id = w.embedding_model_id)
                     as quality_pending,
                   (select count(*) from public.embedding_queue q
                    where q.workspace_id = w.id and q.model_id = m.static_model_id)
                     as meaning_pending
            from public.workspaces w
            join public.embedding_models m on m.id = w.embedding_model_id
            where w.id = %s
            """,
            [workspace_id],
        ).fetchone()
    if row is None:
        return Stages(0, 0, 0)
    total = int(row["passages"])
    return Stages(
        total,
        total - min(int(row["meaning_pending"]), total),
        total - min(int(row["quality_pending"]), total),
    )


class ModelUnavailable(KnitterError):
    """Queued passages of a model that cannot embed now (no key, not installed): they stay
    queued, and the other models' passages go on."""

    def __init__(self, model_id: int, reason: str) -> None:
        super().__init__(f"embedding model {model_id}: {reason}")
        self.model_id = model_id


# A static model embeds thousands of passages a second: bigger batches spend less of it on
# round trips.
STATIC_BATCH_FACTOR = 16


def _queued_models(
    conn: Connection, workspace_id: UUID | None, skip: Collection[int]
) -> list[tuple[int, bool]]:
    """The models with queued passages, in the order they go, and whether each is a static
    one: static models first, so every passage is searchable by meaning within seconds of
    its import, then the quality models."""
    rows = conn.execute(
        """
        select q.model_id,
               exists (select from public.embedding_models s where s.static_model_id = q.model_id)
                 as is_static
        from public.embedding_queue q
        where (%(ws)s::uuid is null or q.workspace_id = %(ws)s::uuid)
          and q.model_id <> all (%(skip)s::int[])
        group by q.model_id
        order by is_static desc, q.model_id
        """,
        {"ws": workspace_id, "skip": list(skip)},
    ).fetchall()
    return [(int(r["model_id"]), bool(r["is_static"])) for r in rows]


def _take(
    conn: Connection, workspace_id: UUID | None, model_id: int, batch_size: int, is_static: bool
) -> list[dict[str, Any]]:
    return conn.execute(
        """
        select q.chunk_id, q.model_id, m.provider, c.workspace_id, c.content
        from public.embedding_queue q
        join public.chunks c on c.id = q.chunk_id
        join public.embedding_models m on m.id = q.model_id
        where (%(ws)s::uuid is null or q.workspace_id = %(ws)s::uuid)
          and q.model_id = %(model)s
        order by q.enqueued_at, q.chunk_id
        limit %(n)s
        -- The passage is locked with its queue row, before the embedding's foreign key
        -- needs it: an import replacing that conversation (deleting passages, then their
        -- queue rows) then waits for this batch or is skipped, never deadlocks with it.
        for update of q skip locked
        for key share of c skip locked
        """,
        {
            "ws": workspace_id,
            "n": batch_size * (STATIC_BATCH_FACTOR if is_static else 1),
            "model": model_id,
        },
    ).fetchall()


def embed_batch(
    conn: Connection,
    workspace_id: UUID | None = None,
    batch_size: int = BATCH_SIZE,
    key_for: KeyFor | None = None,
    skip: Collection[int] = (),
) -> int:
    """Embed one batch of queued passages (one model at a time, static models first, none
    of the models in skip). Identical texts in a batch are embedded once. Returns how many."""
    with transaction_as(conn, Caller.service()):
        rows: list[dict[str, Any]] = []
        model_id = 0
        for model_id, is_static in _queued_models(conn, workspace_id, skip):
            rows = _take(conn, workspace_id, model_id, batch_size, is_static)
            if rows:
                break
        if not rows:
            return 0  # nothing queued, or other workers hold it all
        provider = rows[0]["provider"]
        try:
            key = key_for(provider) if key_for is not None and provider != "local" else None
            model = model_for_id(conn, Caller.service(), model_id, key)
        except KnitterError as exc:
            raise ModelUnavailable(model_id, str(exc)) from exc
        # Identical texts (a pasted error, a repeated question) are embedded once.
        texts = list(dict.fromkeys(r["content"] for r in rows))
        by_text = dict(zip(texts, model.embed(texts), strict=True))
        EMBEDDED_TEXTS.labels(model.provider).inc(len(texts))
        register_vector(conn)
        conn.execute(
            """
            insert into public.chunk_embeddings (chunk_id, model_id, workspace_id, embedding)
            select e.chunk_id, %s, e.workspace_id, e.embedding
            from unnest(%s::bigint[], %s::uuid[], %b::extensions.vector[])
                 as e(chunk_id, workspace_id, embedding)
            on conflict (chunk_id, model_id) do update set embedding = excluded.embedding
            """,
            [
                model_id,
                [r["chunk_id"] for r in rows],
                [r["workspace_id"] for r in rows],
                [Vector(by_text[r["content"]]) for r in rows],
            ],
        )
        conn.execute(
            "delete from public.embedding_queue where model_id = %s and chunk_id = any(%s)",
            [model_id, [r["chunk_id"] for r in rows]],
        )
    return len(rows)


def drain(
    conn: Connection,
    workspace_id: UUID | None = None,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
    key_for: KeyFor | None = None,
    max_batches: int | None = None,
    on_unavailable: Callable[[ModelUnavailable], None] | None = None,
) -> int:
    """Embed until the queue (of one workspace, or all) is empty, or max_batches. Returns
    how many. Passages of a model that cannot embed stay queued; after the others are
    done, each such model goes to on_unavailable, or without it the first one is raised."""
    done = 0
    unavailable: list[ModelUnavailable] = []
    for _ in range(max_batches or sys.maxsize):
        try:
            n = embed_batch(
                conn, workspace_id, batch_size, key_for, [u.model_id for u in unavailable]
            )
        except ModelUnavailable as exc:
            unavailable.append(exc)
            continue
        if not n:
            break
        done += n
        if on_progress is not None:
            on_progress(n)
    if unavailable and on_unavailable is None:
        raise unavailable[0]
    if on_unavailable is not None:
        for waiting in unavailable:
            on_unavailable(waiting)
    return done
