"""OpenAI embeddings (text-embedding-3-*) over plain HTTP, and any server that speaks the
same `POST /embeddings` (set OPENAI_BASE_URL or pass base_url)."""

from __future__ import annotations

import email.utils
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from api.embeddings.registry import ModelSpec, Purpose, output_dims, register_provider, unit
from api.errors import KnitterError, ProviderError, ProviderErrorKind
from api.providers.openai_client import error_body, fail, http, http_error

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Native sizes; text-embedding-3 models can be shortened with `dimensions`, ada-002 cannot.
NATIVE_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072}
FIXED_DIMS = {"text-embedding-ada-002": 1536}
# The API takes at most 2048 inputs and 300,000 tokens per request. A token is at least one
# UTF-8 byte, so a byte budget never exceeds the token budget, whatever the language.
MAX_BATCH_INPUTS = 2048
MAX_BATCH_BYTES = 300_000
RETRYABLE = {408, 409, 429, 500, 502, 503, 504}


class OpenAIModel:
    provider = "openai"

    def __init__(
        self,
        name: str,
        api_key: str | None,
        dims: int | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ProviderError(
                "openai", "auth", f"embedding with OpenAI's {name} needs an OpenAI API key"
            )
        self.name = name
        self.dims = _output_dims(name, dims)
        # ada-002 rejects `dimensions`; other models honour it when asked for a size.
        self._send_dims = dims is not None and name not in FIXED_DIMS
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self._retries = retries
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"OpenAIModel(name={self.name!r}, dims={self.dims}, base_url={self.base_url!r})"

    def embed(self, texts: Sequence[str], purpose: Purpose = "document") -> list[list[float]]:
        # OpenAI embeds queries and documents alike.
        vectors: list[list[float]] = []
        for batch in batches(texts):
            vectors.extend(self._embed_batch(batch))
        return vectors

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        payload: dict[str, Any] = {"model": self.name, "input": texts, "encoding_format": "float"}
        if self._send_dims:
            payload["dimensions"] = self.dims
        response = self._post(payload)
        try:
            rows = sorted(response.json()["data"], key=lambda row: row["index"])
            vectors = [unit([float(x) for x in row["embedding"]]) for row in rows]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._fail("unavailable", f"OpenAI sent an unusable response: {exc}") from None
        if len(vectors) != len(texts) or any(len(v) != self.dims for v in vectors):
            raise self._fail(
                "unavailable",
                f"OpenAI sent {len(vectors)} vectors for {len(texts)} texts"
                f" (expected {self.dims} dimensions each)",
            )
        return vectors

    def _post(self, payload: dict[str, Any]) -> httpx.Response:
        # The timeout bounds the whole call, retries and waits included: a slow provider
        # never holds the caller's thread for longer than that.
        deadline = time.monotonic() + self._timeout
        for attempt in range(self._retries + 1):
            remaining = deadline - time.monotonic()
            last = attempt == self._retries
            if remaining <= 0:
                raise self._fail("unavailable", f"OpenAI did not answer within {self._timeout:g} s")
            try:
                response = http().post(
                    f"{self.base_url}/embeddings",
                    json=payload,
                    headers={"Authorization": f"Bearer {self._key}"},
                    timeout=remaining,
                )
            except httpx.TimeoutException:
                if last:
                    raise self._fail("unavailable", "OpenAI did not answer in time") from None
                self._wait(self._delay(attempt, None), deadline)
                continue
            except httpx.TransportError as exc:
                if last:
                    raise self._fail(
                        "unavailable", f"cannot reach OpenAI: {type(exc).__name__}"
                    ) from None
                self._wait(self._delay(attempt, None), deadline)
                continue
            if response.is_success:
                return response
            error = error_body(response)
            # An exhausted quota is no rate limit: waiting will not help.
            transient = (
                response.status_code in RETRYABLE and error.get("code") != "insufficient_quota"
            )
            if not transient or last:
                raise self._http_error(response.status_code, error)
            self._wait(self._delay(attempt, response), deadline)
        raise AssertionError("unreachable")

    def _wait(self, seconds: float, deadline: float) -> None:
        self._sleep(max(0.0, min(seconds, deadline - time.monotonic())))

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        asked = retry_after(response) if response is not None else None
        if asked is not None:
            return min(asked, self._max_backoff)
        # Full jitter: concurrent workers that failed together do not retry together.
        return random.uniform(0, min(self._max_backoff, self._backoff * 2**attempt))

    def _http_error(self, status: int, error: dict[str, Any]) -> ProviderError:
        return http_error(status, error, self.name, self._key)

    def _fail(
        self, kind: ProviderErrorKind, message: str, status: int | None = None
    ) -> ProviderError:
        return fail(kind, message, self._key, status)


def _output_dims(name: str, dims: int | None) -> int:
    if name in FIXED_DIMS:
        if dims is not None and dims != FIXED_DIMS[name]:
            raise KnitterError(f"{name} gives {FIXED_DIMS[name]} dimensions, not {dims}")
        return FIXED_DIMS[name]
    return output_dims("OpenAI", name, NATIVE_DIMS.get(name), dims)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms` (OpenAI), or `Retry-After` in
    seconds or as an HTTP date."""
    if (ms := response.headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def batches(texts: Sequence[str]) -> Iterator[list[str]]:
    """Consecutive runs of texts within the request limits (a text over the byte budget
    goes alone; the API then says whether it is too long)."""
    batch: list[str] = []
    size = 0
    for text in texts:
        n = len(text.encode("utf-8"))
        if batch and (len(batch) == MAX_BATCH_INPUTS or size + n > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(text)
        size += n
    if batch:
        yield batch


@register_provider("openai")
def openai_model(spec: ModelSpec, api_key: str | None = None) -> OpenAIModel:
    return OpenAIModel(spec.name, api_key, spec.dims)
