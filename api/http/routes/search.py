"""POST /v1/search: the query embedded with the workspace's model, then hybrid_search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from api.config import Settings
from api.db.session import Caller, Connection, pipelined_as
from api.http.dependencies import (
    CallerDep,
    RateLimit,
    ServicesDep,
    read_connection,
    with_connection,
)
from api.http.schemas import SearchBody, SearchResponse, SearchResult
from api.http.services import Services
from api.providers.choice import key_for
from api.search import history
from api.search.hybrid import (
    ModelRef,
    QueryEmbedding,
    SearchRequest,
    embed_with,
    pending_conversations,
    search,
    send_count_pending,
    send_search,
    workspace_model,
    workspace_model_in,
)

Answer = Callable[[], SearchResponse]


def router(settings: Settings) -> APIRouter:
    routes = APIRouter(prefix="/v1", tags=["search"])
    # Counted on the search's own worker thread, not in a dependency: one thread hand-off
    # less on the API's busiest route (~0.2 ms of CPU a search).
    limit = RateLimit(settings.search_rate_limit)

    @routes.post("/search", response_model=SearchResponse, summary="Hybrid search")
    async def search_route(
        request: Request, body: SearchBody, caller: CallerDep, svc: ServicesDep
    ) -> SearchResponse:
        """Keyword and semantic search over the passages the caller can read, fused by
        reciprocal rank. The query is embedded with the workspace's model (the filtered
        workspace, else the caller's personal one). Matches found only by meaning and less
        similar to the query than the model's calibrated floor (0.30 cosine for
        all-MiniLM-L6-v2) are left out, so a query nothing answers finds nothing."""
        return await with_connection(
            svc,
            lambda primary: _search(body, caller, primary, svc),
            first=lambda: limit.count(request, caller, svc),
        )

    def _search(
        body: SearchBody, caller: Caller, primary: Connection, svc: Services
    ) -> SearchResponse:
        filters = body.filters.as_rpc()
        meaning = not body.keyword_only and body.semantic_weight > 0
        workspace = body.filters.workspace_id
        request_ = SearchRequest(
            body.query,
            body.limit,
            filters,
            body.full_text_weight,
            body.semantic_weight,
            body.rrf_k,
        )

        def embed(ref: ModelRef | None) -> QueryEmbedding | None:
            if ref is None:
                raise HTTPException(404, "no such workspace")
            # Keys on the primary: reading one may re-encrypt it (a write), as the service
            # role, so never inside the caller's transaction.
            api_key = key_for(primary, svc.keyring, settings, caller.user_id)
            return embed_with(ref, body.query, api_key=api_key, cache=svc.cache)

        def send(conn: Connection, embedding: QueryEmbedding | None) -> Answer:
            """The search, the pending count and the history row, sent in the caller's
            pipelined transaction: read once the pipeline has synced, at its end."""
            # Its commit does not wait for the history row to reach the disk: a crash may
            # lose a few remembered queries, never a search's answer.
            conn.execute("select set_config('synchronous_commit', 'off', true)")
            rows = send_search(conn, request_, embedding)
            pending = send_count_pending(conn, filters)
            history.insert(conn, caller, body.query, workspace)
            return lambda: response(rows(), embedding, pending())

        if svc.read_pool is not None:
            # Reads on one replica connection besides the primary's (a second from the
            # same pool would let concurrent searches deadlock it).
            with read_connection(svc, primary) as conn:
                embedding = None
                if meaning:
                    embedding = embed(workspace_model(conn, caller, workspace))
                rows = search(conn, caller, request_, embedding)
                pending = pending_conversations(conn, caller, filters)
            # On the primary: the history is a write.
            history.record(primary, caller, body.query, workspace)
            return response(rows, embedding, pending)
        # No replica: the workspace's model, the search, the pending count and the history
        # row in one pipelined transaction (one round trip for all but the model), unless
        # the model is remote and needs the key first.
        with pipelined_as(primary, caller):
            ref = workspace_model_in(primary, workspace) if meaning else None
            local = ref is None or ref.provider == "local"
            if local:
                answer = send(primary, embed(ref) if meaning else None)
        if not local:
            embedding = embed(ref)
            with pipelined_as(primary, caller):
                answer = send(primary, embedding)
        return answer()

    def response(
        rows: list[dict[str, Any]], embedding: QueryEmbedding | None, pending: int
    ) -> SearchResponse:
        return SearchResponse(
            results=[SearchResult.model_validate(r) for r in rows],
            semantic=embedding is not None,
            pending_conversations=pending,
        )

    return routes
