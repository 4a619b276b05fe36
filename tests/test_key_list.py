"""GET /v1/keys: the stored keys' providers and last four characters, 200 even when none."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient

from api.db.session import Caller
from tests.test_api import auth, client, user

__all__ = ["client", "user"]  # fixtures


def test_the_list_names_stored_keys_only_and_never_the_key(
    client: TestClient, user: Callable[[], Caller]
) -> None:
    me, other = user(), user()
    empty = client.get("/v1/keys", headers=auth(me))
    assert empty.status_code == 200 and empty.json() == {"keys": []}
    secret = "sk-test-" + uuid.uuid4().hex
    assert client.put("/v1/keys/gemini", json={"key": secret}, headers=auth(me)).status_code == 200
    listed = client.get("/v1/keys", headers=auth(me))
    assert listed.status_code == 200 and secret not in listed.text
    assert [(k["provider"], k["last_four"]) for k in listed.json()["keys"]] == [
        ("gemini", secret[-4:])
    ]
    assert client.get("/v1/keys", headers=auth(other)).json() == {"keys": []}
    assert client.get("/v1/keys").status_code == 401
