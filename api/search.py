"""Search as a user: embed the query with the workspace's model, call `hybrid_search`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from api.db.session import Caller, Connection, transaction_as
from api.embeddings.queue import vector_literal
from api.embeddings.registry import EmbeddingModel, model_for_id


@dataclass(frozen=True)
class SearchRequest:
    query: str
    limit: int = 10
    filters: dict[str, Any] = field(default_factory=dict)
    full_text_weight: float = 1.0
    semantic_weight: float = 1.0
    rrf_k: int = 50


def workspace_model_id(conn: Connection, caller: Caller, workspace_id: UUID) -> int | None:
    with transaction_as(conn, caller):
        row = conn.execute(
            "select embedding_model_id from public.workspaces where id = %s", [workspace_id]
        ).fetchone()
    return int(row["embedding_model_id"]) if row else None


def search(
    conn: Connection,
    caller: Caller,
    request: SearchRequest,
    model: tuple[int, EmbeddingModel] | None = None,
) -> list[dict[str, Any]]:
    """Rows of hybrid_search, best first. Without a model, keyword-only."""
    embedding = None
    model_id = None
    if model is not None:
        model_id, embedder = model
        embedding = vector_literal(embedder.embed([request.query], "query")[0])
    with transaction_as(conn, caller):
        return conn.execute(
            """
            select * from public.hybrid_search(
              query_text => %s, query_embedding => %s::extensions.vector, model_id => %s,
              match_count => %s, full_text_weight => %s, semantic_weight => %s,
              rrf_k => %s, filters => %s::jsonb)
            """,
            [
                request.query,
                embedding,
                model_id,
                request.limit,
                request.full_text_weight,
                request.semantic_weight,
                request.rrf_k,
                json.dumps(request.filters, default=str),
            ],
        ).fetchall()


def load_workspace_model(
    conn: Connection, caller: Caller, workspace_id: UUID
) -> tuple[int, EmbeddingModel] | None:
    model_id = workspace_model_id(conn, caller, workspace_id)
    return None if model_id is None else (model_id, model_for_id(conn, model_id))
