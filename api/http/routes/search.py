"""POST /v1/search: the query embedded with the workspace's model, then hybrid_search."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from slowapi import Limiter

from api.config import Settings
from api.db.session import Caller, Connection, pipelined_as
from api.http.dependencies import CallerDep, DbDep, ServicesDep, read_connection
from api.http.schemas import SearchBody, SearchResponse, SearchResult
from api.http.services import Services
from api.providers.choice import key_for
from api.search import history
from api.search.hybrid import (
    SearchRequest,
    count_pending,
    embed_query,
    pending_conversations,
    search,
    search_rows,
)


def router(limiter: Limiter, settings: Settings) -> APIRouter:
    routes = APIRouter(prefix="/v1", tags=["search"])

    @routes.post("/search", response_model=SearchResponse, summary="Hybrid search")
    @limiter.limit(settings.search_rate_limit)
    def search_route(
        request: Request,
        body: SearchBody,
        caller: CallerDep,
        svc: ServicesDep,
        primary: DbDep,
    ) -> SearchResponse:
        """Keyword and semantic search over the passages the caller can read, fused by
        reciprocal rank. The query is embedded with the workspace's model (the filtered
        workspace, else the caller's personal one). Matches found only by meaning and less
        similar to the query than the model's calibrated floor (0.30 cosine for
        all-MiniLM-L6-v2) are left out, so a query nothing answers finds nothing."""
        filters = body.filters.as_rpc()
        # One connection per request: the replica's only when there is one (a second
        # from the same pool would let concurrent searches deadlock it).
        with read_connection(svc, primary) as conn:
            return _search(body, filters, caller, conn, primary, svc)

    def _search(
        body: SearchBody,
        filters: dict[str, Any],
        caller: Caller,
        conn: Connection,
        primary: Connection,
        svc: Services,
    ) -> SearchResponse:
        embedding = None
        if not body.keyword_only and body.semantic_weight > 0:
            embedding = embed_query(
                conn,
                caller,
                body.filters.workspace_id,
                body.query,
                # Keys on the primary: reading one may re-encrypt it (a write).
                api_key=key_for(primary, svc.keyring, settings, caller.user_id),
                cache=svc.cache,
            )
            if embedding is None:
                raise HTTPException(404, "no such workspace")
        request_ = SearchRequest(
            body.query,
            body.limit,
            filters,
            body.full_text_weight,
            body.semantic_weight,
            body.rrf_k,
        )
        if conn is primary:
            # No replica: the search, the pending count and the history row in one
            # pipelined transaction (one BEGIN/COMMIT, not three, and no wait for a result
            # nothing reads), and its commit does not wait for the history row to reach
            # the disk (a crash may lose a few remembered queries, never a search's answer).
            with pipelined_as(conn, caller):
                conn.execute("select set_config('synchronous_commit', 'off', true)")
                rows = search_rows(conn, request_, embedding)
                pending = count_pending(conn, filters)
                history.insert(conn, caller, body.query, body.filters.workspace_id)
        else:
            rows = search(conn, caller, request_, embedding)
            pending = pending_conversations(conn, caller, filters)
            # On the primary: reads go to the replica, the history is a write.
            history.record(primary, caller, body.query, body.filters.workspace_id)
        return SearchResponse(
            results=[SearchResult.model_validate(r) for r in rows],
            semantic=embedding is not None,
            pending_conversations=pending,
        )

    return routes
