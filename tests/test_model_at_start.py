"""The local model is loaded before the API serves its first request (issue 16: the first
search after a start took 6 to 7 s, waiting for the model to load)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.embeddings import local
from api.http.app import create_app
from tests.test_api import make_settings


def test_the_model_is_in_before_the_first_request(db_url: str) -> None:
    local._load_once.cache_clear()  # as in a new process
    with TestClient(create_app(make_settings(db_url))) as client:
        # Nothing has been asked yet: the start itself loaded the model and its static
        # companion.
        assert local._load_once.cache_info().currsize == 2
        assert client.get("/health").status_code == 200
