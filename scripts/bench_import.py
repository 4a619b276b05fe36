"""Import benchmark: a generated ChatGPT export (conversations.json) of 1, 10 and 50 MB
through the real pipeline, timed phase by phase. See docs/PERFORMANCE.md.

Each size runs in its own child process (so its peak memory is its own), against a fresh
migrated database on an embedded server under --home, as a user through RLS:

  parse    collect + parse the file (api.pipeline.ingest.parsed(api.importers.inputs.collect))
  write    api.pipeline.ingest.import_conversations, as the user (RLS)
  COPY     the same rows COPYed into another workspace of the same tables, as their owner, in
           one transaction (triggers, indexes, foreign keys on): the floor for the write
  keyword  the first and the last conversation found by a keyword hybrid_search
  embed    api.pipeline.embedding_queue.embed_batch with the local model (at most --embed-max
           passages: the model embeds a few hundred passages a second on 2 cores)
  semantic the first semantic-only hybrid_search that returns rows

    .venv/bin/python scripts/bench_import.py --sizes-mb 1,10,50
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from _bench_common import (
    TOPIC_NAMES,
    drop_database,
    fresh_database,
    git_revision,
    machine_description,
    paragraph,
    pg_version,
    start_server,
    table,
)

from api.accounts.users import caller_for, workspace_id
from api.db.session import Caller, Connection, connect, transaction_as
from api.db.vectors import vector_literal
from api.embeddings.registry import model_for_id
from api.importers.inputs import DEFAULT_LIMITS, collect
from api.importers.model import Parsed
from api.pipeline.embedding_queue import embed_batch, pending_count
from api.pipeline.ingest import ImportReport, import_conversations, parsed

FIRST_MARKER = "quillfeatherfirst"
LAST_MARKER = "quillfeatherlast"
DEFAULT_HOME = Path("/tmp/knitter-bench-import")  # noqa: S108 (a benchmark scratch directory)


# --- the export ----------------------------------------------------------------------------


def _node(node_id: str, parent: str | None, message: dict[str, Any] | None) -> dict[str, Any]:
    return {"id": node_id, "message": message, "parent": parent, "children": []}


def _message(
    node_id: str,
    role: str,
    parts: list[Any],
    when: float,
    content_type: str = "text",
    hidden: bool = False,
    recipient: str = "all",
) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if role == "assistant":
        metadata["model_slug"] = "gpt-4o"
    if hidden:
        metadata["is_visually_hidden_from_conversation"] = True
    return {
        "id": node_id,
        "author": {"role": role, "name": None, "metadata": {}},
        "create_time": when,
        "update_time": None,
        "content": {"content_type": content_type, "parts": parts},
        "status": "finished_successfully",
        "end_turn": role == "assistant",
        "weight": 1.0,
        "metadata": metadata,
        "recipient": recipient,
    }


def conversation(rng: random.Random, number: int, marker: str | None) -> dict[str, Any]:
    """One conversation shaped like the export's: a tree with a hidden system message, turns,
    an occasional regenerated answer (an abandoned branch), tool calls and image parts."""
    topic = rng.choice(TOPIC_NAMES)
    created = 1_690_000_000.0 + number * 3600 + rng.random() * 600
    mapping: dict[str, dict[str, Any]] = {}

    def add(node: dict[str, Any]) -> str:
        mapping[node["id"]] = node
        parent = node["parent"]
        if parent is not None:
            mapping[parent]["children"].append(node["id"])
        return str(node["id"])

    current = add(_node("root", None, None))
    current = add(_node("sys", current, _message("sys", "system", [""], created, hidden=True)))
    when = created
    for turn in range(rng.randint(2, 12)):
        when += rng.random() * 120
        question = paragraph(rng, topic, rng.randint(1, 3))
        if marker and turn == 0:
            question = f"{marker} {question}"
        uid = f"u{turn}"
        parts: list[Any] = [question]
        if rng.random() < 0.05:
            parts = [{"content_type": "image_asset_pointer", "asset_pointer": "file-x"}, question]
            current = add(
                _node(uid, current, _message(uid, "user", parts, when, "multimodal_text"))
            )
        else:
            current = add(_node(uid, current, _message(uid, "user", parts, when)))
        if rng.random() < 0.1:  # a search the assistant ran: tool plumbing, not imported
            tid = f"t{turn}"
            current = add(
                _node(
                    tid,
                    current,
                    _message(tid, "assistant", [question], when, "code", recipient="browser"),
                )
            )
        if rng.random() < 0.15:  # a regenerated answer: the old one is an abandoned branch
            old = f"a{turn}old"
            add(_node(old, current, _message(old, "assistant", ["An earlier draft."], when)))
        answer = "\n\n".join(
            paragraph(rng, topic, rng.randint(2, 6)) for _ in range(rng.randint(1, 5))
        )
        aid = f"a{turn}"
        current = add(_node(aid, current, _message(aid, "assistant", [answer], when + 5)))
    conversation_id = str(uuid.UUID(int=rng.getrandbits(128)))
    return {
        "title": f"{topic.title()} question {number}",
        "create_time": created,
        "update_time": when,
        "mapping": mapping,
        "moderation_results": [],
        "current_node": current,
        "plugin_ids": None,
        "conversation_id": conversation_id,
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": False,
        "safe_urls": [],
        "default_model_slug": "gpt-4o",
        "id": conversation_id,
    }


def write_export(path: Path, target_bytes: int, seed: int) -> int:
    """A conversations.json of about target_bytes; returns the number of conversations."""
    rng = random.Random(seed)
    pieces: list[str] = []
    size = 2
    while size < target_bytes:
        piece = json.dumps(conversation(rng, len(pieces), FIRST_MARKER if not pieces else None))
        pieces.append(piece)
        size += len(piece) + 2
    # The last conversation carries its own marker: found means everything is in.
    last = conversation(rng, len(pieces), LAST_MARKER)
    pieces[-1] = json.dumps(last)
    path.write_text("[" + ",\n".join(pieces) + "]", encoding="utf-8")
    return len(pieces)


# --- one size, in a child process ---------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(path: Path, url: str, embed_max: int) -> dict[str, Any]:
    out: dict[str, Any] = {"file_mb": path.stat().st_size / 2**20}
    with connect(url) as conn:
        conn.autocommit = True
        caller = caller_for(conn, f"import-{uuid.uuid4().hex[:8]}@example.com", create=True)
        ws = workspace_id(conn, caller)

        model_row = conn.execute(
            "select embedding_model_id as m from public.workspaces where id = %s", [ws]
        ).fetchone()
        assert model_row is not None
        model_id = int(model_row["m"])

        def found(query: str, semantic: bool = False) -> bool:
            """hybrid_search as the user: keyword-only, or semantic-only (the query embedded
            with the workspace's model, as a search request does)."""
            vector = None
            if semantic:
                vector = vector_literal(
                    model_for_id(conn, Caller.service(), model_id).embed([query], "query")[0]
                )
            with transaction_as(conn, caller):
                rows = conn.execute(
                    "select semantic_rank from public.hybrid_search(query_text => %s,"
                    " query_embedding => %s::extensions.vector, model_id => %s,"
                    " match_count => 5, full_text_weight => %s)",
                    [query, vector, model_id if semantic else None, 0 if semantic else 1],
                ).fetchall()
            if semantic:
                return any(r["semantic_rank"] is not None for r in rows)
            return bool(rows)

        started = time.perf_counter()
        items: list[Parsed] = list(parsed(collect([path], DEFAULT_LIMITS)))
        out["parse_s"] = time.perf_counter() - started
        out["conversations"] = len(items)
        out["rss_after_parse_mb"] = peak_rss_mb()

        first_keyword: list[float] = []

        def progress(report: ImportReport) -> None:
            if not first_keyword and report.added and found(FIRST_MARKER):
                first_keyword.append(time.perf_counter() - started)

        write_started = time.perf_counter()
        report = import_conversations(conn, caller, ws, items, on_progress=progress)
        write_s = time.perf_counter() - write_started
        del items
        if report.failed:
            raise SystemExit(f"{len(report.failed)} conversations failed: {report.failed[0]}")
        out["write_s"] = write_s
        out["passages"] = report.passages
        out["sources"] = report.added
        out["skipped"] = report.skipped
        out["first_keyword_s"] = first_keyword[0] if first_keyword else None
        if not found(LAST_MARKER):
            raise SystemExit("the last conversation is not keyword-searchable after the import")
        out["all_keyword_s"] = time.perf_counter() - started
        out["rss_after_write_mb"] = peak_rss_mb()
        out["copy_s"] = copy_floor(conn, ws)

        # Embedding: the real queue worker, batch by batch, up to embed_max passages.
        t0 = time.perf_counter()
        model_for_id(conn, Caller.service(), model_id).embed(["warm up"])  # loads the model once
        out["model_load_s"] = time.perf_counter() - t0
        embedded = 0
        first_semantic: float | None = None
        embed_started = time.perf_counter()
        embed_s = 0.0
        while embed_max <= 0 or embedded < embed_max:
            t_batch = time.perf_counter()
            n = embed_batch(conn, ws)
            embed_s += time.perf_counter() - t_batch
            if not n:
                break
            embedded += n
            if first_semantic is None and found("how to fix it", semantic=True):
                first_semantic = time.perf_counter() - started
        out["embedded"] = embedded
        out["embed_s"] = embed_s
        out["embed_wall_s"] = time.perf_counter() - embed_started
        out["first_semantic_s"] = first_semantic
        out["pending_after"] = pending_count(conn, ws)
        out["rss_peak_mb"] = peak_rss_mb()
    return out


def copy_floor(conn: Connection, ws: uuid.UUID) -> float:
    """Seconds to COPY the same sources and passages into another workspace of the same
    tables (their triggers, indexes and foreign keys all on) in one transaction, as the
    table owner: the floor for writing these rows. The rows are read first (not timed)."""
    other = workspace_id(
        conn, caller_for(conn, f"copy-{uuid.uuid4().hex[:8]}@example.com", create=True)
    )
    sources = conn.execute(
        "select id, kind, platform, title, url, external_id, content_hash, started_at,"
        " metadata::text as metadata from public.sources where workspace_id = %s",
        [ws],
    ).fetchall()
    new_ids = {r["id"]: uuid.uuid4() for r in sources}
    chunks = conn.execute(
        "select source_id, message_index, chunk_index, role, author, model, created_at,"
        " content, token_count, metadata::text as metadata from public.chunks"
        " where workspace_id = %s order by id",
        [ws],
    ).fetchall()
    started = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("set local synchronous_commit = off")  # as the importer writes
        with cur.copy(
            "copy public.sources (id, workspace_id, kind, platform, title, url, external_id,"
            " content_hash, started_at, metadata) from stdin"
        ) as copy:
            for r in sources:
                copy.write_row(
                    [new_ids[r["id"]], other]
                    + [r[k] for k in ("kind", "platform", "title", "url", "external_id")]
                    + [r["content_hash"], r["started_at"], r["metadata"]]
                )
        with cur.copy(
            "copy public.chunks (source_id, workspace_id, message_index, chunk_index, role,"
            " author, model, created_at, content, token_count, metadata) from stdin"
        ) as copy:
            for r in chunks:
                copy.write_row(
                    [new_ids[r["source_id"]], other]
                    + [
                        r[k]
                        for k in (
                            "message_index",
                            "chunk_index",
                            "role",
                            "author",
                            "model",
                            "created_at",
                            "content",
                            "token_count",
                            "metadata",
                        )
                    ]
                )
    took = time.perf_counter() - started
    # The copy is not part of what is measured next (embedding): take it out of the queue.
    conn.execute("delete from public.sources where workspace_id = %s", [other])
    return took


# --- the driver ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--home", type=Path, default=DEFAULT_HOME, help="server data, export files")
    p.add_argument(
        "--sizes-mb",
        type=lambda s: [float(x) for x in s.split(",") if x],
        default=[1.0, 10.0, 50.0],
        help="export sizes in MB (MiB)",
    )
    p.add_argument(
        "--embed-max",
        type=int,
        default=5000,
        help="embed at most this many passages per size (0: all); the rate is per passage",
    )
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--json-out", type=Path, help="write all results as JSON here")
    p.add_argument("--keep", action="store_true", help="keep the databases and export files")
    p.add_argument("--child", nargs=3, metavar=("FILE", "URL", "EMBED_MAX"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        path, url, embed_max = args.child
        print(json.dumps(child(Path(path), url, int(embed_max))))
        return 0

    args.home.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine_description()}")
    print(f"revision: {git_revision()}")
    server = start_server(args.home, {})
    results: list[dict[str, Any]] = []
    try:
        print(pg_version(server.url), flush=True)
        for mb in args.sizes_mb:
            path = args.home / f"conversations-{mb:g}MB.json"
            t0 = time.perf_counter()
            count = write_export(path, int(mb * 2**20), args.seed)
            print(
                f"generated {path.name}: {count} conversations in {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
            name = f"bench_import_{str(mb).replace('.', '_')}"
            url = fresh_database(server, name)
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(path), url, str(args.embed_max)],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr)
                raise SystemExit(f"the {mb:g} MB run failed (exit {proc.returncode})")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            result["size_mb"] = mb
            results.append(result)
            if not args.keep:
                drop_database(server, name)
                path.unlink()
    finally:
        server.stop()
    print()
    print(render(results, args.embed_max))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1))
    return 0


def _s(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2f}"


def render(results: list[dict[str, Any]], embed_max: int) -> str:
    rows = []
    for r in results:
        embed_rate = r["embedded"] / r["embed_s"] if r["embed_s"] else 0.0
        rows.append(
            [
                f"{r['file_mb']:.1f}",
                f"{r['conversations']:,}",
                f"{r['passages']:,}",
                _s(r["parse_s"]),
                _s(r["write_s"]),
                f"{r['passages'] / r['write_s']:,.0f}",
                _s(r["copy_s"]),
                f"{r['write_s'] / r['copy_s']:.2f}",
                _s(r["first_keyword_s"]),
                _s(r["all_keyword_s"]),
                _s(r["model_load_s"]),
                f"{embed_rate:,.0f}",
                _s(r["first_semantic_s"]),
                f"{r['passages'] / embed_rate / 60:.1f}" if embed_rate else "-",
                f"{r['rss_after_write_mb']:.0f}",
                f"{r['rss_peak_mb']:.0f}",
            ]
        )
    return table(
        "Import of a generated ChatGPT export (seconds from the start of the import unless"
        f" noted; embedding measured on at most {embed_max:,} passages)",
        [
            "MB",
            "convs",
            "passages",
            "parse s",
            "write s",
            "write/s",
            "COPY s",
            "write/COPY",
            "1st kw s",
            "all kw s",
            "model s",
            "embed/s",
            "1st sem s",
            "embed all min",
            "RSS write MB",
            "RSS peak MB",
        ],
        rows,
    )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (psycopg.Error, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
