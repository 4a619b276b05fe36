"""Export of the packaged all-MiniLM-L6-v2 weights to ONNX, once per weights.

The only place torch is imported for the default model: serving loads the exported file
with ONNX Runtime and the tokenizer alone. The export is a pure function of the packaged
weights and the library versions; its folder is named after a hash of the weights, so new
weights get a new export and an old one is never reused by mistake.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from api.embeddings.built_once import build_once
from api.errors import KnitterError

# The variant serving uses: dynamic int8 quantisation of the MatMul weights, one scale per
# output channel. It keeps mean cosine >= 0.99 to the sentence-transformers vectors
# (tests/test_onnx_model.py); one scale per tensor, the default, gave 0.963 on the topic
# corpus. fp32 is kept beside it as the reference (docs/PERFORMANCE.md).
INT8 = "model-int8.onnx"
FP32 = "model.onnx"
TOKENIZER = "tokenizer.json"
MANIFEST = "manifest.json"
OPSET = 17


def weights_digest(source: Path) -> str:
    digest = hashlib.sha256()
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        digest.update((source / name).read_bytes())
    return digest.hexdigest()[:16]


def export_dir(model_dir: Path, source: Path) -> Path:
    return model_dir / f"all-MiniLM-L6-v2-onnx-{weights_digest(source)}"


def ensure_export(model_dir: Path, source: Path) -> Path:
    """The folder with the ONNX files for the weights in source, exported the first time."""
    target = export_dir(model_dir, source)
    return build_once(target, _export, source, MANIFEST)


def _export(source: Path, out: Path) -> None:
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel
    except ImportError as exc:
        raise KnitterError(
            "exporting the local model to ONNX needs torch, transformers and onnx once:"
            " pip install -e '.[local]'"
        ) from exc

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            output = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            hidden: torch.Tensor = output.last_hidden_state
            return hidden

    model = AutoModel.from_pretrained(str(source))
    model.eval()
    sample = torch.ones(2, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(model),
            (sample, sample, torch.zeros_like(sample)),
            str(out / FP32),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=OPSET,
            dynamo=False,
        )
    quantize_dynamic(
        str(out / FP32),
        str(out / INT8),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
    )
    shutil.copyfile(source / TOKENIZER, out / TOKENIZER)
    max_tokens = json.loads((source / "sentence_bert_config.json").read_text())["max_seq_length"]
    manifest = {
        "weights": weights_digest(source),
        "max_tokens": max_tokens,
        "opset": OPSET,
        "torch": torch.__version__,
        "files": {
            f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(out.iterdir())
        },
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    # `python -m api.embeddings.onnx_export`: export ahead of time (the API image does, at
    # build), into KNITTER_MODEL_DIR (default <KNITTER_HOME>/models).
    from api.embeddings.local import default_weights, model_dir

    print(ensure_export(model_dir(), default_weights()))
