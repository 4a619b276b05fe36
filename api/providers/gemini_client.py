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


@cache
def http() -> httpx.Client:
    return httpx.Client()


@cache
def async_http() -> httpx.AsyncClient:
    return httpx.AsyncClient()


def fail(
    kind: ProviderErrorKind, message: str, api_key: str, status: int | None = None
) -> ProviderError:
    return ProviderError("gemini", kind, message.replace(api_key, "…"), status)


def api_error(exc: errors.APIError, model: str, api_key: str) -> ProviderError:
    status = exc.code
    detail = exc.message or exc.status or f"HTTP {status}"
    kind: ProviderErrorKind
    # An invalid key is a 400 INVALID_ARGUMENT whose ErrorInfo says API_KEY_INVALID.
    if status in (401, 403) or "API_KEY_INVALID" in json.dumps(exc.details, default=str):
        kind, text = "auth", "Gemini refused the API key"
    elif status == 429:
        kind, text = "rate_limit", "Gemini's rate limit or quota is exhausted"
    elif status >= 500 or status == 408:
        kind, text = "unavailable", "Gemini is unavailable"
    else:
        kind, text = "bad_request", f"Gemini rejected the request for {model}"
    return fail(kind, f"{text} (HTTP {status} {exc.status}): {detail}", api_key, status)


@contextmanager
def provider_errors(model: str, api_key: str) -> Iterator[None]:
    """Turns what the SDK and httpx raise into ProviderErrors (without the key)."""
    try:
        yield
    except errors.APIError as exc:
        raise api_error(exc, model, api_key) from None
    except httpx.TimeoutException:
        raise fail("unavailable", "Gemini did not answer in time", api_key) from None
    except httpx.TransportError as exc:
        raise fail("unavailable", f"cannot reach Gemini: {type(exc).__name__}", api_key) from None
