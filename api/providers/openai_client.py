"""What the OpenAI embedding and chat models share: the official SDK's client, made per key
over one httpx pool per process (httpx underneath, so respx replays it in tests), its
retries within one time bound, and how the SDK's errors become ProviderErrors without the
key."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

import httpx
import openai

from api.errors import ProviderError, ProviderErrorKind
from api.providers import failures
from api.providers.deadline import DeadlinePassed, backoff, within

T = TypeVar("T")
# What the SDK waits between attempts when the server does not say (0.5 s doubling, 8 s at
# most), and the longest Retry-After it honours.
INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0


@cache
def http() -> httpx.Client:
    """One connection pool per process (with the SDK's own limits and redirects): models
    are made per key and per request."""
    return openai.DefaultHttpxClient()


def client(api_key: str, base_url: str | None) -> openai.OpenAI:
    """The SDK's client for the key, one attempt a request (`call` retries); base_url None
    means OPENAI_BASE_URL, else OpenAI's own."""
    return openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, http_client=http())


def call(
    timeout: float, retries: int, model: str, api_key: str, attempt: Callable[[float], T]
) -> T:
    """attempt(seconds left), retried as the SDK would (408, 409, 429, 5xx, timeouts and
    dropped connections; `x-should-retry`, `retry-after-ms` and `Retry-After` honoured)
    but all of it within `timeout` seconds."""
    with provider_errors(model, api_key):
        try:
            return within(timeout, attempt, attempts=retries + 1, retryable=retryable, pause=pause)
        except DeadlinePassed:
            raise failures.timed_out("openai", api_key) from None


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIStatusError):
        said = str(exc.response.headers.get("x-should-retry", ""))
        if said in ("true", "false"):
            return said == "true"
        status: int = exc.status_code
        return status in (408, 409, 429) or status >= 500
    # A timeout is an APIConnectionError too.
    return isinstance(exc, openai.APIConnectionError)


def pause(attempt_number: int, exc: BaseException) -> float:
    if isinstance(exc, openai.APIStatusError):
        asked = retry_after(exc.response.headers)
        if asked is not None:
            return asked
    return backoff(attempt_number, INITIAL_DELAY, MAX_DELAY)


def retry_after(headers: httpx.Headers) -> float | None:
    """The wait the server asks for, when it is a reasonable one (as the SDK reads it)."""
    asked: float | None = None
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            asked = float(ms) / 1000
        elif (value := headers.get("retry-after")) is not None:
            try:
                asked = float(value)
            except ValueError:
                asked = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    except (ValueError, TypeError):
        return None
    return asked if asked is not None and 0 < asked <= MAX_RETRY_AFTER else None


def fail(
    kind: ProviderErrorKind, message: str, api_key: str, status: int | None = None
) -> ProviderError:
    return failures.fail("openai", kind, message, api_key, status)


def status_error(exc: openai.APIStatusError, model: str, api_key: str) -> ProviderError:
    """An error response ({"error": {"message", "type", "param", "code"}}, or the HTML of a
    proxy in front of OpenAI) as a ProviderError."""
    status = exc.status_code
    error: dict[str, Any] = exc.body if isinstance(exc.body, dict) else {}
    detail = str(error.get("message") or exc.response.reason_phrase or f"HTTP {status}")
    # A 403 "invalid_request_error" is a model the key may not use, not a bad key.
    refused = status == 401 or (status == 403 and error.get("type") != "invalid_request_error")
    return failures.status_failure(
        "openai", status, refused_key=refused, model=model, detail=detail, api_key=api_key
    )


@contextmanager
def provider_errors(model: str, api_key: str) -> Iterator[None]:
    """Turns what the SDK raises into ProviderErrors (without the key)."""
    try:
        yield
    except openai.APIStatusError as exc:
        raise status_error(exc, model, api_key) from None
    except openai.APITimeoutError:
        raise failures.timed_out("openai", api_key) from None
    except openai.APIConnectionError as exc:
        raise failures.unreachable("openai", exc.__cause__ or exc, api_key) from None
    except openai.APIResponseValidationError as exc:
        raise fail("unavailable", f"OpenAI sent an unusable response: {exc}", api_key) from None
    except openai.APIError as exc:  # an error event in the middle of a stream
        raise fail("unavailable", f"OpenAI failed mid-answer: {exc.message}", api_key) from None
