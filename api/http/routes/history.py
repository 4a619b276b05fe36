"""/v1/suggestions and /v1/history: completions for the search box, and the caller's own
past queries, which they can clear."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.config import Settings
from api.http.dependencies import CallerDep, DbDep, rate_limit
from api.http.schemas import (
    HistoryCleared,
    HistoryEntry,
    HistoryResponse,
    Suggestion,
    SuggestionsResponse,
)
from api.search import history
from api.text import NO_NUL


def router(settings: Settings) -> APIRouter:
    routes = APIRouter(prefix="/v1", tags=["suggestions"])

    @routes.get(
        "/suggestions",
        response_model=SuggestionsResponse,
        summary="Search suggestions",
        dependencies=[rate_limit(settings.search_rate_limit)],
    )
    def suggest(
        caller: CallerDep,
        conn: DbDep,
        prefix: Annotated[str, Query(max_length=200, pattern=NO_NUL)] = "",
        limit: Annotated[int, Query(ge=1, le=50)] = 8,
    ) -> SuggestionsResponse:
        """The caller's past queries and the titles of sources they can read that match
        what was typed (prefix first, then word starts, then similar spellings)."""
        rows = history.suggestions(conn, caller, prefix, limit)
        return SuggestionsResponse(suggestions=[Suggestion.model_validate(r) for r in rows])

    @routes.get(
        "/history",
        response_model=HistoryResponse,
        summary="Recent searches",
        dependencies=[rate_limit(settings.rate_limit)],
    )
    def recent_searches(
        caller: CallerDep,
        conn: DbDep,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> HistoryResponse:
        rows = history.recent(conn, caller, limit)
        return HistoryResponse(entries=[HistoryEntry.model_validate(r) for r in rows])

    @routes.delete(
        "/history",
        response_model=HistoryCleared,
        summary="Clear the search history",
        dependencies=[rate_limit(settings.rate_limit)],
    )
    def clear_history(caller: CallerDep, conn: DbDep) -> HistoryCleared:
        return HistoryCleared(deleted=history.clear(conn, caller))

    return routes
