"""POST /v1/packs: a context pack of a conversation, a topic thread or an answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from slowapi import Limiter

from api.accounts.access_tokens import Principal
from api.config import Settings
from api.db.session import Connection
from api.http.dependencies import CallerDep, DbDep, ServicesDep
from api.http.schemas import PackBody, PackResponse
from api.mcp import tools
from api.mcp.tools import Backend


def router(limiter: Limiter, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["packs"])

    @api.post("/packs", response_model=PackResponse, summary="Make a context pack")
    @limiter.limit(settings.search_rate_limit)
    def make_pack(
        request: Request, body: PackBody, caller: CallerDep, conn: DbDep, svc: ServicesDep
    ) -> PackResponse:
        """Compact Markdown to carry a conversation, a topic thread or the answer to a
        question into another assistant: the goal, the decisions, the open questions, the
        code, and links back to each cited passage, within `budget` tokens (counted as
        passages count them). Extracted, never written by a model; exactly one of
        `conversation_id`, `thread_id`, `question`."""
        backend = Backend(settings, lambda: _same(conn), svc.keyring, svc.cache)
        made = tools.pack(
            backend,
            Principal(caller, "read"),
            conversation_id=body.conversation_id,
            thread_id=body.thread_id,
            question=body.question,
            budget=body.budget,
        )
        return PackResponse.model_validate(made, from_attributes=True)

    return api


class _same:
    """The request's own connection, as the context manager the tools ask for."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        return None
