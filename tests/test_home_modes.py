"""The embedded server run as root (it runs PostgreSQL as a system user) used to make every
parent of its home world-listable (r-x for others). Now a parent only gains the search
bit it lacks, so the server's user can pass through, and nobody can list it."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from api.db.embedded import EmbeddedPostgres


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
def test_the_home_and_its_parents_stay_private() -> None:
    top = Path(tempfile.mkdtemp(prefix="knitter-modes-"))  # 0700, as a home under /root
    private = top / "private"
    private.mkdir(mode=0o700)
    shared = top / "shared"
    shared.mkdir(mode=0o755)
    home = private / "knitter"
    home.mkdir(mode=0o750)
    pg = EmbeddedPostgres(home / "pgdata")
    try:
        pg.start()
        for folder, before in ((top, 0o700), (private, 0o700), (home, 0o750)):
            mode = stat.S_IMODE(folder.stat().st_mode)
            assert mode == before | 0o001, f"{folder}: {oct(mode)}"  # search bit only
        assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # not on the way: untouched
        assert stat.S_IMODE((home / "pgdata").stat().st_mode) == 0o700
    finally:
        pg.stop()
        shutil.rmtree(top, ignore_errors=True)
