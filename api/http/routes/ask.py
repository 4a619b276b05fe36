"""POST /v1/ask: an answer from the caller's own passages, citing them as [1], [2]…
Streamed as server-sent events (`citations`, `delta`…, `done`), or one JSON object when
the client sends `Accept: application/json`."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from api.accounts.users import workspace_id as personal_workspace
from api.answers import answering
from api.config import Settings
from api.errors import ProviderError
from api.http.dependencies import CallerDep, DbDep, ServicesDep, rate_limit
from api.http.schemas import AskBody, AskResponse, Citation


def router(settings: Settings) -> APIRouter:
    routes = APIRouter(prefix="/v1", tags=["ask"])

    @routes.post(
        "/ask",
        summary="Answer a question from the caller's conversations, with citations",
        response_model=AskResponse,
        responses={200: {"content": {"text/event-stream": {}, "application/json": {}}}},
        dependencies=[rate_limit(settings.search_rate_limit)],
    )
    def ask(
        request: Request, body: AskBody, caller: CallerDep, conn: DbDep, svc: ServicesDep
    ) -> Response:
        """Finds the best passages with hybrid search and answers from them only. Events:
        `citations` (the numbered passages), `delta` (pieces of the answer), `done`
        (which numbers the answer cites, the provider and model, whether it is
        extractive), or `error` if the provider fails mid-answer."""
        # On the primary: reading a stored key may re-encrypt it. Everything that needs the
        # database happens before the response starts.
        try:
            result = answering.ask(
                conn,
                caller,
                body.question,
                settings,
                svc.keyring,
                workspace_id=body.filters.workspace_id or personal_workspace(conn, caller),
                limit=body.limit,
                filters=body.filters.as_rpc(),
                keyword_only=body.keyword_only,
                provider=body.provider,
                model_name=body.model,
                cache=svc.cache,
            )
        except answering.WorkspaceNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        passages, pieces = result.passages, result.pieces
        provider, name, extractive = result.provider, result.model, result.extractive
        citations = [Citation.model_validate(p, from_attributes=True) for p in passages]

        if _wants_json(request):
            answer = "".join(pieces)
            return JSONResponse(
                AskResponse(
                    answer=answer,
                    citations=citations,
                    cited=answering.cited(answer, passages),
                    extractive=extractive,
                    provider=provider,
                    model=name,
                ).model_dump(mode="json")
            )

        def events() -> Iterator[str]:
            yield _event("citations", [c.model_dump(mode="json") for c in citations])
            answer = ""
            try:
                for piece in pieces:
                    answer += piece
                    yield _event("delta", {"text": piece})
            except ProviderError as exc:
                yield _event("error", {"detail": str(exc)})
                return
            done = {
                "cited": answering.cited(answer, passages),
                "extractive": extractive,
                "provider": provider,
                "model": name,
            }
            yield _event("done", done)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return routes


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/event-stream" not in accept


def _event(name: str, data: object) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
