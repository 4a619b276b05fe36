"""POST /v1/packs: a context pack of a conversation, a topic thread or an answer."""

from __future__ import annotations

from fastapi import APIRouter

from api.answers import packs
from api.config import Settings
from api.http.dependencies import CallerDep, DbDep, ServicesDep, rate_limit
from api.http.schemas import PackBody, PackResponse


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["packs"])

    @api.post(
        "/packs",
        response_model=PackResponse,
        summary="Make a context pack",
        dependencies=[rate_limit(settings.search_rate_limit)],
    )
    def make_pack(body: PackBody, caller: CallerDep, conn: DbDep, svc: ServicesDep) -> PackResponse:
        """Compact Markdown to carry a conversation, a topic thread or the answer to a
        question into another assistant: the goal, the decisions, the open questions, the
        code, and links back to each cited passage, within `budget` tokens (counted as
        passages count them). Extracted from the archive, never written by a model (an
        answer's own text is the model's, as `POST /v1/ask` gives it); exactly one of
        `conversation_id`, `thread_id`, `question`."""
        made = packs.make(
            conn,
            caller,
            settings,
            svc.keyring,
            svc.cache,
            conversation_id=body.conversation_id,
            thread_id=body.thread_id,
            question=body.question,
            budget=body.budget,
        )
        return PackResponse.model_validate(made, from_attributes=True)

    return api
