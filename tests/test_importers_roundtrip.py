"""Round trip for every importer: import → hybrid_search finds the passage by an exact
phrase at once, and by meaning once the real local model has embedded the queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
import respx

from api.accounts.users import caller_for, workspace_id
from api.db.session import Caller, Connection, connect, transaction_as
from api.embeddings.registry import EmbeddingModel
from api.pipeline.embedding_queue import drain
from api.pipeline.ingest import ImportReport, import_paths
from tests.conftest import FIXTURES
from tests.test_importers_youtube import replay_youtube

SHARE_URL = "https://chatgpt.com/share/6770a2f4-5e1c-8000-a3b1-2c4d5e6f7a8b"
VIDEO_URL = "https://www.youtube.com/watch?v=kN1fE7wH3tQ"
ARTICLE_URL = "https://slowkitchen.example.com/guides/cast-iron"

# kind, an exact phrase from the source, a question with other words, what answers it.
CASES = [
    (
        "chatgpt_share",
        '"pinch off flower buds"',
        "how do I stop my herb plant from going to seed",
        "pinch off flower buds",
    ),
    (
        "claude_export",
        '"self-arrest"',
        "what safety gear do I need for snowy mountain slopes",
        "ice axe",
    ),
    (
        "gemini_takeout",
        '"ice cube trays"',
        "how long does a knob of root spice last in the fridge",
        "lasts about three weeks",
    ),
    (
        "gemini_pdf",
        '"70 percent hydration"',
        "how much water to add to flour for a first loaf",
        "70 percent hydration",
    ),
    (
        "youtube",
        '"raise a burr" OR "small burr"',
        "how to hone a blade with a sharpening stone",
        "thousand grit whetstone",
    ),
    (
        "pdf",
        '"white volva"',
        "which poisonous fungus destroys the liver",
        "death cap",
    ),
    (
        "html",
        '"dish soap does not strip"',
        "washing a skillet without ruining its coating",
        "modern dish soap",
    ),
]


@pytest.fixture(scope="module")
def library(db_url: str, local_model: EmbeddingModel) -> Iterator[tuple[Caller, UUID]]:
    """One person's imports from every source, embedded with the real model."""
    with connect(db_url) as conn, respx.mock(assert_all_called=False) as router:
        conn.autocommit = True
        caller = caller_for(conn, "roundtrip@example.com", create=True)
        ws = workspace_id(conn, caller)
        router.get(SHARE_URL).mock(
            return_value=httpx.Response(
                200, text=(FIXTURES / "chatgpt-share" / "share-react-router.html").read_text()
            )
        )
        router.get(ARTICLE_URL).mock(
            return_value=httpx.Response(
                200,
                content=(FIXTURES / "html" / "cast-iron.html").read_bytes(),
                headers={"content-type": "text/html; charset=utf-8"},
            )
        )
        replay_youtube(router)
        report: ImportReport = import_paths(
            conn,
            caller,
            ws,
            [
                SHARE_URL,
                FIXTURES / "claude" / "conversations.json",
                FIXTURES / "takeout" / "MyActivity.json",
                FIXTURES / "pdf" / "field-guide.pdf",
                FIXTURES / "pdf" / "gemini-chat.pdf",
                VIDEO_URL,
                ARTICLE_URL,
            ],
        )
        assert [f.item for f in report.failed] == [
            f"{FIXTURES / 'claude' / 'conversations.json'}, conversation 3 ('Broken one')"
        ]
        assert report.added == 9
        # Each passage gets its static vector and its quality one.
        assert drain(conn, ws) == 2 * report.passages
        yield caller, ws


def hybrid_search(
    conn: Connection,
    caller: Caller,
    query: str,
    embedding: list[float] | None = None,
    full_text_weight: float = 1.0,
) -> list[dict[str, Any]]:
    with transaction_as(conn, caller):
        model = conn.execute("select embedding_model_id as id from public.workspaces").fetchone()
        assert model is not None
        return conn.execute(
            "select * from public.hybrid_search(query_text => %s,"
            " query_embedding => %s::extensions.vector, model_id => %s, match_count => 5,"
            " full_text_weight => %s)",
            [
                query,
                json.dumps(embedding) if embedding is not None else None,
                model["id"],
                full_text_weight,
            ],
        ).fetchall()


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "phrase", "question", "answer"), CASES)
def test_found_by_exact_phrase_and_by_meaning(
    conn: Connection,
    library: tuple[Caller, UUID],
    local_model: EmbeddingModel,
    kind: str,
    phrase: str,
    question: str,
    answer: str,
) -> None:
    caller, _ = library
    [hit, *_] = hybrid_search(conn, caller, phrase)
    assert hit["kind"] == kind and hit["keyword_rank"] == 1

    vector = local_model.embed([question], "query")[0]
    hits = hybrid_search(conn, caller, question, vector, full_text_weight=0)
    assert hits[0]["kind"] == kind and hits[0]["keyword_rank"] is None
    # The best passage is from the right source; the one that answers is among the first.
    assert any(answer.lower() in h["content"].lower() for h in hits[:3])


@pytest.mark.slow
def test_a_transcript_hit_links_to_its_moment(
    conn: Connection, library: tuple[Caller, UUID]
) -> None:
    caller, _ = library
    [hit, *_] = hybrid_search(conn, caller, '"flip the knife"')
    with transaction_as(conn, caller):
        row = conn.execute(
            "select metadata from public.chunks where id = %s", [hit["chunk_id"]]
        ).fetchone()
    assert row is not None
    link = f"{hit['url']}&t={int(row['metadata']['start'])}s"
    assert link == f"{VIDEO_URL}&t=63s"
