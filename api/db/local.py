"""The database a command talks to: the embedded server under KNITTER_HOME, or DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from api.accounts.keyring import generate_key
from api.config import Settings
from api.db.embedded import EmbeddedPostgres
from api.db.migrate import migrate, pending
from api.db.session import Connection, connect
from api.errors import KnitterError


def embedded_server(settings: Settings) -> EmbeddedPostgres:
    return EmbeddedPostgres(settings.home / "pgdata", port=settings.db_port)


@contextmanager
def database(settings: Settings, *, current_schema: bool = True) -> Iterator[Connection]:
    """A connection, with the schema current unless current_schema is False (for
    `knitter migrate` itself).

    The embedded server is started when needed (and stopped again if this call started it)
    and migrated automatically: it is ours. Any other database must be migrated on purpose
    (`knitter migrate`).
    """
    server = None
    if settings.database_url:
        url = settings.database_url
    else:
        server = embedded_server(settings)
        url = server.start()
    try:
        with connect(url) as conn:
            conn.autocommit = True
            if current_schema and server is not None:
                migrate(conn)
            elif current_schema and (todo := pending(conn)):
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
