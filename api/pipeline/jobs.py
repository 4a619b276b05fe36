"""Import jobs of the API: a row in import_jobs per request, the import run in the
background through the same pipeline as the CLI, progress written as it goes."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from api.db.session import Caller, Connection, transaction_as
from api.errors import KnitterError
from api.http.observability import IMPORTED_PASSAGES, IMPORTED_SOURCES
from api.importers.detect import parse
from api.importers.inputs import ZIP_MAGIC, Input, Limits, UrlItem, from_zip
from api.importers.model import ItemError, Parsed
from api.pipeline.embedding_queue import KeyFor, drain
from api.pipeline.ingest import ImportReport, import_conversations

log = logging.getLogger("knitter.jobs")
PROGRESS_INTERVAL_SECONDS = 0.5
JOB_COLUMNS = (
    "id, workspace_id, status, items_total, items_done, added, updated, skipped, failed,"
    " passages, errors, created_at, started_at, finished_at"
)


def upload_inputs(name: str, data: bytes, limits: Limits) -> list[Input | ItemError]:
    """An uploaded file as importer inputs: a zip is opened in memory, anything else is one."""
    if data[:4] == ZIP_MAGIC:
        return list(from_zip(io.BytesIO(data), name, limits))
    return [Input(name, data)]


def create(conn: Connection, caller: Caller, workspace_id: UUID, items: int) -> dict[str, Any]:
    with transaction_as(conn, caller):
        row = conn.execute(
            f"insert into public.import_jobs (workspace_id, items_total) values (%s, %s)"
            f" returning {JOB_COLUMNS}",
            [workspace_id, items],
        ).fetchone()
    assert row is not None
    return row


def get(conn: Connection, caller: Caller, job_id: UUID) -> dict[str, Any] | None:
    with transaction_as(conn, caller):
        row = conn.execute(
            f"select {JOB_COLUMNS}, (select count(*) from public.embedding_queue q"
            "  where q.workspace_id = j.workspace_id) as embedding_pending"
            " from public.import_jobs j where j.id = %s",
            [job_id],
        ).fetchone()
    return row


def recent(conn: Connection, caller: Caller, limit: int) -> list[dict[str, Any]]:
    """The caller's import jobs, newest first (RLS: the jobs of their workspaces)."""
    with transaction_as(conn, caller):
        return conn.execute(
            f"select {JOB_COLUMNS}, (select count(*) from public.embedding_queue q"
            "  where q.workspace_id = j.workspace_id) as embedding_pending"
            " from public.import_jobs j order by j.created_at desc, j.id limit %s",
            [limit],
        ).fetchall()


def _save(
    conn: Connection, caller: Caller, job_id: UUID, report: ImportReport, done: int, status: str
) -> None:
    with transaction_as(conn, caller):
        conn.execute(
            """
            update public.import_jobs set
              status = %s, items_done = %s, added = %s, updated = %s, skipped = %s,
              failed = %s, passages = %s, errors = %s::jsonb,
              started_at = coalesce(started_at, now()),
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
                status,
                job_id,
            ],
        )


def run(
    pool: ConnectionPool[Connection],
    caller: Caller,
    job_id: UUID,
    workspace_id: UUID,
    inputs: Sequence[Input | UrlItem | ItemError],
    key_for: KeyFor | None = None,
) -> None:
    """Import everything, then embed the workspace's new passages (a remote model with the
    key key_for gives). Never raises: the outcome is in the job row and the logs."""
    done = 0

    def items() -> Iterator[Parsed]:
        nonlocal done
        for item in inputs:
            yield from [item] if isinstance(item, ItemError) else parse(item)
            done += 1

    last = 0.0
    with pool.connection() as conn:

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


def _count(report: ImportReport) -> None:
    for outcome in ("added", "updated", "skipped"):
        IMPORTED_SOURCES.labels(outcome).inc(getattr(report, outcome))
    IMPORTED_SOURCES.labels("failed").inc(len(report.failed))
    IMPORTED_PASSAGES.inc(report.passages)
