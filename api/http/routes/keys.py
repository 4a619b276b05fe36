"""/v1/keys/{provider}: the caller's own OpenAI or Gemini key, stored encrypted."""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, HTTPException, Request, Response, status
from slowapi import Limiter

from api.accounts import keys
from api.config import Settings
from api.errors import KnitterError
from api.http.dependencies import CallerDep, DbDep, ServicesDep
from api.http.schemas import KeyBody, KeyInfoResponse, KeyList, KeyTestResponse
from api.providers.choice import DEFAULT_EMBEDDING_MODELS, api_key, key_test_model


def router(limiter: Limiter, settings: Settings) -> APIRouter:
    routes = APIRouter(prefix="/v1/keys", tags=["keys"])

    def user(caller: CallerDep) -> None:
        if caller.claims.get("is_anonymous"):
            raise HTTPException(403, "guests cannot store API keys; sign up first")

    @routes.get("", response_model=KeyList, summary="List the stored keys")
    @limiter.limit(settings.rate_limit)
    def list_keys(request: Request, caller: CallerDep, conn: DbDep) -> KeyList:
        """The providers the caller has stored a key for (last four characters only): a
        `200` even when there is none, so a settings page needs no 404 to learn it."""
        found = (keys.describe(conn, caller, p) for p in get_args(keys.Provider))
        return KeyList(keys=[KeyInfoResponse(**vars(info)) for info in found if info])

    @routes.get("/{provider}", response_model=KeyInfoResponse, summary="Describe the stored key")
    @limiter.limit(settings.rate_limit)
    def get_key(
        request: Request, provider: keys.Provider, caller: CallerDep, conn: DbDep
    ) -> KeyInfoResponse:
        info = keys.describe(conn, caller, provider)
        if info is None:
            raise HTTPException(404, f"no {provider} key is stored")
        return KeyInfoResponse(**vars(info))

    @routes.put("/{provider}", response_model=KeyInfoResponse, summary="Store (replace) the key")
    @limiter.limit(settings.rate_limit)
    def put_key(
        request: Request,
        provider: keys.Provider,
        body: KeyBody,
        caller: CallerDep,
        conn: DbDep,
        svc: ServicesDep,
    ) -> KeyInfoResponse:
        user(caller)
        assert caller.user_id is not None
        info = keys.store(conn, svc.keyring, caller.user_id, provider, body.key)
        return KeyInfoResponse(**vars(info))

    @routes.delete("/{provider}", status_code=204, summary="Forget the key")
    @limiter.limit(settings.rate_limit)
    def delete_key(
        request: Request, provider: keys.Provider, caller: CallerDep, conn: DbDep
    ) -> Response:
        if not keys.delete(conn, caller, provider):
            raise HTTPException(404, f"no {provider} key is stored")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @routes.post("/{provider}/test", response_model=KeyTestResponse, summary="Try the key")
    @limiter.limit(settings.rate_limit)
    def test_key(
        request: Request,
        provider: keys.Provider,
        caller: CallerDep,
        conn: DbDep,
        svc: ServicesDep,
    ) -> KeyTestResponse:
        """Embeds one word with the provider using the stored key (else the server's),
        given up on after 10 s in all."""
        secret = api_key(conn, svc.keyring, settings, caller.user_id, provider)
        model_name = DEFAULT_EMBEDDING_MODELS[provider]
        try:
            key_test_model(provider, secret).embed(["knitter"], "query")
        except KnitterError as exc:
            return KeyTestResponse(ok=False, provider=provider, model=model_name, message=str(exc))
        return KeyTestResponse(
            ok=True, provider=provider, model=model_name, message="the key works"
        )

    return routes
