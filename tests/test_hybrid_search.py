"""hybrid_search: fusion order, weights, filters, snippets, and k rows under RLS at scale."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import numpy as np
import psycopg
import pytest

from api.accounts.users import caller_for, workspace_id
from api.db.migrate import migrate
from api.db.session import Caller, Connection, connect, transaction_as
from api.db.vectors import vector_literal
from api.embeddings.registry import EmbeddingModel
from api.importers.model import Conversation, Message
from api.pipeline.embedding_queue import drain
from api.pipeline.ingest import write_conversation
from api.search.hybrid import QueryEmbedding, SearchRequest, search

QUERY = "zorbax basil watering indoors"
EXACT_ONLY = "The zorbax firmware update broke the office printer again."
MEANING_ONLY = "My herbs on the kitchen windowsill wilt unless I give them a drink every two days."
BOTH = "Zorbax is the name of my basil plant; watering it indoors twice a week keeps it green."
DISTRACTORS = [
    "The car needs new brake pads before the winter road trip.",
    "Quarterly tax estimates are due on the fifteenth of the month.",
    "Use a binary search to find the first failing commit.",
    "The orchestra rehearses Beethoven's seventh symphony on Thursdays.",
    "Mortgage rates rose again, so we postponed refinancing.",
]


@pytest.fixture(scope="module")
def corpus(db_url: str, local_model: EmbeddingModel) -> tuple[Caller, UUID, dict[str, int]]:
    """One user's notes: one passage per text, each its own source, embedded for real."""
    with connect(db_url) as conn:
        conn.autocommit = True
        caller = caller_for(conn, "hybrid@example.com", create=True)
        ws = workspace_id(conn, caller)
        texts = [EXACT_ONLY, MEANING_ONLY, BOTH, *DISTRACTORS]
        for i, text in enumerate(texts):
            conversation = Conversation(
                kind="chatgpt_export" if i % 2 else "text",
                platform="chatgpt" if i % 2 else "notes",
                title=f"note {i}",
                messages=[Message(role="assistant" if i % 2 else "document", text=text)],
                started_at=datetime(2024, 1 + i, 1, tzinfo=UTC),
                external_id=f"note-{i}",
            )
            write_conversation(conn, caller, ws, conversation)
        # Each passage gets its static vector and its quality one.
        assert drain(conn, ws) == 2 * len(texts)
        with transaction_as(conn, caller):
            ids = {
                r["content"]: r["id"]
                for r in conn.execute("select id, content from public.chunks").fetchall()
            }
    return caller, ws, ids


def run(
    conn: Connection, caller: Caller, model: EmbeddingModel | None, **kwargs: Any
) -> list[dict[str, Any]]:
    # hybrid_search's own ranking, without the API's relevance floor (tests/test_search_floor.py).
    request = SearchRequest(**{"query": QUERY, "relevance_floor": False, **kwargs})
    embedding = QueryEmbedding(1, model.embed([request.query], "query")[0]) if model else None
    return search(conn, caller, request, embedding)


def test_fusion_puts_the_passage_matching_both_ways_first(
    conn: Connection, corpus: tuple[Caller, UUID, dict[str, int]], local_model: EmbeddingModel
) -> None:
    caller, _, ids = corpus
    results = run(conn, caller, local_model, limit=3)
    assert results[0]["chunk_id"] == ids[BOTH]
    assert {r["chunk_id"] for r in results} == {ids[BOTH], ids[EXACT_ONLY], ids[MEANING_ONLY]}
    by_id = {r["chunk_id"]: r for r in results}
    # Each passage carries the branch scores that put it there.
    assert by_id[ids[EXACT_ONLY]]["keyword_rank"] is not None
    assert by_id[ids[MEANING_ONLY]]["keyword_rank"] is None
    assert by_id[ids[MEANING_ONLY]]["semantic_rank"] <= 2
    assert by_id[ids[BOTH]]["keyword_rank"] == 1 and by_id[ids[BOTH]]["semantic_rank"] == 1
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_weights_move_the_order(
    conn: Connection, corpus: tuple[Caller, UUID, dict[str, int]], local_model: EmbeddingModel
) -> None:
    caller, _, ids = corpus
    # A small rrf_k lets rank differences count; the weights then decide who is second.
    keyword_heavy = run(conn, caller, local_model, limit=3, semantic_weight=0.1, rrf_k=1)
    semantic_heavy = run(conn, caller, local_model, limit=3, full_text_weight=0.1, rrf_k=1)
    assert keyword_heavy[1]["chunk_id"] == ids[EXACT_ONLY]
    assert semantic_heavy[1]["chunk_id"] == ids[MEANING_ONLY]
    semantic_only = run(conn, caller, local_model, limit=3, full_text_weight=0)
    assert all(r["keyword_rank"] is None for r in semantic_only)
    ranks = [r["semantic_rank"] for r in semantic_only]
    assert ranks == [1, 2, 3]


def test_keyword_only_without_an_embedding(
    conn: Connection, corpus: tuple[Caller, UUID, dict[str, int]]
) -> None:
    caller, _, ids = corpus
    found = {r["chunk_id"] for r in run(conn, caller, None)}
    assert ids[BOTH] in found and ids[EXACT_ONLY] in found
    assert ids[MEANING_ONLY] not in found
    assert all(r["semantic_rank"] is None for r in run(conn, caller, None))


def test_quoted_phrases_keep_their_meaning(
    conn: Connection, corpus: tuple[Caller, UUID, dict[str, int]]
) -> None:
    caller, _, ids = corpus
    results = search(conn, caller, SearchRequest('"basil plant"'))
    assert [r["chunk_id"] for r in results] == [ids[BOTH]]


def test_plain_words_rank_the_passage_with_more_of_them_first(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    """Plain words are OR-ed, so a passage that repeats one of them must not outrank one
    that has them all (ts_rank_cd, the ranking before, scored every repeat)."""
    caller = make_user()
    ws = workspace_id(conn, caller)
    texts = {
        "repeats": "The best way, the best way, always the best way: best way best way.",
        "all": "Salt tablets are the best way to score hydration on a long run.",
    }
    for key, text in texts.items():
        write_conversation(
            conn,
            caller,
            ws,
            Conversation(
                kind="text",
                platform="notes",
                title=key,
                messages=[Message(role="document", text=text)],
                external_id=key,
            ),
        )
    request = SearchRequest("best way to score hydration", relevance_floor=False)
    for who in (caller, Caller.service()):  # private.keyword_matches, and the service's SQL
        titles = [r["source_title"] for r in search(conn, who, request)]
        assert titles[:2] == ["all", "repeats"], who


def test_closeness_ranks_queries_that_ask_for_every_word(conn: Connection) -> None:
    choose = "select private.keyword_rank_function(websearch_to_tsquery('english', %s)) as f"
    # Plain words become alternatives (hybrid_search OR-s them before it ranks).
    assert conn.execute(
        "select private.keyword_rank_function(%s::tsquery) as f", ["'best' | 'way'"]
    ).fetchone() == {"f": "pg_catalog.ts_rank"}
    assert conn.execute(choose, ["basil or thyme"]).fetchone() == {"f": "pg_catalog.ts_rank"}
    for query in ['"basil plant"', "basil -thyme", "basil thyme"]:
        assert conn.execute(choose, [query]).fetchone() == {"f": "pg_catalog.ts_rank_cd"}, query
    # An operator character inside a lexeme is not an operator.
    assert conn.execute(
        "select private.keyword_rank_function(%s::tsquery) as f", ["'a&b' | 'c!'"]
    ).fetchone() == {"f": "pg_catalog.ts_rank"}


def test_snippet_highlights_and_escapes(conn: Connection, make_user: Callable[[], Caller]) -> None:
    caller = make_user()
    ws = workspace_id(conn, caller)
    text = "Use <script>alert(1)</script> & a sentinel word: periwinkle."
    write_conversation(
        conn,
        caller,
        ws,
        Conversation(
            kind="text", platform="notes", title="x", messages=[Message(role="document", text=text)]
        ),
    )
    [row] = search(conn, caller, SearchRequest("periwinkle"))
    assert "<mark>periwinkle</mark>" in row["snippet"]
    # The only markup is the highlight: the passage's own brackets arrive escaped.
    unmarked = row["snippet"].replace("<mark>", "").replace("</mark>", "")
    assert "<" not in unmarked and ">" not in unmarked
    assert "script&gt;" in unmarked and "&amp;" in unmarked
    assert row["content"] == text


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"platform": "chatgpt"}, {MEANING_ONLY}),
        ({"platform": ["notes"]}, {EXACT_ONLY, BOTH}),
        ({"role": "document"}, {EXACT_ONLY, BOTH}),
        ({"kind": "chatgpt_export"}, {MEANING_ONLY}),
        # started_at months 1..3: EXACT_ONLY Jan, MEANING_ONLY Feb, BOTH Mar
        ({"date_from": "2024-02-01", "date_to": "2024-03-01"}, {MEANING_ONLY}),
        ({"date_from": "2024-03-01T00:00:00Z"}, {BOTH}),
    ],
)
def test_filters(
    conn: Connection,
    corpus: tuple[Caller, UUID, dict[str, int]],
    local_model: EmbeddingModel,
    filters: dict[str, Any],
    expected: set[str],
) -> None:
    caller, _, ids = corpus
    results = run(conn, caller, local_model, limit=3, filters=filters)
    top3 = {r["content"] for r in results}
    assert expected <= top3
    assert all(r["chunk_id"] in ids.values() for r in results)
    for r in results:
        if "platform" in filters:
            assert r["platform"] in (
                filters["platform"]
                if isinstance(filters["platform"], list)
                else [filters["platform"]]
            )
        if "role" in filters:
            assert r["role"] == filters["role"]


def test_source_and_workspace_filters(
    conn: Connection,
    corpus: tuple[Caller, UUID, dict[str, int]],
    local_model: EmbeddingModel,
    make_user: Callable[[], Caller],
) -> None:
    caller, ws, ids = corpus
    with transaction_as(conn, caller):
        source = conn.execute(
            "select source_id from public.chunks where id = %s", [ids[MEANING_ONLY]]
        ).fetchone()
    assert source is not None
    only = run(conn, caller, local_model, filters={"source_id": str(source["source_id"])})
    assert [r["chunk_id"] for r in only] == [ids[MEANING_ONLY]]
    assert len(run(conn, caller, local_model, filters={"workspace_id": str(ws)})) == 8
    other_ws = workspace_id(conn, make_user())
    assert run(conn, caller, local_model, filters={"workspace_id": str(other_ws)}) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("select * from public.hybrid_search('x', match_count => 0)", "match_count"),
        ("select * from public.hybrid_search('x', full_text_weight => -1)", "weights"),
        ("select * from public.hybrid_search('x', rrf_k => 0)", "rrf_k"),
        ("select * from public.hybrid_search('x', filters => '[]')", "JSON object"),
        (
            "select * from public.hybrid_search('x', filters => '{\"colour\": \"red\"}')",
            'unknown filter "colour"',
        ),
        ("select * from public.hybrid_search('x', filters => '{\"role\": 3}')", "role"),
        ("select * from public.hybrid_search('x', '[1,2,3]')", "model_id is required"),
        ("select * from public.hybrid_search('x', '[1,2,3]', 1)", "3 dimensions"),
        ("select * from public.hybrid_search('x', '[1,2,3]', 999)", "does not exist"),
    ],
)
def test_bad_arguments_give_clear_errors(
    conn: Connection, make_user: Callable[[], Caller], call: str, message: str
) -> None:
    with (
        pytest.raises(psycopg.errors.InvalidParameterValue, match=message),
        transaction_as(conn, make_user()),
    ):
        conn.execute(call)


def test_empty_query_returns_nothing(conn: Connection, make_user: Callable[[], Caller]) -> None:
    with transaction_as(conn, make_user()):
        assert conn.execute("select * from public.hybrid_search('the and of')").fetchall() == []


def test_k_rows_for_a_user_who_owns_one_percent_of_20000(
    new_database: Callable[[], str],
) -> None:
    """A filtered ANN search must keep scanning: the user's passages lie far from the query
    while the other 99% crowd around it, so a plain HNSW scan finds none of theirs."""
    dims = 16
    url = new_database()
    with connect(url) as conn:
        conn.autocommit = True
        migrate(conn)
        small = caller_for(conn, "small@example.com", create=True)
        big = caller_for(conn, "big@example.com", create=True)
        # The big owner's passages crowd around the query; the small owner's lie far off.
        # Big first: foreign-key checks plan their lookups once per connection, and a plan
        # made while the tables are tiny (a sequential scan) would then crawl.
        groups = [(big, 19_800, 0), (small, 200, 1)]
        model = _clustered_vectors(conn, dims, groups)
        query = json.dumps([5.0 if d == 0 else 0.5 for d in range(dims)])
        with transaction_as(conn, small):
            plain = conn.execute(
                f"select e.chunk_id from public.chunk_embeddings e where e.model_id = %s"
                f" order by e.embedding::extensions.vector({dims})"
                f" operator(extensions.<=>) %s::extensions.vector({dims}) limit 10",
                [model, query],
            ).fetchall()
        assert len(plain) < 10, "the plain ANN query should starve under RLS"
        for caller, n, _ in groups:
            with transaction_as(conn, caller):
                vector_rows = conn.execute(
                    "select * from public.hybrid_search(null, %s::extensions.vector, %s,"
                    " match_count => 10)",
                    [query, model],
                ).fetchall()
                hybrid_rows = conn.execute(
                    "select * from public.hybrid_search('lantern', %s::extensions.vector, %s,"
                    " match_count => 10)",
                    [query, model],
                ).fetchall()
            assert len(vector_rows) == 10, f"owner of {n} rows got {len(vector_rows)}"
            assert len(hybrid_rows) == 10
            owned = {r["workspace_id"] for r in vector_rows + hybrid_rows}
            assert owned == {workspace_id(conn, caller)}


def test_a_filtered_index_scan_gives_up_soon_and_ranks_exactly(
    new_database: Callable[[], str],
) -> None:
    """A query about what only other people wrote about: the HNSW scan meets their
    passages first. It gives up after 2,000 index entries (pgvector's default is 20,000:
    here it would wade through all 15,000 of theirs) and the caller's rows are ranked
    exactly. Counted in index entries read, not timed."""
    dims = 16
    url = new_database()
    with connect(url) as conn:
        conn.autocommit = True
        migrate(conn)
        owner = caller_for(conn, "owner@example.com", create=True)
        crowd = caller_for(conn, "crowd@example.com", create=True)
        model = _clustered_vectors(conn, dims, [(crowd, 15_000, 0), (owner, 21_000, 1)])
        query = json.dumps([5.0 if d == 0 else 0.5 for d in range(dims)])  # the crowd's
        with transaction_as(conn, owner):
            found = conn.execute(
                "select chunk_id from public.hybrid_search(null, %s::extensions.vector, %s,"
                " match_count => 10)",
                [query, model],
            ).fetchall()
            read = conn.execute(
                "select pg_catalog.pg_stat_get_xact_tuples_returned(%s::regclass) as n",
                [f"public.chunk_embeddings_model_{model}_hnsw"],
            ).fetchone()
            exact = conn.execute(
                "select e.chunk_id from public.chunk_embeddings e where e.model_id = %s"
                " order by e.embedding operator(extensions.<=>) %s::extensions.vector limit 10",
                [model, query],
            ).fetchall()
    assert read is not None and 0 < read["n"] <= 2_500, read
    assert found == exact


def _clustered_vectors(conn: Connection, dims: int, groups: list[tuple[Caller, int, int]]) -> int:
    """A test model of dims dimensions and, for each (caller, n, near), n passages of the
    caller's with vectors along dimension `near` (5 there, noise elsewhere), written as the
    table's owner. Returns the model's id."""
    model = conn.execute(
        "insert into public.embedding_models (provider, name, dims)"
        " values ('test', 'tiny', %s) returning id",
        [dims],
    ).fetchone()
    assert model is not None
    # Registering the model created its partial HNSW index. A bulk load builds it far
    # faster than row-by-row inserts do: dropped for the load, built again after.
    index = f"chunk_embeddings_model_{model['id']}_hnsw"
    row = conn.execute("select indexdef from pg_indexes where indexname = %s", [index]).fetchone()
    assert row and f"vector({dims})" in row["indexdef"]
    conn.execute(f"drop index public.{index}")
    for caller, n, near in groups:
        ws = workspace_id(conn, caller)
        _passages(conn, ws, n, "lantern")
        conn.execute(
            "insert into public.chunk_embeddings (chunk_id, model_id, workspace_id, embedding)"
            " select c.id, %(model)s, c.workspace_id,"
            " (select array_agg(case when d = %(near)s then 5 else random() end)"
            "  from generate_series(0, %(dims)s - 1) d where c.id > 0)::extensions.vector"
            " from public.chunks c where c.workspace_id = %(ws)s",
            {"ws": ws, "near": near, "model": model["id"], "dims": dims},
        )
    conn.execute("delete from public.embedding_queue")  # the queue is not needed here
    conn.execute("select private.ensure_embedding_index(%s, %s)", [model["id"], dims])
    conn.execute("analyze")
    return int(model["id"])


def _passages(conn: Connection, ws: UUID, count: int, word: str) -> None:
    """count passages in ws, written as the table's owner; the eighth holds word."""
    source = conn.execute(
        "insert into public.sources (workspace_id, kind, platform, title, content_hash)"
        " values (%s, 'text', 'notes', 'bulk', md5(%s) || md5(%s)) returning id",
        [ws, str(ws), word],
    ).fetchone()
    assert source is not None
    conn.execute(
        "insert into public.chunks"
        " (source_id, workspace_id, message_index, chunk_index, role, content, token_count)"
        " select %s, %s, g, 0, 'document',"
        " case when g = 7 then 'the ' || %s || ' sleeps' else 'filler passage ' || g end, 4"
        " from generate_series(0, %s - 1) g",
        [source["id"], ws, word, count],
    )


def test_a_users_keyword_search_reads_its_matches_not_every_passage(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    """Under RLS `@@` may not be tested before the policy, so it could not be an index
    condition: each keyword search of a user read every passage they can read. Counted in
    rows read (this transaction's statistics), not timed: 20,000 before, now the match."""
    me, other = make_user(), make_user()
    _passages(conn, workspace_id(conn, me), 20000, "quokka")
    _passages(conn, workspace_id(conn, other), 5000, "quokka")
    # As autovacuum does after a large import: statistics, and the GIN's pending entries
    # merged (the planner prices a long pending list as a slow index).
    conn.execute("vacuum analyze public.chunks")
    read = (
        "select coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) as n"
        " from pg_catalog.pg_stat_xact_user_tables where relid = 'public.chunks'::regclass"
    )
    with transaction_as(conn, me):
        before = conn.execute(read).fetchone()
        rows = conn.execute("select content from public.hybrid_search('quokka')").fetchall()
        after = conn.execute(read).fetchone()
    assert rows == [{"content": "the quokka sleeps"}]
    assert before is not None and after is not None
    assert after["n"] - before["n"] < 50, (before, after)


def test_an_exact_scan_ranks_a_halfvec_model_by_cosine(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    """A model of over 2,000 dimensions is indexed as halfvec; a caller with few passages
    is ranked exactly, on the stored vectors, in cosine order."""
    dims = 3072
    caller = make_user()
    ws = workspace_id(conn, caller)
    model = conn.execute(
        "insert into public.embedding_models (provider, name, dims)"
        " values ('test', 'wide', %s) returning id",
        [dims],
    ).fetchone()
    assert model is not None
    _passages(conn, ws, 30, "gecko")
    ids = [
        r["id"]
        for r in conn.execute(
            "select id from public.chunks where workspace_id = %s order by id", [ws]
        ).fetchall()
    ]
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(len(ids), dims)).astype(np.float32)
    for chunk_id, vector in zip(ids, vectors, strict=True):
        conn.execute(
            "insert into public.chunk_embeddings (chunk_id, model_id, workspace_id, embedding)"
            " values (%s, %s, %s, %s::extensions.vector)",
            [chunk_id, model["id"], ws, vector_literal(vector)],
        )
    query = rng.normal(size=dims).astype(np.float32)
    cosine = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    expected = [ids[i] for i in np.argsort(-cosine)[:10]]
    with transaction_as(conn, caller):
        rows = conn.execute(
            "select chunk_id from public.hybrid_search(null, %s::extensions.vector, %s,"
            " match_count => 10)",
            [vector_literal(query), model["id"]],
        ).fetchall()
    assert [r["chunk_id"] for r in rows] == expected


def test_keyword_matches_ranks_only_what_the_caller_may_read(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    """private.keyword_matches runs as the owner (so the index serves it): asked for
    another user's workspace, it finds nothing, as the chunks policy would."""
    owner, stranger = make_user(), make_user()
    ws = workspace_id(conn, owner)
    _passages(conn, ws, 20, "wombat")
    call = "select id from private.keyword_matches(to_tsquery('english', 'wombat'), %s, false, 10)"
    with transaction_as(conn, owner):
        assert len(conn.execute(call, [[ws]]).fetchall()) == 1
        assert len(conn.execute(call, [None]).fetchall()) == 1
    with transaction_as(conn, stranger):
        assert conn.execute(call, [[ws]]).fetchall() == []
        assert conn.execute(call, [None]).fetchall() == []
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, Caller.anon()):
        conn.execute(call, [[ws]])
