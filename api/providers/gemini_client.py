"""What the Gemini embedding and chat models share: one pair of httpx clients per process
(ours, so respx can replay them in tests), and how Google's errors become ProviderErrors
without the key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import httpx
from google.genai import errors

from api.errors import ProviderError, ProviderErrorKind
from api.providers import failures


@cache
def http() -> httpx.Client:
    return httpx.Client()


@cache
def async_http() -> httpx.AsyncClient:
    return httpx.AsyncClient()


def fail(
    kind: ProviderErrorKind, message: str, api_key: str, status: int | None = None
) -> ProviderError:
    return failures.fail("gemini", kind, message, api_key, status)


def api_error(exc: errors.APIError, model: str, api_key: str) -> ProviderError:
    detail = exc.message or exc.status or f"HTTP {exc.code}"
    # An invalid key is a 400 INVALID_ARGUMENT whose ErrorInfo says API_KEY_INVALID.
    refused = exc.code in (401, 403) or "API_KEY_INVALID" in json.dumps(exc.details, default=str)
    return failures.status_failure(
        "gemini",
        exc.code,
        refused_key=refused,
        model=model,
        detail=detail,
        api_key=api_key,
        code=exc.status,
    )


@contextmanager
def provider_errors(model: str, api_key: str) -> Iterator[None]:
    """Turns what the SDK and httpx raise into ProviderErrors (without the key)."""
    try:
        yield
    except errors.APIError as exc:
        raise api_error(exc, model, api_key) from None
    except httpx.TimeoutException:
        raise failures.timed_out("gemini", api_key) from None
    except httpx.TransportError as exc:
        raise failures.unreachable("gemini", exc, api_key) from None
