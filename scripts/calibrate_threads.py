"""Topic-thread granularity calibration: how well threads match known topics on the
labelled corpora, for regrouping and for placing conversations one by one as they are
embedded, at each similarity threshold. See docs/PERFORMANCE.md ("Topic-thread
granularity") for the results.

Each corpus (tests/fixtures/topic_corpus*.json) is written through the real pipeline
(write_conversation, then the embedding queue drained with the workspace's model, the real
local all-MiniLM-L6-v2 by default) into a fresh database on an embedded server under
--home. The conversations' centroids (private.source_centroids, what grouping reads) are
then clustered with api.topics.grouping.cluster (regroup) and placed oldest first with
api.topics.grouping.join_one_by_one (the worker's path) at every --thresholds value. The
default threshold is also run through the database paths themselves (grouping.regroup and
grouping.assign_new) to check that they agree with the in-memory sweep, and the threads
it gives are titled without a key (api.topics.phrases).

    PYTHONPATH=. .venv/bin/python scripts/calibrate_threads.py
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import numpy as np
from _bench_common import (
    DEFAULT_HOME,
    drop_database,
    float_list,
    fresh_database,
    git_revision,
    machine_description,
    start_server,
    table,
)

from api.accounts.users import caller_for, ensure_workspace
from api.db.session import Caller, Connection, connect, transaction_as
from api.importers.model import Conversation, Message
from api.pipeline.embedding_queue import drain
from api.pipeline.ingest import write_conversation
from api.topics import grouping

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
CORPORA = ("topic_corpus.json", "topic_corpus_multilingual.json")
THRESHOLDS = "0.2,0.25,0.28,0.3,0.32,0.35,0.4,0.45,0.5"


@dataclass(frozen=True)
class Quality:
    threads: int
    purity: float
    inverse: float
    median_size: float
    singletons: int

    def cells(self) -> list[object]:
        return [
            self.threads,
            f"{self.purity:.3f}",
            f"{self.inverse:.3f}",
            f"{self.median_size:g}",
            self.singletons,
        ]


def quality(assigned: dict[UUID, object], truth: dict[UUID, str]) -> Quality:
    pure, whole = grouping.purity(assigned, truth)
    sizes = Counter(assigned.values())
    return Quality(
        threads=len(sizes),
        purity=pure,
        inverse=whole,
        median_size=float(np.median(list(sizes.values()))),
        singletons=sum(1 for n in sizes.values() if n == 1),
    )


def conversation(item: dict[str, object]) -> Conversation:
    texts = item["messages"]
    assert isinstance(texts, list)
    messages = [
        Message(role="user" if i % 2 == 0 else "assistant", text=str(text))
        for i, text in enumerate(texts)
    ]
    return Conversation(
        kind="text", platform="chatgpt", title=str(item["title"]), messages=messages
    )


def load(conn: Connection, owner: Caller, name: str, path: Path) -> tuple[UUID, dict[UUID, str]]:
    """Writes the corpus (in file order, which is the order the conversations happened)
    and embeds it; returns the workspace and each conversation's known topic."""
    topics: dict[str, list[dict[str, object]]] = json.loads(path.read_text())["topics"]
    ws = ensure_workspace(conn, owner, name)
    for items in topics.values():
        for item in items:
            write_conversation(conn, owner, ws, conversation(item))
    drain(conn, ws)
    by_title = {str(item["title"]): topic for topic, items in topics.items() for item in items}
    with transaction_as(conn, owner):
        rows = conn.execute(
            "select id, title from public.sources where workspace_id = %s", [ws]
        ).fetchall()
    return ws, {r["id"]: by_title[r["title"]] for r in rows}


def placement_order(conn: Connection, owner: Caller, ws: UUID) -> list[UUID]:
    """The order assign_new places conversations in: oldest first."""
    with transaction_as(conn, owner):
        newest = grouping._embedded_sources(conn, ws, unthreaded=False)
    return newest[::-1]


def database_paths(
    conn: Connection, owner: Caller, ws: UUID, truth: dict[UUID, str], similarity: float
) -> tuple[Quality, Quality]:
    """The threshold through grouping.regroup, then through grouping.assign_new from
    nothing (the worker's path)."""
    grouping.regroup(conn, owner, ws, similarity)
    regrouped = quality(threads_of(conn, owner, ws), truth)
    with transaction_as(conn, owner):
        conn.execute("delete from public.topic_threads where workspace_id = %s", [ws])
    grouping.assign_new(conn, owner, ws)
    return regrouped, quality(threads_of(conn, owner, ws), truth)


def threads_of(conn: Connection, owner: Caller, ws: UUID) -> dict[UUID, object]:
    with transaction_as(conn, owner):
        rows = conn.execute(
            "select id, thread_id from public.sources where workspace_id = %s", [ws]
        ).fetchall()
    return {r["id"]: r["thread_id"] for r in rows}


def titled(conn: Connection, owner: Caller, ws: UUID) -> str:
    """The threads' titles with their conversations' known topics."""
    with transaction_as(conn, owner):
        rows = conn.execute(
            "select t.title, count(*) as n from public.topic_threads t"
            " join public.sources s on s.thread_id = t.id where t.workspace_id = %s"
            " group by t.id order by n desc, t.title",
            [ws],
        ).fetchall()
    return "; ".join(f"{r['title']} ({r['n']})" for r in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--thresholds", type=float_list, default=float_list(THRESHOLDS))
    parser.add_argument("--corpora", nargs="*", default=list(CORPORA))
    args = parser.parse_args(argv)
    args.home.mkdir(parents=True, exist_ok=True)
    default = grouping.DEFAULT_SIMILARITY
    print(f"machine: {machine_description()}")
    print(f"revision: {git_revision()}; default similarity {default}")
    server = start_server(args.home, {})
    name = "calibrate_threads"
    try:
        url = fresh_database(server, name)
        with connect(url) as conn:
            conn.autocommit = True
            owner = caller_for(conn, "calibrate@example.com", create=True)
            for corpus in args.corpora:
                ws, truth = load(conn, owner, corpus, FIXTURES / corpus)
                order = placement_order(conn, owner, ws)
                ids, centroids = grouping._centroids(conn, order)
                rows: list[list[object]] = []
                for t in args.thresholds:
                    labels = grouping.cluster(centroids, t)
                    regrouped = quality(dict(zip(ids, labels, strict=True)), truth)
                    placed = grouping.join_one_by_one([], centroids, t)
                    incremental = quality(dict(zip(ids, placed, strict=True)), truth)
                    mark = " (default)" if t == default else ""
                    rows.append([f"{t:g}{mark}", *regrouped.cells(), *incremental.cells()])
                topics = len(set(truth.values()))
                print()
                print(
                    table(
                        f"{corpus}: {len(ids)} conversations, {topics} topics",
                        [
                            "similarity",
                            "regroup threads",
                            "purity",
                            "inverse",
                            "median size",
                            "singletons",
                            "one-by-one threads",
                            "purity",
                            "inverse",
                            "median size",
                            "singletons",
                        ],
                        rows,
                    )
                )
                regrouped, incremental = database_paths(conn, owner, ws, truth, default)
                print(
                    f"through the database at {default}: regroup {regrouped.cells()},"
                    f" assign_new {incremental.cells()}"
                )
                grouping.regroup(conn, owner, ws, default)
                grouping.retitle(conn, owner, ws)
                print(f"keyless titles after regrouping at {default}: {titled(conn, owner, ws)}")
    finally:
        drop_database(server, name)
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
