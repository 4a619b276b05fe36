"""The ASGI entry point: `uvicorn api.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from api.errors import KnitterError
from api.http.app import create_app
from api.http.observability import configure_logging


def __getattr__(name: str) -> FastAPI:
    """`app`, made from the environment on first access (by uvicorn), so that importing this
    module has no side effects."""
    if name != "app":
        raise AttributeError(name)
    configure_logging()
    try:
        application = create_app()
    except KnitterError as exc:  # bad configuration: one line, not a traceback
        raise SystemExit(f"knitter: {exc}") from None
    globals()["app"] = application
    return application
