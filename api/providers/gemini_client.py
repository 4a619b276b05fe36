"""What the Gemini embedding and chat models share: one pair of httpx clients per process
(ours, so respx can replay them in tests), retries within one time bound, and how Google's
errors become ProviderErrors without the key."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TypeVar

import httpx
from google.genai import errors, types

from api.errors import ProviderError, ProviderErrorKind
from api.providers import failures
from api.providers.deadline import DeadlinePassed, within

T = TypeVar("T")
# What the SDK itself retries (google.genai's defaults).
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@cache
def http() -> httpx.Client:
    return httpx.Client()


@cache
def async_http() -> httpx.AsyncClient:
    return httpx.AsyncClient()


def options() -> types.HttpOptions:
    """The client's options: one attempt a request (`call` retries), on our clients. The
    SDK would otherwise build two clients per model (an async one we never use), on httpx2
    when installed, which respx cannot replay in tests."""
    return types.HttpOptions(
        retry_options=types.HttpRetryOptions(attempts=1),
        httpx_client=http(),
        httpx_async_client=async_http(),
    )


def timeout_ms(left: float) -> types.HttpOptions:
    """A request's own options: what is left of the bound (the SDK counts milliseconds)."""
    return types.HttpOptions(timeout=max(1, int(left * 1000)))


def call(
    timeout: float,
    retries: int,
    backoff: float,
    max_backoff: float,
    model: str,
    api_key: str,
    attempt: Callable[[float], T],
) -> T:
    """attempt(seconds left), retried as the SDK would (408, 429, 5xx, timeouts, refused
    connections; exponential backoff with jitter) but all of it within `timeout` seconds."""

    def pause(attempt_number: int, _: BaseException) -> float:
        waited = float(backoff * 2 ** (attempt_number - 1) + random.uniform(0, backoff))
        return max(0.0, min(waited, max_backoff))

    with provider_errors(model, api_key):
        try:
            return within(timeout, attempt, attempts=retries + 1, retryable=retryable, pause=pause)
        except DeadlinePassed:
            raise failures.timed_out("gemini", api_key) from None


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, errors.APIError):
        return bool(exc.code in RETRIED_STATUSES)
    return isinstance(exc, httpx.TimeoutException | httpx.ConnectError)


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
