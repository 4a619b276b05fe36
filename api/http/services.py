"""What the API holds for its lifetime: settings, connection pools, Redis, the token
verifier, the keyring and the rate limits. Built once per app, closed on shutdown."""

from __future__ import annotations

import logging
import select
import threading
from dataclasses import dataclass, field

import anyio
import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from api.accounts.keyring import Keyring
from api.allocator import return_large_blocks
from api.config import Settings
from api.db.embedded import EmbeddedPostgres
from api.db.session import Connection
from api.embeddings.cache import EmbeddingCache
from api.embeddings.catalog import register_server_models
from api.embeddings.local import preload, use_model_dir
from api.errors import KnitterError
from api.http.auth import TokenVerifier
from api.pipeline import jobs
from api.pipeline.worker import EmbeddingWorker
from api.rate_limits import RateLimits
from api.search.hybrid import warm_up
from api.shared_redis import SharedRedis

log = logging.getLogger("knitter.api")
# How long a start waits for the local model before it serves without it.
MODEL_WAIT_SECONDS = 30.0


def check_if_told(conn: Connection) -> None:
    """The pool's check before it lends a connection: a round trip only when the server
    sent something while the connection sat idle (a restart's goodbye, then the closed
    socket), not a round trip on every request."""
    if conn.closed or select.select([conn.fileno()], [], [], 0)[0]:
        ConnectionPool.check_connection(conn)


def connection_pool(url: str, settings: Settings, name: str) -> ConnectionPool[Connection]:
    """A pool of autocommit connections with the statement timeout (not yet opened); each
    new connection runs a search before it is lent (see warm_up)."""

    def configure(conn: Connection) -> None:
        try:
            warm_up(conn, settings.local_model)
        except psycopg.Error as exc:  # not migrated yet, or a replica behind: serve anyway
            log.info("connection not warmed up: %s", type(exc).__name__)

    return ConnectionPool(
        url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            "options": f"-c statement_timeout={settings.statement_timeout_ms}",
            "connect_timeout": 10,
        },
        name=name,
        open=False,
        timeout=10,
        # A connection that died while idle (the server restarted) is replaced, not lent.
        check=check_if_told,
        configure=configure,
    )


@dataclass
class Services:
    settings: Settings
    keyring: Keyring | None
    verifier: TokenVerifier
    redis: SharedRedis | None = None
    pool: ConnectionPool[Connection] | None = None
    read_pool: ConnectionPool[Connection] | None = None
    embedded: EmbeddedPostgres | None = None
    worker: EmbeddingWorker | None = None
    # Made in the app's event loop: import jobs at once, and requests holding a connection
    # (the pool less what jobs, the embedding worker and heartbeats may take).
    import_limiter: anyio.CapacityLimiter | None = None
    db_gate: anyio.Semaphore | None = None
    rate_limits: RateLimits = field(init=False)
    cache: EmbeddingCache = field(init=False)
    models_registered: bool = field(default=False, init=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        """Everything that can be checked without connecting: refuses bad configuration."""
        keyring = Keyring.from_settings(settings)
        use_model_dir(settings.model_path)
        if settings.environment == "production":
            missing = [
                name
                for name, value in (
                    ("DATABASE_URL", settings.database_url),
                    ("ENCRYPTION_KEY", settings.encryption_key),
                    (
                        "SUPABASE_JWT_SECRET or SUPABASE_URL/SUPABASE_JWKS_URL",
                        settings.supabase_jwt_secret or settings.jwks_url,
                    ),
                )
                if not value
            ]
            if missing:
                raise KnitterError(f"production needs {', '.join(missing)}")
        secret = settings.supabase_jwt_secret
        verifier = TokenVerifier(
            jwt_secret=secret.get_secret_value() if secret else None,
            jwks_url=settings.jwks_url,
            secret_keys=settings.secret_api_keys(),
        )
        # One Redis client (it connects on first use) for the query cache and the limits.
        shared = SharedRedis(settings.redis_url) if settings.redis_url else None
        return cls(settings, keyring, verifier, shared)

    def __post_init__(self) -> None:
        self.rate_limits = RateLimits(self.redis)
        self.cache = EmbeddingCache(self.redis, self.settings.embedding_cache_ttl_seconds)

    def open(self) -> None:
        settings = self.settings
        return_large_blocks()
        # The local model loads while the database starts, so the first search does not
        # wait for it.
        loader = threading.Thread(
            target=preload, args=(settings.local_model,), name="knitter-model-load", daemon=True
        )
        loader.start()
        url = settings.database_url
        if url is None:
            # Development without DATABASE_URL: the local stack's embedded server.
            from api.db.local import start_embedded

            started = start_embedded(settings)
            self.embedded, url = started.server, started.url
        self.pool = connection_pool(url, settings, "knitter")
        self.pool.open(wait=True)
        try:
            with self.pool.connection() as conn:
                self.register_models(conn)
        except psycopg.Error as exc:  # serve anyway: /health reports the database
            log.warning("embedding models not registered yet: %s", exc)
        # The embedded database is this process's alone: none of its jobs still runs.
        local = self.embedded is not None and self.embedded.started_here
        try:
            with self.pool.connection(timeout=5) as conn:
                jobs.mark_interrupted(
                    conn, stale_seconds=0 if local else settings.import_job_stale_seconds
                )
        except (psycopg.Error, PoolTimeout) as exc:  # /health says so; reads sweep later
            log.warning("could not look for interrupted import jobs: %s", type(exc).__name__)
        if settings.database_read_url:
            self.read_pool = connection_pool(settings.database_read_url, settings, "knitter-read")
            self.read_pool.open(wait=True)
        if self.redis is not None:  # its first connection made now, not in the first request
            self.redis.run(lambda client: client.ping(), lambda: False)
        if settings.embed_worker:
            self.worker = EmbeddingWorker(self.pool, settings)
            self.worker.start()
        # Serve once the model is in (it loads in well under a second), or the first
        # search would wait for it; a first export, which takes longer, goes on meanwhile.
        loader.join(timeout=MODEL_WAIT_SECONDS)

    def register_models(self, conn: Connection) -> None:
        """Offers every model this server can embed with (once per process; again after a
        start without the database)."""
        if not self.models_registered:
            register_server_models(conn, self.settings)
            self.models_registered = True

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        for pool in (self.read_pool, self.pool):
            if pool is not None:
                pool.close()
        if self.redis is not None:
            self.redis.close()
        self.verifier.http.close()
        if self.embedded is not None and self.embedded.started_here:
            self.embedded.stop()
