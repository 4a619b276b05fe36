"""Small readers of what a Supabase client sends: the JSON body and the bearer token."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from api.text import NOT_TEXT, holds_lone_surrogate


class BadBody(ValueError):
    """The body is not JSON, or not a JSON object."""


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body is an empty object."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadBody(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise BadBody("invalid JSON: nested too deeply") from None
    if not isinstance(value, dict):
        raise BadBody("the body must be a JSON object")
    if holds_lone_surrogate(value):
        raise BadBody(f"invalid JSON: {NOT_TEXT}")
    return value


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
