"""GET /v1/imports: the caller's import history, newest first, nobody else's."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from api.db.session import Caller, Connection
from tests.conftest import FIXTURES
from tests.test_api import EXPORT, auth, client, upload, user

__all__ = ["client", "user"]  # fixtures


def test_the_history_lists_the_callers_jobs_newest_first(
    client: TestClient, user: Callable[[], Caller]
) -> None:
    me, other = user(), user()
    first = upload(client, me, EXPORT)
    second = upload(client, me, FIXTURES / "youtube" / "timedtext-de.xml")
    upload(client, other, EXPORT)
    response = client.get("/v1/imports", headers=auth(me))
    assert response.status_code == 200, response.text
    history = response.json()["jobs"]
    assert [j["id"] for j in history] == [second["id"], first["id"]]
    assert history[1]["added"] == 3 and history[1]["status"] == "succeeded"
    assert history[0]["added"] == 1
    assert [
        j["id"] for j in client.get("/v1/imports?limit=1", headers=auth(me)).json()["jobs"]
    ] == [second["id"]]
    assert client.get("/v1/imports?limit=0", headers=auth(me)).status_code == 422
    assert client.get("/v1/imports").status_code == 401


def test_each_job_names_its_files_with_their_sizes(
    client: TestClient, user: Callable[[], Caller]
) -> None:
    me = user()
    other_export = FIXTURES / "claude" / "conversations.json"
    job = upload(client, me, EXPORT, other_export)
    # Known from the start: the queued job already names them.
    assert [f["name"] for f in job["files"]] == ["conversations.json", "conversations.json"]
    sizes = [f["size"] for f in job["files"]]
    assert sizes == [EXPORT.stat().st_size, other_export.stat().st_size] and sizes[0] != sizes[1]
    links = client.post(
        "/v1/imports", json={"urls": ["http://127.0.0.1:9/nothing"]}, headers=auth(me)
    ).json()
    assert links["files"] == [{"name": "http://127.0.0.1:9/nothing", "size": None}]
    history = client.get("/v1/imports", headers=auth(me)).json()["jobs"]
    assert history[1]["files"] == job["files"]


def test_embedding_pending_counts_the_jobs_own_passages(
    client: TestClient, user: Callable[[], Caller], conn: Connection
) -> None:
    """Not the workspace's total: passages queued while another job ran are that job's."""
    me = user()
    first = upload(client, me, EXPORT)
    before = conn.execute(
        "select max(id) as id from public.chunks where workspace_id = %s", [first["workspace_id"]]
    ).fetchone()
    assert before is not None and before["id"] is not None
    second = upload(client, me, FIXTURES / "youtube" / "timedtext-de.xml")
    rows = conn.execute(
        "select id, started_at, finished_at from public.import_jobs where id = any(%s)",
        [[first["id"], second["id"]]],
    ).fetchall()
    window = {str(r["id"]): r for r in rows}
    # Queue the second job's passages again, as if still waiting, stamped inside its run.
    queued = conn.execute(
        """
        insert into public.embedding_queue (chunk_id, model_id, workspace_id, enqueued_at)
        select c.id, w.embedding_model_id, c.workspace_id, %s
        from public.chunks c join public.workspaces w on w.id = c.workspace_id
        where c.workspace_id = %s and c.id > %s
        on conflict do nothing
        """,
        [window[second["id"]]["finished_at"], second["workspace_id"], before["id"]],
    ).rowcount
    assert queued > 0
    jobs = {j["id"]: j for j in client.get("/v1/imports", headers=auth(me)).json()["jobs"]}
    assert jobs[second["id"]]["embedding_pending"] == queued
    assert jobs[first["id"]]["embedding_pending"] == 0
    single = client.get(f"/v1/imports/{first['id']}", headers=auth(me)).json()
    assert single["embedding_pending"] == 0
