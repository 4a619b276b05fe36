"""/v1/passages/{chunk_id}/threads: questions asked about one passage, answered from it
and its neighbours (as /v1/ask answers, with citations), kept with the passage until the
member who asked deletes them."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, HTTPException, Response

from api.answers import answering, micro_threads
from api.config import Settings
from api.embeddings.registry import get_model
from api.http.dependencies import CallerDep, DbDep, ServicesDep, rate_limit
from api.http.schemas import MicroThread, MicroThreadBody, MicroThreadsResponse
from api.providers.choice import pick_chat_model


def router(settings: Settings) -> APIRouter:
    routes = APIRouter(prefix="/v1/passages", tags=["micro-threads"])

    @routes.post(
        "/{chunk_id}/threads",
        status_code=201,
        response_model=MicroThread,
        summary="Ask about a passage",
        dependencies=[rate_limit(settings.search_rate_limit)],
    )
    def ask_about_passage(
        chunk_id: int,
        body: MicroThreadBody,
        caller: CallerDep,
        conn: DbDep,
        svc: ServicesDep,
    ) -> MicroThread:
        """Answers from the passage ([1]) and its neighbours, with the caller's key or the
        server's, else extractively; stores the thread with the passage."""
        passages = micro_threads.context(conn, caller, chunk_id)
        if passages is None:
            raise HTTPException(404, "no such passage")
        model = pick_chat_model(
            conn, svc.keyring, settings, caller.user_id, body.provider, body.model
        )
        if model is None:
            local = get_model("local", settings.local_model)
            answer, used = answering.extractive(body.question, passages, local), "extractive"
        else:
            answer = "".join(answering.generate(model, body.question, passages))
            used = f"{model.provider}:{model.name}"
        citations = [p.model_dump(mode="json") for p in passages]
        row = micro_threads.store(conn, caller, chunk_id, body.question, answer, used, citations)
        return MicroThread.model_validate(row)

    @routes.get(
        "/{chunk_id}/threads",
        response_model=MicroThreadsResponse,
        summary="A passage's threads",
        dependencies=[rate_limit(settings.rate_limit)],
    )
    def list_threads(chunk_id: int, caller: CallerDep, conn: DbDep) -> MicroThreadsResponse:
        if micro_threads.workspace_of(conn, caller, chunk_id) is None:
            raise HTTPException(404, "no such passage")
        rows = micro_threads.of_passage(conn, caller, chunk_id)
        return MicroThreadsResponse(threads=[MicroThread.model_validate(r) for r in rows])

    @routes.delete(
        "/{chunk_id}/threads/{thread_id}",
        status_code=204,
        summary="Delete one's own micro-thread",
        responses={
            403: {"description": "Asked by another member"},
            404: {"description": "No such micro-thread"},
        },
        dependencies=[rate_limit(settings.rate_limit)],
    )
    def delete_micro_thread(
        chunk_id: int, thread_id: UUID, caller: CallerDep, conn: DbDep
    ) -> Response:
        """The member who asked deletes it; the workspace's other members cannot."""
        micro_threads.delete(conn, caller, chunk_id, thread_id)
        return Response(status_code=204)

    return routes
