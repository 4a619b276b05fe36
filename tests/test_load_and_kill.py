"""`knitter dev` under load and killed: scripts/load.py at a small size (a few users for a
few seconds, no error), then `kill -9` in the middle of an import: after a restart no
source is half-written, the embedding queue drains again and the job is marked
interrupted with what is missing, never left 'running'. Full size: docs/PERFORMANCE.md."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import psycopg
import pytest

from api.db.embedded import EmbeddedPostgres
from tests.conftest import start_dev

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "RATE_LIMIT": "100000/minute",
    "SEARCH_RATE_LIMIT": "100000/minute",
    "AUTH_RATE_LIMIT": "100000/minute",
    "IMPORT_JOB_STALE_SECONDS": "3",
}


def notes_zip(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(count):
            body = f"# Note {i}\n\n" + f"Paragraph {i} about sourdough and bikes. " * 40
            archive.writestr(f"notes/note-{i:04d}.md", body)
    return out.getvalue()


def sign_up(origin: str, anon_key: str, email: str) -> str:
    r = httpx.post(
        f"{origin}/auth/v1/signup",
        json={"email": email, "password": "kill-test-password"},
        headers={"apikey": anon_key},
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def test_load_then_kill_mid_import_then_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    stack = start_dev(home, ENV)
    try:
        script = [sys.executable, str(ROOT / "scripts" / "load.py")]
        target = ["--url", stack.origin, "--anon-key", stack.anon_key]
        size = ["--pid", str(stack.process.pid), "--users", "3", "--duration", "4"]
        load = subprocess.run(
            [*script, *target, *size, "--searches-only", "--json"],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        figures = json.loads(load.stdout)
        assert figures["errors"] == {}, figures
        assert figures["endpoints"]["POST /v1/search (keyword)"]["requests"] > 0
        assert figures["rss_peak_mib"] > 0

        database = stack.database_url
        token = sign_up(stack.origin, stack.anon_key, "killed@example.com")
        me = {"Authorization": f"Bearer {token}"}
        files = [("files", ("notes.zip", notes_zip(1000), "application/zip"))]
        job = httpx.post(f"{stack.origin}/v1/imports", files=files, headers=me, timeout=60)
        assert job.status_code == 202, job.text
        job_id = job.json()["id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = httpx.get(f"{stack.origin}/v1/imports/{job_id}", headers=me).json()
            if state["added"] > 0:
                break
            time.sleep(0.1)
        assert state["status"] == "running" and state["added"] < 1000, state
        stack.process.send_signal(signal.SIGKILL)
        stack.process.wait(timeout=30)
    except BaseException:
        stack.stop()
        raise

    restarted = start_dev(home, ENV)
    try:
        time.sleep(3.5)  # the dead job's heartbeat goes stale
        after = httpx.get(f"{restarted.origin}/v1/imports/{job_id}", headers=me).json()
        assert after["status"] == "interrupted", after
        assert after["finished_at"] is not None
        assert "the rest was not imported" in after["errors"][-1]["message"]
        with psycopg.connect(database, autocommit=True) as conn:
            half = conn.execute(
                "select count(*) from public.sources s where not exists"
                " (select 1 from public.chunks c where c.source_id = s.id)"
            ).fetchone()
            assert half == (0,), "a source without its passages"
            written = conn.execute("select count(*) from public.sources").fetchone()
            assert written is not None and 0 < written[0] < 1000
            queued = conn.execute("select count(*) from public.embedding_queue").fetchone()
            assert queued is not None
            # The worker of the restarted stack takes the queue up again.
            deadline = time.monotonic() + 120
            now = queued[0]
            while now and now >= queued[0] and time.monotonic() < deadline:
                time.sleep(1)
                row = conn.execute("select count(*) from public.embedding_queue").fetchone()
                now = row[0] if row else 0
            assert now < queued[0] or queued[0] == 0, (queued, now)
    finally:
        out = restarted.stop()
        # The killed stack's PostgreSQL outlived it (pg_ctl detaches it): the restarted
        # stack took it over, so its Ctrl-C stopped it.
        leftover = EmbeddedPostgres(home / "pgdata")
        orphaned = leftover.running_port() is not None
        leftover.stop()
    assert not orphaned, "the killed stack's PostgreSQL is still running"
    if restarted.process.returncode not in (0, -signal.SIGINT, 130):
        pytest.fail(out)
