"""Embedding models: what the server offers, and a workspace's choice among them."""

from __future__ import annotations

from dataclasses import asdict
from uuid import UUID

from fastapi import APIRouter

from api.config import Settings
from api.embeddings import catalog
from api.http.dependencies import CallerDep, DbDep, ServicesDep, rate_limit
from api.http.schemas import (
    EmbeddingModelBody,
    EmbeddingModelResponse,
    EmbeddingStatusResponse,
)


def _status(done: catalog.EmbeddingStatus) -> EmbeddingStatusResponse:
    return EmbeddingStatusResponse.model_validate(asdict(done))


def router(settings: Settings) -> APIRouter:
    api = APIRouter(
        prefix="/v1", tags=["embedding models"], dependencies=[rate_limit(settings.rate_limit)]
    )

    @api.get(
        "/embedding-models",
        response_model=list[EmbeddingModelResponse],
        summary="List the embedding models",
    )
    def list_models(
        caller: CallerDep, conn: DbDep, svc: ServicesDep
    ) -> list[EmbeddingModelResponse]:
        """Every registered model (the server registers the local default, the
        `KNITTER_LOCAL_MODEL` one, and OpenAI's text-embedding-3-small and Gemini's
        gemini-embedding-001 at 768 dimensions when it has their keys), the default of new
        workspaces first, each marked `available` when this server can embed with it now."""
        svc.register_models(conn)
        return [
            EmbeddingModelResponse.model_validate(asdict(m))
            for m in catalog.list_models(conn, caller, settings)
        ]

    @api.get(
        "/workspaces/{workspace_id}/embedding-model",
        response_model=EmbeddingStatusResponse,
        summary="A workspace's embedding model and re-embedding progress",
    )
    def get_status(workspace_id: UUID, caller: CallerDep, conn: DbDep) -> EmbeddingStatusResponse:
        """The model search uses, the one the workspace is switching to (if any) and how
        many of its passages have that model's vector. Members only (404 otherwise)."""
        return _status(catalog.status(conn, caller, settings, workspace_id))

    @api.put(
        "/workspaces/{workspace_id}/embedding-model",
        response_model=EmbeddingStatusResponse,
        summary="Switch a workspace's embedding model",
    )
    def switch(
        workspace_id: UUID,
        body: EmbeddingModelBody,
        caller: CallerDep,
        conn: DbDep,
        svc: ServicesDep,
    ) -> EmbeddingStatusResponse:
        """Queues the workspace's passages for the model; the embedding worker embeds them
        in the background (follow it with GET). Search keeps the current model until every
        passage has a vector of the new one, then uses the new one. Naming the current
        model cancels a switch under way; vectors already made are kept, so switching back
        to a model re-embeds only what it lacks. Editors and owners only (403 for viewers,
        404 for non-members); `400` for a model this server cannot embed with."""
        svc.register_models(conn)
        return _status(catalog.switch(conn, caller, settings, workspace_id, body.model_id))

    return api
