"""A load test of the API and the gateway: N simulated people, each of whom signs up,
imports a small export, then searches as they type (keyword-only and hybrid) and now and
then asks a question; bounded in time. A person types a few letters at --keystroke-ms each
and pauses for the web app's debounce (it searches after 300 ms without a keystroke), so a
query goes out after every few letters, as the search page sends them; --keystroke-ms 0
sends the next query as soon as the last is answered (a stress test, not people).

    .venv/bin/python scripts/load.py --start-dev --users 50 --duration 60
    .venv/bin/python scripts/load.py --url http://127.0.0.1:54321 --anon-key KEY --pid PID

Prints throughput, p50/p95/p99 per endpoint, errors by status and the server's peak RSS
(the process tree of --pid, or of the `knitter dev` it started). Only ever point it at a
server of your own: it signs up N users. The server's rate limits apply to it; --start-dev
lifts them for the run. `--json` prints the figures as one JSON object instead.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python scripts/load.py` from anywhere
    sys.path.insert(0, str(ROOT))
EXPORT = ROOT / "tests" / "fixtures" / "chatgpt" / "conversations.json"
QUERIES = [
    "sourdough starter feeding schedule",
    "bike derailleur adjustment",
    "kubernetes ingress timeout",
    "python asyncio cancel task",
    "how to fix a leaking tap",
    "postgres index on jsonb",
]
# Searching as one types: a query after every few letters, each once the web app's
# debounce has passed (frontend/src/pages/SearchPage.tsx), for as many rows as it asks.
TYPING_STEP = 4
DEBOUNCE_SECONDS = 0.3
PAGE_SIZE = 50


@dataclass
class Figures:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: Counter[str] = field(default_factory=Counter)  # transport errors
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds)
            self.statuses[endpoint][status] += 1

    def failed(self, endpoint: str, error: Exception) -> None:
        with self.lock:
            self.failures[f"{endpoint}: {type(error).__name__}"] += 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Person:
    """One simulated user, with their own connection to the server."""

    def __init__(
        self, base: str, anon_key: str, figures: Figures, seed: int, keystroke_s: float
    ) -> None:
        self.base = base.rstrip("/")
        self.keystroke_s = keystroke_s
        self.http = httpx.Client(timeout=60, headers={"apikey": anon_key})
        self.figures = figures
        self.random = random.Random(seed)
        self.token = ""

    def call(self, endpoint: str, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = self.http.request(method, self.base + path, **kwargs)
        except httpx.HTTPError as exc:
            self.figures.failed(endpoint, exc)
            return None
        self.figures.record(endpoint, time.perf_counter() - started, response.status_code)
        return response

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def sign_up(self) -> bool:
        email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        r = self.call(
            "POST /auth/v1/signup",
            "POST",
            "/auth/v1/signup",
            json={"email": email, "password": "load-test-password"},
        )
        if r is None or r.status_code != 200:
            return False
        self.token = r.json()["access_token"]
        return True

    def import_export(self, deadline: float) -> None:
        files = [("files", ("conversations.json", EXPORT.read_bytes(), "application/json"))]
        r = self.call("POST /v1/imports", "POST", "/v1/imports", files=files, headers=self.auth)
        if r is None or r.status_code != 202:
            return
        job = r.json()["id"]
        while time.monotonic() < deadline:
            got = self.call("GET /v1/imports/{id}", "GET", f"/v1/imports/{job}", headers=self.auth)
            if got is None or got.status_code != 200:
                return
            if got.json()["status"] not in ("queued", "running"):
                return
            time.sleep(0.5)

    def search_as_typing(self, keyword_only: bool, deadline: float) -> None:
        query = self.random.choice(QUERIES)
        for end in range(TYPING_STEP, len(query) + TYPING_STEP, TYPING_STEP):
            if self.keystroke_s:
                time.sleep(TYPING_STEP * self.keystroke_s + DEBOUNCE_SECONDS)
            if time.monotonic() >= deadline:
                return
            endpoint = "POST /v1/search (keyword)" if keyword_only else "POST /v1/search"
            self.call(
                endpoint,
                "POST",
                "/v1/search",
                json={"query": query[:end], "keyword_only": keyword_only, "limit": PAGE_SIZE},
                headers=self.auth,
            )

    def ask(self) -> None:
        self.call(
            "POST /v1/ask",
            "POST",
            "/v1/ask",
            json={"question": self.random.choice(QUERIES), "provider": "extractive"},
            headers={**self.auth, "Accept": "application/json"},
        )

    def live(self, deadline: float, searches_only: bool) -> None:
        if not self.sign_up():
            return
        if not searches_only:
            self.import_export(deadline)
        while time.monotonic() < deadline:
            roll = self.random.random()
            if searches_only or roll < 0.7:
                self.search_as_typing(keyword_only=True, deadline=deadline)
            elif roll < 0.95:
                self.search_as_typing(keyword_only=False, deadline=deadline)
            else:
                self.ask()
        self.http.close()


def tree_memory(pid: int) -> dict[str, int]:
    """Bytes of memory of a process and its descendants (the embedded PostgreSQL
    included), from /proc (Linux): `rss` adds up each process's resident set, counting
    PostgreSQL's shared buffers once per backend that touched them; `pss` shares such
    pages out among the processes (what the tree really holds); `own` is the resident set
    of the process itself (the Python server, without PostgreSQL)."""
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    found = {"rss": 0, "pss": 0, "own": 0}
    todo = [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss"):
                value = int(rest.split()[0]) * 1024
                found[name.lower()] += value
                if name == "Rss" and current == pid:
                    found["own"] = value
    return found


def tree_rss(pid: int) -> int:
    return tree_memory(pid)["rss"]


def start_dev(home: Path) -> tuple[subprocess.Popen[str], str, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        # The run measures the service, not its rate limits.
        "RATE_LIMIT": "1000000/minute",
        "SEARCH_RATE_LIMIT": "1000000/minute",
        "AUTH_RATE_LIMIT": "1000000/minute",
        "AUTH_EMAIL_RATE_LIMIT": "1000000/minute",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "--home", str(home), "dev", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    assert process.stdout is not None
    anon_key = ""
    for line in process.stdout:
        if line.startswith("anon key:"):
            anon_key = line.split()[-1]
        if "Ctrl-C" in line:
            break
    origin = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(origin + "/health", timeout=5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    if not anon_key:
        process.kill()
        raise SystemExit("knitter dev did not start")
    return process, origin, anon_key


def run(
    base: str,
    anon_key: str,
    users: int,
    duration: float,
    pid: int | None,
    searches_only: bool,
    keystroke_s: float,
) -> dict[str, Any]:
    figures = Figures()
    deadline = time.monotonic() + duration
    people = [
        Person(base, anon_key, figures, seed=i, keystroke_s=keystroke_s) for i in range(users)
    ]
    threads = [
        threading.Thread(target=p.live, args=(deadline, searches_only), daemon=True) for p in people
    ]
    started = time.perf_counter()
    start = tree_memory(pid) if pid else {"rss": 0, "pss": 0, "own": 0}
    peak = dict(start)
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if pid:
            now = tree_memory(pid)
            peak = {k: max(v, now[k]) for k, v in peak.items()}
        time.sleep(0.25)
        if time.monotonic() > deadline + 120:
            break  # a request that never returns is reported, not waited for
    elapsed = time.perf_counter() - started
    endpoints = {}
    for name, values in sorted(figures.latencies.items()):
        endpoints[name] = {
            "requests": len(values),
            "per_second": round(len(values) / elapsed, 1),
            "p50_ms": round(percentile(values, 0.50) * 1000, 1),
            "p95_ms": round(percentile(values, 0.95) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            "statuses": {str(k): v for k, v in sorted(figures.statuses[name].items())},
        }
    errors: Counter[str] = Counter()
    for statuses in figures.statuses.values():
        for status, count in statuses.items():
            if status >= 400:
                errors[str(status)] += count
    errors.update(figures.failures)
    total = sum(len(v) for v in figures.latencies.values())
    return {
        "users": users,
        "keystroke_ms": round(keystroke_s * 1000),
        "duration_s": round(elapsed, 1),
        "requests": total,
        "per_second": round(total / elapsed, 1),
        "endpoints": endpoints,
        "errors": dict(errors),
        "rss_start_mib": round(start["rss"] / 2**20, 1),
        "rss_peak_mib": round(peak["rss"] / 2**20, 1),
        "pss_start_mib": round(start["pss"] / 2**20, 1),
        "pss_peak_mib": round(peak["pss"] / 2**20, 1),
        "server_rss_start_mib": round(start["own"] / 2**20, 1),
        "server_rss_peak_mib": round(peak["own"] / 2**20, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"{result['users']} users ({result['keystroke_ms']} ms a keystroke),"
        f" {result['duration_s']} s: {result['requests']} requests,"
        f" {result['per_second']}/s; load average {result['load_average']}"
    )
    print(f"{'endpoint':32} {'n':>6} {'/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    for name, e in result["endpoints"].items():
        print(
            f"{name:32} {e['requests']:>6} {e['per_second']:>7} {e['p50_ms']:>8}"
            f" {e['p95_ms']:>8} {e['p99_ms']:>8}  {e['statuses']}"
        )
    print(f"errors: {result['errors'] or 'none'}")
    print(f"server RSS: {result['rss_start_mib']} MiB at start, {result['rss_peak_mib']} MiB peak")
    print(
        f"  of which PSS {result['pss_start_mib']} → {result['pss_peak_mib']} MiB (shared pages"
        f" counted once); the Python server alone {result['server_rss_start_mib']} →"
        f" {result['server_rss_peak_mib']} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="the origin of a running knitter dev (or gateway + API)")
    parser.add_argument("--anon-key", help="its anon key (knitter dev prints it)")
    parser.add_argument("--pid", type=int, help="the server's process id, for its RSS")
    parser.add_argument("--start-dev", action="store_true", help="start knitter dev for it")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--duration", type=float, default=30, help="seconds")
    parser.add_argument("--runs", type=int, default=1, help="runs one after another (RSS)")
    parser.add_argument("--searches-only", action="store_true", help="no imports or asks")
    parser.add_argument(
        "--keystroke-ms",
        type=float,
        default=150,
        help="time per typed letter (150: a fast typist); 0: no pauses at all",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.users < 1 or args.users > 500 or not 0 < args.duration <= 600:
        parser.error("1 to 500 users, for at most 600 seconds")
    if not 0 <= args.keystroke_ms <= 5000:
        parser.error("--keystroke-ms is 0 to 5000")
    process = None
    home = None
    if args.start_dev:
        home = Path(tempfile.mkdtemp(prefix="knitter-load-"))
        process, base, anon_key = start_dev(home)
        pid: int | None = process.pid
    else:
        if not args.url or not args.anon_key:
            parser.error("give --url and --anon-key, or --start-dev")
        base, anon_key, pid = args.url, args.anon_key, args.pid
    host = httpx.URL(base).host
    if host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("load tests only target this machine (127.0.0.1)")
    try:
        results = []
        for i in range(args.runs):
            results.append(
                run(
                    base,
                    anon_key,
                    args.users,
                    args.duration,
                    pid,
                    args.searches_only,
                    args.keystroke_ms / 1000,
                )
            )
            if not args.json:
                if args.runs > 1:
                    print(f"--- run {i + 1}")
                print_table(results[-1])
                sys.stdout.flush()
        if args.json:
            print(json.dumps(results if args.runs > 1 else results[0]))
    finally:
        if process is not None:
            stop_dev(process, home)
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)


def stop_dev(process: subprocess.Popen[str], home: Path | None) -> None:
    """Ctrl-C, as a person would; killed (and its database stopped) if it lingers."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if home is not None:
            from api.db.embedded import EmbeddedPostgres

            EmbeddedPostgres(home / "pgdata").stop()


if __name__ == "__main__":
    main()
