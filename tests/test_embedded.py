"""The embedded PostgreSQL: started on 127.0.0.1, reused while running, stopped by its starter
(or, when the starter was killed, by whoever finds it next)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from api.db.embedded import EmbeddedPostgres
from api.errors import KnitterError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_start_reuse_stop_and_keep_data(tmp_path: Path) -> None:
    port = free_port()
    first = EmbeddedPostgres(tmp_path / "pgdata", port=port)
    url = first.start()
    try:
        assert url == f"postgresql://postgres:{first.password()}@127.0.0.1:{port}/postgres"
        assert first.started_here
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create table kept (x int)")
            extensions = conn.execute(
                "select name from pg_available_extensions where name in ('vector', 'pg_trgm')"
                " order by name"
            ).fetchall()
            assert extensions == [("pg_trgm",), ("vector",)]
        # A second handle on the same data directory reuses the running server.
        second = EmbeddedPostgres(tmp_path / "pgdata")
        assert second.start() == url and not second.started_here
        with pytest.raises(KnitterError, match="already running on port"):
            EmbeddedPostgres(tmp_path / "pgdata", port=free_port()).start()
    finally:
        first.stop()
    assert first.running_port() is None
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    # Started again on a free port of its choosing, with the data still there.
    again = EmbeddedPostgres(tmp_path / "pgdata")
    url = again.start()
    try:
        with psycopg.connect(url) as conn:
            assert conn.execute("select to_regclass('kept') is not null").fetchone() == (True,)
    finally:
        again.stop()


def test_a_server_whose_starter_was_killed_is_stopped_by_the_next(tmp_path: Path) -> None:
    """pg_ctl detaches the server: after a `kill -9` of `knitter dev` it runs on, and the
    next start used to reuse it and leave it running when it stopped."""
    first = EmbeddedPostgres(tmp_path / "pgdata")
    url = first.start()
    try:
        gone = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        first.owner_file.write_text(gone.stdout.strip())  # as if its starter had died
        heir = EmbeddedPostgres(tmp_path / "pgdata")
        assert heir.start() == url and heir.started_here
        heir.stop()
        assert heir.running_port() is None and not heir.owner_file.exists()
    finally:
        first.stop()


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = EmbeddedPostgres(tmp_path / "pgdata", port=busy.getsockname()[1])
        with pytest.raises(KnitterError, match="could not start PostgreSQL"):
            server.start()
