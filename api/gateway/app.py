"""The gateway's ASGI app: `/auth/v1` and `/rest/v1/rpc` on one origin, so that
`create_client(<gateway url>, <anon key>)` works as against a Supabase project."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import jwt
import psycopg
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool, PoolTimeout

from api import __version__
from api.config import Settings
from api.db.session import Connection
from api.errors import KnitterError
from api.gateway.auth_routes import auth_router
from api.gateway.auth_store import apply_auth_schema
from api.gateway.errors import AuthApiError, PostgrestError
from api.gateway.outbox import Notify, Outbox
from api.gateway.rest_routes import rest_router
from api.gateway.throttle import AuthThrottle
from api.gateway.tokens import TokenIssuer
from api.http.services import connection_pool

API_KEY_ROLES = {"anon", "service_role"}
GUARDED = ("/auth/v1/", "/rest/v1/")
# Reachable without an API key, as on Supabase (key discovery and liveness).
OPEN_PATHS = {"/auth/v1/.well-known/jwks.json", "/auth/v1/health"}
CLIENT_HEADERS = [
    "apikey",
    "authorization",
    "content-type",
    "x-client-info",
    "x-supabase-api-version",
    "prefer",
    "accept-profile",
    "content-profile",
    "range",
]


def create_gateway(
    settings: Settings,
    database: ConnectionPool[Connection] | str,
    *,
    access_token_ttl: int = 3600,
    on_mail: Notify | None = None,
) -> FastAPI:
    """The local Supabase gateway over `database` (a pool it borrows, or a URL it opens
    its own pool for). Tokens are signed with `settings.supabase_jwt_secret`. Mail goes
    to `<home>/outbox/`, and each message to `on_mail` too (knitter dev prints it)."""
    if settings.environment == "production":
        raise KnitterError("the local Supabase gateway is for the local stack only")
    if settings.supabase_jwt_secret is None:
        raise KnitterError("the local Supabase gateway needs SUPABASE_JWT_SECRET")
    secret = settings.supabase_jwt_secret.get_secret_value()
    issuer_url = (settings.supabase_url or "http://127.0.0.1").rstrip("/") + "/auth/v1"
    issuer = TokenIssuer(secret, issuer_url, access_token_ttl)
    pool = (
        connection_pool(database, settings, "knitter-gateway")
        if isinstance(database, str)
        else database
    )
    owns_pool = isinstance(database, str)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owns_pool:
            pool.open(wait=True)
        try:
            with pool.connection() as conn:
                apply_auth_schema(conn)
            yield
        finally:
            if owns_pool:
                pool.close()

    app = FastAPI(
        title="knitter local Supabase gateway",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        max_body_size=settings.max_request_bytes,
    )

    @app.middleware("http")
    async def require_api_key(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # What Supabase's API gateway (Kong) checks before anything else: a known API key.
        path = request.url.path
        if request.method != "OPTIONS" and path.startswith(GUARDED) and path not in OPEN_PATHS:
            key = request.headers.get("apikey") or request.query_params.get("apikey")
            if not key:
                return JSONResponse({"message": "No API key found in request"}, 401)
            if not _is_api_key(key, secret):
                return JSONResponse({"message": "Invalid API key"}, 401)
        return await call_next(request)

    @app.exception_handler(AuthApiError)
    async def auth_error(request: Request, exc: AuthApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(PostgrestError)
    async def postgrest_error(request: Request, exc: PostgrestError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        # What Supabase answers while its database restarts: 503, in each API's shape.
        message = "the database is unavailable; try again in a few seconds"
        headers = {"Retry-After": "5"}
        if request.url.path.startswith("/auth/v1/"):
            return AuthApiError(503, "unexpected_failure", message, headers=headers).response()
        return PostgrestError(503, "PGRST000", message, headers=headers).response()

    # Added last, so outermost: the API-key refusals carry CORS headers too.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=CLIENT_HEADERS,
        expose_headers=["content-range", "x-supabase-api-version"],
        max_age=600,
    )
    # In memory: the gateway is one process of the local stack.
    throttle = AuthThrottle(settings.auth_rate_limit, settings.auth_email_rate_limit)
    site_url = (settings.app_url or settings.supabase_url or "http://127.0.0.1").rstrip("/")
    origins = {site_url, *(o.rstrip("/") for o in settings.cors_origins)}
    outbox = Outbox(settings.home / "outbox", on_mail)
    app.include_router(auth_router(pool, issuer, throttle, outbox, site_url, origins))
    app.include_router(rest_router(pool, issuer))
    return app


def _is_api_key(key: str, secret: str) -> bool:
    try:
        claims = jwt.decode(key, secret, algorithms=["HS256"], options={"verify_aud": False})
    except jwt.PyJWTError:
        return False
    return claims.get("role") in API_KEY_ROLES
