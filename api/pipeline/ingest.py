"""The import pipeline every entry point uses: inputs → conversations → passages → rows.

Sources and their passages are written a batch of conversations per transaction, as the
importing user (RLS applies), so a source is keyword-searchable the moment its batch
commits and a failure leaves nothing half-written; a batch that fails is written again one
conversation at a time, so only the conversation at fault is lost. Embedding happens
afterwards, from the queue the rows land in.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, cast
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from api.db.session import Caller, Connection, transaction_as
from api.importers.detect import parse
from api.importers.inputs import DEFAULT_LIMITS, Input, Limits, UrlItem, collect
from api.importers.model import Conversation, Ignored, ItemError, Parsed, Skipped
from api.importers.options import DEFAULT_OPTIONS, ImportOptions
from api.pipeline import known
from api.pipeline.chunking import split_counted

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

# A note, a PDF, a page or a transcript is one "message" only to the data model: its
# report says what it is and how many were added, not "1 message kept".
DOCUMENT_KINDS = frozenset({"youtube", "pdf", "text", "markdown", "html"})


@dataclass
class ItemReport:
    """What one input the user named (a file, folder, zip or URL) gave."""

    item: str
    formats: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    # Messages of the item's conversations that knitter holds after the import (new or
    # known); documents (notes, PDFs, pages, transcripts) have none to count.
    messages: int = 0
    # Other versions of those messages (edits, regenerations and what follows them) kept.
    alternatives: int = 0
    # Seen in the export but not kept as text, by kind: images, audio, files, reasoning, plumbing.
    left_out: Counter[str] = field(default_factory=Counter)
    # Files of the export that hold no conversations (viewer, account data, attachments).
    side_files: int = 0
    # Why each input of it with nothing to import was skipped, as `within` words it.
    skips: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        """Of `skipped`, the conversations knitter already had (the rest say why in skips)."""
        return self.skipped - len(self.skips)

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
            "skips": self.skips,
        }


def within(entry: ItemError | Skipped, why: str) -> str:
    """What of the item the person named failed or was skipped, and why: "conversation 2
    ('Corrupted entry'): no messages", or only why when it is the item itself."""
    named = entry.origin or entry.item
    inner = entry.item.removeprefix(entry.origin).lstrip(":/, ")
    return why if entry.item == named else f"{inner}: {why}"


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    passages: int = 0
    failed: list[ItemError] = field(default_factory=list)
    # Inputs with nothing to import (an empty conversation), with why: the person is told.
    empty: list[Skipped] = field(default_factory=list)
    items: dict[str, ItemReport] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def unchanged(self) -> int:
        """Of `skipped`, the conversations knitter already had (the rest are in `empty`)."""
        return self.skipped - len(self.empty)

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def item(self, of: Parsed) -> ItemReport:
        """The report of the item (a file, folder or link the person named) `of` came from.
        Items are listed in the order their first input arrives: a conversation waits in
        a batch while a later item's failure is recorded at once."""
        origin = of.origin or getattr(of, "item", "") or "import"
        if origin not in self.items:
            self.items[origin] = ItemReport(origin)
        return self.items[origin]

    def record(self, item: Parsed, outcome: Outcome | None = None) -> None:
        """Count one outcome in the totals and under the item it came from."""
        per_item = self.item(item)
        if isinstance(item, ItemError):
            self.failed.append(item)
            per_item.failed += 1
        elif isinstance(item, Ignored):
            per_item.side_files += item.count
        elif isinstance(item, Skipped):
            self.empty.append(item)
            self.skipped += 1
            per_item.skipped += 1
            per_item.skips.append(within(item, item.reason))
        elif outcome is not None:
            self.count(outcome)
            setattr(per_item, outcome, getattr(per_item, outcome) + 1)
            if item.kind not in DOCUMENT_KINDS:
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
        for chunk_index, (content, tokens) in enumerate(split_counted(message.text)):
            passages.append(
                Passage(
                    message_index=message_index,
                    chunk_index=chunk_index,
                    role=message.role,
                    author=message.author,
                    model=message.model,
                    created_at=message.created_at or conversation.started_at,
                    content=content,
                    token_count=tokens,
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


# A batch is written when it holds this many passages or conversations, or its first
# conversation has waited this long: one transaction and ~7 statements a batch instead of
# each conversation (docs/PERFORMANCE.md, "The write path").
BATCH_PASSAGES = 2000
BATCH_CONVERSATIONS = 200
BATCH_SECONDS = 1.0
SLOW_ITEM_SECONDS = 0.25


@dataclass
class _Pending:
    conversation: Conversation
    passages: list[Passage]
    content_hash: str
    # The passages' metadata as JSON, made with the passages (in the thread ahead of the
    # writes, see _prepared), once per message: the writer only sends it.
    metadata_json: list[str] = field(init=False)

    def __post_init__(self) -> None:
        dumped: dict[int, str] = {}  # by id(): a message's passages share its metadata
        self.metadata_json = []
        for p in self.passages:
            if id(p.metadata) not in dumped:
                dumped[id(p.metadata)] = json.dumps(p.metadata)
            self.metadata_json.append(dumped[id(p.metadata)])

    def keys(self, workspace_id: UUID) -> list[str]:
        keys = [f"{workspace_id}:hash:{self.content_hash}"]
        if self.conversation.external_id is not None:
            c = self.conversation
            keys.append(f"{workspace_id}:{c.kind}:{c.external_id}")
        return keys


def write_conversations(
    conn: Connection, caller: Caller, workspace_id: UUID, conversations: list[Conversation]
) -> list[tuple[Outcome, int]]:
    """Store conversations, each with the outcome write_conversation would give it; their
    identities (content, external id) must be distinct. The new ones go in one
    transaction (all or nothing: an error rolls them all back), known ones one by one."""
    outcomes = _write_pending(
        conn,
        caller,
        workspace_id,
        [_Pending(c, passages_of(c), c.content_hash()) for c in conversations],
    )
    return [
        o if o is not None else write_conversation(conn, caller, workspace_id, c)
        for c, o in zip(conversations, outcomes, strict=True)
    ]


def _write_pending(
    conn: Connection, caller: Caller, workspace_id: UUID, pending: list[_Pending]
) -> list[tuple[Outcome, int] | None]:
    """Outcomes by position; None: the workspace knows that conversation, so it is left for
    write_conversation (after this transaction)."""
    outcomes: list[tuple[Outcome, int] | None] = [("skipped", 0)] * len(pending)
    with transaction_as(conn, caller.as_writer()):
        conn.execute("set local synchronous_commit = off")  # see write_conversation
        # Every identity of the batch locked at once, in one (sorted) order: concurrent
        # imports of the same conversations serialise and never deadlock.
        conn.execute(
            "select pg_advisory_xact_lock(hashtextextended(k, 0))"
            " from unnest(%s::text[]) as k order by k",
            [sorted({k for p in pending for k in p.keys(workspace_id)})],
        )
        # Conversations the workspace holds in some version (the same content, or a source
        # under the same id) are left to write_conversation, one by one: the batch writes
        # only new ones, each under its export's id (known.find_version's answer then).
        seen = conn.execute(
            "select u.i from unnest(%s::int[], %s::text[], %s::text[], %s::text[])"
            "  as u(i, kind, external_id, content_hash)"
            " where exists (select from public.sources s where s.workspace_id = %s"
            "   and s.content_hash = u.content_hash)"
            "  or exists (select from public.sources s where s.workspace_id = %s"
            "   and s.kind = u.kind and s.external_id = u.external_id)",
            [
                list(range(len(pending))),
                [p.conversation.kind for p in pending],
                [p.conversation.external_id for p in pending],
                [p.content_hash for p in pending],
                workspace_id,
                workspace_id,
            ],
        ).fetchall()
        for r in seen:
            outcomes[r["i"]] = None
        write = [i for i in range(len(pending)) if outcomes[i] is not None]
        if not write:
            return outcomes
        rows = conn.execute(
            """
            insert into public.sources (workspace_id, kind, platform, title, url, external_id,
                                        content_hash, started_at, metadata)
            select %s, s.kind, s.platform, s.title, s.url, s.external_id, s.content_hash,
                   s.started_at, s.metadata::jsonb
            from unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[],
                        %b::timestamptz[], %b::text[])
                 as s(kind, platform, title, url, external_id, content_hash, started_at,
                      metadata)
            on conflict do nothing
            returning id, content_hash
            """,
            [
                workspace_id,
                *(
                    [getattr(pending[i].conversation, name) for i in write]
                    for name in ("kind", "platform")
                ),
                [pending[i].conversation.title[:1000] for i in write],
                [pending[i].conversation.url for i in write],
                [pending[i].conversation.external_id for i in write],
                [pending[i].content_hash for i in write],
                [pending[i].conversation.started_at for i in write],
                [json.dumps(pending[i].conversation.metadata) for i in write],
            ],
        ).fetchall()
        source_of = {r["content_hash"]: r["id"] for r in rows}
        stored = [i for i in write if pending[i].content_hash in source_of]
        if any(pending[i].passages for i in stored):
            _insert_batch_passages(
                conn,
                workspace_id,
                [(source_of[pending[i].content_hash], pending[i]) for i in stored],
            )
        for i in stored:
            outcomes[i] = ("added", len(pending[i].passages))
    return outcomes


def _insert_batch_passages(
    conn: Connection, workspace_id: UUID, sources: list[tuple[UUID, _Pending]]
) -> None:
    """All the passages of the sources in one statement (the statement-level trigger
    queues them); the arrays go in binary, which the server reads without parsing or
    unescaping text."""
    passages = [(s, p) for s, pending in sources for p in pending.passages]
    conn.execute(
        """
        insert into public.chunks (source_id, workspace_id, message_index, chunk_index, role,
                                   author, model, created_at, content, token_count, metadata)
        select p.source_id, %s, p.message_index, p.chunk_index, p.role, p.author, p.model,
               p.created_at, p.content, p.token_count, p.metadata::jsonb
        from unnest(%b::uuid[], %b::int[], %b::int[], %b::text[], %b::text[], %b::text[],
                    %b::timestamptz[], %b::text[], %b::int[], %b::text[])
             as p(source_id, message_index, chunk_index, role, author, model, created_at,
                  content, token_count, metadata)
        """,
        [
            workspace_id,
            [s for s, _ in passages],
            [p.message_index for _, p in passages],
            [p.chunk_index for _, p in passages],
            [p.role for _, p in passages],
            [p.author for _, p in passages],
            [p.model for _, p in passages],
            [p.created_at for _, p in passages],
            [p.content for _, p in passages],
            [p.token_count for _, p in passages],
            [m for _, pending in sources for m in pending.metadata_json],
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
    batch: list[_Pending] = []
    identities: set[str] = set()
    batch_passages = 0
    batch_started = arrived = time.perf_counter()

    def progress() -> None:
        if on_progress is not None:
            on_progress(report)

    def one(item: Conversation) -> None:
        try:
            if dry_run:
                outcome, passages = preview_conversation(conn, caller, workspace_id, item, seen)
            else:
                outcome, passages = write_conversation(conn, caller, workspace_id, item)
        except psycopg.Error as exc:
            message = exc.diag.message_primary or type(exc).__name__
            report.record(ItemError(item.title, f"could not be stored: {message}", item.origin))
        else:
            report.record(item, outcome)
            report.passages += passages
        progress()

    def flush() -> None:
        nonlocal batch_passages
        if not batch:
            return
        try:
            outcomes = _write_pending(conn, caller, workspace_id, batch)
        except psycopg.Error:
            # Rolled back: one at a time, so only the conversation at fault fails.
            for p in batch:
                one(p.conversation)
        else:
            for p, result in zip(batch, outcomes, strict=True):
                if result is None:
                    one(p.conversation)  # a version of a stored conversation
                    continue
                report.record(p.conversation, result[0])
                report.passages += result[1]
                progress()
        batch.clear()
        identities.clear()
        batch_passages = 0

    try:
        for item, pending in _prepared(items, dry_run):
            report.item(item)  # listed in the order the person named the items
            if not isinstance(item, Conversation):
                report.record(item)
                progress()
            elif pending is None:
                one(item)
            else:
                waited = time.perf_counter() - arrived
                keys = set(pending.keys(workspace_id))
                if keys & identities:
                    flush()  # a second copy of a conversation sees the first one written
                if not batch:
                    batch_started = time.perf_counter()
                batch.append(pending)
                identities.update(keys)
                batch_passages += len(pending.passages)
                # A slow source of items (URLs, big PDFs) is written item by item: nothing
                # waits for the next fetch to become searchable.
                if (
                    batch_passages >= BATCH_PASSAGES
                    or len(batch) >= BATCH_CONVERSATIONS
                    or time.perf_counter() - batch_started >= BATCH_SECONDS
                    or waited >= SLOW_ITEM_SECONDS
                ):
                    flush()
            arrived = time.perf_counter()
    finally:
        flush()  # what was prepared before an error is written, as one by one did
    return report


_DONE = object()


def _prepared(items: Iterable[Parsed], dry_run: bool) -> Iterator[tuple[Parsed, _Pending | None]]:
    """The items, each conversation with its passages, made in a thread ahead of the
    writes: parsing and chunking (Python) overlap the database's work on the previous
    batch. Connections, the report and progress stay with the caller's thread."""
    ready: queue.Queue[object] = queue.Queue(maxsize=BATCH_CONVERSATIONS)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if isinstance(item, Conversation) and not dry_run:
                    value: object = (item, _Pending(item, passages_of(item), item.content_hash()))
                else:
                    value = (item, None)
                if not put(value):
                    return
        except BaseException as exc:  # raised again in the caller's thread
            put(exc)
            return
        put(_DONE)

    thread = threading.Thread(target=produce, name="import-prepare", daemon=True)
    thread.start()
    try:
        while True:
            value = ready.get()
            if value is _DONE:
                return
            if isinstance(value, BaseException):
                raise value
            yield cast(tuple[Parsed, _Pending | None], value)
    finally:
        stop.set()
        thread.join()


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
