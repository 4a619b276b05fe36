"""Progressive indexing on the real database: every passage is searchable by meaning
through its static vector at once, its quality vector takes over when it lands, both
stages are counted, and identical texts are embedded once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from api.accounts.users import workspace_id
from api.db.session import Caller, Connection, transaction_as
from api.embeddings.registry import get_model
from api.embeddings.static import STATIC_MODEL
from api.http.observability import EMBEDDED_TEXTS
from api.importers.model import Conversation, Message
from api.pipeline import jobs
from api.pipeline.embedding_queue import drain, embed_batch, stages
from api.pipeline.ingest import write_conversation
from api.search.hybrid import SearchRequest, embed_query, search

# No word in common with the passage it should find: only meaning can.
QUERY = "how often should I water indoor plants"
ANSWER = "My herbs on the kitchen windowsill wilt unless I give them a drink every two days."
OTHERS = [
    "The car needs new brake pads before the winter road trip.",
    "Quarterly tax estimates are due on the fifteenth of the month.",
    "Use a binary search to find the first failing commit.",
]
# Unrelated to QUERY (found by meaning only: keyword weight 0), yet its static cosine to it
# (~0.43) is above the answer's quality cosine (~0.39): the two models' scales differ.
UNRELATED_STATIC = "The indoor pool opens at seven on weekdays."


def models(conn: Connection) -> tuple[int, int]:
    row = conn.execute(
        "select m.id, m.static_model_id from public.embedding_models m"
        " where m.provider = 'local' and m.name = 'all-MiniLM-L6-v2'"
    ).fetchone()
    assert row is not None and row["static_model_id"] is not None
    return row["id"], row["static_model_id"]


def write(conn: Connection, caller: Caller, ws: UUID, texts: list[str], tag: str) -> None:
    for i, text in enumerate(texts):
        write_conversation(
            conn,
            caller,
            ws,
            Conversation(
                kind="text",
                platform="notes",
                title=f"{tag} {i}",
                messages=[Message(role="document", text=text)],
                external_id=f"{tag}-{i}",
            ),
        )


def vectors(conn: Connection, ws: UUID) -> dict[int, int]:
    with transaction_as(conn, Caller.service()):
        rows = conn.execute(
            "select model_id, count(*) as n from public.chunk_embeddings where workspace_id = %s"
            " group by model_id",
            [ws],
        ).fetchall()
    return {r["model_id"]: r["n"] for r in rows}


def meaning_search(conn: Connection, caller: Caller, ws: UUID) -> list[dict[str, Any]]:
    embedding = embed_query(conn, caller, ws, QUERY)
    assert embedding is not None and embedding.static is not None
    request = SearchRequest(QUERY, 3, {"workspace_id": str(ws)}, relevance_floor=False)
    return search(conn, caller, request, embedding)


def test_a_passage_with_only_its_static_vector_is_found_by_meaning_then_by_its_quality_one(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    me = make_user()
    ws = workspace_id(conn, me)
    quality, static = models(conn)
    write(conn, me, ws, [ANSWER, *OTHERS], "notes")
    assert stages(conn, ws).line() == ("searchable by meaning: 0 / 4 · full quality: 0 / 4")
    # Keyword-only finds nothing: the query shares no word with the answer.
    keyword = search(conn, me, SearchRequest(QUERY, 3, {"workspace_id": str(ws)}))
    assert all(r["content"] != ANSWER for r in keyword)

    # The first batch is the static model's, for every passage at once.
    assert embed_batch(conn, ws) == 4
    assert vectors(conn, ws) == {static: 4}
    assert stages(conn, ws).line() == "searchable by meaning: 4 / 4 · full quality: 0 / 4"
    found = meaning_search(conn, me, ws)
    assert found[0]["content"] == ANSWER
    assert found[0]["semantic_model_id"] == static and found[0]["keyword_rank"] is None
    # The static model's own floor: a query nothing answers finds nothing by meaning.
    gibberish = embed_query(conn, me, ws, "blorft snarf wibble")
    assert gibberish is not None
    assert search(conn, me, SearchRequest("blorft snarf wibble", 3), gibberish) == []
    # The floor is the static model's (0.49), not the quality model's (0.30): this weak
    # static match (cosine ~0.43) waits for its quality vector to be shown with a floor.
    assert 0.30 < found[0]["semantic_score"] < 0.49
    request = SearchRequest(QUERY, 3, {"workspace_id": str(ws)})
    assert search(conn, me, request, embed_query(conn, me, ws, QUERY)) == []

    # The quality vectors land: each passage is searched by its better vector.
    assert drain(conn, ws) == 4
    assert vectors(conn, ws) == {static: 4, quality: 4}
    assert stages(conn, ws).line() == "searchable by meaning: 4 / 4 · full quality: 4 / 4"
    found = meaning_search(conn, me, ws)
    assert found[0]["content"] == ANSWER
    assert {r["semantic_model_id"] for r in found} == {quality}
    floored = search(conn, me, request, embed_query(conn, me, ws, QUERY))
    assert floored[0]["content"] == ANSWER  # above the quality model's floor


def meaning_only(conn: Connection, caller: Caller, ws: UUID) -> list[dict[str, Any]]:
    embedding = embed_query(conn, caller, ws, QUERY)
    assert embedding is not None
    request = SearchRequest(
        QUERY, 3, {"workspace_id": str(ws)}, full_text_weight=0, relevance_floor=False
    )
    return search(conn, caller, request, embedding)


def test_mixed_state_ranks_both_models_matches_in_one_list_by_calibrated_similarity(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    me = make_user()
    ws = workspace_id(conn, me)
    quality, static = models(conn)
    write(conn, me, ws, OTHERS, "old")
    drain(conn, ws)  # the old notes are fully indexed
    write(conn, me, ws, [ANSWER], "new")
    assert embed_batch(conn, ws) == 1  # the new one has only its static vector
    found = meaning_only(conn, me, ws)
    # One list, not one per model fused by rank: the answer's static match is first, not
    # tied with the best (unrelated) quality match and put behind it by its newer id.
    assert [r["semantic_rank"] for r in found] == [1, 2, 3]
    assert found[0]["content"] == ANSWER and found[0]["semantic_model_id"] == static
    assert {r["semantic_model_id"] for r in found[1:]} == {quality}

    # The other way round: the answer has its quality vector, and a new unrelated note
    # only its static one, whose raw cosine is the higher (the static model's scale sits
    # higher). Calibrated, the answer comes first.
    drain(conn, ws)
    write(conn, me, ws, [UNRELATED_STATIC], "newer")
    assert embed_batch(conn, ws) == 1
    found = meaning_only(conn, me, ws)
    assert [(r["content"], r["semantic_model_id"]) for r in found[:2]] == [
        (ANSWER, quality),
        (UNRELATED_STATIC, static),
    ]
    assert found[1]["semantic_score"] > found[0]["semantic_score"]
    assert [r["semantic_rank"] for r in found] == [1, 2, 3]


def test_the_calibration_is_both_or_neither_and_an_uncalibrated_pair_ranks_by_cosine(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    quality, static = models(conn)
    with transaction_as(conn, Caller.service()):
        rows = conn.execute(
            "select id, similarity_unrelated, similarity_relevant from public.embedding_models"
            " where id = any (%s)",
            [[quality, static]],
        ).fetchall()
        assert all(r["similarity_relevant"] > r["similarity_unrelated"] for r in rows)
        for values in ("0.1, null", "0.5, 0.2"):
            with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
                conn.execute(
                    "update public.embedding_models set (similarity_unrelated,"
                    f" similarity_relevant) = ({values}) where id = %s",
                    [quality],
                )
    me = make_user()
    ws = workspace_id(conn, me)
    write(conn, me, ws, [ANSWER], "old")
    drain(conn, ws)
    write(conn, me, ws, [UNRELATED_STATIC], "new")
    assert embed_batch(conn, ws) == 1
    calibrated = meaning_only(conn, me, ws)
    assert [r["content"] for r in calibrated[:2]] == [ANSWER, UNRELATED_STATIC]
    static_row = next(r for r in rows if r["id"] == static)
    update = (
        "update public.embedding_models set similarity_unrelated = %s,"
        " similarity_relevant = %s where id = %s"
    )
    try:
        with transaction_as(conn, Caller.service()):
            conn.execute(update, [None, None, static])
        # Without the static model's calibration, raw cosine: the unrelated note first.
        found = meaning_only(conn, me, ws)
        assert [r["content"] for r in found[:2]] == [UNRELATED_STATIC, ANSWER]
    finally:  # the catalogue is the test session's
        with transaction_as(conn, Caller.service()):
            conn.execute(
                update,
                [static_row["similarity_unrelated"], static_row["similarity_relevant"], static],
            )


def test_import_jobs_report_both_stages(conn: Connection, make_user: Callable[[], Caller]) -> None:
    me = make_user()
    ws = workspace_id(conn, me)
    job = jobs.create(conn, me, ws, 1)
    # The job counts the queue rows enqueued while it runs (from its start).
    with transaction_as(conn, Caller.service()):
        conn.execute("update public.import_jobs set started_at = now() where id = %s", [job["id"]])
    write(conn, me, ws, [ANSWER, *OTHERS], "job")

    def counts() -> tuple[int, int]:
        row = jobs.get(conn, me, job["id"])
        assert row is not None
        return row["meaning_pending"], row["embedding_pending"]

    assert counts() == (4, 4)
    embed_batch(conn, ws)
    assert counts() == (0, 4)
    drain(conn, ws)
    assert counts() == (0, 0)
    assert [j["meaning_pending"] for j in jobs.recent(conn, me, 5) if j["id"] == job["id"]] == [0]


def test_identical_texts_are_embedded_once_per_model(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    me = make_user()
    ws = workspace_id(conn, me)
    quality, static = models(conn)
    same = "Thanks, that fixed it!"
    # Three conversations that each end with the same reply: six passages, four texts.
    for i, text in enumerate([ANSWER, *OTHERS[:2]]):
        write_conversation(
            conn,
            me,
            ws,
            Conversation(
                kind="text",
                platform="notes",
                title=f"dupes {i}",
                messages=[Message(role="user", text=text), Message(role="user", text=same)],
                external_id=f"dupes-{i}",
            ),
        )
    before = EMBEDDED_TEXTS.labels("local")._value.get()
    assert drain(conn, ws) == 12  # six passages, two models
    assert EMBEDDED_TEXTS.labels("local")._value.get() - before == 8  # four texts, two models
    assert vectors(conn, ws) == {static: 6, quality: 6}
    with transaction_as(conn, Caller.service()):
        distinct = conn.execute(
            "select e.model_id, count(distinct e.embedding::text) as n"
            " from public.chunk_embeddings e join public.chunks c on c.id = e.chunk_id"
            " where e.workspace_id = %s and c.content = %s group by e.model_id",
            [ws, same],
        ).fetchall()
    assert {r["model_id"]: r["n"] for r in distinct} == {static: 1, quality: 1}


def test_the_static_model_is_the_distilled_one_and_a_wrong_static_vector_is_a_clear_error(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    model = get_model("local", STATIC_MODEL)
    assert model.dims == 256
    a, b, c = model.embed([ANSWER, "watering herbs every couple of days", OTHERS[1]])
    near = sum(x * y for x, y in zip(a, b, strict=True))
    far = sum(x * y for x, y in zip(a, c, strict=True))
    assert near > far
    quality, _ = models(conn)
    me = make_user()
    with transaction_as(conn, me), pytest.raises(psycopg.errors.InvalidParameterValue, match="256"):
        conn.execute(
            "select * from public.hybrid_search('x', %s::extensions.vector, %s,"
            " static_embedding => '[1,2,3]')",
            ["[" + ",".join(["0.1"] * 384) + "]", quality],
        )


SERVE_WITHOUT_TORCH = """
import sys
for name in ("torch", "transformers", "sentence_transformers"):
    sys.modules[name] = None  # any import of them fails
from api.embeddings.registry import get_model
for name in ("all-MiniLM-L6-v2", "static-all-MiniLM-L6-v2"):
    model = get_model("local", name)
    print(name, model.dims, len(model.embed(["hello world"], "query")[0]))
"""


def test_both_local_models_serve_without_torch() -> None:
    # The API image has no torch: the exported and distilled files (made once, here by the
    # session's first use) are served by ONNX Runtime and model2vec alone.
    get_model("local", STATIC_MODEL)
    result = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_TORCH],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [
        "all-MiniLM-L6-v2 384 384",
        "static-all-MiniLM-L6-v2 256 256",
    ]
