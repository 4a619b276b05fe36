"""Supabase's newer API keys: a secret key (sb_secret_…) is accepted where the legacy
service-role JWT is; a publishable key (sb_publishable_…) or another secret is not."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.http.app import create_app
from tests.test_api import make_settings, service_key

SECRET_KEY = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz"


def test_the_secret_api_key_is_a_service_caller(db_url: str) -> None:
    with TestClient(create_app(make_settings(db_url, supabase_secret_key=SECRET_KEY))) as client:

        def drain(key: str) -> int:
            headers = {"Authorization": f"Bearer {key}"}
            return client.post(
                "/v1/queue/drain", json={"max_batches": 1}, headers=headers
            ).status_code

        assert drain(SECRET_KEY) == 200
        assert drain(service_key()["Authorization"].split()[1]) == 200  # the legacy key still
        assert drain("sb_secret_another-projects-key-000000000") == 403
        assert drain("sb_publishable_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz") == 403
        assert drain(SECRET_KEY[:-1]) == 403


def test_a_secret_key_in_the_service_role_variable_counts_too(db_url: str) -> None:
    settings = make_settings(db_url, supabase_service_role_key=SECRET_KEY)
    assert settings.secret_api_keys() == (SECRET_KEY,)
    assert make_settings(db_url).secret_api_keys() == ()
