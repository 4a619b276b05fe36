"""The import pipeline every entry point uses: inputs → conversations → passages → rows.

Each source and its passages are written in one transaction, as the importing user (RLS
applies), so a source is keyword-searchable the moment it commits and a failure leaves
nothing half-written. Embedding happens afterwards, from the queue the rows land in.
"""

from __future__ import annotations

import json
import time
from collections import Counter
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
from api.importers.model import Conversation, Ignored, ItemError, Parsed, Skipped
from api.importers.options import DEFAULT_OPTIONS, ImportOptions
from api.pipeline import known
from api.pipeline.chunking import count_tokens, split_text

Outcome = Literal["added", "updated", "skipped"]
FORMATS = {
    "chatgpt_export": "ChatGPT export",
    "chatgpt_share": "ChatGPT share page",
    "claude_export": "Claude export",
    "gemini_takeout": "Gemini Takeout",
    "gemini_pdf": "Gemini PDF",
    "youtube": "YouTube video",
    "pdf": "PDF",
    "text": "text",
    "markdown": "Markdown",
    "html": "web page",
    "agent_session": "coding-agent session",
}


@dataclass
class ItemReport:
    """What one input the user named (a file, folder, zip or URL) gave."""

    item: str
    formats: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    # Messages of the item's conversations that knitter holds after the import (new or known).
    messages: int = 0
    # Other versions of those messages (edits, regenerations and what follows them) kept.
    alternatives: int = 0
    # Seen in the export but not kept as text, by kind: images, audio, files, reasoning, plumbing.
    left_out: Counter[str] = field(default_factory=Counter)
    # Files of the export that hold no conversations (viewer, account data, attachments).
    side_files: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "item": self.item,
            "formats": self.formats,
            "added": self.added,
            "updated": self.updated,
            "skipped": self.skipped,
            "failed": self.failed,
            "messages": self.messages,
            "alternatives": self.alternatives,
            "left_out": dict(self.left_out),
            "side_files": self.side_files,
        }


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    passages: int = 0
    failed: list[ItemError] = field(default_factory=list)
    seconds: float = 0.0
    items: dict[str, ItemReport] = field(default_factory=dict)
    dry_run: bool = False

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def item(self, origin: str) -> ItemReport:
        if origin not in self.items:
            self.items[origin] = ItemReport(origin)
        return self.items[origin]

    def record(self, item: Parsed, outcome: Outcome | None = None) -> None:
        """Count one outcome in the totals and under the item it came from."""
        per_item = self.item(item.origin or getattr(item, "item", "") or "import")
        if isinstance(item, ItemError):
            self.failed.append(item)
            per_item.failed += 1
        elif isinstance(item, Ignored):
            per_item.side_files += item.count
        elif isinstance(item, Skipped):
            self.skipped += 1
            per_item.skipped += 1
        elif outcome is not None:
            self.count(outcome)
            setattr(per_item, outcome, getattr(per_item, outcome) + 1)
            per_item.messages += len(item.messages)
            per_item.alternatives += len(item.alternatives)
            per_item.left_out.update(item.left_out)
            if FORMATS[item.kind] not in per_item.formats:
                per_item.formats.append(FORMATS[item.kind])

    @property
    def side_files(self) -> int:
        return sum(i.side_files for i in self.items.values())


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

    def compared(self) -> tuple[int, tuple[object, ...]]:
        """What tells two versions of a passage apart (see known.first_changed_message)."""
        fields = (self.role, self.author, self.model, self.created_at, self.content)
        return self.message_index, (*fields, self.metadata)


def passages_of(conversation: Conversation) -> list[Passage]:
    """The passages of the current branch (message indexes 0…n-1), then of the other
    versions (n…), whose metadata names the message each is a version of."""
    passages = []
    messages = [*conversation.messages, *conversation.alternatives]
    for message_index, message in enumerate(messages):
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
    content adds nothing; a newer version of a stored conversation (same external id and
    content in common) updates it in place, rewriting only the messages from the first
    that changed; a different conversation that reuses a stored id is added beside it."""
    passages = passages_of(conversation)
    content_hash = conversation.content_hash()
    # The API's writer role: passages are written only by the importers, within the limits.
    with transaction_as(conn, caller.as_writer()):
        # Not waiting for the WAL flush of every source makes imports ~1.7x faster
        # (docs/PERFORMANCE.md); a crash can lose only the last sources, and re-importing
        # the same file adds exactly those.
        conn.execute("set local synchronous_commit = off")
        _lock_identity(conn, workspace_id, conversation, content_hash)
        if known.same_content(conn, workspace_id, content_hash):
            return "skipped", 0
        stored, external_id = known.find_version(
            conn, workspace_id, conversation, [p.content for p in passages]
        )
        if stored is not None:
            if _older(conversation.metadata.get("updated_at"), stored.updated_at):
                return "skipped", 0  # an older export's copy never replaces a newer one
            return "updated", _update_source(conn, stored.id, conversation, passages, content_hash)
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
                external_id,
                content_hash,
                conversation.started_at,
                Jsonb(conversation.metadata),
            ],
        ).fetchone()
        if row is None:
            return "skipped", 0
        _insert_passages(conn, row["id"], workspace_id, passages)
    return "added", len(passages)


def _update_source(
    conn: Connection,
    source_id: UUID,
    conversation: Conversation,
    passages: list[Passage],
    content_hash: str,
) -> int:
    """The stored source becomes the new version: the passages of the messages before the
    first that changed stay (with their embeddings, threads and notes); the rest are
    written again. Returns how many passages were written."""
    start = known.first_changed_message(
        conn,
        source_id,
        [p.compared() for p in passages],
    )
    conn.execute(
        "delete from public.chunks where source_id = %s and message_index >= %s",
        [source_id, start],
    )
    row = conn.execute(
        "update public.sources set platform = %s, title = %s, url = %s, content_hash = %s,"
        " started_at = %s, metadata = %s"
        " where id = %s returning workspace_id",
        [
            conversation.platform,
            conversation.title[:1000],
            conversation.url,
            content_hash,
            conversation.started_at,
            Jsonb(conversation.metadata),
            source_id,
        ],
    ).fetchone()
    assert row is not None  # locked above, so still there
    fresh = [p for p in passages if p.message_index >= start]
    _insert_passages(conn, source_id, row["workspace_id"], fresh)
    return len(fresh)


def _insert_passages(
    conn: Connection, source_id: UUID, workspace_id: UUID, passages: list[Passage]
) -> None:
    if not passages:
        return
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
            source_id,
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


def _older(candidate: object, stored: object) -> bool:
    """Whether the candidate copy was last updated before the stored one (both known)."""
    if not isinstance(candidate, str) or not isinstance(stored, str):
        return False
    try:
        return datetime.fromisoformat(candidate) < datetime.fromisoformat(stored)
    except (ValueError, TypeError):  # naive and aware times, or not times at all
        return False


def _lock_identity(
    conn: Connection, workspace_id: UUID, conversation: Conversation, content_hash: str
) -> None:
    """Serialise writers of the same conversation: of two concurrent imports of different
    versions, the second sees the first's row and replaces it (instead of losing a race on
    the unique index and reporting its newer version as skipped). Locks are taken in one
    order (sorted), so two writers never deadlock on them."""
    keys = [f"{workspace_id}:hash:{content_hash}"]
    if conversation.external_id is not None:
        keys.append(f"{workspace_id}:{conversation.kind}:{conversation.external_id}")
    conn.execute(
        "select pg_advisory_xact_lock(hashtextextended(k, 0))"
        " from unnest(%s::text[]) as k order by k",
        [keys],
    )


def preview_conversation(
    conn: Connection,
    caller: Caller,
    workspace_id: UUID,
    conversation: Conversation,
    seen: set[str],
) -> tuple[Outcome, int]:
    """What write_conversation would do, without writing: for `--dry-run`."""
    content_hash = conversation.content_hash()
    identity = f"{conversation.kind}:{conversation.external_id}"
    if content_hash in seen or (conversation.external_id is not None and identity in seen):
        return "skipped", 0
    seen.update([content_hash, identity] if conversation.external_id else [content_hash])
    passages = passages_of(conversation)
    with transaction_as(conn, caller):
        if known.same_content(conn, workspace_id, content_hash):
            return "skipped", 0
        stored, _ = known.find_version(
            conn, workspace_id, conversation, [p.content for p in passages]
        )
        if stored is None:
            return "added", len(passages)
        if _older(conversation.metadata.get("updated_at"), stored.updated_at):
            return "skipped", 0
        start = known.first_changed_message(
            conn,
            stored.id,
            [p.compared() for p in passages],
        )
    return "updated", sum(1 for p in passages if p.message_index >= start)


def import_conversations(
    conn: Connection,
    caller: Caller,
    workspace_id: UUID,
    items: Iterable[Parsed],
    on_progress: Callable[[ImportReport], None] | None = None,
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Write each conversation; record each failure and go on with the rest. With dry_run,
    nothing is written and the report says what would be."""
    report = ImportReport(dry_run=dry_run)
    seen: set[str] = set()
    started = time.perf_counter()
    for item in items:
        if not isinstance(item, Conversation):
            report.record(item)
        else:
            try:
                if dry_run:
                    outcome, passages = preview_conversation(conn, caller, workspace_id, item, seen)
                else:
                    outcome, passages = write_conversation(conn, caller, workspace_id, item)
            except psycopg.Error as exc:
                message = exc.diag.message_primary or type(exc).__name__
                failure = ItemError(item.title, f"could not be stored: {message}", item.origin)
                report.record(failure)
            else:
                report.record(item, outcome)
                report.passages += passages
        if on_progress is not None:
            on_progress(report)
    report.seconds = time.perf_counter() - started
    return report


def parsed(
    inputs: Iterable[Input | UrlItem | ItemError | Ignored],
    options: ImportOptions = DEFAULT_OPTIONS,
) -> Iterable[Parsed]:
    """Each input's conversations; a URL is fetched when its turn comes."""
    for item in inputs:
        if isinstance(item, ItemError | Ignored):
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
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Import files, folders, zips and http(s) URLs, in any mix."""
    return import_conversations(
        conn,
        caller,
        workspace_id,
        parsed(collect(paths, limits), options),
        on_progress,
        dry_run=dry_run,
    )
