"""Search as a user: embed the query with the workspace's model, call `hybrid_search`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

from api.db.session import Caller, Connection, pipelined_as, transaction_as
from api.db.vectors import Vector, register_vector
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
    static one. floors: each model's relevance floor (embed_with knows them; none, no
    floor)."""

    model_id: int
    vector: Sequence[float]
    static: tuple[int, Sequence[float]] | None = None
    floors: Mapping[int, float | None] | None = None


def workspace_model(conn: Connection, caller: Caller, workspace_id: UUID | None) -> ModelRef | None:
    """The embedding model a workspace (None: the caller's personal one) searches with;
    None if the caller cannot see that workspace."""
    with pipelined_as(conn, caller):
        return workspace_model_in(conn, workspace_id)


def workspace_model_in(conn: Connection, workspace_id: UUID | None) -> ModelRef | None:
    """`workspace_model` inside a transaction_as of the caller's."""
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


def search(
    conn: Connection,
    caller: Caller,
    request: SearchRequest,
    embedding: QueryEmbedding | None = None,
) -> list[dict[str, Any]]:
    """Rows of hybrid_search, best first: embedding is the query embedded (embed_query);
    without one, keyword-only. Meaning-only matches below the
    relevance floor of the model whose vector matched are left out."""
    with transaction_as(conn, caller):
        return search_rows(conn, request, embedding)


def search_rows(
    conn: Connection,
    request: SearchRequest,
    embedding: QueryEmbedding | None = None,
) -> list[dict[str, Any]]:
    """`search` inside a transaction_as of the caller's."""
    return send_search(conn, request, embedding)()


def send_search(
    conn: Connection,
    request: SearchRequest,
    embedding: QueryEmbedding | None = None,
) -> Callable[[], list[dict[str, Any]]]:
    """`search_rows`, sent: gives what reads the rows. In pipeline mode, read them once
    the pipeline has synced, so the search shares one round trip with what follows it."""
    query = embedding
    model_id = query.model_id if query else None
    static_vector = query.static[1] if query and query.static else None
    floors = (query.floors or {}) if query and request.relevance_floor else {}
    filtered = any(f is not None for f in floors.values())
    # More rows than asked for, so the floor removes weak ones rather than the count.
    count = min(request.limit * 2, 200) if filtered else request.limit
    if query:
        register_vector(conn)  # the query's vectors go in binary, not as text to parse
    cursor = conn.execute(
        """
        select * from public.hybrid_search(
          query_text => %s, query_embedding => %s::extensions.vector, model_id => %s,
          match_count => %s, full_text_weight => %s, semantic_weight => %s,
          rrf_k => %s, filters => %s::jsonb,
          static_embedding => %s::extensions.vector)
        """,
        [
            keyword_query(request.query),
            Vector(query.vector) if query else None,
            model_id,
            count,
            request.full_text_weight,
            request.semantic_weight,
            request.rrf_k,
            json.dumps(request.filters, default=str),
            Vector(static_vector) if static_vector is not None else None,
        ],
    )

    def rows() -> list[dict[str, Any]]:
        found = cursor.fetchall()
        if filtered:
            found = [
                r
                for r in found
                if r["keyword_rank"] is not None
                or (floor := floors.get(r["semantic_model_id"])) is None
                or r["semantic_score"] >= floor
            ]
        return found[: request.limit]

    return rows


# Nobody: warm_up searches as a user who can read nothing.
NOBODY = Caller.user(UUID(int=0))
# ...and as the service role for a word no passage holds: both branches then run, on the
# index scans a user's search makes, and still read almost nothing on a large archive.
WARM_UP_QUERY = "knitterwarmupzq"


def warm_up(conn: Connection, model_name: str) -> None:
    """What a search runs, once, rolled back: a new connection's first search otherwise
    pays ~10 ms for its backend's cold caches (the catalog, the compiled functions, the
    indexes). As nobody, the RLS paths; a user who can read nothing skips the branches'
    queries, so they run once more as the service role (docs/PERFORMANCE.md: the first
    search's extra 7.7 -> 3.1 ms). Raises psycopg.Error when the schema is not there."""
    row = conn.execute(
        "select m.id, m.dims, s.id as s_id, s.dims as s_dims from public.embedding_models m"
        " left join public.embedding_models s on s.id = m.static_model_id"
        " where m.provider = 'local' and m.name = %s",
        [model_name],
    ).fetchone()
    embedding = None
    if row is not None:
        static = (row["s_id"], [1.0] * row["s_dims"]) if row["s_id"] is not None else None
        embedding = QueryEmbedding(row["id"], [1.0] * row["dims"], static, {})
    with conn.transaction(force_rollback=True), transaction_as(conn, NOBODY):
        workspace_model_in(conn, None)
        search_rows(conn, SearchRequest("warm up"), embedding)
        count_pending(conn, {})
    with conn.transaction(force_rollback=True), transaction_as(conn, Caller.service()):
        search_rows(conn, SearchRequest(WARM_UP_QUERY), embedding)


def pending_conversations(conn: Connection, caller: Caller, filters: dict[str, Any]) -> int:
    """How many conversations the search covers still have passages with no vector at all
    (not yet found by meaning; one with only its fast static vector already is)."""
    with transaction_as(conn, caller):
        return count_pending(conn, filters)


def count_pending(conn: Connection, filters: dict[str, Any]) -> int:
    """`pending_conversations` inside a transaction_as of the caller's."""
    return send_count_pending(conn, filters)()


def send_count_pending(conn: Connection, filters: dict[str, Any]) -> Callable[[], int]:
    """`count_pending`, sent: gives what reads the count (see send_search)."""
    workspaces = filters.get("workspace_id")
    cursor = conn.execute(
        "select count(distinct c.source_id) as n from public.embedding_queue q"
        " join public.chunks c on c.id = q.chunk_id"
        " where (%(ws)s::uuid[] is null or q.workspace_id = any (%(ws)s::uuid[]))"
        " and not exists (select from public.chunk_embeddings e where e.chunk_id = q.chunk_id)",
        {"ws": [workspaces] if isinstance(workspaces, str) else workspaces},
    )

    def count() -> int:
        row = cursor.fetchone()
        return int(row["n"]) if row else 0

    return count


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
    return embed_with(ref, text, api_key=api_key, cache=cache) if ref else None


def embed_with(
    ref: ModelRef,
    text: str,
    *,
    api_key: Callable[[str], str] | None = None,
    cache: EmbeddingCache | None = None,
) -> QueryEmbedding:
    """`embed_query` with the workspace's model already known. The key is looked up only
    for a query the cache does not hold."""
    refs = [ref, ref.static] if ref.static else [ref]

    def runner(r: ModelRef) -> Callable[[str], list[float]]:
        def run(query: str) -> list[float]:
            key = api_key(r.provider) if api_key is not None and r.provider != "local" else None
            return get_model(r.provider, r.name, r.dims, key).embed([query], "query")[0]

        return run

    # Keyed by what the model is, not its row id: another database sharing the Redis may
    # give that id to another model.
    wanted = [(f"{r.provider}:{r.name}:{r.dims}", text, runner(r)) for r in refs]
    vectors = cache.get_or_embed_all(wanted) if cache else [run(text) for _, _, run in wanted]
    floors = {r.id: RELEVANCE_FLOORS.get((r.provider, r.name)) for r in refs}
    static = (ref.static.id, vectors[1]) if ref.static else None
    return QueryEmbedding(ref.id, vectors[0], static, floors)
