"""The import pipeline every entry point uses: inputs → conversations → passages → rows.

Each source and its passages are written in one transaction, as the importing user (RLS
applies), so a source is keyword-searchable the moment it commits and a failure leaves
nothing half-written. Embedding happens afterwards, from the queue the rows land in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from api.db.session import Caller, Connection, transaction_as
from api.importers.detect import parse
from api.importers.inputs import DEFAULT_LIMITS, Input, Limits, UrlItem, collect
from api.importers.model import Conversation, ItemError, Parsed, Skipped
from api.importers.options import DEFAULT_OPTIONS, ImportOptions
from api.pipeline.chunking import count_tokens, split_text

Outcome = Literal["added", "updated", "skipped"]


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    passages: int = 0
    failed: list[ItemError] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True)
class Passage:
    message_index: int
    chunk_index: int
    role: str
    author: str | None
    model: str | None
    created_at: datetime | None
    content: str
    token_count: int
    metadata: dict[str, object]


def passages_of(conversation: Conversation) -> list[Passage]:
    passages = []
    for message_index, message in enumerate(conversation.messages):
        for chunk_index, content in enumerate(split_text(message.text)):
            passages.append(
                Passage(
                    message_index=message_index,
                    chunk_index=chunk_index,
                    role=message.role,
                    author=message.author,
                    model=message.model,
                    created_at=message.created_at or conversation.started_at,
                    content=content,
                    token_count=count_tokens(content),
                    metadata=message.metadata,
                )
            )
    return passages


def write_conversation(
    conn: Connection, caller: Caller, workspace_id: UUID, conversation: Conversation
) -> tuple[Outcome, int]:
    """Store one conversation and its passages in one transaction. Re-importing the same
    content adds nothing; a conversation whose content changed since (same external id)
    replaces the old copy."""
    passages = passages_of(conversation)
    content_hash = conversation.content_hash()
    outcome: Outcome = "added"
    # The API's writer role: passages are written only by the importers, within the limits.
    with transaction_as(conn, caller.as_writer()):
        # Not waiting for the WAL flush of every source makes imports ~1.7x faster
        # (docs/PERFORMANCE.md); a crash can lose only the last sources, and re-importing
        # the same file adds exactly those.
        conn.execute("set local synchronous_commit = off")
        if conversation.external_id is not None:
            existing = conn.execute(
                "select id, content_hash from public.sources"
                " where workspace_id = %s and kind = %s and external_id = %s",
                [workspace_id, conversation.kind, conversation.external_id],
            ).fetchone()
            if existing is not None:
                if existing["content_hash"] == content_hash:
                    return "skipped", 0
                conn.execute("delete from public.sources where id = %s", [existing["id"]])
                outcome = "updated"
        row = conn.execute(
            """
            insert into public.sources (workspace_id, kind, platform, title, url, external_id,
                                        content_hash, started_at, metadata)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict do nothing
            returning id
            """,
            [
                workspace_id,
                conversation.kind,
                conversation.platform,
                conversation.title[:1000],
                conversation.url,
                conversation.external_id,
                content_hash,
                conversation.started_at,
                Jsonb(conversation.metadata),
            ],
        ).fetchone()
        if row is None:
            return "skipped", 0
        conn.execute(
            """
            insert into public.chunks (source_id, workspace_id, message_index, chunk_index, role,
                                       author, model, created_at, content, token_count, metadata)
            select %s, %s, p.message_index, p.chunk_index, p.role, p.author, p.model,
                   p.created_at, p.content, p.token_count, p.metadata::jsonb
            from unnest(%s::int[], %s::int[], %s::text[], %s::text[], %s::text[],
                        %s::timestamptz[], %s::text[], %s::int[], %s::text[])
                 as p(message_index, chunk_index, role, author, model, created_at, content,
                      token_count, metadata)
            """,
            [
                row["id"],
                workspace_id,
                [p.message_index for p in passages],
                [p.chunk_index for p in passages],
                [p.role for p in passages],
                [p.author for p in passages],
                [p.model for p in passages],
                [p.created_at for p in passages],
                [p.content for p in passages],
                [p.token_count for p in passages],
                [json.dumps(p.metadata) for p in passages],
            ],
        )
    return outcome, len(passages)


def import_conversations(
    conn: Connection,
    caller: Caller,
    workspace_id: UUID,
    items: Iterable[Parsed],
    on_progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Write each conversation; record each failure and go on with the rest."""
    report = ImportReport()
    started = time.perf_counter()
    for item in items:
        if isinstance(item, ItemError):
            report.failed.append(item)
        elif isinstance(item, Skipped):
            report.skipped += 1
        else:
            try:
                outcome, passages = write_conversation(conn, caller, workspace_id, item)
            except psycopg.Error as exc:
                message = exc.diag.message_primary or type(exc).__name__
                report.failed.append(ItemError(item.title, f"could not be stored: {message}"))
            else:
                report.count(outcome)
                report.passages += passages
        if on_progress is not None:
            on_progress(report)
    report.seconds = time.perf_counter() - started
    return report


def parsed(
    inputs: Iterable[Input | UrlItem | ItemError], options: ImportOptions = DEFAULT_OPTIONS
) -> Iterable[Parsed]:
    """Each input's conversations; a URL is fetched when its turn comes."""
    for item in inputs:
        if isinstance(item, ItemError):
            yield item
        else:
            yield from parse(item, options)


def import_paths(
    conn: Connection,
    caller: Caller,
    workspace_id: UUID,
    paths: Iterable[str | Path],
    limits: Limits = DEFAULT_LIMITS,
    on_progress: Callable[[ImportReport], None] | None = None,
    options: ImportOptions = DEFAULT_OPTIONS,
) -> ImportReport:
    """Import files, folders, zips and http(s) URLs, in any mix."""
    return import_conversations(
        conn, caller, workspace_id, parsed(collect(paths, limits), options), on_progress
    )
