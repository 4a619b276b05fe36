"""Embedding models by provider, and their rows in `embedding_models`.

A provider turns a model name into an EmbeddingModel. The local sentence-transformers
provider is built in; OpenAI and Gemini register here too when they arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Protocol

from api.db.session import Caller, Connection, transaction_as
from api.errors import KnitterError


class EmbeddingModel(Protocol):
    provider: str
    name: str
    dims: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length vectors, one per text, in order."""
        ...


ProviderFactory = Callable[[str], EmbeddingModel]
PROVIDERS: dict[str, ProviderFactory] = {}


def register_provider(name: str) -> Callable[[ProviderFactory], ProviderFactory]:
    def decorate(factory: ProviderFactory) -> ProviderFactory:
        PROVIDERS[name] = factory
        return factory

    return decorate


@cache
def get_model(provider: str, name: str) -> EmbeddingModel:
    """The model, loaded once per process."""
    if provider == "local":
        import api.embeddings.local  # noqa: F401  (registers the provider)
    try:
        factory = PROVIDERS[provider]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS)) or "none"
        raise KnitterError(f"unknown embedding provider {provider!r} (known: {known})") from None
    return factory(name)


def register_model(conn: Connection, model: EmbeddingModel) -> int:
    """The model's id in `embedding_models`, registering it (and so creating its HNSW
    index) the first time."""
    with transaction_as(conn, Caller.service()):
        row = conn.execute(
            """
            with added as (
              insert into public.embedding_models (provider, name, dims) values (%s, %s, %s)
              on conflict (provider, name, dims) do nothing
              returning id
            )
            select id from added
            union all
            select id from public.embedding_models where provider = %s and name = %s and dims = %s
            """,
            [model.provider, model.name, model.dims] * 2,
        ).fetchone()
    assert row is not None
    return int(row["id"])


def model_for_id(conn: Connection, model_id: int) -> EmbeddingModel:
    row = conn.execute(
        "select provider, name, dims from public.embedding_models where id = %s", [model_id]
    ).fetchone()
    if row is None:
        raise KnitterError(f"embedding model {model_id} does not exist")
    model = get_model(row["provider"], row["name"])
    if model.dims != row["dims"]:
        raise KnitterError(
            f"model {row['name']} gives {model.dims} dimensions, the database expects {row['dims']}"
        )
    return model
