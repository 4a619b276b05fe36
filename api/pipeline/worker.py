"""The embedding worker: drains `embedding_queue` in a background thread of the API, then
runs the step after embedding (topic threads and their titles) for every workspace.

Several workers (threads, replicas, the edge function's calls) can run at once: rows are
taken `for update skip locked`, so each passage is embedded once.
"""

from __future__ import annotations

import logging
import threading

from psycopg_pool import ConnectionPool

from api.config import Settings
from api.db.session import Connection
from api.pipeline.after_embedding import place_all_in_topic_threads
from api.pipeline.embedding_queue import ModelUnavailable, drain
from api.providers.choice import server_keys

log = logging.getLogger("knitter.worker")


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
                    place_all_in_topic_threads(conn, self.settings)
            except Exception:  # keep the worker alive; the rows stay queued
                log.exception("embedding worker batch failed")
            if not embedded:
                self._stop.wait(self.settings.embed_worker_interval_seconds)
