"""The embedding worker: drains `embedding_queue` in a background thread of the API, and
puts each conversation whose passages are all embedded into a topic thread.

Several workers (threads, replicas, the edge function's calls) can run at once: rows are
taken `for update skip locked`, so each passage is embedded once.
"""

from __future__ import annotations

import logging
import threading

from psycopg_pool import ConnectionPool

from api.answers import answering
from api.config import Settings
from api.db.session import Caller, Connection
from api.errors import KnitterError
from api.pipeline.embedding_queue import KeyFor, ModelUnavailable, drain
from api.topics import grouping

log = logging.getLogger("knitter.worker")


def server_keys(settings: Settings) -> KeyFor:
    """Keys for work done for no single user: the server's defaults."""

    def key_for(provider: str) -> str:
        secret = {"openai": settings.openai_api_key, "gemini": settings.gemini_api_key}.get(
            provider
        )
        if secret is None:
            raise KnitterError(f"no server {provider} key to embed queued passages with")
        return secret.get_secret_value()

    return key_for


def drain_some(conn: Connection, settings: Settings, max_batches: int) -> int:
    """Embed up to max_batches of the whole queue; a model that cannot embed now (no
    server key, say) is logged and its passages stay queued."""

    def left_waiting(exc: ModelUnavailable) -> None:
        log.warning("queued passages left waiting: %s", exc)

    return drain(
        conn,
        key_for=server_keys(settings),
        max_batches=max_batches,
        on_unavailable=left_waiting,
    )


def thread_new_conversations(conn: Connection, settings: Settings) -> int:
    """Puts newly embedded conversations into topic threads and titles new threads (with
    the server's chat key if it has one, else by their distinctive terms). Returns how
    many conversations it placed."""
    service = Caller.service()
    chat = answering.pick_model(conn, None, settings, None, "auto")
    placed = 0
    for workspace_id in grouping.workspaces_waiting(conn):
        try:
            placed += grouping.assign_new(conn, service, workspace_id)
            grouping.retitle(conn, service, workspace_id, chat)
        except Exception:  # one workspace's failure must not hold up the others
            log.exception("topic threads of workspace %s failed", workspace_id)
    return placed


class EmbeddingWorker:
    def __init__(self, pool: ConnectionPool[Connection], settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embedding-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            embedded = 0
            try:
                with self.pool.connection() as conn:
                    embedded = drain_some(conn, self.settings, max_batches=10)
                    thread_new_conversations(conn, self.settings)
            except Exception:  # keep the worker alive; the rows stay queued
                log.exception("embedding worker batch failed")
            if not embedded:
                self._stop.wait(self.settings.embed_worker_interval_seconds)
