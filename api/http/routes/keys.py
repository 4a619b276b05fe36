"""/v1/keys/{provider}: the caller's own OpenAI or Gemini key, stored encrypted."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import get_args

from fastapi import APIRouter, HTTPException, Response, status

from api.accounts import keys
from api.config import Settings
from api.errors import KnitterError, ProviderError
from api.http.dependencies import CallerDep, DbDep, ServicesDep, rate_limit
from api.http.schemas import KeyBody, KeyInfoResponse, KeyList, KeyTestResponse
from api.providers import choice
from api.providers.choice import DEFAULT_EMBEDDING_MODELS, api_key, key_test_model
from api.providers.failures import LABELS, timed_out

# The model's own deadline bounds every socket wait; a reply that trickles in after it
# would still hold the person on the settings page, so the answer waits for the probe (in
# its own thread) at most KEY_TEST_TIMEOUT_S.
_PROBES = ThreadPoolExecutor(max_workers=4, thread_name_prefix="key-test")


def probe(provider: str, secret: str) -> None:
    """One embedding with the key, given up on after KEY_TEST_TIMEOUT_S in all (the thread
    then ends on its client's own deadline)."""
    future = _PROBES.submit(key_test_model(provider, secret).embed, ["knitter"], "query")
    try:
        future.result(timeout=choice.KEY_TEST_TIMEOUT_S)
    except FutureTimeout:
        raise timed_out(provider, secret) from None


def key_test_message(exc: KnitterError) -> str:
    """What a failed test means to the person holding the key, in their words."""
    if not isinstance(exc, ProviderError):
        return str(exc)
    label = LABELS.get(exc.provider, exc.provider)
    if exc.kind == "auth":
        return f"{label} refused this key: check that it was copied whole and is still active."
    if exc.kind == "rate_limit":
        return f"{label} accepted the key, but its rate limit or quota is used up for now."
    if exc.kind == "unavailable":
        return (
            f"Could not reach {label} within {choice.KEY_TEST_TIMEOUT_S:g} seconds: check the"
            " server's network or try again later. The key itself was not checked."
        )
    return str(exc)  # already says who rejected what, e.g. "… (HTTP 404): Not Found"


def router(settings: Settings) -> APIRouter:
    routes = APIRouter(
        prefix="/v1/keys", tags=["keys"], dependencies=[rate_limit(settings.rate_limit)]
    )

    def user(caller: CallerDep) -> None:
        if caller.claims.get("is_anonymous"):
            raise HTTPException(403, "guests cannot store API keys; sign up first")

    @routes.get("", response_model=KeyList, summary="List the stored keys")
    def list_keys(caller: CallerDep, conn: DbDep) -> KeyList:
        """The providers the caller has stored a key for (last four characters only): a
        `200` even when there is none, so a settings page needs no 404 to learn it."""
        found = (keys.describe(conn, caller, p) for p in get_args(keys.Provider))
        return KeyList(keys=[KeyInfoResponse(**vars(info)) for info in found if info])

    @routes.get("/{provider}", response_model=KeyInfoResponse, summary="Describe the stored key")
    def get_key(provider: keys.Provider, caller: CallerDep, conn: DbDep) -> KeyInfoResponse:
        info = keys.describe(conn, caller, provider)
        if info is None:
            raise HTTPException(404, f"no {provider} key is stored")
        return KeyInfoResponse(**vars(info))

    @routes.put("/{provider}", response_model=KeyInfoResponse, summary="Store (replace) the key")
    def put_key(
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
    def delete_key(provider: keys.Provider, caller: CallerDep, conn: DbDep) -> Response:
        if not keys.delete(conn, caller, provider):
            raise HTTPException(404, f"no {provider} key is stored")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @routes.post("/{provider}/test", response_model=KeyTestResponse, summary="Try the key")
    def test_key(
        provider: keys.Provider,
        caller: CallerDep,
        conn: DbDep,
        svc: ServicesDep,
    ) -> KeyTestResponse:
        """Embeds one word with the provider using the stored key (else the server's): one
        attempt of at most a few seconds, its failure said in plain words."""
        secret = api_key(conn, svc.keyring, settings, caller.user_id, provider)
        model_name = DEFAULT_EMBEDDING_MODELS[provider]
        try:
            probe(provider, secret)
        except KnitterError as exc:
            return KeyTestResponse(
                ok=False, provider=provider, model=model_name, message=key_test_message(exc)
            )
        return KeyTestResponse(
            ok=True, provider=provider, model=model_name, message="the key works"
        )

    return routes
