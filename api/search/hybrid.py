"""Search as a user: embed the query with the workspace's model, call `hybrid_search`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

from api.db.session import Caller, Connection, pipelined_as, transaction_as
from api.db.vectors import vector_literal
from api.embeddings.cache import EmbeddingCache
from api.embeddings.registry import get_model

# websearch_to_tsquery pushes one NOT per "-", skipping the operator characters between
# them; 32 in a row overflow its stack ("tsquery stack too small", an internal error).
NEGATION_RUN = re.compile(r"-(?:[\s!()&|<>]*-)+")


def keyword_query(text: str) -> str:
    """The query with each run of negations folded to what it means (an even number of
    them negates nothing), so any text the caller types is a query PostgreSQL accepts."""
    return NEGATION_RUN.sub(lambda m: "-" if m.group().count("-") % 2 else " ", text)


# Meaning-only matches less similar (cosine) than this to the query are left out: without a
# floor every query, gibberish too, fills the page with the least unlike passages. Floors
# are per model, since similarity scales differ; scripts/calibrate_search_floor.py measured
# all-MiniLM-L6-v2 on a labelled set (relevant >= 0.329, unanswerable <= 0.275). A model
# without a floor here keeps every match.
# The static model's scale is higher and its groups overlap (relevant >= 0.340, median
# 0.573; gibberish and off-topic <= 0.481): its floor sits above every unanswerable query,
# at the price of some weak true matches while their passages wait for the quality vector.
RELEVANCE_FLOORS: dict[tuple[str, str], float] = {
    ("local", "all-MiniLM-L6-v2"): 0.30,
    ("local", "static-all-MiniLM-L6-v2"): 0.49,
}


@dataclass(frozen=True)
class SearchRequest:
    query: str
    limit: int = 10
    filters: dict[str, Any] = field(default_factory=dict)
    full_text_weight: float = 1.0
    semantic_weight: float = 1.0
    rrf_k: int = 50
    # False: every match hybrid_search gives, as an integrator calling the RPC gets them.
    relevance_floor: bool = True


@dataclass(frozen=True)
class ModelRef:
    """A row of embedding_models."""

    id: int
    provider: str
    name: str
    dims: int
    # The model's static companion, if it has one: the query is embedded with both.
    static: ModelRef | None = None


class QueryEmbedding(NamedTuple):
    """The query embedded with the workspace's model and, when that model has one, with its
    static model too: passages still waiting for their quality vector are found by the
    static one."""

    model_id: int
    vector: Sequence[float]
    static: tuple[int, Sequence[float]] | None = None


def workspace_model(conn: Connection, caller: Caller, workspace_id: UUID | None) -> ModelRef | None:
    """The embedding model a workspace (None: the caller's personal one) searches with;
    None if the caller cannot see that workspace."""
    with pipelined_as(conn, caller):
        row = conn.execute(
            "select m.id, m.provider, m.name, m.dims, s.id as s_id, s.provider as s_provider,"
            " s.name as s_name, s.dims as s_dims from public.workspaces w"
            " join public.embedding_models m on m.id = w.embedding_model_id"
            " left join public.embedding_models s on s.id = m.static_model_id"
            " where w.id = coalesce(%s, (select p.id from public.workspaces p"
            " where p.owner_id = auth.uid() and p.is_personal))",
            [workspace_id],
        ).fetchone()
    if row is None:
        return None
    static = (
        ModelRef(row["s_id"], row["s_provider"], row["s_name"], row["s_dims"])
        if row["s_id"] is not None
        else None
    )
    return ModelRef(row["id"], row["provider"], row["name"], row["dims"], static)


def relevance_floors(conn: Connection, model_ids: Sequence[int]) -> dict[int, float | None]:
    """The least cosine similarity a meaning-only match needs with each model, if any."""
    rows = conn.execute(
        "select id, provider, name from public.embedding_models where id = any (%s)",
        [list(model_ids)],
    ).fetchall()
    return {r["id"]: RELEVANCE_FLOORS.get((r["provider"], r["name"])) for r in rows}


def search(
    conn: Connection,
    caller: Caller,
    request: SearchRequest,
    embedding: QueryEmbedding | tuple[int, Sequence[float]] | None = None,
) -> list[dict[str, Any]]:
    """Rows of hybrid_search, best first: embedding is (model id, query vector[, static
    (model id, vector)]); without one, keyword-only. Meaning-only matches below the
    relevance floor of the model whose vector matched are left out."""
    with transaction_as(conn, caller):
        return search_rows(conn, request, embedding)


def search_rows(
    conn: Connection,
    request: SearchRequest,
    embedding: QueryEmbedding | tuple[int, Sequence[float]] | None = None,
) -> list[dict[str, Any]]:
    """`search` inside a transaction_as of the caller's."""
    query = QueryEmbedding(*embedding) if embedding else None
    model_id = query.model_id if query else None
    static_id, static_vector = query.static if query and query.static else (None, None)
    ids = [m for m in (model_id, static_id) if m is not None]
    floors = relevance_floors(conn, ids) if request.relevance_floor and ids else {}
    filtered = any(f is not None for f in floors.values())
    # More rows than asked for, so the floor removes weak ones rather than the count.
    count = min(request.limit * 2, 200) if filtered else request.limit
    rows = conn.execute(
        """
        select * from public.hybrid_search(
          query_text => %s, query_embedding => %s::extensions.vector, model_id => %s,
          match_count => %s, full_text_weight => %s, semantic_weight => %s,
          rrf_k => %s, filters => %s::jsonb,
          static_embedding => %s::extensions.vector)
        """,
        [
            keyword_query(request.query),
            vector_literal(query.vector) if query else None,
            model_id,
            count,
            request.full_text_weight,
            request.semantic_weight,
            request.rrf_k,
            json.dumps(request.filters, default=str),
            vector_literal(static_vector) if static_vector is not None else None,
        ],
    ).fetchall()
    if filtered:
        rows = [
            r
            for r in rows
            if r["keyword_rank"] is not None
            or (floor := floors.get(r["semantic_model_id"])) is None
            or r["semantic_score"] >= floor
        ]
    return rows[: request.limit]


def pending_conversations(conn: Connection, caller: Caller, filters: dict[str, Any]) -> int:
    """How many conversations the search covers still have passages with no vector at all
    (not yet found by meaning; one with only its fast static vector already is)."""
    with transaction_as(conn, caller):
        return count_pending(conn, filters)


def count_pending(conn: Connection, filters: dict[str, Any]) -> int:
    """`pending_conversations` inside a transaction_as of the caller's."""
    workspaces = filters.get("workspace_id")
    row = conn.execute(
        "select count(distinct c.source_id) as n from public.embedding_queue q"
        " join public.chunks c on c.id = q.chunk_id"
        " where (%(ws)s::uuid[] is null or q.workspace_id = any (%(ws)s::uuid[]))"
        " and not exists (select from public.chunk_embeddings e where e.chunk_id = q.chunk_id)",
        {"ws": [workspaces] if isinstance(workspaces, str) else workspaces},
    ).fetchone()
    return int(row["n"]) if row else 0


def embed_query(
    conn: Connection,
    caller: Caller,
    workspace_id: UUID | None,
    text: str,
    *,
    api_key: Callable[[str], str] | None = None,
    cache: EmbeddingCache | None = None,
) -> QueryEmbedding | None:
    """The query embedded with the workspace's model (None: the caller's personal
    workspace), and with its static model when it has one. api_key gives the key for a
    remote provider; the cache, when given, spares repeated queries the model call."""
    ref = workspace_model(conn, caller, workspace_id)
    if ref is None:
        return None
    key = api_key(ref.provider) if api_key is not None and ref.provider != "local" else None
    vector = _embed_one(ref, key, text, cache)
    static = None
    if ref.static is not None:
        static = (ref.static.id, _embed_one(ref.static, None, text, cache))
    return QueryEmbedding(ref.id, vector, static)


def _embed_one(
    ref: ModelRef, key: str | None, text: str, cache: EmbeddingCache | None
) -> list[float]:
    model = get_model(ref.provider, ref.name, ref.dims, key)

    def run(query: str) -> list[float]:
        return model.embed([query], "query")[0]

    return cache.get_or_embed(str(ref.id), text, run) if cache else run(text)
