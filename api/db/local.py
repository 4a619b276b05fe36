"""The database a command talks to: the embedded server under KNITTER_HOME, or DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.accounts.keyring import generate_key
from api.config import Settings
from api.db.embedded import EmbeddedPostgres
from api.db.migrate import Migration, migrate, pending
from api.db.session import Connection, connect
from api.errors import KnitterError


def embedded_server(settings: Settings) -> EmbeddedPostgres:
    return EmbeddedPostgres(settings.home / "pgdata", port=settings.db_port)


@dataclass(frozen=True)
class Started:
    """The embedded server, its URL, and the migrations applied as it started."""

    server: EmbeddedPostgres
    url: str
    applied: list[Migration]


def start_embedded(settings: Settings) -> Started:
    """Starts the local stack's embedded server (or finds it running) and migrates it: it
    is ours to keep current. The caller stops it if `server.started_here`. The one way the
    CLI, `knitter dev` and the API without DATABASE_URL get their database."""
    server = embedded_server(settings)
    url = server.start()
    try:
        with connect(url) as conn:
            conn.autocommit = True
            applied = migrate(conn)
    except BaseException:
        if server.started_here:
            server.stop()
        raise
    return Started(server, url, applied)


@contextmanager
def database(settings: Settings, *, current_schema: bool = True) -> Iterator[Connection]:
    """A connection, with the schema current unless current_schema is False (for
    `knitter migrate` itself).

    The embedded server is started when needed (and stopped again if this call started it)
    and migrated automatically. Any other database must be migrated on purpose
    (`knitter migrate`).
    """
    server = None
    if settings.database_url:
        url = settings.database_url
    elif current_schema:
        started = start_embedded(settings)
        server, url = started.server, started.url
    else:
        server = embedded_server(settings)
        url = server.start()
    try:
        with connect(url) as conn:
            conn.autocommit = True
            if current_schema and server is None and (todo := pending(conn)):
                raise KnitterError(
                    f"the database has {len(todo)} pending migration(s); run `knitter migrate`"
                )
            yield conn
    finally:
        if server is not None and server.started_here:
            server.stop()


def local_encryption_key(home: Path) -> str:
    """The local stack's ENCRYPTION_KEY: made once under home (mode 0600), then reused."""
    path = home / "encryption.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_key())
    return path.read_text().strip()
