"""OpenAI chat completions streamed over plain HTTP (server-sent events): each
`data: {"choices": [{"delta": {"content": ...}}]}` line is a piece, `data: [DONE]` ends."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx

from api.errors import ProviderError, ProviderErrorKind
from api.providers.openai_client import error_body, fail, http, http_error

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIChat:
    provider = "openai"

    def __init__(
        self, name: str, api_key: str, *, base_url: str | None = None, timeout: float = 60.0
    ) -> None:
        if not api_key:
            raise ProviderError("openai", "auth", "answering with OpenAI needs an OpenAI API key")
        self.name = name
        self._key = api_key
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"OpenAIChat(name={self.name!r}, base_url={self.base_url!r})"

    def stream(self, system: str, prompt: str) -> Iterator[str]:
        payload = {
            "model": self.name,
            "stream": True,
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": prompt},
            ],
        }
        try:
            with http().stream(
                "POST",
                f"{self.base_url}/chat/completions",
                json=payload,
                headers={"Authorization": f"Bearer {self._key}"},
                timeout=self._timeout,
            ) as response:
                if not response.is_success:
                    response.read()
                    raise self._http_error(response)
                for line in response.iter_lines():
                    piece = self._piece(line)
                    if piece is None:
                        return
                    if piece:
                        yield piece
        except httpx.TimeoutException:
            raise self._fail("unavailable", "OpenAI did not answer in time") from None
        except httpx.TransportError as exc:
            raise self._fail("unavailable", f"cannot reach OpenAI: {type(exc).__name__}") from None

    def _piece(self, line: str) -> str | None:
        """The text a stream line carries ('' for none); None at `[DONE]`."""
        if not line.startswith("data:"):
            return ""  # blank separators, `: keep-alive` comments
        data = line[5:].strip()
        if data == "[DONE]":
            return None
        try:
            event = json.loads(data)
        except ValueError:
            raise self._fail("unavailable", "OpenAI sent an unreadable stream") from None
        if isinstance(event, dict) and "error" in event:
            raise self._fail("unavailable", f"OpenAI failed mid-answer: {_message(event)}")
        try:
            choices = event.get("choices") or []
            content = choices[0].get("delta", {}).get("content") if choices else None
        except (AttributeError, IndexError):
            raise self._fail("unavailable", "OpenAI sent an unusable stream") from None
        return content if isinstance(content, str) else ""

    def _http_error(self, response: httpx.Response) -> ProviderError:
        return http_error(response.status_code, error_body(response), self.name, self._key)

    def _fail(
        self, kind: ProviderErrorKind, message: str, status: int | None = None
    ) -> ProviderError:
        return fail(kind, message, self._key, status)


def _message(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(error or "")
