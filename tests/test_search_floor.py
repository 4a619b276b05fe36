"""The relevance floor of meaning-only matches, and the count of conversations still
waiting for embeddings, through POST /v1/search with the real local model."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from api.accounts.users import workspace_id
from api.db.session import Caller, Connection
from api.pipeline.embedding_queue import embed_batch
from api.search.hybrid import RELEVANCE_FLOORS
from tests.test_api import EXPORT, auth, client, queued_passage, upload, user

__all__ = ["client", "user"]  # fixtures


def search(client: TestClient, me: Caller, query: str) -> dict[str, Any]:
    response = client.post("/v1/search", json={"query": query, "limit": 20}, headers=auth(me))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_gibberish_finds_nothing_and_meaning_still_finds(
    client: TestClient, user: Callable[[], Caller]
) -> None:
    me = user()
    upload(client, me, EXPORT)
    for gibberish in ("qwpeoiru zmxncb asdkjh", "blorft snarf wibble"):
        body = search(client, me, gibberish)
        assert body["semantic"] is True and body["results"] == []
    # A paraphrase sharing no word with the passage is still found by meaning, above the floor.
    results = search(client, me, "bread culture with a chemical odour")["results"]
    assert isinstance(results, list) and results
    floor = RELEVANCE_FLOORS[("local", "all-MiniLM-L6-v2")]
    assert all(r["keyword_rank"] is not None or r["semantic_score"] >= floor for r in results)
    assert results[0]["source_title"] == "Sourdough starter troubleshooting"


def test_the_response_counts_conversations_still_being_embedded(
    client: TestClient, user: Callable[[], Caller], conn: Connection
) -> None:
    me = user()
    word = f"zq{uuid.uuid4().hex[:8]}"
    queued_passage(conn, me, f"a note about {word}")
    body = search(client, me, word)
    assert body["pending_conversations"] == 1
    assert [r["keyword_rank"] for r in body["results"]] == [1]  # found by keyword meanwhile
    other = user()
    assert search(client, other, word)["pending_conversations"] == 0  # not another's queue
    # Its fast static vector makes it searchable by meaning: no longer counted, although
    # the quality model's vector is still queued.
    me_workspace = workspace_id(conn, me)
    assert embed_batch(conn, me_workspace) == 1
    queued = conn.execute(
        "select count(*) as n from public.embedding_queue where workspace_id = %s", [me_workspace]
    ).fetchone()
    assert queued is not None and queued["n"] == 1
    assert search(client, me, word)["pending_conversations"] == 0
