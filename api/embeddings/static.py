"""The fast static model: model2vec distilled locally from the packaged all-MiniLM-L6-v2.

Every passage gets this vector within seconds of its import (thousands of passages a
second on two cores), so it is searchable by meaning at once, while the quality model
(MiniLM on ONNX Runtime) follows in the background; hybrid_search uses each passage's
best vector. Distilling needs torch and transformers once (at image build or first start);
the distilled model is a token table served by model2vec with numpy and the tokenizer
alone. Like the ONNX export, its folder is named after a hash of the weights and the
distillation settings, so it is reproducible and never reused for other weights.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from api.embeddings.built_once import build_once
from api.embeddings.onnx_export import weights_digest
from api.errors import KnitterError

STATIC_MODEL = "static-all-MiniLM-L6-v2"
# model2vec's defaults: 256 PCA dimensions and SIF weighting (1e-4). Part of the folder
# name, so changing them distils anew.
PCA_DIMS = 256
SIF_COEFFICIENT = 1e-4
MANIFEST = "knitter-manifest.json"


def static_dir(model_dir: Path, source: Path) -> Path:
    settings = f"{weights_digest(source)}-{PCA_DIMS}-{SIF_COEFFICIENT}"
    return model_dir / f"{STATIC_MODEL}-{hashlib.sha256(settings.encode()).hexdigest()[:16]}"


def ensure_static(model_dir: Path, source: Path) -> Path:
    """The folder of the static model distilled from the weights in source, distilling it
    the first time (about two minutes on two cores)."""
    target = static_dir(model_dir, source)
    return build_once(target, _distill, source, MANIFEST)


def _distill(source: Path, out: Path) -> None:
    try:
        import torch
        from model2vec.distill import distill_from_model
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise KnitterError(
            "distilling the static model needs torch, transformers, model2vec and skeletoken"
            " once: pip install -e '.[local]'"
        ) from exc
    # Nothing in it is random, but a seed costs nothing should a library step become so.
    # (Two distillations on this machine gave byte-identical weights.)
    torch.manual_seed(0)
    model = AutoModel.from_pretrained(str(source))
    tokenizer: Any = AutoTokenizer.from_pretrained(str(source))
    static = distill_from_model(
        model=model,
        tokenizer=tokenizer,
        device="cpu",
        pca_dims=PCA_DIMS,
        sif_coefficient=SIF_COEFFICIENT,
    )
    static.save_pretrained(str(out))
    manifest = {
        "weights": weights_digest(source),
        "pca_dims": PCA_DIMS,
        "sif_coefficient": SIF_COEFFICIENT,
        "files": {
            f.name: hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(out.iterdir())
            if f.is_file()
        },
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


class StaticMiniLM:
    """The distilled model, served by model2vec (numpy and the tokenizer; no torch)."""

    def __init__(self, folder: Path) -> None:
        from model2vec import StaticModel

        self.model: Any = StaticModel.from_pretrained(str(folder))
        self.dims = int(self.model.dim)

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        vectors = np.asarray(
            self.model.encode(texts, show_progress_bar=False, use_multiprocessing=False),
            dtype=np.float32,
        )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        # A text of no known token embeds to zero; a tiny constant keeps it a valid vector
        # (cosine needs a length) that matches nothing well.
        vectors[(norms == 0).ravel()] = 1.0 / np.sqrt(self.dims)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        result: npt.NDArray[np.float32] = (vectors / norms).astype(np.float32)
        return result


if __name__ == "__main__":
    # `python -m api.embeddings.static`: distil ahead of time (the API image does, at build).
    from api.embeddings.local import default_weights, model_dir

    print(ensure_static(model_dir(), default_weights()))
