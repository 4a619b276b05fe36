"""Progressive indexing benchmark: the static model first, the quality model behind it.
See docs/PERFORMANCE.md ("Progressive indexing").

One run, against fresh migrated databases on an embedded server under --home, as a user
through RLS, through the real pipeline (import, embedding queue, hybrid_search):

  retrieval   the held-out set scripts/data/heldout_queries.json (30 queries, each labelled
              with one conversation of tests/fixtures/topic_corpus.json) among --distractors
              other passages, in random order. hit@1 / hit@3 of hybrid_search (keyword and
              meaning fused, no relevance floor) and of meaning alone, in six states:
              keyword-only, static-only (every passage has its static vector), mixed (a
              quarter, half, three quarters have their quality vector too) and full.
  10 MB       a generated ChatGPT export (scripts/bench_import.py's generator): seconds from
              the import's start until every passage is searchable by meaning (written, then
              the static vectors of all of them), both models loaded beforehand as the API
              does at start.
  throughput  passages/s on the same real texts: today's sentence-transformers (torch)
              path, the served ONNX int8 quality model, and the static model; mean cosine of
              ONNX int8 to sentence-transformers; the variants interleaved round by round.

    .venv/bin/python scripts/bench_progressive.py [--retrieval-only]
"""

from __future__ import annotations

import argparse
import inspect
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _bench_common import (
    drop_database,
    fresh_database,
    git_revision,
    machine_description,
    pg_version,
    start_server,
    table,
)
from bench_import import write_export

from api.accounts.users import caller_for, workspace_id
from api.db.session import Caller, Connection, connect, transaction_as
from api.embeddings.local import default_weights
from api.embeddings.registry import get_model
from api.embeddings.static import STATIC_MODEL
from api.importers.inputs import DEFAULT_LIMITS, collect
from api.importers.model import Conversation, Message
from api.pipeline.embedding_queue import drain, embed_batch, stages
from api.pipeline.ingest import import_conversations, parsed, write_conversation
from api.search.hybrid import SearchRequest, embed_query, search
from tests.test_onnx_model import real_texts

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "scripts" / "data" / "heldout_queries.json"
CORPUS = ROOT / "tests" / "fixtures" / "topic_corpus.json"
SAMPLES = [ROOT / "tests" / "fixtures", Path("/work/shared/samples")]
# Standard-library documentation: real technical prose, fixed for a Python version.
DOC_MODULES = [
    "argparse",
    "asyncio",
    "base64",
    "bisect",
    "calendar",
    "codecs",
    "collections",
    "concurrent.futures",
    "configparser",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "doctest",
    "email",
    "enum",
    "filecmp",
    "fnmatch",
    "fractions",
    "ftplib",
    "functools",
    "gettext",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html.parser",
    "http.client",
    "imaplib",
    "importlib",
    "inspect",
    "ipaddress",
    "itertools",
    "json",
    "locale",
    "logging",
    "lzma",
    "mailbox",
    "mimetypes",
    "multiprocessing",
    "numbers",
    "operator",
    "os",
    "pathlib",
    "pdb",
    "pickle",
    "platform",
    "poplib",
    "pprint",
    "queue",
    "random",
    "re",
    "sched",
    "secrets",
    "selectors",
    "shutil",
    "signal",
    "smtplib",
    "socket",
    "sqlite3",
    "ssl",
    "statistics",
    "string",
    "struct",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "timeit",
    "tomllib",
    "trace",
    "tracemalloc",
    "typing",
    "unittest",
    "urllib.request",
    "uuid",
    "weakref",
    "xml.etree.ElementTree",
    "zipfile",
]


def distractor_texts(n: int, seed: int) -> list[str]:
    texts: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, str):
            if 40 < len(node) < 3000 and " " in node:
                texts.add(node.strip())
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for root in SAMPLES:
        for path in sorted(root.rglob("*.json")) if root.exists() else []:
            if path.name == CORPUS.name:
                continue
            try:
                walk(json.loads(path.read_text()))
            except (ValueError, UnicodeDecodeError):
                continue
    import importlib

    for name in DOC_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for _, obj in [(name, module), *inspect.getmembers(module)]:
            doc = inspect.getdoc(obj) if not isinstance(obj, (int, str, float)) else None
            for para in (doc or "").split("\n\n"):
                para = " ".join(para.split())
                if 80 <= len(para) <= 1500 and para.count(" ") >= 10:
                    texts.add(para)
    ordered = sorted(texts)
    random.Random(seed).shuffle(ordered)
    return ordered[:n]


def hit_rates(
    conn: Connection,
    caller: Caller,
    ws: uuid.UUID,
    queries: list[dict[str, str]],
    labels: dict[tuple[str, str], uuid.UUID],
    semantic: bool,
    keyword: bool = True,
) -> tuple[float, float, float]:
    """hit@1, hit@3, and the share of results matched through a static vector."""
    hits1 = hits3 = 0
    static_rows = rows_seen = 0
    for q in queries:
        embedding = embed_query(conn, caller, ws, q["query"]) if semantic else None
        request = SearchRequest(
            q["query"],
            3,
            {"workspace_id": str(ws)},
            full_text_weight=1.0 if keyword else 0.0,
            relevance_floor=False,
        )
        rows = search(conn, caller, request, embedding)
        target = labels[(q["topic"], q["title"])]
        ranks = [i for i, r in enumerate(rows) if r["source_id"] == target]
        hits1 += bool(ranks and ranks[0] == 0)
        hits3 += bool(ranks and ranks[0] < 3)
        if embedding is not None and embedding.static is not None:
            static_rows += sum(r["semantic_model_id"] == embedding.static[0] for r in rows)
        rows_seen += len(rows)
    n = len(queries)
    return hits1 / n, hits3 / n, static_rows / rows_seen if rows_seen else 0.0


def retrieval(server: Any, distractors: int, seed: int) -> list[list[object]]:
    name = "bench_progressive_retrieval"
    url = fresh_database(server, name)
    out: list[list[object]] = []
    try:
        with connect(url) as conn:
            conn.autocommit = True
            caller = caller_for(conn, "progressive@example.com", create=True)
            ws = workspace_id(conn, caller)
            corpus = json.loads(CORPUS.read_text())["topics"]
            conversations: list[tuple[tuple[str, str] | None, Conversation]] = []
            for topic, items in corpus.items():
                for c in items:
                    conversations.append(
                        (
                            (topic, c["title"]),
                            Conversation(
                                kind="chatgpt_export",
                                platform="chatgpt",
                                title=c["title"],
                                messages=[
                                    Message(role="user" if i % 2 == 0 else "assistant", text=m)
                                    for i, m in enumerate(c["messages"])
                                ],
                                external_id=f"{topic}-{c['title']}",
                            ),
                        )
                    )
            texts = distractor_texts(distractors, seed)
            for i in range(0, len(texts), 5):
                conversations.append(
                    (
                        None,
                        Conversation(
                            kind="text",
                            platform="notes",
                            title=f"distractor {i // 5}",
                            messages=[Message(role="document", text=t) for t in texts[i : i + 5]],
                            external_id=f"distractor-{i}",
                        ),
                    )
                )
            # Random order: the queue (oldest first) then embeds labelled and distractor
            # passages alike, so "mixed" is not biased either way.
            random.Random(seed).shuffle(conversations)
            for _, conversation in conversations:
                write_conversation(conn, caller, ws, conversation)
            with transaction_as(conn, caller):
                labels = {
                    (r["topic"], r["title"]): r["id"]
                    for r in conn.execute(
                        "select id, title, split_part(external_id, '-', 1) as topic"
                        " from public.sources where external_id not like 'distractor-%'"
                    ).fetchall()
                }
            queries = json.loads(QUERIES.read_text())["queries"]
            total = stages(conn, ws).passages
            print(f"retrieval: {len(queries)} queries, {total:,} passages", flush=True)

            def state(label: str, semantic: bool) -> None:
                s = stages(conn, ws)
                h1, h3, static_share = hit_rates(conn, caller, ws, queries, labels, semantic)
                # The vector branch alone (what each state's vectors find by meaning).
                m1, m3, _ = (
                    hit_rates(conn, caller, ws, queries, labels, semantic, keyword=False)
                    if semantic
                    else (0.0, 0.0, 0.0)
                )
                out.append(
                    [
                        label,
                        f"{s.meaning:,} / {s.quality:,}" if semantic else "-",
                        f"{h1:.2f}",
                        f"{h3:.2f}",
                        f"{m1:.2f}" if semantic else "-",
                        f"{m3:.2f}" if semantic else "-",
                        f"{static_share:.2f}" if semantic else "-",
                    ]
                )
                print(
                    f"  {label}: hit@1 {h1:.2f} hit@3 {h3:.2f} meaning {m1:.2f} {m3:.2f}",
                    flush=True,
                )

            state("keyword only", semantic=False)
            while stages(conn, ws).meaning < total:
                embed_batch(conn, ws)
            state("static only", semantic=True)
            # Three points on the way, so "never worse as indexing advances" is seen at more
            # than one mix (32-passage batches: each stops within 32 of its share).
            for share, label in ((1, "a quarter"), (2, "half"), (3, "three quarters")):
                while stages(conn, ws).quality < total * share // 4:
                    embed_batch(conn, ws, batch_size=32)
                state(f"mixed ({label} quality)", semantic=True)
            drain(conn, ws)
            state("full quality", semantic=True)
    finally:
        drop_database(server, name)
    return out


def ten_mb(server: Any, home: Path, mb: float, seed: int) -> dict[str, Any]:
    path = home / f"conversations-{mb:g}MB.json"
    write_export(path, int(mb * 2**20), seed)
    size_mb = path.stat().st_size / 2**20
    name = "bench_progressive_import"
    url = fresh_database(server, name)
    try:
        # Loaded before the clock starts, as the API loads them at start.
        get_model("local", STATIC_MODEL).embed(["warm"])
        get_model("local", "all-MiniLM-L6-v2").embed(["warm"])
        with connect(url) as conn:
            conn.autocommit = True
            caller = caller_for(conn, "tenmb@example.com", create=True)
            ws = workspace_id(conn, caller)
            started = time.perf_counter()
            report = import_conversations(conn, caller, ws, parsed(collect([path], DEFAULT_LIMITS)))
            written = time.perf_counter() - started
            while (s := stages(conn, ws)).meaning < s.passages:
                if not embed_batch(conn, ws):
                    break
            searchable = time.perf_counter() - started
            s = stages(conn, ws)
            # The first meaning search: passages found through their static vector.
            query = embed_query(conn, caller, ws, "how do I fix this error")
            request = SearchRequest(
                "how do I fix this error", 5, {"workspace_id": str(ws)}, full_text_weight=0
            )
            rows = search(conn, caller, request, query)
    finally:
        drop_database(server, name)
        path.unlink(missing_ok=True)
    return {
        "mb": size_mb,
        "passages": report.passages,
        "written_s": written,
        "searchable_s": searchable,
        "meaning": s.meaning,
        "total": s.passages,
        "semantic_rows": sum(r["semantic_rank"] is not None for r in rows),
    }


def throughput(n: int, rounds: int) -> tuple[list[list[object]], float]:
    from sentence_transformers import SentenceTransformer

    texts = real_texts()[:n]
    torch_model = SentenceTransformer(str(default_weights()), device="cpu")
    onnx = get_model("local", "all-MiniLM-L6-v2")
    static = get_model("local", STATIC_MODEL)
    runs: dict[str, list[float]] = {"torch": [], "onnx": [], "static": []}
    reference = onnx_vectors = None
    for _ in range(rounds):
        for label in runs:
            t0 = time.perf_counter()
            if label == "torch":
                reference = torch_model.encode(texts, batch_size=64, normalize_embeddings=True)
            elif label == "onnx":
                onnx_vectors = np.array(onnx.embed(texts))
            else:
                static.embed(texts)
            runs[label].append(len(texts) / (time.perf_counter() - t0))
    assert reference is not None and onnx_vectors is not None
    cosine = float(np.mean(np.sum(np.asarray(reference) * onnx_vectors, axis=1)))
    today = statistics.median(runs["torch"])
    rows: list[list[object]] = [
        [
            label,
            f"{statistics.median(v):,.0f}",
            f"{min(v):,.0f} to {max(v):,.0f}",
            f"{statistics.median(v) / today:.1f}x",
        ]
        for label, v in (
            ("today: sentence-transformers (torch)", runs["torch"]),
            ("quality: ONNX Runtime int8", runs["onnx"]),
            ("static: model2vec, 256 dims", runs["static"]),
        )
    ]
    return rows, cosine


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/knitter-bench-progressive"))  # noqa: S108
    parser.add_argument("--distractors", type=int, default=2000)
    parser.add_argument("--export-mb", type=float, default=10.0)
    parser.add_argument("--texts", type=int, default=256, help="texts for the throughput run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--retrieval-only", action="store_true", help="the held-out retrieval table alone"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.home.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine_description()}")
    print(f"revision: {git_revision()}")
    server = start_server(args.home, {})
    try:
        print(pg_version(server.url), flush=True)
        states = retrieval(server, args.distractors, args.seed)
        if not args.retrieval_only:
            imported = ten_mb(server, args.home, args.export_mb, args.seed)
    finally:
        server.stop()
    print()
    print(
        table(
            "Held-out retrieval (hybrid_search, no floor)",
            [
                "state",
                "meaning / quality",
                "hit@1",
                "hit@3",
                "meaning-only hit@1",
                "meaning-only hit@3",
                "static share",
            ],
            states,
        )
    )
    if args.retrieval_only:
        return 0
    speeds, cosine = throughput(args.texts, args.rounds)
    print()
    print(
        table(
            f"{args.export_mb:g} MB ChatGPT export",
            ["passages", "written", "searchable by meaning", "meaning-ready", "semantic rows"],
            [
                [
                    f"{imported['passages']:,}",
                    f"{imported['written_s']:.1f} s",
                    f"{imported['searchable_s']:.1f} s",
                    f"{imported['meaning']:,} / {imported['total']:,}",
                    imported["semantic_rows"],
                ]
            ],
        )
    )
    print()
    print(
        table(
            f"Embedding throughput, {args.texts} real texts, {args.rounds} rounds interleaved",
            ["path", "passages/s (median)", "range", "vs today"],
            speeds,
        )
    )
    print(f"mean cosine, ONNX int8 to sentence-transformers: {cosine:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
