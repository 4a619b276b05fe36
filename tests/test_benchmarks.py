"""The benchmark scripts run end to end at a tiny size and print their tables. No timings are
checked: speed is measured by the scripts themselves (docs/PERFORMANCE.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture
def home() -> Iterator[Path]:
    """A scratch home outside pytest's basetemp: another pytest session on the machine
    makes pytest-of-<user> private again, which would lock the server's system user out."""
    path = Path(tempfile.mkdtemp(prefix="knitter-bench-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_bench_search_prints_its_tables(home: Path) -> None:
    out = run(
        "bench_search.py",
        "--home", str(home),
        "--sizes", "500",
        "--queries", "5",
        "--warmup", "1",
        "--sweep-queries", "2",
        "--base-sentences", "100",
        "--ef-search", "40",
        "--iterative-scan", "relaxed_order",
        "--thresholds", "100",
        "--shared-buffers", "128MB",
        "--maintenance-work-mem", "64MB",
        "--variant", "exact_scan_limit=100,hnsw.ef_search=40",
    )  # fmt: skip
    for heading in (
        "Load and index build, 500 passages",
        "hybrid_search latency, 500 passages",
        "RLS cost",
        "Vector branch SQL alone",
        "Side by side: public.hybrid_search (ours) vs Supabase's documented hybrid_search",
    ):
        assert heading in out
    assert "user 1% (5 rows), RLS" in out
    assert "hybrid_search_v1" in out
    assert not (home / "pgdata" / "postmaster.pid").exists(), "the server was left running"


@pytest.mark.slow
def test_bench_import_prints_its_table(home: Path) -> None:
    out = run(
        "bench_import.py",
        "--home", str(home),
        "--sizes-mb", "0.05",
        "--embed-max", "20",
    )  # fmt: skip
    assert "Import of a generated ChatGPT export" in out
    lines = out.splitlines()
    separator = next(i for i, line in enumerate(lines) if line.startswith("---"))
    row = lines[separator + 1].split()
    assert len(row) == 16 and int(row[2].replace(",", "")) > 0  # passages written
    assert float(row[6]) > 0 and float(row[7]) > 0  # the COPY floor, and write / COPY
    assert not (home / "pgdata" / "postmaster.pid").exists(), "the server was left running"


@pytest.mark.slow
def test_bench_threads_prints_its_tables(home: Path) -> None:
    out = run(
        "bench_threads.py",
        "--home", str(home),
        "--sizes", "60",
        "--topics", "4",
        "--families", "2",
        "--passages", "3",
        "--runs", "1",
        "--new", "5",
        "--shared-buffers", "128MB",
    )  # fmt: skip
    for heading in (
        "regroup at similarity 0.3, 1 runs per size",
        "Thread quality against 4 known topics",
        "assign_new for new conversations in batches of 10",
        "Load (COPY of sources, chunks, embeddings",
    ):
        assert heading in out
    lines = out.splitlines()
    quality = lines.index(next(line for line in lines if line.startswith("Thread quality")))
    assert lines[quality + 3].split()[:2] == ["60", "0.2"]  # one row per threshold
    assert not (home / "pgdata" / "postmaster.pid").exists(), "the server was left running"


@pytest.mark.slow
def test_bench_progressive_prints_its_tables(home: Path) -> None:
    out = run(
        "bench_progressive.py",
        "--home", str(home),
        "--distractors", "20",
        "--export-mb", "0.05",
        "--texts", "8",
        "--rounds", "1",
    )  # fmt: skip
    for heading in (
        "Held-out retrieval (hybrid_search, no floor)",
        "0.05 MB ChatGPT export",
        "Embedding throughput, 8 real texts, 1 rounds interleaved",
    ):
        assert heading in out
    states = [line.split()[0:2] for line in out.splitlines() if line.startswith(("static", "full"))]
    assert ["static", "only"] in states and ["full", "quality"] in states
    assert "mean cosine, ONNX int8 to sentence-transformers: 0.99" in out


def test_bench_api_search_prints_its_table(home: Path) -> None:
    from tests.conftest import redis_url

    out = run(
        "bench_api_search.py",
        "--home", str(home),
        "--export-kb", "20",
        "--queries", "3",
        "--rounds", "1",
        "--redis", redis_url(),
    )  # fmt: skip
    assert "3 queries x 1 rounds per cell" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("keyword", "hybrid"))]
    cells = [("keyword", "1"), ("hybrid", "1"), ("keyword", "4"), ("hybrid", "4")]
    assert [(r[0], r[1]) for r in rows] == cells
    assert all(float(r[2]) > 0 and float(r[5]) > 0 for r in rows)  # bare and API p50 in ms
    # CPU a request, bare → API (a few requests may fit in one clock tick of /proc: ≥ 0).
    assert "CPU ms/request bare → API" in out
    assert all(r[-2] == "→" and float(r[-3]) >= 0 and float(r[-1]) >= 0 for r in rows)
    assert "first search after start" in out
    assert not (home / "pgdata" / "postmaster.pid").exists(), "the server was left running"
