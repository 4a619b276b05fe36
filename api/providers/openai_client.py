"""What the OpenAI embedding and chat models share: the official SDK's client, made per key
over one httpx pool per process (httpx underneath, so respx replays it in tests), and how
the SDK's errors become ProviderErrors without the key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import httpx
import openai

from api.errors import ProviderError, ProviderErrorKind
from api.providers import failures


@cache
def http() -> httpx.Client:
    """One connection pool per process (with the SDK's own limits and redirects): models
    are made per key and per request."""
    return openai.DefaultHttpxClient()


def client(api_key: str, base_url: str | None, timeout: float, retries: int) -> openai.OpenAI:
    """The SDK's client for the key. The SDK retries 408, 409, 429, 5xx, timeouts and
    dropped connections with exponential backoff and jitter, honouring `retry-after-ms` and
    `Retry-After`; base_url None means OPENAI_BASE_URL, else OpenAI's own."""
    return openai.OpenAI(
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=retries,
        http_client=http(),
    )


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
