"""Which remote model answers, and with whose key: the one place that decides.

A key is the user's own (stored sealed), else the server's default (`OPENAI_API_KEY`,
`GEMINI_API_KEY`). A chat model answers, titles and summarises; "auto" takes the first
provider with a key, the user's keys before the server's, and no key at all means
extractive work (no model)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from api.accounts.keyring import Keyring
from api.accounts.keys import REMOTE_PROVIDERS, user_key
from api.config import Settings
from api.db.session import Connection
from api.embeddings.registry import EmbeddingModel
from api.errors import KnitterError
from api.providers.chat import ChatModel, chat_model

# What POST /v1/embed and a key's test use when no model is named.
DEFAULT_EMBEDDING_MODELS = {
    "local": "all-MiniLM-L6-v2",
    "openai": "text-embedding-3-small",
    "gemini": "gemini-embedding-001",
}

# A key's test answers someone waiting on a settings page: one short bound on all of it,
# retries and waits included, so it holds a worker thread no longer than this.
KEY_TEST_TIMEOUT_S = 4.0
# No retry: a person is waiting, and a failure says why at once.
KEY_TEST_RETRIES = 0

# Gives the API key for a remote provider ("openai", "gemini").
KeyFor = Callable[[str], str]


class MissingKeyError(KnitterError):
    """No key for the provider: neither the user's own nor a server default."""


def server_key(settings: Settings, provider: str) -> str | None:
    """The server's default key for the provider, if the operator set one."""
    secret = {"openai": settings.openai_api_key, "gemini": settings.gemini_api_key}.get(provider)
    return secret.get_secret_value() if secret is not None else None


def api_key(
    conn: Connection,
    keyring: Keyring | None,
    settings: Settings,
    user_id: UUID | None,
    provider: str,
) -> str:
    """The key to call a provider with for the user (None: for no single user): their own,
    else the server's default; neither is a MissingKeyError (a 400)."""
    if user_id is not None and (secret := user_key(conn, keyring, user_id, provider)):
        return secret
    if (default := server_key(settings, provider)) is not None:
        return default
    raise MissingKeyError(
        f"no {provider} API key: store one with PUT /v1/keys/{provider}, or ask the operator"
        " to set a server default"
    )


def key_for(
    conn: Connection, keyring: Keyring | None, settings: Settings, user_id: UUID | None
) -> KeyFor:
    """api_key bound to a user (or, with user_id None, the server's keys alone)."""
    return lambda provider: api_key(conn, keyring, settings, user_id, provider)


def server_keys(settings: Settings) -> KeyFor:
    """Keys for work done for no single user (the worker, the drain endpoint)."""

    def key(provider: str) -> str:
        if (secret := server_key(settings, provider)) is None:
            raise MissingKeyError(f"no server {provider} key to embed queued passages with")
        return secret

    return key


def pick_chat_model(
    conn: Connection,
    keyring: Keyring | None,
    settings: Settings,
    user_id: UUID | None,
    provider: str,
    name: str | None = None,
) -> ChatModel | None:
    """The chat model to answer with, or None for extractive work. "auto" prefers the
    user's own keys (OpenAI, then Gemini), then the server's; a named provider without any
    key is a MissingKeyError (400)."""
    if provider == "extractive":
        return None
    if provider != "auto":
        return chat_model(provider, api_key(conn, keyring, settings, user_id, provider), name)
    if user_id is not None and keyring is not None:
        for candidate in REMOTE_PROVIDERS:
            if secret := user_key(conn, keyring, user_id, candidate):
                return chat_model(candidate, secret, name)
    return server_chat_model(settings, name)


def server_chat_model(settings: Settings, name: str | None = None) -> ChatModel | None:
    """The chat model of the server's first default key (OpenAI, then Gemini), if any."""
    for candidate in REMOTE_PROVIDERS:
        if (secret := server_key(settings, candidate)) is not None:
            return chat_model(candidate, secret, name)
    return None


def key_test_model(provider: str, secret: str) -> EmbeddingModel:
    """The default embedding model of a remote provider, bounded for a key's test."""
    name = DEFAULT_EMBEDDING_MODELS[provider]
    if provider == "openai":
        from api.providers.openai_embeddings import OpenAIModel

        return OpenAIModel(name, secret, timeout=KEY_TEST_TIMEOUT_S, retries=KEY_TEST_RETRIES)
    if provider == "gemini":
        from api.providers.gemini_embeddings import GeminiModel

        return GeminiModel(name, secret, timeout=KEY_TEST_TIMEOUT_S, retries=KEY_TEST_RETRIES)
    raise ValueError(f"unknown remote provider {provider!r}")
