"""Local embedding benchmark: today's sentence-transformers (torch) path against the ONNX
Runtime export (fp32 and the served int8 variant), on the same real texts, the variants
interleaved round by round so load drift hits all of them. See docs/PERFORMANCE.md.

Reports, from one run: passages/s and the ratio to sentence-transformers, mean and minimum
cosine to the sentence-transformers vectors, one-query latency p50/p95, the load time in a
fresh process, and the idle RSS of a process that serves with the model (the API's
embedding path: torch never imported for the ONNX variants).

    .venv/bin/python scripts/bench_local_model.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.embeddings.local import default_weights, model_dir  # noqa: E402
from api.embeddings.onnx_export import FP32, INT8, ensure_export  # noqa: E402
from api.embeddings.onnx_model import OnnxMiniLM  # noqa: E402
from tests.test_onnx_model import real_texts  # noqa: E402

QUERIES = [
    "how do I proof sourdough overnight",
    "kubernetes ingress returns 502",
    "best grind size for espresso",
    "why is my python import slow",
    "summarise the meeting about the budget",
]

# Measured in a fresh interpreter: seconds to load and embed one query, then RSS in MB.
PROBE = """
import sys, time, resource
started = time.perf_counter()
variant = sys.argv[1]
if variant == "torch":
    from sentence_transformers import SentenceTransformer
    from api.embeddings.local import default_weights
    m = SentenceTransformer(str(default_weights()), device="cpu")
    m.encode(["hello"], normalize_embeddings=True)
else:
    from api.embeddings.registry import get_model
    get_model("local", "all-MiniLM-L6-v2").embed(["hello"], "query")
loaded = time.perf_counter() - started
time.sleep(2)
rss = int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmRSS"))) / 1024
print(f"{loaded:.3f} {rss:.1f} {'torch' in sys.modules}")
"""


def probe(variant: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, variant],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout.split()
    return {"load_s": float(out[0]), "rss_mb": float(out[1]), "torch_imported": out[2] == "True"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=150, help="one-query latency samples")
    parser.add_argument("--texts", type=int, default=0, help="use only the first N texts")
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    texts = real_texts()[: args.texts or None]
    folder = ensure_export(model_dir(), default_weights())
    st = SentenceTransformer(str(default_weights()), device="cpu")
    variants: dict[str, Any] = {
        "torch": lambda t: st.encode(t, normalize_embeddings=True, batch_size=64),
        "onnx-fp32": OnnxMiniLM(folder, FP32).encode,
        "onnx-int8": OnnxMiniLM(folder, INT8).encode,
    }
    reference = variants["torch"](texts)
    rates: dict[str, list[float]] = {v: [] for v in variants}
    latency: dict[str, list[float]] = {v: [] for v in variants}
    cosine: dict[str, tuple[float, float]] = {}
    for _ in range(args.rounds):
        for name, encode in variants.items():
            started = time.perf_counter()
            vectors = encode(texts)
            rates[name].append(len(texts) / (time.perf_counter() - started))
            cos = (np.asarray(vectors) * reference).sum(axis=1)
            cosine[name] = (float(cos.mean()), float(cos.min()))
        for i in range(args.queries // args.rounds):
            for name, encode in variants.items():
                started = time.perf_counter()
                encode([QUERIES[i % len(QUERIES)]])
                latency[name].append((time.perf_counter() - started) * 1000)
    probes = {name: probe(name) for name in ("torch", "onnx-int8")}
    base = statistics.median(rates["torch"])
    report = {
        "texts": len(texts),
        "rounds": args.rounds,
        "load_average": os.getloadavg(),
        "variants": {
            name: {
                "passages_per_s": [round(r, 1) for r in rates[name]],
                "ratio_to_torch_median": round(statistics.median(rates[name]) / base, 2),
                "cosine_mean": round(cosine[name][0], 4),
                "cosine_min": round(cosine[name][1], 4),
                "query_ms_p50": round(statistics.median(latency[name]), 2),
                "query_ms_p95": round(statistics.quantiles(latency[name], n=20)[18], 2),
            }
            for name in variants
        },
        "fresh_process": probes,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
