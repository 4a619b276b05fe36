"""GET /v1/imports: the caller's import history, newest first, nobody else's."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from api.db.session import Caller
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
