"""Chat models that stream an answer: OpenAI (chat completions) and Gemini. Each yields
the answer's text in pieces as the provider sends them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

DEFAULT_CHAT_MODELS = {"openai": "gpt-4o-mini", "gemini": "gemini-2.5-flash"}


class ChatModel(Protocol):
    provider: str
    name: str

    def stream(self, system: str, prompt: str) -> Iterator[str]:
        """The answer's text, piece by piece; raises ProviderError on failure."""
        ...


def chat_model(provider: str, api_key: str, name: str | None = None) -> ChatModel:
    """A chat model of the provider, bound to the key."""
    if provider == "openai":
        from api.providers.openai_chat import OpenAIChat

        return OpenAIChat(name or DEFAULT_CHAT_MODELS["openai"], api_key)
    if provider == "gemini":
        from api.providers.gemini_chat import GeminiChat

        return GeminiChat(name or DEFAULT_CHAT_MODELS["gemini"], api_key)
    raise ValueError(f"unknown chat provider {provider!r}")
