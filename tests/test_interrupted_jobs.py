"""An import job whose server died mid-way (kill -9, a crash) is never left 'running':
it is marked interrupted, with what is missing, when read and when the API starts.
The kill -9 of a whole `knitter dev` is in tests/test_faults.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from api.accounts.users import workspace_id
from api.db.session import Caller, Connection
from api.http.app import create_app
from api.pipeline import jobs
from tests.test_api import auth, make_settings


def running_job(conn: Connection, caller: Caller, beat: str | None) -> dict[str, Any]:
    """A job as a dead server leaves it: running, 3 of 10 items done, the last heartbeat
    `beat` ago (an interval; None: it never beat)."""
    job = jobs.create(conn, caller, workspace_id(conn, caller), 10)
    conn.execute(
        "update public.import_jobs set status = 'running', items_done = 3, added = 184,"
        " started_at = now() - interval '1 hour',"
        " created_at = now() - interval '1 hour',"
        " heartbeat_at = now() - %s::interval where id = %s",
        [beat or "1 hour", job["id"]],
    )
    return job


def test_a_job_whose_heartbeat_stopped_reads_as_interrupted_with_what_is_missing(
    db_url: str, conn: Connection, make_user: Callable[[], Caller]
) -> None:
    me = make_user()
    dead = running_job(conn, me, "5 minutes")
    alive = running_job(conn, me, "1 second")
    with TestClient(create_app(make_settings(db_url))) as c:
        body = c.get(f"/v1/imports/{dead['id']}", headers=auth(me)).json()
        assert body["status"] == "interrupted" and body["finished_at"] is not None
        message = body["errors"][-1]["message"]
        assert "after 3 of 10 items (184 sources added" in message
        assert "Import the same files or links again" in message
        # A job that still beats is left to its server.
        assert c.get(f"/v1/imports/{alive['id']}", headers=auth(me)).json()["status"] == ("running")


def test_the_api_marks_dead_jobs_interrupted_when_it_starts(
    db_url: str, conn: Connection, make_user: Callable[[], Caller]
) -> None:
    me = make_user()
    dead = running_job(conn, me, "10 minutes")
    with TestClient(create_app(make_settings(db_url))):
        pass
    row = conn.execute(
        "select status from public.import_jobs where id = %s", [dead["id"]]
    ).fetchone()
    assert row == {"status": "interrupted"}


def test_a_finished_job_keeps_its_heartbeat_and_status(
    db_url: str, conn: Connection, make_user: Callable[[], Caller]
) -> None:
    me = make_user()
    with TestClient(create_app(make_settings(db_url))) as c:
        files = [("files", ("n.md", b"# Sourdough\n\nFeed the starter daily.", "text/markdown"))]
        job = c.post("/v1/imports", files=files, headers=auth(me)).json()
        done = c.get(f"/v1/imports/{job['id']}", headers=auth(me)).json()
    assert (done["status"], done["added"]) == ("succeeded", 1), done
    beat = conn.execute(
        "select heartbeat_at is not null as beat from public.import_jobs where id = %s",
        [job["id"]],
    ).fetchone()
    assert beat == {"beat": True}
