"""Embedding models by provider, and their rows in `embedding_models`.

A provider turns a model spec (and, for remote providers, an API key) into an
EmbeddingModel. Providers live in their own modules, imported on first use.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from api.db.session import Caller, Connection, transaction_as
from api.errors import KnitterError

# Some providers embed a search query differently from the passages it should find.
Purpose = Literal["document", "query"]


class EmbeddingModel(Protocol):
    provider: str
    name: str
    dims: int

    def embed(self, texts: Sequence[str], purpose: Purpose = "document") -> list[list[float]]:
        """Unit-length vectors, one per text, in order."""
        ...


@dataclass(frozen=True)
class ModelSpec:
    provider: str
    name: str
    dims: int | None = None  # None: the model's own size


class UnregisteredModelError(KnitterError):
    """A model that is not a row of embedding_models."""


ProviderFactory = Callable[[ModelSpec, "str | None"], EmbeddingModel]
EMBEDDING_PROVIDERS: dict[str, ProviderFactory] = {}
PROVIDER_MODULES = {
    "local": "api.embeddings.local",
    "openai": "api.providers.openai_embeddings",
    "gemini": "api.providers.gemini_embeddings",
}


def unit(vector: list[float]) -> list[float]:
    """The vector scaled to length 1 (remote providers do not all return unit vectors)."""
    norm = math.sqrt(math.fsum(x * x for x in vector))
    if not norm or not math.isfinite(norm):
        raise ValueError("a zero or non-finite vector")
    return [x / norm for x in vector]


def output_dims(provider: str, name: str, native: int | None, dims: int | None) -> int:
    """The vector size to ask a remote model for: `dims` (1 to the model's native size) when
    given, else the native size, which an unknown model must be told."""
    if dims is None:
        if native is None:
            raise KnitterError(f"give the number of dimensions of the {provider} model {name!r}")
        return native
    if dims < 1 or (native is not None and dims > native):
        raise KnitterError(f"{name} gives 1 to {native} dimensions, not {dims}")
    return dims


def register_provider(name: str) -> Callable[[ProviderFactory], ProviderFactory]:
    def decorate(factory: ProviderFactory) -> ProviderFactory:
        EMBEDDING_PROVIDERS[name] = factory
        return factory

    return decorate


def get_model(
    provider: str, name: str, dims: int | None = None, api_key: str | None = None
) -> EmbeddingModel:
    """A model of a provider. Local models are loaded once per process; remote ones are
    cheap clients bound to the API key they are given."""
    if provider not in EMBEDDING_PROVIDERS and provider in PROVIDER_MODULES:
        importlib.import_module(PROVIDER_MODULES[provider])
    try:
        factory = EMBEDDING_PROVIDERS[provider]
    except KeyError:
        known = ", ".join(sorted(PROVIDER_MODULES)) or "none"
        raise KnitterError(f"unknown embedding provider {provider!r} (known: {known})") from None
    return factory(ModelSpec(provider, name, dims), api_key)


def register_model(conn: Connection, model: EmbeddingModel | ModelSpec) -> int:
    """The model's id in `embedding_models`, registering it (and so creating its HNSW
    index) the first time. A spec must give its dims. Runs in its own transaction, as the
    service role."""
    if model.dims is None:
        raise KnitterError(f"registering {model.name} needs its number of dimensions")
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


def registered_spec(
    conn: Connection, provider: str, name: str, dims: int | None = None
) -> ModelSpec:
    """The spec of a model in `embedding_models`; KnitterError naming the registered
    models otherwise. A name from a request goes no further than this lookup, so it can
    never make the server load (and keep) a model of its choosing."""
    rows = conn.execute(
        "select provider, name, dims from public.embedding_models order by id"
    ).fetchall()
    for row in rows:
        if (row["provider"], row["name"]) == (provider, name) and dims in (None, row["dims"]):
            return ModelSpec(row["provider"], row["name"], row["dims"])
    known = ", ".join(f"{r['provider']}/{r['name']} ({r['dims']})" for r in rows) or "none"
    wanted = f"{provider}/{name}" + (f" with {dims} dimensions" if dims is not None else "")
    raise UnregisteredModelError(
        f"{wanted} is not a registered embedding model (registered: {known})"
    )


def model_for_id(
    conn: Connection, caller: Caller, model_id: int, api_key: str | None = None
) -> EmbeddingModel:
    """The registered model with this id, read as the caller."""
    with transaction_as(conn, caller):
        row = conn.execute(
            "select provider, name, dims from public.embedding_models where id = %s", [model_id]
        ).fetchone()
    if row is None:
        raise KnitterError(f"embedding model {model_id} does not exist")
    model = get_model(row["provider"], row["name"], row["dims"], api_key)
    if model.dims != row["dims"]:
        raise KnitterError(
            f"model {row['name']} gives {model.dims} dimensions, the database expects {row['dims']}"
        )
    return model
