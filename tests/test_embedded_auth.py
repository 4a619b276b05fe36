"""The embedded server is not open: every login needs the superuser's password, kept in a
0600 file beside the data directory; `authenticator` (no password) cannot log in; a data
directory made with `trust` before is closed on its next start."""

from __future__ import annotations

import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from api.db.embedded import SUPERUSER, EmbeddedPostgres


@pytest.fixture
def home() -> Iterator[Path]:
    # Not under pytest's temp root, which every new pytest session on the machine resets to
    # 0700, locking the server's own user out mid-test (see conftest.server).
    path = Path(tempfile.mkdtemp(prefix="knitter-auth-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def refused(url: str) -> None:
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=5).close()


def test_logins_need_the_password(home: Path) -> None:
    server = EmbeddedPostgres(home / "pgdata")
    url = server.start()
    try:
        port = server.running_port()
        assert port is not None
        mode = stat.S_IMODE(server.password_file.stat().st_mode)
        assert mode == 0o600
        assert server.password() not in server.display_url(port)
        with psycopg.connect(url) as conn:
            conn.execute("create role authenticator login noinherit")
        refused(server.display_url(port))
        refused(f"postgresql://{SUPERUSER}:wrong@127.0.0.1:{port}/postgres")
        refused(f"postgresql://authenticator@127.0.0.1:{port}/postgres")
        refused(f"postgresql://authenticator:{server.password()}@127.0.0.1:{port}/postgres")
    finally:
        server.stop()


def test_a_trust_data_directory_is_closed_on_start(home: Path) -> None:
    server = EmbeddedPostgres(home / "pgdata")
    server.start()
    server.stop()
    # As data directories made before passwords were: trust for everyone, no password.
    hba = server.pgdata / "pg_hba.conf"
    hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))
    server.password_file.unlink()
    url = server.start()
    try:
        port = server.running_port()
        assert port is not None
        assert "trust" not in "".join(
            line for line in hba.read_text().splitlines() if not line.lstrip().startswith("#")
        )
        with psycopg.connect(url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        refused(server.display_url(port))
    finally:
        server.stop()
