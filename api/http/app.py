"""The knitter API: `uvicorn api.main:app`. It holds the secrets and the models; the data
lives in Supabase (or any PostgreSQL with the migrations), guarded by row-level security."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager

import anyio
import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from mcp.server.mcpserver import MCPServer
from psycopg_pool import PoolTimeout
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import __version__
from api.accounts.keyring import KeyringError
from api.config import Settings, load_settings
from api.db.session import Connection
from api.errors import KnitterError, NotAllowedError, NotFoundError, ProviderError
from api.http.observability import LATENCY, REQUESTS, init_sentry
from api.http.routes import (
    account,
    ask,
    embed,
    embedding_models,
    health,
    history,
    imports,
    keys,
    micro_threads,
    packs,
    queue,
    search,
    topic_threads,
)
from api.http.services import Services
from api.mcp.auth import Authenticator
from api.mcp.http import PATH as MCP_PATH
from api.mcp.http import create_http_app
from api.mcp.tools import Backend
from api.providers.choice import MissingKeyError
from api.rate_limits import RateLimited

log = logging.getLogger("knitter.api")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# The interactive docs load Swagger UI's scripts from a CDN; every other response is data.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    svc = Services.from_settings(settings)  # refuses bad configuration before serving
    if settings.sentry_dsn is not None:
        init_sentry(settings.sentry_dsn.get_secret_value(), settings.environment, __version__)

    mcp_server, mcp_app = mcp_endpoint(svc)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc.open()
        # Import jobs run on threads of their own limiter; requests wait for a connection
        # on the gate (dependencies.db), never on a worker thread. Jobs (a connection
        # each, and a second for a key look-up), the embedding worker and heartbeats
        # keep what the gate leaves, so nobody waits on the pool for long.
        svc.import_limiter = anyio.CapacityLimiter(settings.import_concurrency)
        reserved = 2 * settings.import_concurrency + 2
        svc.db_gate = anyio.Semaphore(max(1, settings.db_pool_max - reserved))
        await build_routes(app)
        try:
            async with mcp_server.session_manager.run():
                yield
        finally:
            svc.close()

    app = FastAPI(
        title="knitter API",
        version=__version__,
        summary="Imports, search, embeddings and API keys for knitter.",
        lifespan=lifespan,
        # A body is read (and a 422 echoes it) before the token is checked: bounded for
        # everyone; uploads have their own limit (routes/imports.py).
        max_body_size=settings.max_request_bytes,
    )
    app.state.services = svc

    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )

    if settings.forwarded_allow_ips:
        # Only these proxies may say who the client is: rate limits key on that address.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)

    # Outermost: it sees every response, the error handlers' too.
    app.add_middleware(ObserveRequests, production=settings.environment == "production")

    _error_handlers(app)
    app.include_router(health.router())
    app.include_router(queue.routes)
    for module in (
        imports,
        search,
        embed,
        embedding_models,
        keys,
        history,
        account,
        ask,
        micro_threads,
        topic_threads,
    ):
        app.include_router(module.router(settings))
    app.include_router(packs.router(settings))
    # The MCP server (Streamable HTTP): an ASGI app of its own, with its own bearer check.
    app.router.routes.append(Route(MCP_PATH, mcp_app, methods=["GET", "POST", "DELETE"]))
    return app


async def build_routes(app: FastAPI) -> None:
    """FastAPI builds an included router's routes (their dependencies, their models) on
    the first request that reaches them, ~10 ms in all here. A request for no route, passed
    to the router alone (no log line, no metrics), reaches every router at start."""
    path = "/.no-such-route"
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "server": None,
        "client": None,
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        pass

    await app.router(scope, receive, send)


class ObserveRequests:
    """Metrics, a log line and the security headers for every HTTP response. Plain ASGI
    rather than `@app.middleware("http")`, whose task group and streams per request cost
    more than a small search does."""

    def __init__(self, app: ASGIApp, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex
        status = 500  # what the server answers if the app raises before responding
        observed = False

        def observe() -> None:
            """Once, when the response is sent: background tasks (an import job) run after
            it, and are not the request's time."""
            nonlocal observed
            observed = True
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "route": route,
                    "method": method,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                    "request_id": request_id,
                },
            )

        async def respond(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.update(SECURITY_HEADERS)
                if not str(scope["path"]).startswith(DOCS_PATHS):
                    headers["Content-Security-Policy"] = API_CSP
                if self.production:
                    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
                headers["X-Request-ID"] = request_id
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                observe()

        try:
            await self.app(scope, receive, respond)
        finally:
            if not observed:
                observe()


def mcp_endpoint(svc: Services) -> tuple[MCPServer, ASGIApp]:
    def connection() -> AbstractContextManager[Connection]:
        assert svc.pool is not None, "the API is not started"
        return svc.pool.connection()

    backend = Backend(svc.settings, connection, svc.keyring, svc.cache, svc.rate_limits)
    return create_http_app(backend, Authenticator(backend, svc.verifier))


RETRY = {"Retry-After": "5"}


def _error_handlers(app: FastAPI) -> None:
    def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"detail": message}, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own answer, ASCII-escaped: the errors echo the input, and a lone
        # surrogate in it (refused by schemas.RequestBody) has no UTF-8 form.
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
        return Response(body, 422, media_type="application/json")

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        return error(429, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(MissingKeyError)
    async def missing_key(request: Request, exc: MissingKeyError) -> JSONResponse:
        return error(400, str(exc))

    @app.exception_handler(ProviderError)
    async def provider_failed(request: Request, exc: ProviderError) -> JSONResponse:
        status = {"auth": 400, "bad_request": 400, "rate_limit": 429}.get(exc.kind, 502)
        return error(status, str(exc))

    @app.exception_handler(KeyringError)
    async def keyring_failed(request: Request, exc: KeyringError) -> JSONResponse:
        log.error("keyring: %s", exc)
        return error(503, "stored keys are unavailable on this server")

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return error(404, str(exc))

    @app.exception_handler(NotAllowedError)
    async def not_allowed(request: Request, exc: NotAllowedError) -> JSONResponse:
        return error(403, str(exc))

    @app.exception_handler(KnitterError)
    async def knitter_error(request: Request, exc: KnitterError) -> JSONResponse:
        return error(400, str(exc))

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def too_slow(request: Request, exc: psycopg.Error) -> JSONResponse:
        return error(503, "the database took too long to answer; try again", RETRY)

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        # Restarted, unreachable or every connection busy: the pool reconnects by itself.
        log.warning("database unavailable: %s", type(exc).__name__)
        return error(503, "the database is unavailable; try again in a few seconds", RETRY)

    @app.exception_handler(psycopg.errors.InsufficientPrivilege)
    async def forbidden(request: Request, exc: psycopg.Error) -> JSONResponse:
        return error(403, "not allowed")

    @app.exception_handler(psycopg.errors.InvalidParameterValue)
    async def invalid(request: Request, exc: psycopg.Error) -> JSONResponse:
        return error(422, exc.diag.message_primary or "invalid parameter")

    @app.exception_handler(psycopg.DataError)
    async def bad_data(request: Request, exc: psycopg.Error) -> JSONResponse:
        # Values the database cannot take (NUL characters, out-of-range dates): the
        # request's fault, and nothing was written.
        return error(422, "the request holds a value the database cannot store")
