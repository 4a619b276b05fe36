"""Import jobs of the API: a row in import_jobs per request, the import run in the
background through the same pipeline as the CLI, progress written as it goes."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from api.config import Settings
from api.db.session import Caller, Connection, transaction_as
from api.errors import KnitterError
from api.http.observability import IMPORTED_PASSAGES, IMPORTED_SOURCES
from api.importers.detect import parse
from api.importers.inputs import Input, Upload, UrlItem, from_upload
from api.importers.model import Ignored, ItemError, Parsed
from api.importers.options import DEFAULT_OPTIONS, ImportOptions
from api.pipeline.after_embedding import place_in_topic_threads
from api.pipeline.embedding_queue import drain
from api.pipeline.ingest import ImportReport, import_conversations
from api.providers.choice import KeyFor

log = logging.getLogger("knitter.jobs")
PROGRESS_INTERVAL_SECONDS = 0.5
# A job silent for this long (no heartbeat) is dead; it beats six times as often.
STALE_SECONDS = 60.0
JOB_COLUMNS = (
    "id, workspace_id, status, items_total, items_done, added, updated, skipped, failed,"
    " passages, errors, items, files, created_at, started_at, finished_at"
)


# The passages this job queued that still wait for the model search uses: the workspace's
# queue rows enqueued while the job ran (a trigger queues them in the job's own
# transactions, between started_at and finished_at). Two jobs running at once in one
# workspace share their window; a switch of model under way is not counted. And those
# still waiting for the static model (not yet searchable by meaning at all): the two
# stages of "searchable by meaning: 15,210 / 15,210 · full quality: 4,100 / 15,210".
_JOB_WINDOW = (
    " and j.started_at is not null and q.enqueued_at >= j.started_at"
    " and q.enqueued_at <= coalesce(j.finished_at, 'infinity'))"
)
EMBEDDING_PENDING = (
    "(select count(*) from public.embedding_queue q"
    " join public.workspaces w on w.id = q.workspace_id"
    " where q.workspace_id = j.workspace_id and q.model_id = w.embedding_model_id"
    + _JOB_WINDOW
    + " as embedding_pending,"
    " (select count(*) from public.embedding_queue q"
    " join public.workspaces w on w.id = q.workspace_id"
    " join public.embedding_models m on m.id = w.embedding_model_id"
    " where q.workspace_id = j.workspace_id and q.model_id = m.static_model_id"
    + _JOB_WINDOW
    + " as meaning_pending"
)


def create(
    conn: Connection,
    caller: Caller,
    workspace_id: UUID,
    items: int,
    files: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A queued job; `files` names what it was given ({"name", "size"}: bytes, or None for
    a link)."""
    # jsonb cannot hold NUL characters, which file names may.
    named = json.dumps(list(files)[:500]).replace("\\u0000", "")
    # Job states are the API's to write (its writer role); RLS still checks the workspace.
    with transaction_as(conn, caller.as_writer()):
        row = conn.execute(
            "insert into public.import_jobs (workspace_id, items_total, files)"
            f" values (%s, %s, %s::jsonb) returning {JOB_COLUMNS}",
            [workspace_id, items, named],
        ).fetchone()
    assert row is not None
    return row


def get(
    conn: Connection, caller: Caller, job_id: UUID, stale_seconds: float = STALE_SECONDS
) -> dict[str, Any] | None:
    # A job whose server died is never shown (nor left) 'running'.
    mark_interrupted(conn, stale_seconds=stale_seconds, caller=caller, job_id=job_id)
    with transaction_as(conn, caller):
        row = conn.execute(
            f"select {JOB_COLUMNS}, {EMBEDDING_PENDING} from public.import_jobs j where j.id = %s",
            [job_id],
        ).fetchone()
    return row


def recent(conn: Connection, caller: Caller, limit: int) -> list[dict[str, Any]]:
    """The caller's import jobs, newest first (RLS: the jobs of their workspaces)."""
    with transaction_as(conn, caller):
        return conn.execute(
            f"select {JOB_COLUMNS}, {EMBEDDING_PENDING} from public.import_jobs j"
            " order by j.created_at desc, j.id limit %s",
            [limit],
        ).fetchall()


def _save(
    conn: Connection, caller: Caller, job_id: UUID, report: ImportReport, done: int, status: str
) -> None:
    with transaction_as(conn, caller.as_writer()):
        conn.execute(
            """
            update public.import_jobs set
              status = %s, items_done = %s, added = %s, updated = %s, skipped = %s,
              failed = %s, passages = %s, errors = %s::jsonb, items = %s::jsonb,
              started_at = coalesce(started_at, now()), heartbeat_at = now(),
              finished_at = case when %s in ('succeeded', 'failed') then now() end
            where id = %s
            """,
            [
                status,
                done,
                report.added,
                report.updated,
                report.skipped,
                len(report.failed),
                report.passages,
                # jsonb cannot hold NUL characters, which file names may.
                json.dumps([asdict(e) for e in report.failed[:500]]).replace("\\u0000", ""),
                json.dumps([i.as_dict() for i in report.items.values()][:500]).replace(
                    "\\u0000", ""
                ),
                status,
                job_id,
            ],
        )


def run(
    pool: ConnectionPool[Connection],
    caller: Caller,
    job_id: UUID,
    workspace_id: UUID,
    inputs: Sequence[Input | Upload | UrlItem | ItemError],
    settings: Settings,
    key_for: KeyFor | None = None,
    options: ImportOptions = DEFAULT_OPTIONS,
    stale_seconds: float = STALE_SECONDS,
) -> None:
    """Import everything, then embed the workspace's new passages (a remote model with the
    key key_for gives). Uploads are read here, a zip entry at a time, within
    options.limits; URLs are fetched within options.fetch. Then the step after embedding
    (topic threads). Never raises: the outcome is in the job row and the logs."""
    done = 0

    def parsed(item: Input | UrlItem | ItemError | Ignored) -> Iterator[Parsed]:
        return iter([item]) if isinstance(item, ItemError | Ignored) else parse(item, options)

    def items() -> Iterator[Parsed]:
        nonlocal done
        for item in inputs:
            if isinstance(item, Upload):
                for entry in from_upload(item, options.limits):
                    yield from parsed(entry)
            else:
                yield from parsed(item)
            done += 1

    last = 0.0
    with pool.connection() as conn, _heartbeat(pool, caller, job_id, stale_seconds / 6):

        def progress(report: ImportReport) -> None:
            nonlocal last
            if time.monotonic() - last >= PROGRESS_INTERVAL_SECONDS:
                last = time.monotonic()
                _save(conn, caller, job_id, report, done, "running")

        report = ImportReport()
        try:
            _save(conn, caller, job_id, report, 0, "running")
            report = import_conversations(conn, caller, workspace_id, items(), progress)
            _save(conn, caller, job_id, report, done, "succeeded")
        except Exception:
            log.exception("import job failed", extra={"job_id": str(job_id)})
            report.failed.append(ItemError("import", "the import stopped on an internal error"))
            _save(conn, caller, job_id, report, done, "failed")
            return
        finally:
            _count(report)
        try:
            drain(conn, workspace_id, key_for=key_for)
        except KnitterError as exc:
            log.warning("embedding after import failed: %s", exc, extra={"job_id": str(job_id)})
        try:
            place_in_topic_threads(conn, settings, caller, workspace_id)
        except Exception:  # the import stands; the worker places what is left
            log.exception("topic threads after import failed", extra={"job_id": str(job_id)})


@contextmanager
def _heartbeat(
    pool: ConnectionPool[Connection], caller: Caller, job_id: UUID, every: float
) -> Iterator[None]:
    """Refreshes the job's heartbeat_at while the import runs, also while one big item
    takes long between two progress saves, so only a dead job goes stale."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                with pool.connection() as conn, transaction_as(conn, caller.as_writer()):
                    conn.execute(
                        "update public.import_jobs set heartbeat_at = now() where id = %s",
                        [job_id],
                    )
            except Exception:  # a missed beat is retried; the import goes on
                log.warning("import job heartbeat failed", extra={"job_id": str(job_id)})

    thread = threading.Thread(target=beat, name=f"job-heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def mark_interrupted(
    conn: Connection,
    *,
    stale_seconds: float = STALE_SECONDS,
    caller: Caller | None = None,
    job_id: UUID | None = None,
) -> int:
    """Marks jobs whose heartbeat stopped (their server died mid-way) 'interrupted', with
    what is missing in their errors; how many. As `caller` for one of their jobs, else
    for every job (the API's own connection, at start)."""
    statement = """
        update public.import_jobs set
          status = 'interrupted', finished_at = now(),
          errors = errors || jsonb_build_array(jsonb_build_object(
            'item', 'import',
            'message', format(
              'interrupted: the server stopped after %%s of %%s items (%%s sources added,'
              ' %%s updated); the rest was not imported. Import the same files or links'
              ' again: what was imported is skipped.',
              items_done, items_total, added, updated)))
        where status in ('queued', 'running')
          and coalesce(heartbeat_at, created_at) < now() - make_interval(secs => %s)
          and (%s::uuid is null or id = %s::uuid)
    """
    params = [stale_seconds, job_id, job_id]
    if caller is None:
        with conn.transaction():
            return conn.execute(statement, params).rowcount
    # Job states are the API's writer role's to set (RLS: the job's user only).
    with transaction_as(conn, caller.as_writer()):
        return conn.execute(statement, params).rowcount


def _count(report: ImportReport) -> None:
    for outcome in ("added", "updated", "skipped"):
        IMPORTED_SOURCES.labels(outcome).inc(getattr(report, outcome))
    IMPORTED_SOURCES.labels("failed").inc(len(report.failed))
    IMPORTED_PASSAGES.inc(report.passages)
