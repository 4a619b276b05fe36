"""What the API adds to a search: `POST /v1/search` against the bare `hybrid_search` call
on the same rows, at concurrency 1 and 4, measured in one run (issue 16, item 4); and
the first search after the server starts against the next one.

One database on an embedded server under --home: one user whose export (generated,
scripts/bench_import.py's ChatGPT shape, about --export-kb) is imported and embedded with
the local model by the real pipeline. Then the API is served by uvicorn on the loopback
(the app as `uvicorn api.main:app` makes it, Redis at --redis for the query cache and the
rate limiter, whose limits are lifted) and, round by round so load drift hits both:

  bare      the `hybrid_search` call the API makes (`api.search.hybrid.search_rows`: the
            same arguments, both query vectors, the rows the relevance floor needs) as
            the user (RLS through transaction_as), on a connection per thread, the
            query vectors computed beforehand: the floor of what any server could do
  api       `POST /v1/search` with the user's token over keep-alive HTTP: auth, the rate
            limit, the pool, the query embedding (cached in Redis after its first use),
            the search history, the pending count and the JSON

for keyword-only and hybrid queries. Ratios are api / bare for p50 and p95 latency and
for throughput; CPU a request is that of the process doing the work (Linux's /proc): this
one for the bare call, the server for the API. The HTTP client shares the cores with the
server: --client stdlib (http.client, the default) costs it less CPU a request than
--client httpx.

    .venv/bin/python scripts/bench_api_search.py --queries 200
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
from _bench_common import (
    ROOT,
    fresh_database,
    git_revision,
    machine_description,
    percentile,
    start_server,
    table,
)
from bench_import import write_export

from api.accounts.users import caller_for, workspace_id
from api.config import Settings
from api.db.session import Caller, Connection, connect, transaction_as
from api.importers.inputs import DEFAULT_LIMITS, collect
from api.pipeline.embedding_queue import embed_batch
from api.pipeline.ingest import import_conversations, parsed
from api.search.hybrid import SearchRequest, embed_query, search_rows

DEFAULT_HOME = Path("/tmp/knitter-bench-api")  # noqa: S108 (a benchmark scratch directory)
SECRET = "bench-jwt-secret-with-at-least-32-characters!"  # noqa: S105 (a scratch secret)
WORDS = [
    *("sourdough", "starter", "kubernetes", "ingress", "bicycle", "derailleur", "postgres"),
    *("index", "python", "asyncio", "garden", "tomato", "invoice", "budget", "travel"),
    *("visa", "guitar", "chord", "recipe", "bread", "oven", "timeout"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def user_token(caller: Caller) -> str:
    now = int(time.time())
    claims = {**caller.claims, "iat": now, "exp": now + 6 * 3600, "aud": "authenticated"}
    return jwt.encode(claims, SECRET, algorithm="HS256")


class Served:
    """The API as Dockerfile.api serves it: `uvicorn api.main:app`, a process of its own
    (not sharing this one's interpreter lock with the clients)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1"),
                *("--port", str(self.port), "--no-proxy-headers", "--no-access-log"),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,  # a log line per request
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{self.port}"
        for _ in range(1200):
            if self.process.poll() is not None:
                raise SystemExit("the API exited")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    return base
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise SystemExit("the API did not start")

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def queries(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.sample(WORDS, rng.randint(1, 3))) for _ in range(n)]


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time a process has used so far (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(calls: Sequence[Callable[[], None]], concurrency: int) -> tuple[list[float], float]:
    """Latencies of the calls run `concurrency` at a time, and the wall time of them all."""

    def one(call: Callable[[], None]) -> float:
        t = time.perf_counter()
        call()
        return time.perf_counter() - t

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, calls))
    return latencies, time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--home", type=Path, default=DEFAULT_HOME)
    p.add_argument("--export-kb", type=int, default=600, help="size of the generated export")
    p.add_argument("--queries", type=int, default=200, help="timed queries per cell")
    p.add_argument("--rounds", type=int, default=4, help="interleaved rounds")
    p.add_argument("--concurrency", default="1,4")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--client", choices=("stdlib", "httpx"), default="stdlib", help="HTTP client")
    p.add_argument("--json-out", type=Path)
    args = p.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]

    server = start_server(args.home, {})
    name = f"bench_api_{uuid.uuid4().hex[:8]}"
    url = fresh_database(server, name)
    try:
        return run(args, url, levels)
    finally:
        import psycopg

        with psycopg.connect(server.url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
        server.stop()


def run(args: argparse.Namespace, url: str, levels: list[int]) -> int:
    with connect(url) as conn:
        conn.autocommit = True
        caller = caller_for(conn, f"bench-{uuid.uuid4().hex[:8]}@example.com", create=True)
        ws = workspace_id(conn, caller)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "conversations.json"
            write_export(path, args.export_kb * 1024, args.seed)
            report = import_conversations(
                conn, caller, ws, list(parsed(collect([path], DEFAULT_LIMITS)))
            )
        started = time.perf_counter()
        while embed_batch(conn, ws):
            pass
        embed_s = time.perf_counter() - started
    print(f"{report.passages} passages ({report.added} sources), embedded in {embed_s:.0f} s")

    env = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": url,
        "SUPABASE_JWT_SECRET": SECRET,
        "ENCRYPTION_KEY": "A" * 43 + "=",
        "REDIS_URL": args.redis,
        "RATE_LIMIT": "100000/minute",
        "SEARCH_RATE_LIMIT": "100000/minute",
        # The models where this process found them (exported once, not at each start).
        "KNITTER_MODEL_DIR": str(Settings().model_path),
    }
    token = user_token(caller)
    headers = {"Authorization": f"Bearer {token}"}

    first: dict[str, float] = {}
    served = Served(env)
    with served as base:
        # The first searches after start: new queries, so the cache cannot answer them (it
        # outlives the run: a word of this run's own).
        run_word = uuid.uuid4().hex[:8]
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for label, q in (("first", "bread oven"), ("second", "guitar chord")):
                q = f"{q} {run_word}"
                t = time.perf_counter()
                r = client.post("/v1/search", json={"query": q})
                first[label] = time.perf_counter() - t
                assert r.status_code == 200, r.text

        texts = queries(args.queries, args.seed)
        with connect(url) as conn:
            vectors = {q: embed_query(conn, caller, None, q) for q in set(texts)}
        local = threading.local()

        def conn_() -> Connection:
            if not hasattr(local, "conn"):
                local.conn = connect(url)
                local.conn.autocommit = True
            c: Connection = local.conn
            return c

        def post(body: dict[str, Any]) -> tuple[int, str]:
            """POST /v1/search on this thread's keep-alive connection."""
            if args.client == "httpx":
                if not hasattr(local, "http"):
                    local.http = httpx.Client(base_url=base, headers=headers, timeout=60)
                r = local.http.post("/v1/search", json=body)
                return r.status_code, r.text
            if not hasattr(local, "http"):
                local.http = http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)
            local.http.request(
                "POST",
                "/v1/search",
                json.dumps(body),
                {**headers, "Content-Type": "application/json"},
            )
            answer = local.http.getresponse()
            return answer.status, answer.read().decode()

        def bare(q: str, hybrid: bool) -> Callable[[], None]:
            def call() -> None:
                c = conn_()
                with transaction_as(c, caller):
                    search_rows(c, SearchRequest(q), vectors[q] if hybrid else None)

            return call

        def api(q: str, hybrid: bool) -> Callable[[], None]:
            def call() -> None:
                status, text = post({"query": q, "keyword_only": not hybrid})
                if status != 200:
                    raise SystemExit(f"POST /v1/search answered {status}: {text}")

            return call

        # Untimed: every query once through the API fills the query cache, as searches
        # repeated by people do.
        for q in set(texts):
            api(q, True)()
        # CPU is that of the process doing the work: this one for the bare call (psycopg
        # and these threads), the server for the API (its client not counted).
        assert served.process is not None
        worker = {"bare": os.getpid(), "api": served.process.pid}
        samples: dict[tuple[str, str, int], tuple[list[float], float, float]] = {}
        for _ in range(args.rounds):
            for concurrency in levels:
                for mode in ("keyword", "hybrid"):
                    for side, make in (("bare", bare), ("api", api)):
                        calls = [make(q, mode == "hybrid") for q in texts]
                        cpu = cpu_seconds(worker[side])
                        lat, wall = timed(calls, concurrency)
                        cpu = cpu_seconds(worker[side]) - cpu
                        key = (mode, side, concurrency)
                        old = samples.get(key, ([], 0.0, 0.0))
                        samples[key] = (old[0] + lat, old[1] + wall, old[2] + cpu)

    rows = []
    out: dict[str, Any] = {"passages": report.passages, "first_search_s": first, "cells": []}
    for concurrency in levels:
        for mode in ("keyword", "hybrid"):
            b_lat, b_wall, b_cpu = samples[(mode, "bare", concurrency)]
            a_lat, a_wall, a_cpu = samples[(mode, "api", concurrency)]
            cell: dict[str, float] = {
                "bare_p50_ms": percentile(b_lat, 50) * 1000,
                "bare_p95_ms": percentile(b_lat, 95) * 1000,
                "api_p50_ms": percentile(a_lat, 50) * 1000,
                "api_p95_ms": percentile(a_lat, 95) * 1000,
                "bare_rps": len(b_lat) / b_wall,
                "api_rps": len(a_lat) / a_wall,
                "bare_cpu_ms": b_cpu / len(b_lat) * 1000,
                "api_cpu_ms": a_cpu / len(a_lat) * 1000,
            }
            out["cells"].append({"mode": mode, "concurrency": concurrency, **cell})
            rows.append(
                [
                    mode,
                    concurrency,
                    f"{cell['bare_p50_ms']:.1f} / {cell['bare_p95_ms']:.1f}",
                    f"{cell['api_p50_ms']:.1f} / {cell['api_p95_ms']:.1f}",
                    f"{cell['api_p50_ms'] / cell['bare_p50_ms']:.2f}x"
                    f" / {cell['api_p95_ms'] / cell['bare_p95_ms']:.2f}x",
                    f"{cell['bare_rps']:.0f} → {cell['api_rps']:.0f}"
                    f" ({cell['bare_rps'] / cell['api_rps']:.2f}x)",
                    f"{cell['bare_cpu_ms']:.2f} → {cell['api_cpu_ms']:.2f}",
                ]
            )
    print(machine_description(), f"revision {git_revision()}", sep="\n")
    print(f"load average at the end: {[round(x, 2) for x in os.getloadavg()]}")
    print(f"HTTP client: {args.client}")
    print(
        table(
            f"{report.passages} passages, {args.queries} queries x {args.rounds} rounds per cell",
            [
                "queries",
                "concurrency",
                "bare p50 / p95 ms",
                "API p50 / p95 ms",
                "API / bare (p50 / p95)",
                "requests/s bare → API (ratio)",
                "CPU ms/request bare → API",
            ],
            rows,
        )
    )
    print(
        f"first search after start {first['first'] * 1000:.0f} ms,"
        f" the next {first['second'] * 1000:.0f} ms (both hybrid, not cached)"
    )
    if args.json_out:
        args.json_out.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
