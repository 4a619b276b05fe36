"""The default model on ONNX Runtime: the export from the packaged weights, its vectors
against sentence-transformers' on real texts, and a serving path without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from api.embeddings.local import default_weights, model_dir
from api.embeddings.onnx_export import FP32, INT8, MANIFEST, ensure_export, export_dir
from api.embeddings.onnx_model import OnnxMiniLM

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


def real_texts() -> list[str]:
    """The topic corpus's passages and, when the shared samples are here, the messages of
    a real ChatGPT export."""
    texts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str) and len(node) > 20:
            texts.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads((FIXTURES / "topic_corpus.json").read_text()))
    found: list[str] = []
    for export in sorted((SAMPLES / "chatgpt").glob("*.json")):
        conversations = json.loads(export.read_text())
        for conversation in conversations if isinstance(conversations, list) else []:
            for node in conversation.get("mapping", {}).values():
                parts = ((node.get("message") or {}).get("content") or {}).get("parts") or []
                found += [p for p in parts if isinstance(p, str) and len(p) > 20]
    texts += found[:200]
    return texts


@pytest.fixture(scope="module")
def folder() -> Path:
    return ensure_export(model_dir(), default_weights())


@pytest.fixture(scope="module")
def reference() -> tuple[list[str], np.ndarray]:
    from sentence_transformers import SentenceTransformer

    texts = real_texts()
    model = SentenceTransformer(str(default_weights()), device="cpu")
    return texts, model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)


def test_fp32_export_gives_sentence_transformers_vectors(
    folder: Path, reference: tuple[list[str], np.ndarray]
) -> None:
    texts, expected = reference
    cosines = (OnnxMiniLM(folder, FP32).encode(texts) * expected).sum(axis=1)
    assert cosines.min() > 0.9999


def test_served_int8_variant_keeps_mean_cosine_099(
    folder: Path, reference: tuple[list[str], np.ndarray]
) -> None:
    texts, expected = reference
    assert len(texts) >= 100
    cosines = (OnnxMiniLM(folder, INT8).encode(texts) * expected).sum(axis=1)
    assert cosines.mean() >= 0.99
    assert cosines.min() >= 0.97
    # Batching by length puts every vector back in its text's place. (Dynamic int8 scales
    # activations per batch, so a text alone and in a batch differ slightly.)
    model = OnnxMiniLM(folder, INT8)
    alone = model.encode(texts[5:6])[0]
    in_batch = model.encode(texts)
    assert float(alone @ in_batch[5]) > 0.99
    assert float(alone @ in_batch[5]) > max(float(alone @ v) for v in np.delete(in_batch, 5, 0))


def test_export_is_reproducible_and_named_for_the_weights(folder: Path, tmp_path: Path) -> None:
    assert folder == export_dir(model_dir(), default_weights())
    again = ensure_export(tmp_path, default_weights())
    first = json.loads((folder / MANIFEST).read_text())["files"]
    second = json.loads((again / MANIFEST).read_text())["files"]
    assert first == second
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]


def test_serving_imports_no_torch(folder: Path) -> None:
    """The API's embedding path, in a fresh interpreter: the default model embeds and
    torch, transformers and sentence-transformers are never imported."""
    code = (
        "import sys\n"
        "from api.embeddings.registry import get_model\n"
        "v = get_model('local', 'all-MiniLM-L6-v2').embed(['hello there'], 'query')[0]\n"
        "assert len(v) == 384 and abs(sum(x * x for x in v) - 1) < 1e-4\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1]
    )


def test_building_the_model_files_keeps_torch_out_of_the_server(tmp_path: Path) -> None:
    """The first start exports the model (torch, transformers) in a child process: the
    server itself never imports torch, so its memory stays that of ONNX Runtime."""
    code = (
        "import sys\n"
        "from api.embeddings.local import default_weights, model_dir\n"
        "from api.embeddings.onnx_export import MANIFEST, ensure_export\n"
        "folder = ensure_export(model_dir(), default_weights())\n"
        "assert (folder / MANIFEST).exists(), folder\n"
        "assert 'torch' not in sys.modules\n"
    )
    env = {**os.environ, "KNITTER_MODEL_DIR": str(tmp_path / "models")}
    subprocess.run(
        [sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).resolve().parents[1]
    )
