"""The built web app (`frontend/dist`) as an ASGI app, with its runtime configuration at
`/config.js` (and `/config.json`), for `knitter dev`: one origin for the app, the local
Supabase gateway and the API.

Hashed bundles under `/assets/` are cached for a year (their names change with their
content); `index.html` and the configuration are never cached; any other path that is not a
file answers `index.html`, so the single-page app's routes survive a reload."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# What `with_webapp` sends to the API; every other path belongs to the web app.
API_PATHS = ("/health", "/metrics", "/docs", "/redoc", "/openapi.json", "/mcp")
API_PREFIXES = ("/v1/", "/docs/")


@dataclass(frozen=True)
class RuntimeConfig:
    """What the browser needs to find Supabase and the API (`window.__KNITTER_CONFIG__`)."""

    supabase_url: str
    supabase_anon_key: str
    api_url: str
    sentry_dsn: str = ""
    environment: str = "development"

    def as_json(self) -> str:
        """In the frontend's names (src/lib/config.ts); "<" escaped, so the text can never
        close a tag."""
        return json.dumps(
            {
                "supabaseUrl": self.supabase_url,
                "supabaseAnonKey": self.supabase_anon_key,
                "apiUrl": self.api_url,
                "sentryDsn": self.sentry_dsn,
                "environment": self.environment,
            }
        ).replace("<", "\\u003c")

    def script(self) -> str:
        return f"window.__KNITTER_CONFIG__ = {self.as_json()};\n"


def _origin(url: str) -> str:
    """scheme://host[:port] of `url`, without any user info (a Sentry DSN carries a key)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def content_security_policy(config: RuntimeConfig) -> str:
    """Only the app itself, Supabase and the API (and Sentry's ingest host when a DSN is
    set): no inline scripts, no frames, no other origins."""
    connect = ["'self'"]
    for url in (config.supabase_url, config.api_url, config.sentry_dsn):
        origin = _origin(url)
        if origin and origin not in connect:
            connect.append(origin)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {' '.join(connect)}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(config: RuntimeConfig) -> dict[str, str]:
    headers = {
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Content-Security-Policy": content_security_policy(config),
    }
    if config.supabase_url.startswith("https://"):
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


class _SinglePageFiles(StaticFiles):
    """Files of `dist`; a path that is no file gets `index.html`, except under /assets/,
    where a missing bundle is a plain 404 (never HTML served as a script)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or path.startswith("assets/"):
                raise
            response = await super().get_response("index.html", scope)
            response.headers["Cache-Control"] = NO_CACHE
            return response
        if path.startswith("assets/"):
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = NO_CACHE
        return response


def create_webapp(
    origin: str,
    anon_key: str,
    api_url: str,
    *,
    dist: Path = DIST,
    sentry_dsn: str = "",
    environment: str = "development",
) -> ASGIApp:
    """The web app in `dist` with its runtime configuration built from the Supabase
    `origin`, the `anon_key` and the `api_url`. Without a build it answers 503 and says how
    to make one."""
    config = RuntimeConfig(origin, anon_key, api_url, sentry_dsn, environment)
    headers = security_headers(config)
    files = _SinglePageFiles(directory=dist, check_dir=False)
    script = config.script()
    body = config.as_json()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = str(scope["path"])
        response: Response
        if scope["method"] not in ("GET", "HEAD"):
            response = PlainTextResponse("Method Not Allowed", 405, {"Allow": "GET, HEAD"})
        elif path == "/config.js":
            response = Response(script, media_type="text/javascript")
            response.headers["Cache-Control"] = "no-store"
        elif path == "/config.json":
            response = Response(body, media_type="application/json")
            response.headers["Cache-Control"] = "no-store"
        elif not (dist / "index.html").is_file():
            response = PlainTextResponse(
                "The web app is not built: run `npm ci && npm run build` in frontend/.", 503
            )
        else:
            try:
                response = await files.get_response(files.get_path(scope), scope)
            except HTTPException as exc:
                response = PlainTextResponse(exc.detail, exc.status_code)
        response.headers.update(headers)
        await response(scope, receive, send)

    return app


def is_api_path(path: str) -> bool:
    return path in API_PATHS or path.startswith(API_PREFIXES)


def with_webapp(api: ASGIApp, webapp: ASGIApp) -> ASGIApp:
    """The API's paths (`/v1/…`, `/health`, `/metrics`, the docs) to `api`, its lifespan
    too; every other path to the web app."""

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or is_api_path(str(scope.get("path", ""))):
            await api(scope, receive, send)
        else:
            await webapp(scope, receive, send)

    return dispatch
