"""Topic-threads benchmark: how long regrouping a workspace's conversations takes, how well
the threads match known topics, and how fast new conversations find their thread. See
docs/PERFORMANCE.md for the method and the results.

For each size N it builds a dedicated database on an embedded server under --home: one
user's workspace with N conversations in --topics synthetic topics (grouped in
--families of related topics), each of --passages passages whose vectors (the
workspace's model's dimensions) are written directly with COPY (no model: a topic
centre + a per-conversation offset + per-passage noise, seeded; --mixed of the
conversations drift to a second topic half way). Then, as the user through RLS:

  regroup   api.topics.grouping.regroup at --similarity, --runs times (p50/p95), with its
            centroid query (private.source_centroids) and the clustering
            (api.topics.grouping.cluster) also timed on their own
  quality   purity / inverse purity of the threads against the known topics at
            --similarity and the other --thresholds
  new       --new conversations added in batches of --batch; api.topics.grouping.assign_new
            timed per batch (as the service role, as the worker runs it)

    .venv/bin/python scripts/bench_threads.py --sizes 500,2000,5000
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import psycopg
from _bench_common import (
    DEFAULT_HOME,
    Server,
    copy_embeddings,
    drop_database,
    float_list,
    fresh_database,
    git_revision,
    int_list,
    machine_description,
    ms,
    percentile,
    pg_version,
    start_server,
    table,
)

from api.accounts.users import caller_for, ensure_workspace
from api.db.session import Caller, Connection, connect, transaction_as
from api.topics import grouping

Vectors = npt.NDArray[np.float64]

# --- the corpus ----------------------------------------------------------------------------


def _unit(x: Vectors) -> Vectors:
    norms: Vectors = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / norms


@dataclass
class Topics:
    """Topic centres: unit vectors sharing a global direction (every topic a little alike,
    as a real model's embeddings are) and their family's direction (related topics)."""

    centres: Vectors
    family: list[int]

    @classmethod
    def make(
        cls,
        rng: np.random.Generator,
        k: int,
        families: int,
        dims: int,
        base_cosine: float,
        family_cosine: float,
    ) -> Topics:
        if not 0 <= base_cosine <= family_cosine < 1:
            raise SystemExit("need 0 <= --base-cosine <= --family-cosine < 1")
        common = _unit(rng.normal(size=dims))
        fams = _unit(rng.normal(size=(max(1, families), dims)))
        own = _unit(rng.normal(size=(k, dims)))
        family = [t % max(1, families) for t in range(k)]
        centres = _unit(
            np.sqrt(base_cosine) * common
            + np.sqrt(family_cosine - base_cosine) * fams[family]
            + np.sqrt(1 - family_cosine) * own
        )
        return cls(centres, family)


@dataclass
class Generated:
    topics: list[int]  # each conversation's known topic
    passages: Vectors  # (conversations, passages, dims), unit rows


def generate(
    rng: np.random.Generator,
    topics: Topics,
    n: int,
    passages: int,
    spread: float,
    noise: float,
    mixed: float,
) -> Generated:
    """n conversations: topic centre + an offset of norm ~spread (0.5-1.5x, one per
    conversation) + noise of norm ~noise per passage; a share `mixed` of them move to
    another topic for their second half (their known topic stays the first)."""
    k, dims = topics.centres.shape
    topic = rng.integers(0, k, n)
    other = rng.integers(0, k, n)
    drift = rng.random(n) < mixed
    base = np.repeat(topics.centres[topic][:, None, :], passages, axis=1)
    half = passages // 2
    if half:
        base[drift, half:] = topics.centres[other[drift]][:, None, :]
    scale = spread * rng.uniform(0.5, 1.5, n)[:, None, None]
    offset = rng.normal(size=(n, 1, dims)) / np.sqrt(dims) * scale
    jitter = rng.normal(size=(n, passages, dims)) / np.sqrt(dims) * noise
    return Generated([int(t) for t in topic], _unit(base + offset + jitter))


@dataclass
class Workspace:
    id: uuid.UUID
    owner: Caller
    model_id: int
    dims: int
    topic_of: dict[uuid.UUID, int] = field(default_factory=dict)
    loaded: int = 0  # conversations so far (titles, timestamps, hashes)


def create_workspace(conn: Connection) -> Workspace:
    run = uuid.uuid4().hex[:8]
    owner = caller_for(conn, f"threads-{run}@example.com", create=True)
    ws = ensure_workspace(conn, owner, "threads benchmark")
    row = conn.execute(
        "select m.id, m.dims from public.workspaces w"
        " join public.embedding_models m on m.id = w.embedding_model_id where w.id = %s",
        [ws],
    ).fetchone()
    assert row is not None
    return Workspace(ws, owner, int(row["id"]), int(row["dims"]))


EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def load(conn: Connection, ws: Workspace, gen: Generated) -> list[uuid.UUID]:
    """COPY the conversations, their passages and their embeddings (as the superuser: no
    RLS), then drop the queue rows the insert trigger made: the vectors are already there.
    Returns the new sources' ids."""
    n, passages, dims = gen.passages.shape
    if dims != ws.dims:
        raise SystemExit(f"the workspace's model has {ws.dims} dimensions, not {dims}")
    ids = [uuid.uuid4() for _ in range(n)]
    first = ws.loaded
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(
            "copy public.sources (id, workspace_id, kind, platform, title, external_id,"
            " content_hash, started_at) from stdin"
        ) as copy:
            for i, source_id in enumerate(ids):
                no = first + i
                copy.write_row(
                    (
                        source_id,
                        ws.id,
                        "chatgpt_export",
                        "chatgpt",
                        f"topic {gen.topics[i]} chat {no}",
                        f"conv-{no}",
                        hashlib.sha256(f"{ws.id}:{no}".encode()).hexdigest(),
                        EPOCH + timedelta(hours=no),
                    )
                )
        with cur.copy(
            "copy public.chunks (source_id, workspace_id, message_index, chunk_index, role,"
            " created_at, content, token_count) from stdin"
        ) as copy:
            for i, source_id in enumerate(ids):
                t = gen.topics[i]
                for m in range(passages):
                    copy.write_row(
                        (
                            source_id,
                            ws.id,
                            m,
                            0,
                            "user" if m % 2 == 0 else "assistant",
                            EPOCH + timedelta(hours=first + i, seconds=30 * m),
                            f"passage {m} of a conversation about topic {t}",
                            8,
                        )
                    )
        rows = cur.execute(
            "select c.id, c.source_id, c.message_index from public.chunks c"
            " where c.source_id = any(%s::uuid[])",
            [ids],
        ).fetchall()
        position = {source_id: i for i, source_id in enumerate(ids)}
        chunk_ids = np.array([r["id"] for r in rows], dtype=np.int64)
        vectors = np.stack(
            [gen.passages[position[r["source_id"]], r["message_index"]] for r in rows]
        ).astype(np.float32)
        workspace_ids = np.full(len(chunk_ids), ws.id.bytes, dtype="V16")
        copy_embeddings(cur, chunk_ids, ws.model_id, workspace_ids, vectors)
        cur.execute(
            "delete from public.embedding_queue q using public.chunks c"
            " where q.chunk_id = c.id and c.source_id = any(%s::uuid[])",
            [ids],
        )
    ws.loaded += n
    ws.topic_of.update(zip(ids, gen.topics, strict=True))
    return ids


# --- measuring -----------------------------------------------------------------------------


def threads_of(conn: Connection, ws: Workspace) -> dict[uuid.UUID, uuid.UUID | None]:
    rows = conn.execute(
        "select id, thread_id from public.sources where workspace_id = %s", [ws.id]
    ).fetchall()
    return {r["id"]: r["thread_id"] for r in rows}


@dataclass
class Quality:
    threads: int
    singletons: int
    largest: int
    purity: float
    inverse: float

    def cells(self) -> list[object]:
        return [
            f"{self.threads:,}",
            f"{self.singletons:,}",
            f"{self.largest:,}",
            f"{self.purity:.3f}",
            f"{self.inverse:.3f}",
        ]


def quality(conn: Connection, ws: Workspace) -> Quality:
    assigned = threads_of(conn, ws)
    sizes = Counter(t for t in assigned.values() if t is not None)
    pure, whole = grouping.purity(assigned, ws.topic_of)
    return Quality(
        len(sizes),
        sum(1 for c in sizes.values() if c == 1),
        max(sizes.values(), default=0),
        pure,
        whole,
    )


def time_centroids(conn: Connection, ws: Workspace) -> tuple[float, float, Vectors]:
    """regroup's two reads as the user, on their own: the workspace's embedded conversations
    (seconds), then their centroids (private.source_centroids, parsed as regroup parses
    them; seconds); and the centroids."""
    with transaction_as(conn, ws.owner):
        started = time.perf_counter()
        newest = grouping._embedded_sources(conn, ws.id, unthreaded=False)
        listed = time.perf_counter()
        _, centroids = grouping._centroids(conn, newest[: grouping.MAX_CLUSTERED])
        done = time.perf_counter()
    return listed - started, done - listed, centroids


@dataclass
class Args:
    home: Path
    sizes: list[int]
    topics: int
    families: int
    passages: int
    base_cosine: float
    family_cosine: float
    spread: float
    noise: float
    mixed: float
    runs: int
    similarity: float
    thresholds: list[float]
    new: int
    batch: int
    shared_buffers: str
    seed: int
    keep: bool


def parse_args(argv: Sequence[str] | None = None) -> Args:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)

    p.add_argument("--home", type=Path, default=DEFAULT_HOME, help="server data")
    p.add_argument("--sizes", type=int_list, default=[500, 2000, 5000], help="conversations")
    p.add_argument("--topics", type=int, default=50, help="known topics")
    p.add_argument("--families", type=int, default=10, help="groups of related topics")
    p.add_argument("--passages", type=int, default=8, help="passages per conversation")
    p.add_argument(
        "--base-cosine", type=float, default=0.1, help="cosine of unrelated topic centres"
    )
    p.add_argument(
        "--family-cosine",
        type=float,
        default=0.4,
        help="cosine of topic centres in one family",
    )
    p.add_argument(
        "--spread",
        type=float,
        default=1.0,
        help="norm of a conversation's offset from its topic centre (x0.5-1.5)",
    )
    p.add_argument("--noise", type=float, default=1.5, help="norm of a passage's noise")
    p.add_argument(
        "--mixed", type=float, default=0.1, help="share of conversations drifting to a 2nd topic"
    )
    p.add_argument("--runs", type=int, default=5, help="timed regroups per size")
    p.add_argument("--similarity", type=float, default=0.3, help="the threshold regrouped at")
    p.add_argument(
        "--thresholds",
        type=float_list,
        default=[0.2, 0.4, 0.5],
        help="other thresholds whose threads' purity is measured",
    )
    p.add_argument("--new", type=int, default=100, help="new conversations for assign_new")
    p.add_argument("--batch", type=int, default=10, help="new conversations per assign_new")
    p.add_argument("--shared-buffers", default="512MB")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    ns = p.parse_args(argv)
    return Args(**vars(ns))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.home.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine_description()}")
    print(f"revision: {git_revision()}; started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    server = start_server(args.home, {"shared_buffers": args.shared_buffers})
    results: list[SizeResult] = []
    try:
        print(pg_version(server.url), flush=True)
        for n in args.sizes:
            results.append(bench_size(server, args, n))
    finally:
        server.stop()
    print()
    print(f"machine at the end: {machine_description()}")
    print(render(results, args))
    return 0


@dataclass
class SizeResult:
    n: int
    load_s: float
    regroup: list[float]
    listing: list[float]
    centroids: list[float]
    clustering: list[float]
    outcome: grouping.Regrouped
    quality: dict[float, Quality]
    assign: list[tuple[int, float]]  # (conversations, seconds) per batch
    joined: int
    wrong: int
    fresh: int
    after: Quality


def bench_size(server: Server, args: Args, n: int) -> SizeResult:
    name = f"bench_threads_{n}"
    print(f"\n=== {n:,} conversations (database {name}) ===", flush=True)
    url = fresh_database(server, name)
    rng = np.random.default_rng(args.seed + n)
    with connect(url) as conn:
        conn.autocommit = True
        ws = create_workspace(conn)
        # The search index is not what is measured: drop it so the load is quick.
        conn.execute(f"drop index if exists public.chunk_embeddings_model_{ws.model_id}_hnsw")
        topics = Topics.make(
            rng, args.topics, args.families, ws.dims, args.base_cosine, args.family_cosine
        )

        def make(count: int) -> Generated:
            return generate(rng, topics, count, args.passages, args.spread, args.noise, args.mixed)

        started = time.perf_counter()
        load(conn, ws, make(n))
        conn.execute("vacuum (analyze) public.sources, public.chunks, public.chunk_embeddings")
        load_s = time.perf_counter() - started
        print(
            f"loaded {n:,} conversations, {n * args.passages:,} passages in {load_s:.1f} s",
            flush=True,
        )

        regroup_s: list[float] = []
        listing_s: list[float] = []
        centroid_s: list[float] = []
        cluster_s: list[float] = []
        outcome: grouping.Regrouped | None = None
        for run in range(args.runs):
            t0 = time.perf_counter()
            outcome = grouping.regroup(conn, ws.owner, ws.id, args.similarity)
            regroup_s.append(time.perf_counter() - t0)
            listed, loaded, centroids = time_centroids(conn, ws)
            listing_s.append(listed)
            centroid_s.append(loaded)
            t0 = time.perf_counter()
            grouping.cluster(centroids, args.similarity)
            cluster_s.append(time.perf_counter() - t0)
            print(
                f"run {run + 1}: regroup {regroup_s[-1]:.2f} s (list {listed:.2f},"
                f" centroids {loaded:.2f}, cluster {cluster_s[-1]:.2f}) -> {outcome.threads}"
                " threads",
                flush=True,
            )
        if outcome is None:
            outcome = grouping.regroup(conn, ws.owner, ws.id, args.similarity)
        by_threshold = {args.similarity: quality(conn, ws)}
        for similarity in args.thresholds:
            grouping.regroup(conn, ws.owner, ws.id, similarity)
            by_threshold[similarity] = quality(conn, ws)
        # Back to the measured threshold for the new conversations.
        grouping.regroup(conn, ws.owner, ws.id, args.similarity)
        before = threads_of(conn, ws)
        majority: dict[uuid.UUID, int] = {}
        members: dict[uuid.UUID, list[int]] = {}
        for source, thread in before.items():
            if thread is not None:
                members.setdefault(thread, []).append(ws.topic_of[source])
        for thread, found in members.items():
            majority[thread] = Counter(found).most_common(1)[0][0]

        assign: list[tuple[int, float]] = []
        new_ids: list[uuid.UUID] = []
        remaining = args.new
        while remaining > 0:
            count = min(args.batch, remaining)
            remaining -= count
            new_ids += load(conn, ws, make(count))
            t0 = time.perf_counter()
            placed = grouping.assign_new(conn, Caller.service(), ws.id)
            assign.append((placed, time.perf_counter() - t0))
        after = threads_of(conn, ws)
        joined = wrong = fresh = 0
        for source in new_ids:
            thread = after[source]
            if thread is None or thread not in majority:
                fresh += 1
            elif majority[thread] == ws.topic_of[source]:
                joined += 1
            else:
                wrong += 1
        after_quality = quality(conn, ws)
    if not args.keep:
        drop_database(server, name)
    return SizeResult(
        n,
        load_s,
        regroup_s,
        listing_s,
        centroid_s,
        cluster_s,
        outcome,
        by_threshold,
        assign,
        joined,
        wrong,
        fresh,
        after_quality,
    )


def _s(seconds: float) -> str:
    return f"{seconds:.2f}"


def render(results: list[SizeResult], args: Args) -> str:
    out = []
    rows: list[list[object]] = []
    for r in results:
        p50 = percentile(r.regroup, 50)
        other = p50 - sum(percentile(x, 50) for x in (r.listing, r.centroids, r.clustering))
        rows.append(
            [
                f"{r.n:,}",
                f"{r.n * args.passages:,}",
                _s(p50),
                _s(percentile(r.regroup, 95)),
                _s(percentile(r.listing, 50)),
                _s(percentile(r.centroids, 50)),
                _s(percentile(r.clustering, 50)),
                _s(percentile(r.clustering, 95)),
                _s(max(other, 0.0)),
                f"{r.outcome.threads:,}",
            ]
        )
    out.append(
        table(
            f"regroup at similarity {args.similarity:g}, {args.runs} runs per size (seconds;"
            " list, centroids and cluster timed on their own, other = p50 - their p50s)",
            [
                "conversations",
                "passages",
                "p50",
                "p95",
                "list p50",
                "centroids p50",
                "cluster p50",
                "cluster p95",
                "other",
                "threads",
            ],
            rows,
        )
    )
    rows = []
    for r in results:
        for similarity in sorted(r.quality):
            rows.append([f"{r.n:,}", f"{similarity:g}", *r.quality[similarity].cells()])
    out.append(
        table(
            f"Thread quality against {args.topics} known topics ({args.families} families;"
            " purity: share in their thread's majority topic; inverse: share in their topic's"
            " majority thread)",
            [
                "conversations",
                "similarity",
                "threads",
                "singletons",
                "largest",
                "purity",
                "inverse",
            ],
            rows,
        )
    )
    rows = []
    for r in results:
        per_conversation = [s / c for c, s in r.assign if c]
        batches = [s for _, s in r.assign]
        total = sum(c for c, _ in r.assign) or 1
        rows.append(
            [
                f"{r.n:,}",
                f"{sum(c for c, _ in r.assign):,}",
                len(r.assign),
                ms(percentile(batches, 50)),
                ms(percentile(batches, 95)),
                ms(percentile(per_conversation, 50)),
                ms(percentile(per_conversation, 95)),
                f"{r.joined / total * 100:.0f}%",
                f"{r.wrong / total * 100:.0f}%",
                f"{r.fresh / total * 100:.0f}%",
                f"{r.after.purity:.3f}",
                f"{r.after.inverse:.3f}",
            ]
        )
    out.append(
        table(
            f"assign_new for new conversations in batches of {args.batch}, as the service role"
            f" (ms; similarity {args.similarity:g}; right/wrong = joined a thread whose"
            " majority topic is / is not theirs; new = in a thread made after the regroup)",
            [
                "existing",
                "new",
                "batches",
                "batch p50",
                "batch p95",
                "per conv p50",
                "per conv p95",
                "right",
                "wrong",
                "new thread",
                "purity after",
                "inverse after",
            ],
            rows,
        )
    )
    out.append(
        table(
            "Load (COPY of sources, chunks, embeddings + vacuum analyze; not part of the above)",
            ["conversations", "passages", "seconds"],
            [[f"{r.n:,}", f"{r.n * args.passages:,}", f"{r.load_s:.1f}"] for r in results],
        )
    )
    return "\n".join(out)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (psycopg.Error, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
