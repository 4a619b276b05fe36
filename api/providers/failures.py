"""How a provider's refusal or failure becomes a ProviderError, the same for OpenAI and
Gemini: what the HTTP status means for the caller, and a message without the key."""

from __future__ import annotations

import re

from api.errors import ProviderError, ProviderErrorKind

LABELS = {"openai": "OpenAI", "gemini": "Gemini"}
# OpenAI echoes a masked key ("sk-proj-abcd****wxyz") in some messages.
_KEY_LIKE = re.compile(r"\bsk-[\w*.-]+")


def fail(
    provider: str, kind: ProviderErrorKind, message: str, api_key: str, status: int | None = None
) -> ProviderError:
    """A ProviderError whose message holds neither the key nor anything like one."""
    message = _KEY_LIKE.sub("sk-…", message.replace(api_key, "…"))
    return ProviderError(provider, kind, message, status)


def status_failure(
    provider: str,
    status: int,
    *,
    refused_key: bool,
    model: str,
    detail: str,
    api_key: str,
    code: str | None = None,
) -> ProviderError:
    """An error response: a refused key (auth), 429 (rate_limit), 408/409/5xx
    (unavailable), anything else the request's fault (bad_request)."""
    label = LABELS[provider]
    kind: ProviderErrorKind
    if refused_key:
        kind, text = "auth", f"{label} refused the API key"
    elif status == 429:
        kind, text = "rate_limit", f"{label}'s rate limit or quota is exhausted"
    elif status >= 500 or status in (408, 409):
        kind, text = "unavailable", f"{label} is unavailable"
    else:
        kind, text = "bad_request", f"{label} rejected the request for {model}"
    http = f"HTTP {status} {code}" if code else f"HTTP {status}"
    return fail(provider, kind, f"{text} ({http}): {detail}", api_key, status)


def timed_out(provider: str, api_key: str) -> ProviderError:
    return fail(provider, "unavailable", f"{LABELS[provider]} did not answer in time", api_key)


def unreachable(provider: str, cause: BaseException, api_key: str) -> ProviderError:
    """The connection failed (refused, reset, DNS): cause names how, never the request."""
    label = LABELS[provider]
    return fail(provider, "unavailable", f"cannot reach {label}: {type(cause).__name__}", api_key)
