"""The embedded PostgreSQL: started on 127.0.0.1, reused while running, stopped by its starter."""

from __future__ import annotations

import socket
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


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = EmbeddedPostgres(tmp_path / "pgdata", port=busy.getsockname()[1])
        with pytest.raises(KnitterError, match="could not start PostgreSQL"):
            server.start()
