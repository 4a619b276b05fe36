"""The MCP server over Streamable HTTP, for the API to serve at /mcp.

Stateless (each POST is complete in itself, so replicas need no shared sessions) with
JSON responses. Every request must carry `Authorization: Bearer <token>`, a personal
access token or a Supabase access token, checked before the SDK sees the request: a
missing, unknown, revoked or expired token is a 401 and nothing runs; an address past
AUTH_RATE_LIMIT refused access tokens is a 429 (mcp.auth)."""

from __future__ import annotations

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.accounts.access_tokens import Principal
from api.errors import KnitterError
from api.http.auth import AuthError
from api.mcp.auth import Authenticator
from api.mcp.server import create_server
from api.mcp.tools import Backend
from api.rate_limits import RateLimited

PATH = "/mcp"
SCOPE_KEY = "knitter.principal"


class BearerAuth:
    """ASGI middleware: resolves the bearer token to a principal into the request scope."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app, self.authenticator = app, authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            await _refuse("a bearer token is required", scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        try:
            principal = await anyio.to_thread.run_sync(self.authenticator.principal, token, address)
        except RateLimited as exc:
            limited = JSONResponse(
                {"error": "too_many_requests", "error_description": str(exc)},
                status_code=429,
                headers={"Retry-After": str(exc.retry_after)},
            )
            await limited(scope, receive, send)
            return
        except (AuthError, KnitterError) as exc:
            await _refuse(str(exc), scope, receive, send)
            return
        scope[SCOPE_KEY] = principal
        await self.app(scope, receive, send)


async def _refuse(message: str, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        {"error": "invalid_token", "error_description": message},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
    await response(scope, receive, send)


def principal_of(ctx: Context) -> Principal:
    request = ctx.request_context.request
    principal = getattr(request, "scope", {}).get(SCOPE_KEY)
    if not isinstance(principal, Principal):
        raise AuthError("no authenticated principal for this request")
    return principal


def create_http_app(backend: Backend, authenticator: Authenticator) -> tuple[MCPServer, ASGIApp]:
    """The server and the ASGI app to route at /mcp (the server's session manager must run
    for the app's lifetime: `async with server.session_manager.run()`)."""
    server = create_server(backend, principal_of)
    # Requests are authenticated, so DNS rebinding gains an attacker nothing without a
    # token; the SDK's localhost-only host check is kept off production, where the API
    # sits behind its own host name.
    security = (
        TransportSecuritySettings(enable_dns_rebinding_protection=False)
        if backend.settings.environment == "production"
        else None
    )
    app = server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        transport_security=security,
    )
    return server, BearerAuth(app, authenticator)
