"""all-MiniLM-L6-v2 on ONNX Runtime: the tokenizer and the exported graph, no torch.

Mean pooling over the attention mask and unit length, as the sentence-transformers
pipeline of the packaged model does (modules.json: Transformer, mean Pooling, Normalize).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from api.embeddings.onnx_export import INT8, MANIFEST, TOKENIZER

BATCH_SIZE = 32


class OnnxMiniLM:
    def __init__(self, folder: Path, variant: str = INT8) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        manifest = json.loads((folder / MANIFEST).read_text())
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        self.tokenizer.enable_truncation(max_length=int(manifest["max_tokens"]))
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session: Any = onnxruntime.InferenceSession(
            str(folder / variant), options, providers=_providers(onnxruntime)
        )
        dims = self.session.get_outputs()[0].shape[2]
        if not isinstance(dims, int):
            raise ValueError(f"{folder / variant} has no fixed embedding size")
        self.dims = dims

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors, one row per text, in order. Texts are batched by length so little
        time goes into padding."""
        out = np.empty((len(texts), self.dims), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH_SIZE):
            picked = order[start : start + BATCH_SIZE]
            out[picked] = self._batch([texts[i] for i in picked])
        return out

    def _batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self.session.run(
            None,
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: npt.NDArray[np.float32] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return result


def _providers(onnxruntime: Any) -> list[str]:
    """CUDA when ONNX Runtime has it (onnxruntime-gpu and a visible device), else CPU."""
    available = onnxruntime.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
