"""Gemini answers streamed through the google-genai SDK (`streamGenerateContent?alt=sse`),
on our own httpx client so that tests replay it with respx. The timeout bounds the wait
for the answer to start; a half-streamed answer is not retried (the caller asks again)."""

from __future__ import annotations

from collections.abc import Iterator

from google import genai
from google.genai import types

from api.errors import ProviderError
from api.providers.gemini_client import options, provider_errors, timeout_ms


class GeminiChat:
    provider = "gemini"

    def __init__(
        self, name: str, api_key: str, *, base_url: str | None = None, timeout: float = 60.0
    ) -> None:
        if not api_key:
            raise ProviderError("gemini", "auth", "answering with Gemini needs a Gemini API key")
        self.name = name
        self._key = api_key
        self._timeout = timeout
        http_options = options()
        http_options.base_url = base_url
        self._client = genai.Client(api_key=api_key, vertexai=False, http_options=http_options)

    def __repr__(self) -> str:
        return f"GeminiChat(name={self.name!r})"

    def stream(self, system: str, prompt: str) -> Iterator[str]:
        config = types.GenerateContentConfig(
            system_instruction=system, temperature=0.2, http_options=timeout_ms(self._timeout)
        )
        with provider_errors(self.name, self._key):
            for chunk in self._client.models.generate_content_stream(
                model=self.name, contents=prompt, config=config
            ):
                if chunk.text:
                    yield chunk.text
