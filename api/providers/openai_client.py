"""What the OpenAI embedding and chat models share: one httpx client per process, the
`error` object of OpenAI's error JSON, and how it becomes a ProviderError without the key."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import httpx

from api.errors import ProviderError, ProviderErrorKind

# OpenAI echoes a masked key ("sk-proj-abcd****wxyz") in some messages.
_KEY_LIKE = re.compile(r"\bsk-[\w*.-]+")


@cache
def http() -> httpx.Client:
    """One connection pool per process: models are made per key and per request."""
    return httpx.Client()


def error_body(response: httpx.Response) -> dict[str, Any]:
    """The `error` object of OpenAI's error JSON ({"error": {"message", "type", "param",
    "code"}}); proxies in front of it may send HTML instead."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return {"message": response.reason_phrase}
    if isinstance(error, dict):
        return error
    return {"message": str(error) if error else response.reason_phrase}


def fail(
    kind: ProviderErrorKind, message: str, api_key: str, status: int | None = None
) -> ProviderError:
    message = _KEY_LIKE.sub("sk-…", message.replace(api_key, "…"))
    return ProviderError("openai", kind, message, status)


def http_error(status: int, error: dict[str, Any], model: str, api_key: str) -> ProviderError:
    detail = str(error.get("message") or f"HTTP {status}")
    kind: ProviderErrorKind
    # A 403 "invalid_request_error" is a model the key may not use, not a bad key.
    if status == 401 or (status == 403 and error.get("type") != "invalid_request_error"):
        kind, text = "auth", "OpenAI refused the API key"
    elif status == 429:
        kind, text = "rate_limit", "OpenAI's rate limit or quota is exhausted"
    elif status >= 500 or status in (408, 409):
        kind, text = "unavailable", "OpenAI is unavailable"
    else:
        kind, text = "bad_request", f"OpenAI rejected the request for {model}"
    return fail(kind, f"{text} (HTTP {status}): {detail}", api_key, status)
