"""The database a command talks to: the embedded server under KNITTER_HOME, or DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from api.config import Settings
from api.db.embedded import EmbeddedPostgres
from api.db.migrate import migrate, pending
from api.db.session import Connection, connect
from api.errors import KnitterError


def embedded_server(settings: Settings) -> EmbeddedPostgres:
    return EmbeddedPostgres(settings.home / "pgdata", port=settings.db_port)


@contextmanager
def database(settings: Settings, *, apply_migrations: bool = False) -> Iterator[Connection]:
    """A connection, with the schema current.

    The embedded server is started when needed (and stopped again if this call started it)
    and migrated automatically: it is ours. Any other database must be migrated on purpose
    (`knitter migrate`) unless apply_migrations is set.
    """
    server = None
    if settings.database_url:
        url = settings.database_url
    else:
        server = embedded_server(settings)
        url = server.start()
        apply_migrations = True
    try:
        with connect(url) as conn:
            conn.autocommit = True
            if apply_migrations:
                migrate(conn)
            elif todo := pending(conn):
                raise KnitterError(
                    f"the database has {len(todo)} pending migration(s); run `knitter migrate`"
                )
            yield conn
    finally:
        if server is not None and server.started_here:
            server.stop()
