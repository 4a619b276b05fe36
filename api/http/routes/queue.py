"""POST /v1/queue/drain: embed queued passages now, then put the conversations that are
fully embedded into topic threads. The target of the embed-pending edge function (a
Supabase Database Webhook on embedding_queue); needs the service-role key."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.http.dependencies import DbDep, ServiceRoleDep, ServicesDep
from api.http.schemas import RequestBody
from api.pipeline.after_embedding import place_all_in_topic_threads
from api.pipeline.embedding_queue import pending_count
from api.pipeline.worker import drain_some

routes = APIRouter(prefix="/v1/queue", tags=["operations"])


class DrainBody(RequestBody):
    max_batches: int = Field(default=10, ge=1, le=100)


class DrainResult(BaseModel):
    embedded: int
    pending: int
    threaded: int = Field(description="Conversations placed into topic threads.")


@routes.post("/drain", response_model=DrainResult, summary="Embed queued passages")
def drain(body: DrainBody, caller: ServiceRoleDep, conn: DbDep, svc: ServicesDep) -> DrainResult:
    embedded = drain_some(conn, svc.settings, body.max_batches)
    threaded = place_all_in_topic_threads(conn, svc.settings)
    return DrainResult(embedded=embedded, pending=pending_count(conn), threaded=threaded)
