"""One origin for the local stack: the gateway's `/auth/v1` and `/rest/v1` beside another
ASGI app (the API and the web app), as `knitter dev` serves them."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

GATEWAY_PREFIXES = ("/auth/v1/", "/rest/v1/")


def with_gateway(app: ASGIApp, gateway: FastAPI) -> ASGIApp:
    """Routes the gateway's paths to it and everything else to `app`. The gateway's startup
    (its pool, its auth tables) and shutdown run around `app`'s own lifespan."""

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            async with gateway.router.lifespan_context(gateway):
                await app(scope, receive, send)
            return
        if scope["type"] == "http" and str(scope["path"]).startswith(GATEWAY_PREFIXES):
            await gateway(scope, receive, send)
            return
        await app(scope, receive, send)

    return dispatch
