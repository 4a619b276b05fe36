"""Gemini answers streamed through the google-genai SDK (`streamGenerateContent?alt=sse`),
on our own httpx client so that tests replay it with respx."""

from __future__ import annotations

from collections.abc import Iterator

from google import genai
from google.genai import types

from api.errors import ProviderError
from api.providers.gemini_client import async_http, http, provider_errors


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
        with provider_errors(self.name, self._key):
            for chunk in self._client.models.generate_content_stream(
                model=self.name, contents=prompt, config=config
            ):
                if chunk.text:
                    yield chunk.text
