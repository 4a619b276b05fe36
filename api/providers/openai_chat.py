"""OpenAI chat completions, streamed through the official SDK: each chunk's
`choices[0].delta.content` is a piece of the answer. The timeout bounds the wait for the
answer to start, retries included; after that each pause in the stream gets what was left
of it when the answer started."""

from __future__ import annotations

from collections.abc import Iterator

from api.errors import ProviderError
from api.providers.openai_client import call, client, fail, provider_errors


class OpenAIChat:
    provider = "openai"

    def __init__(
        self,
        name: str,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
    ) -> None:
        if not api_key:
            raise ProviderError("openai", "auth", "answering with OpenAI needs an OpenAI API key")
        self.name = name
        self._key = api_key
        self._timeout, self._retries = timeout, retries
        self._client = client(api_key, base_url)
        self.base_url = str(self._client.base_url).rstrip("/")

    def __repr__(self) -> str:
        return f"OpenAIChat(name={self.name!r}, base_url={self.base_url!r})"

    def stream(self, system: str, prompt: str) -> Iterator[str]:
        chunks = call(
            self._timeout,
            self._retries,
            self.name,
            self._key,
            lambda left: self._client.chat.completions.create(
                model=self.name,
                stream=True,
                temperature=0.2,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": prompt},
                ],
                timeout=left,
            ),
        )
        with provider_errors(self.name, self._key):
            try:
                for chunk in chunks:
                    content = chunk.choices[0].delta.content if chunk.choices else None
                    if content:
                        yield content
            except ValueError:  # a data line that is not JSON
                raise fail("unavailable", "OpenAI sent an unreadable stream", self._key) from None
            finally:
                chunks.close()
