"""api/http/webapp.py: the built frontend, its runtime configuration and the one-origin dispatch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from api.http.webapp import (
    IMMUTABLE,
    RuntimeConfig,
    content_security_policy,
    create_webapp,
    is_api_path,
    with_webapp,
)

ORIGIN = "http://127.0.0.1:54321"
INDEX = "<!doctype html><title>knitter</title><script src='/config.js'></script>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-abc123.js").write_text("console.log('app')")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("do not serve")
    return root


def client(dist: Path, **kwargs: str) -> TestClient:
    return TestClient(create_webapp(ORIGIN, "anon-key", ORIGIN, dist=dist, **kwargs))


def test_config_js_carries_the_runtime_configuration(dist: Path) -> None:
    response = client(dist, sentry_dsn="https://k@o1.ingest.sentry.io/2").get("/config.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-store"
    prefix = "window.__KNITTER_CONFIG__ = "
    assert response.text.startswith(prefix)
    config = json.loads(response.text.removeprefix(prefix).rstrip().rstrip(";"))
    assert config == {
        "supabaseUrl": ORIGIN,
        "supabaseAnonKey": "anon-key",
        "apiUrl": ORIGIN,
        "sentryDsn": "https://k@o1.ingest.sentry.io/2",
        "environment": "development",
    }
    assert client(dist).get("/config.json").json()["supabaseAnonKey"] == "anon-key"


def test_config_cannot_close_the_script_tag(dist: Path) -> None:
    app = create_webapp(ORIGIN, "</script><script>alert(1)", ORIGIN, dist=dist)
    text = TestClient(app).get("/config.js").text
    assert "</script>" not in text
    assert "\\u003c/script>" in text


def test_index_and_spa_fallback_are_never_cached(dist: Path) -> None:
    web = client(dist)
    for path in ("/", "/search", "/sources/1b2c?passage=4", "/settings/deep/link"):
        response = web.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_immutable_and_missing_ones_are_404(dist: Path) -> None:
    web = client(dist)
    asset = web.get("/assets/index-abc123.js")
    assert asset.status_code == 200 and asset.text == "console.log('app')"
    assert asset.headers["cache-control"] == IMMUTABLE
    missing = web.get("/assets/index-gone.js")
    assert missing.status_code == 404
    assert INDEX not in missing.text
    favicon = web.get("/favicon.svg")
    assert favicon.text == "<svg/>" and favicon.headers["cache-control"] == "no-cache"


def test_nothing_outside_dist_is_served(dist: Path) -> None:
    web = client(dist)
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
        assert "do not serve" not in web.get(path).text, path


def test_security_headers(dist: Path) -> None:
    response = client(dist, sentry_dsn="https://k@o1.ingest.sentry.io/2").get("/")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    csp = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["connect-src"].split() == ["'self'", ORIGIN, "https://o1.ingest.sentry.io"]
    assert "strict-transport-security" not in response.headers  # plain http on loopback


def test_hsts_and_separate_api_origin_over_https(tmp_path: Path, dist: Path) -> None:
    app = create_webapp("https://abc.supabase.co", "anon", "https://api.example.org/", dist=dist)
    response = TestClient(app).get("/")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    connect = next(
        part
        for part in response.headers["content-security-policy"].split("; ")
        if part.startswith("connect-src")
    )
    assert connect == "connect-src 'self' https://abc.supabase.co https://api.example.org"


def test_without_a_build_it_says_how_to_make_one(tmp_path: Path) -> None:
    web = client(tmp_path / "missing")
    response = web.get("/")
    assert response.status_code == 503
    assert "npm run build" in response.text
    assert web.get("/config.js").status_code == 200


def test_only_get_and_head(dist: Path) -> None:
    web = client(dist)
    assert web.post("/").status_code == 405
    assert web.head("/").status_code == 200


def _named(name: str) -> ASGIApp:
    async def answer(request: Request) -> PlainTextResponse:
        return PlainTextResponse(name)

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/search", "api"),
        ("/v1/imports/123", "api"),
        ("/health", "api"),
        ("/metrics", "api"),
        ("/docs", "api"),
        ("/docs/oauth2-redirect", "api"),
        ("/openapi.json", "api"),
        ("/", "web"),
        ("/search", "web"),
        ("/healthy", "web"),
        ("/v1", "web"),
        ("/config.js", "web"),
    ],
)
def test_with_webapp_sends_api_paths_to_the_api(path: str, expected: str) -> None:
    app = with_webapp(_named("api"), _named("web"))
    assert TestClient(app).get(path).text == expected
    assert is_api_path(path) is (expected == "api")


def test_with_webapp_runs_the_api_lifespan() -> None:
    events: list[str] = []
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("start")
        yield
        events.append("stop")

    api = Starlette(lifespan=lifespan)
    with TestClient(with_webapp(api, _named("web"))):
        assert events == ["start"]
    assert events == ["start", "stop"]


def test_vercel_json_matches_the_local_web_app() -> None:
    """vercel.json builds frontend/, falls back to the SPA (never for a missing bundle) and
    sends the same security headers and caching as `knitter dev` does."""
    root = Path(__file__).resolve().parents[1]
    vercel = json.loads((root / "vercel.json").read_text())
    assert vercel["outputDirectory"] == "frontend/dist"
    assert "write-config.mjs" in vercel["buildCommand"]
    (rewrite,) = vercel["rewrites"]
    assert rewrite["destination"] == "/index.html"
    assert rewrite["source"].startswith("/((?!assets/")
    rules = {
        rule["source"]: {h["key"]: h["value"] for h in rule["headers"]}
        for rule in vercel["headers"]
    }
    everywhere = rules["/(.*)"]
    assert everywhere["X-Frame-Options"] == "DENY"
    assert everywhere["X-Content-Type-Options"] == "nosniff"
    assert everywhere["Strict-Transport-Security"].startswith("max-age=")
    assert rules["/assets/(.*)"]["Cache-Control"] == IMMUTABLE
    assert rules["/config.js"]["Cache-Control"] == "no-store"

    def directives(policy: str) -> dict[str, str]:
        return dict(part.strip().split(" ", 1) for part in policy.split(";"))

    deployed = directives(everywhere["Content-Security-Policy"])
    local = directives(content_security_policy(RuntimeConfig(ORIGIN, "anon", ORIGIN)))
    assert deployed.pop("connect-src").split()[:1] == ["'self'"]
    local.pop("connect-src")
    assert deployed == local
    assert "unsafe" not in everywhere["Content-Security-Policy"]
