"""Search benchmark: latency and recall of hybrid_search at scale, through RLS and as the
service role. See docs/PERFORMANCE.md for the method and the results.

For each size it builds a dedicated database on an embedded server under --home:
workspaces of very different sizes (two owned by measured users holding --shares of the
table, the rest Zipf-sized), passages of topic-vocabulary text, and 384-d vectors clustered
around real all-MiniLM-L6-v2 embeddings of generated sentences (a real embedding plus small
Gaussian noise, renormalised: the model is too slow on 2 cores to embed a million passages).
It bulk-loads with COPY, builds the GIN and HNSW indexes (timed, sized), then measures.

    .venv/bin/python scripts/bench_search.py --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from _bench_common import (
    DEFAULT_HOME,
    QUERY_TEMPLATES,
    TOPIC_NAMES,
    Server,
    copy_embeddings,
    drop_database,
    float_list,
    fresh_database,
    git_revision,
    int_list,
    machine_description,
    ms,
    paragraph,
    percentile,
    pg_version,
    sentence,
    size_mb,
    start_server,
    table,
)

from api.accounts.users import caller_for, workspace_id
from api.db.migrate import migrate
from api.db.session import Caller, Connection, connect, transaction_as
from api.db.vectors import vector_literal
from api.embeddings.registry import get_model

DIMS = 384
MODEL_ID = 1  # the seeded default model, all-MiniLM-L6-v2
INDEX = f"chunk_embeddings_model_{MODEL_ID}_hnsw"
Vectors = npt.NDArray[np.float32]


# --- the corpus ----------------------------------------------------------------------------


@dataclass
class Bank:
    """Real embeddings of generated sentences, by topic: the centres of the corpus's clusters
    and the search queries."""

    texts: list[str]
    topics: list[int]
    vectors: Vectors
    query_texts: list[str]
    query_topics: list[int]
    query_vectors: Vectors

    def by_topic(self) -> list[list[int]]:
        groups: list[list[int]] = [[] for _ in TOPIC_NAMES]
        for i, t in enumerate(self.topics):
            groups[t].append(i)
        return groups


def embedding_bank(home: Path, n_sentences: int, n_queries: int, seed: int) -> Bank:
    """Embed n_sentences distinct corpus sentences and n_queries queries with the real local
    model, cached under home (the model takes a while on 2 cores)."""
    cache = home / f"bank-{n_sentences}-{n_queries}-{seed}.npz"
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        meta = json.loads(str(data["meta"]))
        return Bank(
            meta["texts"],
            meta["topics"],
            data["vectors"],
            meta["query_texts"],
            meta["query_topics"],
            data["query_vectors"],
        )
    rng = random.Random(seed)
    texts: list[str] = []
    topics: list[int] = []
    seen: set[str] = set()
    while len(texts) < n_sentences:
        t = len(texts) % len(TOPIC_NAMES)
        s = sentence(rng, TOPIC_NAMES[t])
        if s not in seen:
            seen.add(s)
            texts.append(s)
            topics.append(t)
    query_texts: list[str] = []
    query_topics: list[int] = []
    while len(query_texts) < n_queries:
        t = rng.randrange(len(TOPIC_NAMES))
        q = sentence(rng, TOPIC_NAMES[t], QUERY_TEMPLATES)
        if q not in seen:
            seen.add(q)
            query_texts.append(q)
            query_topics.append(t)
    model = get_model("local", "all-MiniLM-L6-v2")
    started = time.perf_counter()
    vectors = np.asarray(model.embed(texts), dtype=np.float32)
    query_vectors = np.asarray(model.embed(query_texts, "query"), dtype=np.float32)
    took = time.perf_counter() - started
    print(
        f"embedded {len(texts) + len(query_texts)} sentences with the local model in {took:.1f} s"
        f" ({(len(texts) + len(query_texts)) / took:.0f}/s)",
        flush=True,
    )
    home.mkdir(parents=True, exist_ok=True)
    meta = {
        "texts": texts,
        "topics": topics,
        "query_texts": query_texts,
        "query_topics": query_topics,
    }
    np.savez(cache, vectors=vectors, query_vectors=query_vectors, meta=json.dumps(meta))
    return Bank(texts, topics, vectors, query_texts, query_topics, query_vectors)


@dataclass
class Workspace:
    id: uuid.UUID
    owner: uuid.UUID
    size: int
    topics: list[int]
    weights: list[float]
    label: str = ""
    rows: list[int] = field(default_factory=list)  # positions in the corpus


def plan_sizes(n: int, shares: Sequence[float], fillers: int, exponent: float) -> list[int]:
    """Row counts: one workspace per share, then Zipf-sized fillers for the rest."""
    fixed = [max(1, round(n * s)) for s in shares]
    rest = n - sum(fixed)
    if rest < fillers:
        raise SystemExit(f"--shares leave {rest} rows for {fillers} filler workspaces")
    weights = [1 / (i + 1) ** exponent for i in range(fillers)]
    total = sum(weights)
    sizes = [max(1, int(rest * w / total)) for w in weights]
    sizes[0] += rest - sum(sizes)
    return fixed + sizes


def create_workspaces(
    conn: Connection, sizes: list[int], shares: Sequence[float], rng: random.Random
) -> list[Workspace]:
    """Measured users through accounts.users.caller_for; fillers in one insert (same trigger)."""
    run = uuid.uuid4().hex[:8]
    owners: list[uuid.UUID] = []
    for share in shares:
        caller = caller_for(conn, f"bench-{share:g}-{run}@example.com", create=True)
        assert caller.user_id is not None
        owners.append(caller.user_id)
    fillers = len(sizes) - len(shares)
    rows = conn.execute(
        "insert into auth.users (email, email_confirmed_at)"
        " select 'filler-' || g || '-' || %s || '@example.com', now()"
        " from generate_series(1, %s) g order by g returning id",
        [run, fillers],
    ).fetchall()
    owners += [r["id"] for r in rows]
    ws_by_owner = {
        r["owner_id"]: r["id"]
        for r in conn.execute(
            "select id, owner_id from public.workspaces where is_personal"
        ).fetchall()
    }
    out = []
    for i, (owner, size) in enumerate(zip(owners, sizes, strict=True)):
        k = rng.randint(2, 6)
        topics = rng.sample(range(len(TOPIC_NAMES)), k)
        weights = [rng.random() + 0.2 for _ in topics]
        label = f"{shares[i] * 100:g}%" if i < len(shares) else f"filler {i - len(shares) + 1}"
        out.append(Workspace(ws_by_owner[owner], owner, size, topics, weights, label))
    return out


@dataclass
class Corpus:
    vectors: Vectors  # row i is chunk id ids[i]
    ids: npt.NDArray[np.int64]
    workspace_of: npt.NDArray[np.int32]  # index into workspaces


def build_corpus(
    conn: Connection,
    workspaces: list[Workspace],
    bank: Bank,
    noise: float,
    rng: random.Random,
    np_rng: np.random.Generator,
) -> tuple[Corpus, dict[str, float]]:
    """Generate and COPY sources, chunks and chunk_embeddings; returns timings."""
    timings: dict[str, float] = {}
    groups = bank.by_topic()
    n = sum(w.size for w in workspaces)
    base = np.empty(n, dtype=np.int32)
    workspace_of = np.empty(n, dtype=np.int32)
    started = time.perf_counter()
    epoch = datetime(2023, 1, 1, tzinfo=UTC)
    conn.execute("set session_replication_role = replica")  # no triggers, no FK checks
    conn.execute("set synchronous_commit = off")
    pos = 0
    with conn.cursor() as cur:
        sources: list[tuple[Any, ...]] = []
        with cur.copy(
            "copy public.chunks (source_id, workspace_id, message_index, chunk_index, role,"
            " created_at, content, token_count) from stdin"
        ) as copy:
            for wi, ws in enumerate(workspaces):
                remaining = ws.size
                s_no = 0
                while remaining:
                    length = min(remaining, rng.randint(4, 30))
                    remaining -= length
                    source_id = uuid.uuid4()
                    topic = rng.choices(ws.topics, ws.weights)[0]
                    started_at = epoch + timedelta(minutes=rng.randrange(60 * 24 * 900))
                    key = f"{ws.id}:{s_no}"
                    sources.append(
                        (
                            source_id,
                            ws.id,
                            "chatgpt_export",
                            "chatgpt",
                            f"{TOPIC_NAMES[topic]} chat {s_no}",
                            f"conv-{s_no}",
                            hashlib.sha256(key.encode()).hexdigest(),
                            started_at,
                        )
                    )
                    s_no += 1
                    for m in range(length):
                        # Mostly the conversation's topic, sometimes another of the owner's.
                        t = topic if rng.random() < 0.8 else rng.choices(ws.topics, ws.weights)[0]
                        b = rng.choice(groups[t])
                        base[pos] = b
                        workspace_of[pos] = wi
                        content = bank.texts[b] + " " + paragraph(rng, TOPIC_NAMES[t], 2)
                        copy.write_row(
                            (
                                source_id,
                                ws.id,
                                m,
                                0,
                                "user" if m % 2 == 0 else "assistant",
                                started_at + timedelta(seconds=30 * m),
                                content,
                                len(content.split()),
                            )
                        )
                        ws.rows.append(pos)
                        pos += 1
        timings["copy chunks"] = time.perf_counter() - started
        t0 = time.perf_counter()
        with cur.copy(
            "copy public.sources (id, workspace_id, kind, platform, title, external_id,"
            " content_hash, started_at) from stdin"
        ) as copy:
            for row in sources:
                copy.write_row(row)
        timings["copy sources"] = time.perf_counter() - t0
    bounds = conn.execute("select min(id) as lo, max(id) as hi, count(*) as n from public.chunks")
    b_row = bounds.fetchone()
    assert b_row is not None
    if b_row["n"] != n or b_row["hi"] - b_row["lo"] + 1 != n:
        raise SystemExit("chunk ids are not contiguous; cannot map vectors to chunks")
    ids = np.arange(b_row["lo"], b_row["lo"] + n, dtype=np.int64)

    t0 = time.perf_counter()
    vectors = np.empty((n, DIMS), dtype=np.float32)
    block = 100_000
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        v = bank.vectors[base[lo:hi]] + np_rng.normal(0, noise, (hi - lo, DIMS)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        vectors[lo:hi] = v
    timings["generate vectors"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ws_uuids = np.array([w.id.bytes for w in workspaces], dtype="V16")
    with conn.cursor() as cur:
        copy_embeddings(cur, ids, MODEL_ID, ws_uuids[workspace_of], vectors)
    timings["copy embeddings"] = time.perf_counter() - t0
    conn.execute("set session_replication_role = origin")
    return Corpus(vectors, ids, workspace_of), timings


def build_indexes(
    conn: Connection, m: int, ef_construction: int, workers: int, maintenance_work_mem: str
) -> list[tuple[str, float, int]]:
    """Rebuild the GIN and the model's HNSW index (same definitions as the migrations, with
    the HNSW parameters given); returns (index, seconds, bytes)."""
    conn.execute(f"set maintenance_work_mem = '{maintenance_work_mem}'")
    conn.execute(f"set max_parallel_maintenance_workers = {workers}")
    built = []
    for name, ddl in [
        (
            "chunks_workspace_id_fts_idx",
            "create index chunks_workspace_id_fts_idx on public.chunks"
            " using gin (workspace_id, fts)",
        ),
        (
            INDEX,
            f"create index {INDEX} on public.chunk_embeddings using hnsw"
            f" ((embedding::extensions.vector({DIMS})) extensions.vector_cosine_ops)"
            f" with (m = {m}, ef_construction = {ef_construction}) where model_id = {MODEL_ID}",
        ),
    ]:
        started = time.perf_counter()
        conn.execute(ddl)
        took = time.perf_counter() - started
        size = conn.execute("select pg_relation_size(%s::regclass) as b", [f"public.{name}"])
        row = size.fetchone()
        built.append((name, took, int(row["b"]) if row else 0))
    return built


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Who:
    label: str
    caller: Caller
    scope: list[int] | None  # indexes of the workspaces it searches (None: all)
    filters: dict[str, Any]


@dataclass
class Sample:
    seconds: float
    rows: int
    ids: list[int]


def exact_top(corpus: Corpus, rows: npt.NDArray[np.int64] | None, q: Vectors, k: int) -> list[int]:
    """Exact cosine top-k chunk ids of the rows (positions), or of everything."""
    vecs = corpus.vectors if rows is None else corpus.vectors[rows]
    ids = corpus.ids if rows is None else corpus.ids[rows]
    sims = vecs @ q
    if len(sims) <= k:
        order = np.argsort(-sims)
    else:
        part = np.argpartition(-sims, k)[:k]
        order = part[np.argsort(-sims[part])]
    return [int(i) for i in ids[order]]


HYBRID = """
select * from public.{fn}(
  query_text => %s, query_embedding => %s::extensions.vector, model_id => %s,
  match_count => %s, full_text_weight => %s, semantic_weight => %s, filters => %s::jsonb)
"""

MODES = {"hybrid": (1.0, 1.0), "vector": (0.0, 1.0), "keyword": (1.0, 0.0)}


SUPABASE_FN = "supabase_hybrid_search"
SUPABASE_CALL = """
select * from public.supabase_hybrid_search(
  query_text => %s, query_embedding => %s::extensions.vector(384),
  match_count => %s, full_text_weight => %s, semantic_weight => %s)
"""


def run_hybrid(
    conn: Connection, who: Who, fn: str, mode: str, text: str, vec: str, k: int
) -> Sample:
    ftw, sw = MODES[mode]
    with transaction_as(conn, who.caller):
        if fn == SUPABASE_FN:
            # Supabase's function has no filters (RLS alone scopes it) and sets no HNSW
            # options: give it the ones public.hybrid_search sets, for a fair index scan.
            conn.execute("select set_config('hnsw.iterative_scan', 'relaxed_order', true)")
            conn.execute("select set_config('hnsw.ef_search', '100', true)")
            started = time.perf_counter()
            rows = conn.execute(SUPABASE_CALL, [text, vec, k, ftw, sw]).fetchall()
            took = time.perf_counter() - started
            return Sample(took, len(rows), [int(r["id"]) for r in rows])
        started = time.perf_counter()
        rows = conn.execute(
            HYBRID.format(fn=fn), [text, vec, MODEL_ID, k, ftw, sw, json.dumps(who.filters)]
        ).fetchall()
        took = time.perf_counter() - started
    return Sample(took, len(rows), [int(r["chunk_id"]) for r in rows])


# Supabase's documented hybrid_search (supabase.com/docs/guides/ai/hybrid-search), on our
# tables: `documents` is public.chunks (fts) with its embedding in public.chunk_embeddings
# (the model's rows, cast like the partial HNSW index so the index is used). The guide
# orders by `<#>` (inner product); these vectors are unit length, so `<=>` gives the same
# order and matches the cosine index. Everything else as documented: websearch_to_tsquery
# (AND of the words), both branches always run, least(match_count, 30) * 2 candidates.
SUPABASE_DDL = """
create or replace function public.supabase_hybrid_search(
  query_text text,
  query_embedding extensions.vector(384),
  match_count int,
  full_text_weight float = 1,
  semantic_weight float = 1,
  rrf_k int = 50
)
returns setof public.chunks
language sql
set search_path = ''
as $$
with full_text as (
  select
    id,
    row_number() over (
      order by ts_rank_cd(fts, websearch_to_tsquery('english', query_text)) desc
    ) as rank_ix
  from public.chunks
  where fts @@ websearch_to_tsquery('english', query_text)
  order by rank_ix
  limit least(match_count, 30) * 2
),
semantic as (
  select
    chunk_id as id,
    row_number() over (
      order by embedding::extensions.vector(384) operator(extensions.<=>) query_embedding
    ) as rank_ix
  from public.chunk_embeddings
  where model_id = 1
  order by rank_ix
  limit least(match_count, 30) * 2
)
select public.chunks.*
from full_text
  full outer join semantic on full_text.id = semantic.id
  join public.chunks on coalesce(full_text.id, semantic.id) = public.chunks.id
order by
  coalesce(1.0 / (rrf_k + full_text.rank_ix), 0.0) * full_text_weight +
  coalesce(1.0 / (rrf_k + semantic.rank_ix), 0.0) * semantic_weight
  desc
limit least(match_count, 30)
$$;
grant execute on function public.supabase_hybrid_search to authenticated, service_role;
"""

# The keyword branch's ranking (every match of the OR-ed words, by ts_rank: the ranking
# private.keyword_rank_function picks for plain words, which is all these queries are), run
# as SQL by the table owner: the reference for the keyword mode's top k (a change that
# bounds the ranked set shows here as agreement below 1) and its cost alone.
KEYWORD_TRUTH = """
select c.id from public.chunks c
where c.fts @@ replace(websearch_to_tsquery('english', %(q)s)::text, ' & ', ' | ')::tsquery
  and c.workspace_id = any (%(scope)s)
order by ts_rank(c.fts, replace(websearch_to_tsquery('english', %(q)s)::text, ' & ', ' | ')
  ::tsquery) desc, c.id
limit %(k)s
"""


def branch_sql(scoped: bool, exact: bool) -> str:
    """The vector branch of hybrid_search as it runs (the template in the migration)."""
    cast = f"extensions.vector({DIMS})"
    distance = (
        "e.embedding operator(extensions.<=>) %(q)s::extensions.vector"
        if exact
        else f"e.embedding::{cast} operator(extensions.<=>) %(q)s::{cast}"
    )
    where = " and e.workspace_id = any (%(scope)s)" if scoped else ""
    return (
        f"select e.chunk_id as id, {distance} as dist from public.chunk_embeddings e"
        f" where e.model_id = {MODEL_ID}{where} order by dist limit %(n)s"
    )


def run_branch(
    conn: Connection,
    who: Who,
    scope_ids: list[uuid.UUID] | None,
    vec: str,
    candidates: int,
    k: int,
    exact: bool,
    settings: dict[str, str],
) -> Sample:
    with transaction_as(conn, who.caller):
        for name, value in settings.items():
            conn.execute(f"set local {name} = '{value}'")
        started = time.perf_counter()
        rows = conn.execute(
            branch_sql(scope_ids is not None, exact),
            {"q": vec, "scope": scope_ids, "n": candidates},
        ).fetchall()
        took = time.perf_counter() - started
    ordered = sorted(rows, key=lambda r: (r["dist"], r["id"]))
    return Sample(took, len(rows), [int(r["id"]) for r in ordered[:k]])


def plan_of(
    conn: Connection,
    who: Who,
    scope_ids: list[uuid.UUID] | None,
    vec: str,
    candidates: int,
    exact: bool,
    settings: dict[str, str],
) -> str:
    """Which plan the planner picks for the branch: the HNSW index, or another way."""
    with transaction_as(conn, who.caller):
        for name, value in settings.items():
            conn.execute(f"set local {name} = '{value}'")
        rows = conn.execute(
            "explain " + branch_sql(scope_ids is not None, exact),
            {"q": vec, "scope": scope_ids, "n": candidates},
        ).fetchall()
    text = "\n".join(str(next(iter(r.values()))) for r in rows)
    if INDEX in text:
        return "hnsw"
    if "chunk_embeddings_workspace_id_model_id_idx" in text:
        return "workspace btree + sort"
    if "Seq Scan" in text:
        return "seq scan + sort"
    return "other"


def recall(found: list[int], truth: list[int]) -> float:
    return len(set(found) & set(truth)) / len(truth) if truth else 1.0


def summary(samples: list[Sample]) -> tuple[str, str, str, str]:
    secs = [s.seconds for s in samples]
    return (
        ms(percentile(secs, 50)),
        ms(percentile(secs, 95)),
        ms(percentile(secs, 99)),
        ms(sum(secs) / len(secs)),
    )


def variant_function(conn: Connection, tag: str, spec: dict[str, str]) -> str:
    """A copy of hybrid_search with other settings (and exact_scan_limit), in the benchmark
    database only: to measure a change before it becomes a migration."""
    # The body lives in private.hybrid_search behind a public wrapper that sets the HNSW
    # scan for the call (20261201130600); the copy carries those settings itself.
    row = conn.execute(
        "select pg_get_functiondef(coalesce(to_regproc('private.hybrid_search'),"
        " 'public.hybrid_search'::regproc)) as d"
    ).fetchone()
    assert row is not None
    ddl: str = row["d"]
    name = f"hybrid_search_{tag}"
    ddl = ddl.replace("hybrid_search", name).replace(f"private.{name}", f"public.{name}")
    settings = {"hnsw.iterative_scan": "relaxed_order", "hnsw.ef_search": "100"}
    settings |= {k: v for k, v in spec.items() if k.startswith("hnsw.")}
    if settings:
        ddl = re.sub(r"(?m)^ SET \"?hnsw\.[a-z_]+\"? TO .*\n", "", ddl)
        lines = "".join(f" SET {k} TO '{v}'\n" for k, v in settings.items())
        ddl = ddl.replace("AS $function$", lines + "AS $function$", 1)
    if "exact_scan_limit" in spec:
        ddl, count = re.subn(
            r"exact_scan_limit constant integer := \d+",
            f"exact_scan_limit constant integer := {int(spec['exact_scan_limit'])}",
            ddl,
        )
        if count != 1:
            raise SystemExit("cannot find exact_scan_limit in hybrid_search")
    conn.execute(ddl)
    conn.execute(f"grant execute on function public.{name} to authenticated, service_role")
    return name


@dataclass
class Args:
    home: Path
    sizes: list[int]
    queries: int
    warmup: int
    k: int
    shares: list[float]
    fillers_per_10k: float
    zipf: float
    base_sentences: int
    noise: float
    m: int
    ef_construction: int
    ef_search: list[int]
    iterative_scan: list[str]
    max_scan_tuples: int
    maintenance_work_mem: str
    parallel_workers: int
    shared_buffers: str
    thresholds: list[int]
    sweep_queries: int
    service_all_queries: int
    variants: list[str]
    own_topic_share: float
    supabase: bool
    keyword_truth_queries: int
    seed: int
    keep: bool
    reuse: bool
    json_out: Path | None


def parse_args(argv: Sequence[str] | None = None) -> Args:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)

    p.add_argument("--home", type=Path, default=DEFAULT_HOME, help="server data, caches")
    p.add_argument("--sizes", type=int_list, default=[10_000, 100_000, 1_000_000])
    p.add_argument("--queries", type=int, default=200, help="timed queries per cell")
    p.add_argument("--warmup", type=int, default=20, help="untimed queries first")
    p.add_argument("--k", type=int, default=10, help="match_count")
    p.add_argument(
        "--shares",
        type=float_list,
        default=[0.001, 0.01],
        help="table shares of the measured users",
    )
    p.add_argument(
        "--fillers-per-10k",
        type=float,
        default=25,
        help="other workspaces per 10,000 passages (Zipf-sized)",
    )
    p.add_argument("--zipf", type=float, default=1.0, help="Zipf exponent of filler sizes")
    p.add_argument(
        "--base-sentences",
        type=int,
        default=12000,
        help="distinct sentences embedded with the real model",
    )
    p.add_argument(
        "--noise",
        type=float,
        default=0.02,
        help="per-dimension Gaussian noise around a real embedding",
    )
    p.add_argument("--m", type=int, default=16, help="HNSW m")
    p.add_argument("--ef-construction", type=int, default=64, help="HNSW ef_construction")
    p.add_argument(
        "--ef-search",
        type=int_list,
        default=[40, 100, 200],
        help="hnsw.ef_search values for the vector-branch sweep",
    )
    p.add_argument(
        "--iterative-scan",
        type=lambda s: s.split(","),
        default=["relaxed_order", "strict_order"],
        help="hnsw.iterative_scan modes for the sweep",
    )
    p.add_argument(
        "--max-scan-tuples",
        type=int,
        default=2000,
        help="hnsw.max_scan_tuples for the sweep (public.hybrid_search sets 2000)",
    )
    p.add_argument("--maintenance-work-mem", default="2GB")
    p.add_argument(
        "--parallel-workers",
        type=int,
        default=1,
        help="max_parallel_maintenance_workers for the index builds",
    )
    p.add_argument("--shared-buffers", default="2GB")
    p.add_argument(
        "--thresholds",
        type=int_list,
        default=[250, 500, 1000, 2000, 4000, 8000, 16000, 32000],
        help="workspace sizes for the exact-vs-index comparison",
    )
    p.add_argument(
        "--sweep-queries", type=int, default=50, help="queries per point of the threshold sweep"
    )
    p.add_argument(
        "--service-all-queries",
        type=int,
        default=0,
        help="queries for the unscoped service-role rows (default: --queries)",
    )
    p.add_argument(
        "--variant",
        dest="variants",
        action="append",
        default=[],
        help="also measure a copy of hybrid_search with these settings, e.g."
        " 'exact_scan_limit=5000,hnsw.ef_search=40' (repeatable)",
    )
    p.add_argument(
        "--own-topic-share",
        type=float,
        default=0.8,
        help="share of a measured user's queries about their own topics (the rest: any)",
    )
    p.add_argument(
        "--no-supabase",
        dest="supabase",
        action="store_false",
        help="skip the side-by-side run of Supabase's documented hybrid_search",
    )
    p.add_argument(
        "--keyword-truth-queries",
        type=int,
        default=50,
        help="queries per cell whose keyword top k is checked against ranking every match",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="keep each size's database and corpus under --home and reuse them on the next"
        " run with the same size, seed and shares (new migrations are applied to it)",
    )
    p.add_argument("--json-out", type=Path, help="write all results as JSON here")
    ns = p.parse_args(argv)
    return Args(**vars(ns))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.home.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine_description()}")
    print(f"revision: {git_revision()}; started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    server = start_server(
        args.home,
        {
            "shared_buffers": args.shared_buffers,
            "maintenance_work_mem": args.maintenance_work_mem,
            "max_parallel_maintenance_workers": str(args.parallel_workers),
        },
    )
    results: dict[str, Any] = {"machine": machine_description(), "args": _jsonable(asdict(args))}
    try:
        print(pg_version(server.url), flush=True)
        bank = embedding_bank(args.home, args.base_sentences, max(args.queries, 50), args.seed)
        for n in args.sizes:
            results[str(n)] = bench_size(server, args, bank, n)
    finally:
        server.stop()
        if args.json_out:
            args.json_out.write_text(json.dumps(results, indent=1, default=str))
    return 0


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}


def load_corpus(
    conn: Connection,
    server: Server,
    args: Args,
    bank: Bank,
    n: int,
    sizes: list[int],
    rng: random.Random,
    np_rng: np.random.Generator,
    out: dict[str, Any],
) -> tuple[list[Workspace], Corpus]:
    """Create the workspaces, COPY the corpus, build the indexes (timed and printed)."""
    workspaces = create_workspaces(conn, sizes, args.shares, rng)
    conn.execute(f"drop index public.{INDEX}")
    conn.execute("drop index public.chunks_workspace_id_fts_idx")
    started = time.perf_counter()
    corpus, timings = build_corpus(conn, workspaces, bank, args.noise, rng, np_rng)
    load_s = time.perf_counter() - started
    built = build_indexes(
        conn, args.m, args.ef_construction, args.parallel_workers, args.maintenance_work_mem
    )
    t0 = time.perf_counter()
    conn.execute("vacuum (analyze) public.sources, public.chunks, public.chunk_embeddings")
    vacuum_s = time.perf_counter() - t0
    sizes_rows = conn.execute(
        "select c.relname, pg_total_relation_size(c.oid) as total,"
        " pg_relation_size(c.oid) as heap from pg_class c join pg_namespace ns"
        " on ns.oid = c.relnamespace where ns.nspname = 'public'"
        " and c.relname in ('sources', 'chunks', 'chunk_embeddings') order by c.relname"
    ).fetchall()
    load_rows: list[list[object]] = [
        [
            step,
            f"{s:.1f}",
            f"{n / s:,.0f}" if s and "copy" in step and "sources" not in step else "",
        ]
        for step, s in timings.items()
    ]
    load_rows.append(["total load", f"{load_s:.1f}", f"{n / load_s:,.0f}"])
    load_rows += [[f"build {ix}", f"{s:.1f}", f"{size_mb(b)} MB"] for ix, s, b in built]
    load_rows.append(["vacuum analyze", f"{vacuum_s:.1f}", ""])
    load_rows += [
        [
            f"table {r['relname']}",
            "",
            f"{size_mb(r['heap'])} MB heap, {size_mb(r['total'])} MB total",
        ]
        for r in sizes_rows
    ]
    print(
        table(
            f"Load and index build, {n:,} passages (m={args.m},"
            f" ef_construction={args.ef_construction},"
            f" {args.parallel_workers} parallel worker(s),"
            f" maintenance_work_mem={args.maintenance_work_mem})",
            ["step", "seconds", "rows/s or size"],
            load_rows,
        ),
        flush=True,
    )
    ws_sizes = sorted((w.size for w in workspaces), reverse=True)
    print(
        f"workspaces: {len(workspaces)}; largest {ws_sizes[:3]}, median"
        f" {ws_sizes[len(ws_sizes) // 2]}, smallest {ws_sizes[-1]}; measured users:"
        f" {', '.join(f'{w.label}={w.size}' for w in workspaces[: len(args.shares)])}"
    )
    out["load"] = {
        "timings": timings,
        "load_s": load_s,
        "vacuum_s": vacuum_s,
        "indexes": built,
        "workspaces": len(workspaces),
    }
    return workspaces, corpus


def database_exists(server: Server, name: str) -> bool:
    with psycopg.connect(server.url, autocommit=True) as admin:
        return (
            admin.execute("select from pg_database where datname = %s", [name]).fetchone()
            is not None
        )


def save_state(path: Path, workspaces: list[Workspace], corpus: Corpus) -> None:
    """The corpus's vectors and workspaces, to measure a reused database again."""
    meta = [
        {
            "id": str(w.id),
            "owner": str(w.owner),
            "size": w.size,
            "topics": w.topics,
            "weights": w.weights,
            "label": w.label,
        }
        for w in workspaces
    ]
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        vectors=corpus.vectors,
        ids=corpus.ids,
        workspace_of=corpus.workspace_of,
        meta=json.dumps(meta),
    )
    tmp.rename(path)


def load_state(path: Path) -> tuple[list[Workspace], Corpus]:
    data = np.load(path, allow_pickle=False)
    corpus = Corpus(data["vectors"], data["ids"], data["workspace_of"])
    order = np.argsort(corpus.workspace_of, kind="stable")
    bounds = np.searchsorted(
        corpus.workspace_of[order], np.arange(len(json.loads(str(data["meta"]))) + 1)
    )
    workspaces = []
    for i, w in enumerate(json.loads(str(data["meta"]))):
        rows = [int(r) for r in order[bounds[i] : bounds[i + 1]]]
        workspaces.append(
            Workspace(
                uuid.UUID(w["id"]),
                uuid.UUID(w["owner"]),
                w["size"],
                w["topics"],
                w["weights"],
                w["label"],
                rows,
            )
        )
    return workspaces, corpus


def bench_size(server: Server, args: Args, bank: Bank, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    name = f"bench_search_{n}"
    print(f"\n=== {n:,} passages (database {name}) ===", flush=True)
    rng = random.Random(args.seed + n)
    np_rng = np.random.default_rng(args.seed + n)
    fillers = max(5, round(n / 10_000 * args.fillers_per_10k))
    sizes = plan_sizes(n, args.shares, fillers, args.zipf)
    shares_tag = "-".join(f"{s:g}" for s in args.shares)
    state = args.home / f"{name}-seed{args.seed}-shares{shares_tag}.npz"
    reused = args.reuse and state.exists() and database_exists(server, name)
    url = server.database_url(name) if reused else fresh_database(server, name)
    with connect(url) as conn:
        conn.autocommit = True
        conn.prepare_threshold = None  # plan each query with its values, as EXECUTE does
        if reused:
            migrate(conn)  # this revision's migrations (e.g. a new hybrid_search body)
            workspaces, corpus = load_state(state)
            print(f"reusing database {name} and {state}", flush=True)
        else:
            workspaces, corpus = load_corpus(conn, server, args, bank, n, sizes, rng, np_rng, out)
            if args.reuse:
                save_state(state, workspaces, corpus)
        # The queries do not depend on whether the corpus was built now or reused.
        rng = random.Random(args.seed + n + 1)
        # Who searches: each measured user (RLS), the service role asking the same thing
        # (filtered to that user's workspace), and the service role over everything.
        whos: list[tuple[Who, Who]] = []
        for i, share in enumerate(args.shares):
            ws = workspaces[i]
            user = Who(
                f"user {share * 100:g}% ({ws.size:,} rows), RLS", Caller.user(ws.owner), [i], {}
            )
            service = Who(
                f"service role, same workspace ({ws.size:,} rows)",
                Caller.service(),
                [i],
                {"workspace_id": str(ws.id)},
            )
            whos.append((user, service))
        everyone = Who(f"service role, all {n:,} rows", Caller.service(), None, {})
        # Check: the RLS user's workspace is the one hybrid_search would search.
        for user, _ in whos:
            assert user.scope is not None
            assert workspace_id(conn, user.caller) == workspaces[user.scope[0]].id

        rows_by_pos = {i: np.array(w.rows, dtype=np.int64) for i, w in enumerate(workspaces)}
        qn = args.queries
        query_ids = _queries_for(
            bank, workspaces, whos, everyone.label, qn, args.own_topic_share, rng
        )
        q_vecs = {
            i: vector_literal(bank.query_vectors[i]) for ids in query_ids.values() for i in ids
        }
        truth_cache: dict[tuple[str, int], list[int]] = {}

        def truth(who: Who, qi: int) -> list[int]:
            key = (who.label, qi)
            if key not in truth_cache:
                rows = None if who.scope is None else rows_by_pos[who.scope[0]]
                truth_cache[key] = exact_top(corpus, rows, bank.query_vectors[qi], args.k)
            return truth_cache[key]

        kw_truth_cache: dict[tuple[int, int], list[int]] = {}
        kw_truth_seconds: dict[int, list[float]] = {}

        def keyword_truth(who: Who, qi: int) -> list[int]:
            assert who.scope is not None
            key = (who.scope[0], qi)
            if key not in kw_truth_cache:
                t0 = time.perf_counter()
                rows = conn.execute(
                    KEYWORD_TRUTH,
                    {
                        "q": bank.query_texts[qi],
                        "scope": [workspaces[who.scope[0]].id],
                        "k": args.k,
                    },
                ).fetchall()
                kw_truth_seconds.setdefault(who.scope[0], []).append(time.perf_counter() - t0)
                kw_truth_cache[key] = [int(r["id"]) for r in rows]
            return kw_truth_cache[key]

        def latency_row(
            fn_label: str, who: Who, mode: str, bucket: list[Sample], qis: list[int]
        ) -> list[str]:
            """One row of the latency table; recall@k against the exact top k in vector
            mode (qis: the bucket's queries, in order)."""
            rec = ""
            if mode == "vector":
                r = [recall(s.ids, truth(who, qi)) for s, qi in zip(bucket, qis, strict=True)]
                rec = f"{sum(r) / len(r):.3f}"
            if mode == "keyword" and who.scope is not None and args.keyword_truth_queries:
                # Agreement with ranking every match (the keyword branch before its pool).
                pairs = list(zip(bucket, qis, strict=True))[: args.keyword_truth_queries]
                r = [recall(s.ids, keyword_truth(who, qi)) for s, qi in pairs]
                rec = f"{sum(r) / len(r):.3f}*"
            exact_k = sum(1 for s in bucket if s.rows == args.k) / len(bucket)
            return [
                fn_label,
                who.label,
                mode,
                *summary(bucket),
                f"{sum(s.rows for s in bucket) / len(bucket):.1f}",
                f"{exact_k * 100:.0f}%",
                rec,
            ]

        # Warm the caches (shared buffers, catalog) before timing.
        for user, service in whos:
            for qi in query_ids[user.label][: args.warmup]:
                for mode in MODES:
                    run_hybrid(
                        conn, user, "hybrid_search", mode, bank.query_texts[qi], q_vecs[qi], args.k
                    )
                    run_hybrid(
                        conn,
                        service,
                        "hybrid_search",
                        mode,
                        bank.query_texts[qi],
                        q_vecs[qi],
                        args.k,
                    )

        lat_rows: list[list[str]] = []
        out["latency"] = []
        functions = [("hybrid_search", "hybrid_search")]
        for j, spec_text in enumerate(args.variants):
            spec = dict(kv.split("=", 1) for kv in spec_text.split(","))
            fn_name = variant_function(conn, f"v{j + 1}", spec)
            functions.append((fn_name, f"{fn_name} ({spec_text})"))
        ratio_rows: list[list[object]] = []
        for fn, fn_label in functions:
            for user, service in whos:
                for mode in MODES:
                    u_s: list[Sample] = []
                    s_s: list[Sample] = []
                    for qi in query_ids[user.label][:qn]:
                        text, vec = bank.query_texts[qi], q_vecs[qi]
                        # Interleaved, in random order, so drift in machine load hits both.
                        pair = [(user, u_s), (service, s_s)]
                        rng.shuffle(pair)
                        for who, bucket in pair:
                            bucket.append(run_hybrid(conn, who, fn, mode, text, vec, args.k))
                    for who, bucket in ((user, u_s), (service, s_s)):
                        row = latency_row(fn_label, who, mode, bucket, query_ids[user.label][:qn])
                        lat_rows.append(row)
                        out["latency"].append(row)
                    u50, s50 = (
                        percentile([s.seconds for s in u_s], 50),
                        percentile([s.seconds for s in s_s], 50),
                    )
                    u95, s95 = (
                        percentile([s.seconds for s in u_s], 95),
                        percentile([s.seconds for s in s_s], 95),
                    )
                    paired = [a.seconds / b.seconds for a, b in zip(u_s, s_s, strict=True)]
                    ratio_rows.append(
                        [
                            fn_label,
                            user.label,
                            mode,
                            f"{u50 / s50:.2f}",
                            f"{u95 / s95:.2f}",
                            f"{percentile(paired, 50):.2f}",
                            f"{(u50 - s50) * 1000:+.2f}",
                        ]
                    )
            # The unscoped service role: the whole table, for reference.
            n_all = args.service_all_queries or qn
            all_qs = query_ids[everyone.label][:n_all]
            for mode in MODES:
                bucket = [
                    run_hybrid(conn, everyone, fn, mode, bank.query_texts[qi], q_vecs[qi], args.k)
                    for qi in all_qs
                ]
                row = latency_row(fn_label, everyone, mode, bucket, all_qs)
                lat_rows.append(row)
                out["latency"].append(row)
        print(
            table(
                f"hybrid_search latency, {n:,} passages, k={args.k}, {qn} queries per row"
                " (ms; rows = rows returned; recall@10 vs exact in vector mode; * keyword mode:"
                " agreement of the top 10 with ranking every match)",
                [
                    "function",
                    "caller",
                    "mode",
                    "p50",
                    "p95",
                    "p99",
                    "mean",
                    "rows",
                    "=k",
                    "recall@10",
                ],
                lat_rows,
            ),
            flush=True,
        )
        for wi, secs in kw_truth_seconds.items():
            print(
                f"keyword branch SQL alone (every match ranked), owner of"
                f" {workspaces[wi].size:,} rows, {len(secs)} queries: p50"
                f" {ms(percentile(secs, 50))} p95 {ms(percentile(secs, 95))} ms",
                flush=True,
            )
        if args.supabase:
            out["supabase"] = side_by_side(conn, args, bank, whos, everyone, query_ids, q_vecs, rng)
        print(
            table(
                "RLS cost: user (RLS) / service role on the same query and workspace",
                [
                    "function",
                    "caller",
                    "mode",
                    "p50 ratio",
                    "p95 ratio",
                    "median paired ratio",
                    "p50 diff ms",
                ],
                ratio_rows,
            ),
            flush=True,
        )
        out["rls_ratio"] = ratio_rows

        # The vector branch alone (its SQL run directly), across ef_search and scan modes.
        candidates = max(args.k * 4, 40)
        sweep_rows: list[list[object]] = []
        sweep_whos = [(u, [workspaces[u.scope[0]].id] if u.scope else None) for u, _ in whos]
        sweep_whos.append((everyone, None))
        for who, scope_ids in sweep_whos:
            qs = query_ids[who.label][:qn]
            for mode_name in args.iterative_scan:
                for ef in args.ef_search:
                    settings = {
                        "hnsw.ef_search": str(ef),
                        "hnsw.iterative_scan": mode_name,
                        "hnsw.max_scan_tuples": str(args.max_scan_tuples),
                    }
                    samples = [
                        run_branch(
                            conn, who, scope_ids, q_vecs[qi], candidates, args.k, False, settings
                        )
                        for qi in qs
                    ]
                    r = [recall(s.ids, truth(who, qi)) for s, qi in zip(samples, qs, strict=True)]
                    short = sum(1 for s in samples if s.rows < candidates) / len(samples)
                    plan = plan_of(conn, who, scope_ids, q_vecs[qs[0]], candidates, False, settings)
                    sweep_rows.append(
                        [
                            who.label,
                            mode_name,
                            ef,
                            *summary(samples)[:3],
                            f"{sum(r) / len(r):.3f}",
                            f"{short * 100:.0f}%",
                            plan,
                        ]
                    )
            # An exact scan of the whole table is slow: fewer queries for it.
            exact_qs = qs if scope_ids is not None else qs[: args.sweep_queries]
            samples = [
                run_branch(conn, who, scope_ids, q_vecs[qi], candidates, args.k, True, {})
                for qi in exact_qs
            ]
            plan = plan_of(conn, who, scope_ids, q_vecs[qs[0]], candidates, True, {})
            sweep_rows.append([who.label, "exact", "-", *summary(samples)[:3], "1.000", "", plan])
        print(
            table(
                f"Vector branch SQL alone (limit {candidates}, as hybrid_search runs it),"
                f" {n:,} passages, max_scan_tuples={args.max_scan_tuples} (ms)",
                [
                    "caller",
                    "iterative_scan",
                    "ef_search",
                    "p50",
                    "p95",
                    "p99",
                    "recall@10",
                    "short",
                    "plan",
                ],
                sweep_rows,
            ),
            flush=True,
        )
        out["branch_sweep"] = sweep_rows

        # Exact vs index for callers of different sizes: where should exact_scan_limit be?
        thr_rows: list[list[object]] = []
        settings = {"hnsw.ef_search": "100", "hnsw.iterative_scan": "relaxed_order"}
        done: set[int] = set()
        for target in args.thresholds:
            i = min(range(len(workspaces)), key=lambda j: abs(workspaces[j].size - target))
            ws = workspaces[i]
            if abs(ws.size - target) > 0.35 * target or i in done:
                continue
            done.add(i)
            who = Who(f"owner of {ws.size:,}", Caller.user(ws.owner), [i], {})
            qs = [rng.choice(_topic_queries(bank, ws.topics)) for _ in range(args.sweep_queries)]
            idx = [
                run_branch(
                    conn,
                    who,
                    [ws.id],
                    q_vecs_get(q_vecs, bank, qi),
                    candidates,
                    args.k,
                    False,
                    settings,
                )
                for qi in qs
            ]
            exa = [
                run_branch(
                    conn,
                    who,
                    [ws.id],
                    q_vecs_get(q_vecs, bank, qi),
                    candidates,
                    args.k,
                    True,
                    settings,
                )
                for qi in qs
            ]
            r = [
                recall(s.ids, exact_top(corpus, rows_by_pos[i], bank.query_vectors[qi], args.k))
                for s, qi in zip(idx, qs, strict=True)
            ]
            short = sum(1 for s in idx if s.rows < candidates) / len(idx)
            qv = q_vecs_get(q_vecs, bank, qs[0])
            thr_rows.append(
                [
                    f"{ws.size:,}",
                    *summary(idx)[:2],
                    f"{sum(r) / len(r):.3f}",
                    f"{short * 100:.0f}%",
                    plan_of(conn, who, [ws.id], qv, candidates, False, settings),
                    *summary(exa)[:2],
                ]
            )
        print(
            table(
                f"Planner's choice (index) vs exact scan for one caller's rows (RLS, branch SQL,"
                f" ef_search=100 relaxed_order, {args.sweep_queries} queries) (ms)",
                [
                    "caller rows",
                    "index p50",
                    "index p95",
                    "index recall@10",
                    "short",
                    "plan",
                    "exact p50",
                    "exact p95",
                ],
                thr_rows,
            ),
            flush=True,
        )
        out["threshold"] = thr_rows
    if not (args.keep or args.reuse):
        drop_database(server, name)
    return out


def side_by_side(
    conn: Connection,
    args: Args,
    bank: Bank,
    whos: list[tuple[Who, Who]],
    everyone: Who,
    query_ids: dict[str, list[int]],
    q_vecs: dict[int, str],
    rng: random.Random,
) -> list[list[object]]:
    """public.hybrid_search against Supabase's documented function, same caller, same
    queries, interleaved in random order; the ratio is ours / theirs."""
    conn.execute(SUPABASE_DDL)
    rows: list[list[object]] = []
    callers = [u for u, _ in whos] + [everyone]
    for who in callers:
        qs = query_ids[who.label][: args.queries if who.scope else args.service_all_queries or 20]
        for mode in MODES:
            ours: list[Sample] = []
            theirs: list[Sample] = []
            for qi in qs:
                pair = [("hybrid_search", ours), (SUPABASE_FN, theirs)]
                rng.shuffle(pair)
                for fn, bucket in pair:
                    bucket.append(
                        run_hybrid(conn, who, fn, mode, bank.query_texts[qi], q_vecs[qi], args.k)
                    )
            o = [x.seconds for x in ours]
            t = [x.seconds for x in theirs]
            paired = [a / b for a, b in zip(o, t, strict=True)]
            rows.append(
                [
                    who.label,
                    mode,
                    ms(percentile(o, 50)),
                    ms(percentile(o, 95)),
                    ms(percentile(t, 50)),
                    ms(percentile(t, 95)),
                    f"{percentile(o, 95) / percentile(t, 95):.2f}",
                    f"{percentile(paired, 50):.2f}",
                    f"{sum(x.rows for x in ours) / len(ours):.1f}",
                    f"{sum(x.rows for x in theirs) / len(theirs):.1f}",
                ]
            )
    print(
        table(
            "Side by side: public.hybrid_search (ours) vs Supabase's documented hybrid_search"
            " (theirs), same caller and queries, interleaved (ms; ratio = ours / theirs)",
            [
                "caller",
                "mode",
                "ours p50",
                "ours p95",
                "theirs p50",
                "theirs p95",
                "p95 ratio",
                "median paired ratio",
                "ours rows",
                "theirs rows",
            ],
            rows,
        ),
        flush=True,
    )
    return rows


def q_vecs_get(cache: dict[int, str], bank: Bank, qi: int) -> str:
    if qi not in cache:
        cache[qi] = vector_literal(bank.query_vectors[qi])
    return cache[qi]


def _topic_queries(bank: Bank, topics: list[int]) -> list[int]:
    return [i for i, t in enumerate(bank.query_topics) if t in topics]


def _queries_for(
    bank: Bank,
    workspaces: list[Workspace],
    whos: list[tuple[Who, Who]],
    everyone_label: str,
    n: int,
    own_share: float,
    rng: random.Random,
) -> dict[str, list[int]]:
    """Query indexes per caller: a share (own_share) about the caller's own topics (people
    search for what they talked about), the rest about anything."""
    everything = list(range(len(bank.query_texts)))
    out: dict[str, list[int]] = {}
    pick: Callable[[list[int]], int] = rng.choice
    for user, service in whos:
        assert user.scope is not None
        own = _topic_queries(bank, workspaces[user.scope[0]].topics) or everything
        qs = [pick(own) if rng.random() < own_share else pick(everything) for _ in range(n)]
        out[user.label] = out[service.label] = qs
    out[everyone_label] = [pick(everything) for _ in range(n)]
    return out


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (psycopg.Error, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
