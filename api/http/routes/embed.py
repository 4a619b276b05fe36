"""POST /v1/embed: texts → vectors with a named model, for integrators who call
hybrid_search themselves."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from api.config import Settings
from api.embeddings.registry import UnregisteredModelError, get_model, registered_spec
from api.http.dependencies import CallerDep, DbDep, ServicesDep, rate_limit
from api.http.observability import EMBEDDED_TEXTS
from api.http.schemas import EmbedBody, EmbedResponse
from api.providers.choice import DEFAULT_EMBEDDING_MODELS, api_key


def router(settings: Settings) -> APIRouter:
    routes = APIRouter(prefix="/v1", tags=["embeddings"])

    @routes.post(
        "/embed",
        response_model=EmbedResponse,
        summary="Embed texts",
        dependencies=[rate_limit(settings.rate_limit)],
    )
    def embed(body: EmbedBody, caller: CallerDep, conn: DbDep, svc: ServicesDep) -> EmbedResponse:
        """Vectors for up to 100 texts with a registered model (a row of
        `embedding_models`, as `list_embedding_models()` lists them; 422 otherwise). Remote
        providers use the caller's stored key, else the server's default."""
        name = body.model or DEFAULT_EMBEDDING_MODELS[body.provider]
        key = None
        if body.provider != "local":
            key = api_key(conn, svc.keyring, settings, caller.user_id, body.provider)
        try:
            spec = registered_spec(conn, body.provider, name, body.dims)
        except UnregisteredModelError as exc:
            raise HTTPException(422, str(exc)) from None
        model = get_model(spec.provider, spec.name, spec.dims, key)
        vectors = model.embed(body.texts, body.purpose)
        EMBEDDED_TEXTS.labels(model.provider).inc(len(vectors))
        return EmbedResponse(
            provider=model.provider, model=model.name, dims=model.dims, embeddings=vectors
        )

    return routes
