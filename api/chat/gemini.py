"""Gemini answers streamed through the google-genai SDK (`streamGenerateContent?alt=sse`),
on our own httpx client so that tests replay it with respx."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from google import genai
from google.genai import errors, types

from api.errors import ProviderError, ProviderErrorKind
from api.gemini_common import api_error, async_http, fail, http


class GeminiChat:
    provider = "gemini"

    def __init__(self, name: str, api_key: str, *, timeout: float = 60.0) -> None:
        if not api_key:
            raise ProviderError("gemini", "auth", "answering with Gemini needs a Gemini API key")
        self.name = name
        self._key = api_key
        self._client = genai.Client(
            api_key=api_key,
            vertexai=False,
            http_options=types.HttpOptions(
                timeout=round(timeout * 1000),  # milliseconds
                # A half-streamed answer cannot be retried; the caller asks again.
                retry_options=types.HttpRetryOptions(attempts=1),
                httpx_client=http(),
                httpx_async_client=async_http(),
            ),
        )

    def __repr__(self) -> str:
        return f"GeminiChat(name={self.name!r})"

    def stream(self, system: str, prompt: str) -> Iterator[str]:
        config = types.GenerateContentConfig(system_instruction=system, temperature=0.2)
        try:
            for chunk in self._client.models.generate_content_stream(
                model=self.name, contents=prompt, config=config
            ):
                if chunk.text:
                    yield chunk.text
        except errors.APIError as exc:
            raise self._api_error(exc) from None
        except httpx.TimeoutException:
            raise self._fail("unavailable", "Gemini did not answer in time") from None
        except httpx.TransportError as exc:
            raise self._fail("unavailable", f"cannot reach Gemini: {type(exc).__name__}") from None

    def _api_error(self, exc: errors.APIError) -> ProviderError:
        return api_error(exc, self.name, self._key)

    def _fail(
        self, kind: ProviderErrorKind, message: str, status: int | None = None
    ) -> ProviderError:
        return fail(kind, message, self._key, status)
