"""Topic threads: a workspace's conversations grouped by what they are about.

Each conversation is a point, its centroid (the normalised mean of its passages'
embeddings). `regroup` clusters them all by average linkage under cosine distance and cuts
the tree where groups become less alike than the workspace's similarity threshold, its
granularity. Between regroupings, `assign_new` puts each newly embedded conversation into
the thread it is most alike on average (the same measure), if at least that alike, or
starts a new thread.
People merge, split and rename threads through SQL functions (topic_thread_rpcs migration).

Titles: a chat model's when one is available, else the phrase of its conversations'
titles and first messages that is common in the thread and rare in the others
(api.topics.phrases)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from api.db.session import Caller, Connection, transaction_as
from api.db.vectors import Vectors, parse_vector, vector_literal
from api.errors import NotFoundError, ProviderError
from api.providers.chat import ChatModel
from api.topics import phrases

log = logging.getLogger("knitter.threads")

# Average linkage needs all pairwise distances: n² / 2 floats. Beyond this many the
# newest conversations are clustered and the older ones join their nearest thread.
MAX_CLUSTERED = 5000
# The granularity a new workspace starts with (workspaces.thread_similarity's default),
# calibrated on the labelled corpora by scripts/calibrate_threads.py.
DEFAULT_SIMILARITY = 0.3
# What a title is written from: per thread its newest conversations, per conversation its
# first passages, each cut short. Bounds the text read for a workspace's titles.
TITLE_SOURCES = 25
TITLE_PASSAGES = 5
TITLE_PASSAGE_CHARS = 1000
# Keyless titles are phrases of the conversations' titles and first user messages.
FIRST_MESSAGE_CHARS = 400
# A chat model titles at most this many threads a call (the largest first), so that a
# regroup into hundreds of threads stays one quick request; the others get their terms
# until their summary is written (which titles the thread with the model too).
MAX_LLM_TITLES = 20
TITLE_PROMPT = (
    "You name groups of a person's saved AI conversations. Given the conversation titles"
    " and excerpts of one group, reply with a short title for the group: at most six words,"
    " no quotes, no final full stop, in the language of the conversations."
)


@dataclass(frozen=True)
class Regrouped:
    threads: int
    conversations: int
    similarity: float
    unthreaded: int


def _normalised(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def cluster(centroids: Vectors, similarity: float) -> list[int]:
    """Labels 0, 1, … (in order of first appearance) grouping rows whose groups' mean
    cosine similarity is at least `similarity` (average-linkage agglomerative clustering,
    cut at distance 1 - similarity)."""
    if len(centroids) == 0:
        return []
    if len(centroids) == 1:
        return [0]
    tree = linkage(centroids, method="average", metric="cosine")
    raw = fcluster(tree, t=1 - similarity, criterion="distance")
    renumbered: dict[int, int] = {}
    return [renumbered.setdefault(int(label), len(renumbered)) for label in raw]


def _workspace(conn: Connection, workspace_id: UUID) -> tuple[int, float]:
    """The workspace's embedding model and similarity threshold (as the current role)."""
    row = conn.execute(
        "select embedding_model_id, thread_similarity from public.workspaces where id = %s",
        [workspace_id],
    ).fetchone()
    if row is None:
        raise NotFoundError("no such workspace")
    return int(row["embedding_model_id"]), float(row["thread_similarity"])


def _lock(conn: Connection, workspace_id: UUID) -> None:
    """Regrouping and assigning in one workspace take turns."""
    conn.execute(
        "select pg_advisory_xact_lock(hashtextextended('topic_threads:' || %s, 0))",
        [str(workspace_id)],
    )


def _centroids(conn: Connection, source_ids: Sequence[UUID]) -> tuple[list[UUID], Vectors]:
    """The sources' centroids, in the given order; sources without any are left out."""
    rows = conn.execute(
        "select source_id, centroid::text as centroid from private.source_centroids(%s::uuid[])",
        [list(source_ids)],
    ).fetchall()
    found = {r["source_id"]: parse_vector(r["centroid"]) for r in rows}
    ids = [s for s in source_ids if s in found]
    return ids, np.array([found[s] for s in ids]).reshape(len(ids), -1)


def _embedded_sources(conn: Connection, workspace_id: UUID, *, unthreaded: bool) -> list[UUID]:
    """The workspace's conversations with every passage embedded under its model, newest
    first (those still queued get their thread once embedded; a switch of model under way
    holds none back)."""
    rows = conn.execute(
        """
        select s.id
        from public.sources s
        join public.workspaces w on w.id = s.workspace_id
        where s.workspace_id = %(ws)s
          and (not %(unthreaded)s or s.thread_id is null)
          and exists (
            select from public.chunks c
            join public.chunk_embeddings e
              on e.chunk_id = c.id and e.model_id = w.embedding_model_id
            where c.source_id = s.id
          )
          and not exists (
            select from public.chunks c
            join public.embedding_queue q
              on q.chunk_id = c.id and q.model_id = w.embedding_model_id
            where c.source_id = s.id
          )
        order by coalesce(s.started_at, s.imported_at) desc, s.id
        """,
        {"ws": workspace_id, "unthreaded": unthreaded},
    ).fetchall()
    return [r["id"] for r in rows]


def _insert_threads(
    conn: Connection, workspace_id: UUID, model_id: int, thread_ids: Sequence[UUID]
) -> None:
    if thread_ids:
        conn.execute(
            "insert into public.topic_threads (id, workspace_id, model_id)"
            " select unnest(%s::uuid[]), %s, %s",
            [list(thread_ids), workspace_id, model_id],
        )


def _place(
    conn: Connection,
    source_ids: Sequence[UUID],
    thread_ids: Sequence[UUID],
    means: dict[UUID, Vectors],
) -> None:
    """Puts each source into its thread and stores the threads' new centroids and
    cohesions from their members' mean (computed here: recomputing them in SQL reads every
    member's passages)."""
    conn.execute(
        """
        update public.sources s set thread_id = m.thread_id
        from unnest(%s::uuid[], %s::uuid[]) as m (source_id, thread_id)
        where s.id = m.source_id
        """,
        [list(source_ids), list(thread_ids)],
    )
    conn.execute(
        """
        update public.topic_threads t
        set centroid = m.centroid::extensions.vector, cohesion = m.cohesion, updated_at = now()
        from unnest(%s::uuid[], %s::text[], %s::real[]) as m (id, centroid, cohesion)
        where t.id = m.id
        """,
        [
            list(means),
            [vector_literal(_normalised(m).tolist()) for m in means.values()],
            [min(1.0, float(np.linalg.norm(m))) for m in means.values()],
        ],
    )


@dataclass
class Thread:
    """A thread while conversations are placed: `mean` is the plain mean of its members'
    unit centroids, so `mean @ x` is x's average similarity to the members (what average
    linkage compares), and its direction and length are the stored centroid and cohesion."""

    id: UUID
    mean: Vectors
    members: int


def join_one_by_one(threads: list[Thread], centroids: Vectors, similarity: float) -> list[UUID]:
    """Each centroid in turn joins the thread it is most alike on average (mean cosine
    similarity to the thread's members, as average linkage measures it when regrouping), if
    that is at least `similarity`, or starts a new thread (appended). The similarity to the
    thread's normalised centroid would flatter spread-out threads: they would swallow
    neighbouring topics. `threads` is updated in place; returns each centroid's thread."""
    placed: list[UUID] = []
    for centroid in centroids:
        sims = [float(t.mean @ centroid) for t in threads]
        best = int(np.argmax(sims)) if sims else -1
        if best < 0 or sims[best] < similarity:
            thread = Thread(uuid4(), np.array(centroid, dtype=float), 1)
            threads.append(thread)
        else:
            thread = threads[best]
            thread.mean = (thread.mean * thread.members + centroid) / (thread.members + 1)
            thread.members += 1
        placed.append(thread.id)
    return placed


def _join(
    conn: Connection,
    workspace_id: UUID,
    model_id: int,
    similarity: float,
    source_ids: list[UUID],
    centroids: Vectors,
) -> None:
    """Each conversation (in the given order) joins the thread of this model it is most
    alike on average, at or above the threshold, or starts a new thread."""
    rows = conn.execute(
        "select t.id, t.centroid::text as centroid, t.cohesion,"
        " (select count(*) from public.sources s where s.thread_id = t.id) as members"
        " from public.topic_threads t"
        " where t.workspace_id = %s and t.model_id = %s and t.centroid is not null",
        [workspace_id, model_id],
    ).fetchall()
    # A thread without a cohesion (from before it was stored) counts as tight: its
    # centroid alone decides, as it did then.
    threads = [
        Thread(r["id"], parse_vector(r["centroid"]) * (r["cohesion"] or 1.0), int(r["members"]))
        for r in rows
    ]
    known = {t.id for t in threads}
    placed = join_one_by_one(threads, centroids, similarity)
    fresh = set(placed) - known
    _insert_threads(conn, workspace_id, model_id, list(fresh))
    if placed:
        _place(conn, source_ids, placed, {t.id: t.mean for t in threads if t.id in set(placed)})
    conn.execute(
        "update public.topic_threads set title_source = 'pending'"
        " where id = any(%s::uuid[]) and title_source = 'terms'",
        [list(set(placed) - fresh)],
    )


def assign_new(conn: Connection, caller: Caller, workspace_id: UUID) -> int:
    """Puts the workspace's newly embedded conversations into threads; returns how many.
    Oldest first, so a thread grows in the order its conversations happened."""
    with transaction_as(conn, caller):
        _lock(conn, workspace_id)
        model_id, similarity = _workspace(conn, workspace_id)
        waiting = _embedded_sources(conn, workspace_id, unthreaded=True)[::-1]
        if not waiting:
            return 0
        ids, centroids = _centroids(conn, waiting)
        _join(conn, workspace_id, model_id, similarity, ids, centroids)
        return len(ids)


def regroup(
    conn: Connection, caller: Caller, workspace_id: UUID, similarity: float | None = None
) -> Regrouped:
    """Replaces the workspace's threads by a fresh clustering (hand-made merges, splits and
    titles are lost), at the given similarity, which becomes the workspace's threshold."""
    with transaction_as(conn, caller):
        _lock(conn, workspace_id)
        if similarity is not None:
            conn.execute("select public.set_thread_similarity(%s, %s)", [workspace_id, similarity])
        model_id, similarity = _workspace(conn, workspace_id)
        newest = _embedded_sources(conn, workspace_id, unthreaded=False)
        conn.execute("delete from public.topic_threads where workspace_id = %s", [workspace_id])
        ids, centroids = _centroids(conn, newest[:MAX_CLUSTERED])
        labels = cluster(centroids, similarity)
        thread_ids = [uuid4() for _ in set(labels)]
        _insert_threads(conn, workspace_id, model_id, thread_ids)
        if ids:
            members = np.array(labels)
            means = {
                thread_id: centroids[members == label].mean(axis=0)
                for label, thread_id in enumerate(thread_ids)
            }
            _place(conn, ids, [thread_ids[label] for label in labels], means)
        older = newest[MAX_CLUSTERED:][::-1]
        if older:
            older_ids, older_centroids = _centroids(conn, older)
            _join(conn, workspace_id, model_id, similarity, older_ids, older_centroids)
        counts = conn.execute(
            "select count(distinct thread_id) as threads, count(thread_id) as placed,"
            " count(*) - count(thread_id) as unthreaded"
            " from public.sources where workspace_id = %s",
            [workspace_id],
        ).fetchone()
    assert counts is not None
    return Regrouped(
        threads=int(counts["threads"]),
        conversations=int(counts["placed"]),
        similarity=similarity,
        unthreaded=int(counts["unthreaded"]),
    )


def purity(
    assigned: Mapping[UUID, Hashable], truth: Mapping[UUID, Hashable]
) -> tuple[float, float]:
    """How threads (assigned: conversation → thread) match known topics (truth:
    conversation → topic), for tests and benchmarks: (purity, inverse purity), the share of
    conversations in their thread's majority topic and in their topic's majority thread.
    Both are 1.0 only when the threads are exactly the topics."""
    threads: dict[Hashable, list[Hashable]] = {}
    topics: dict[Hashable, list[Hashable]] = {}
    for source, thread in assigned.items():
        threads.setdefault(thread, []).append(truth[source])
        topics.setdefault(truth[source], []).append(thread)
    n = len(assigned) or 1
    pure = sum(Counter(g).most_common(1)[0][1] for g in threads.values()) / n
    whole = sum(Counter(g).most_common(1)[0][1] for g in topics.values()) / n
    return pure, whole


def thread_texts(
    conn: Connection, caller: Caller, workspace_id: UUID, only: Sequence[UUID] | None = None
) -> dict[UUID, str]:
    """Each thread's text (or only those threads') for titles and key topics, as the caller
    sees it: its newest conversations' titles (three times: titles say most) and first
    passages, all cut short."""
    with transaction_as(conn, caller):
        rows = _thread_rows(conn, workspace_id, only)
    texts: dict[UUID, list[str]] = {}
    for r in rows:
        title = r["title"] or ""
        texts.setdefault(r["thread_id"], []).append(
            f"{title}\n{title}\n{title}\n{r['excerpt'] or ''}"
        )
    return {thread_id: "\n".join(parts) for thread_id, parts in texts.items()}


def thread_members(
    conn: Connection, caller: Caller, workspace_id: UUID
) -> dict[UUID, list[phrases.Member]]:
    """Each thread's newest conversations' titles and first user messages, as the caller
    sees them: what keyless titles are made from."""
    with transaction_as(conn, caller):
        rows = _thread_rows(conn, workspace_id, None)
    members: dict[UUID, list[phrases.Member]] = {}
    for r in rows:
        members.setdefault(r["thread_id"], []).append(
            phrases.Member(r["title"] or "", r["first_message"] or "")
        )
    return members


def _thread_rows(
    conn: Connection, workspace_id: UUID, only: Sequence[UUID] | None
) -> list[dict[str, Any]]:
    return conn.execute(
        """
        with ranked as (
          select s.id, s.thread_id, s.title,
                 row_number() over (
                   partition by s.thread_id
                   order by coalesce(s.started_at, s.imported_at) desc, s.id
                 ) as n
          from public.sources s
          where s.workspace_id = %(ws)s and s.thread_id is not null
            and (%(only)s::uuid[] is null or s.thread_id = any(%(only)s::uuid[]))
        )
        select r.thread_id, r.title,
               (select left(c.content, %(first_chars)s) from public.chunks c
                where c.source_id = r.id and c.role = 'user'
                order by c.message_index, c.chunk_index limit 1) as first_message,
               (select string_agg(left(c.content, %(chars)s), E'\n' order by c.message_index,
                                  c.chunk_index)
                from (select * from public.chunks c where c.source_id = r.id
                      and not c.metadata ? 'alternative_of'
                      order by c.message_index, c.chunk_index limit %(passages)s) c) as excerpt
        from ranked r
        where r.n <= %(sources)s
        """,
        {
            "ws": workspace_id,
            "only": None if only is None else list(only),
            "chars": TITLE_PASSAGE_CHARS,
            "first_chars": FIRST_MESSAGE_CHARS,
            "passages": TITLE_PASSAGES,
            "sources": TITLE_SOURCES,
        },
    ).fetchall()


def llm_title(chat: ChatModel, text: str) -> str | None:
    """The chat model's title for the thread, or None if it fails or says nothing."""
    try:
        title = "".join(chat.stream(TITLE_PROMPT, text[:12000])).strip()
    except ProviderError as exc:
        log.warning("thread title by %s failed: %s", chat.provider, exc)
        return None
    title = title.splitlines()[0].strip(" \"'*#.") if title else ""
    return title[:200] or None


def retitle(
    conn: Connection,
    caller: Caller,
    workspace_id: UUID,
    chat: ChatModel | None = None,
    only: Sequence[UUID] | None = None,
) -> int:
    """Writes titles for the workspace's threads whose title is pending (or for `only`,
    unless titled by hand): the chat model's for the MAX_LLM_TITLES largest, else their
    keyless phrase title. Returns how many it wrote."""
    with transaction_as(conn, caller):
        rows = conn.execute(
            "select t.id from public.topic_threads t where t.workspace_id = %s and"
            " (t.title_source = 'pending' or (t.id = any(%s::uuid[]) and t.title_source <> 'user'))"
            " order by (select count(*) from public.sources s where s.thread_id = t.id) desc, t.id",
            [workspace_id, list(only or [])],
        ).fetchall()
        if not rows:
            return 0
        texts = thread_texts(conn, caller, workspace_id)
    wanted = [r["id"] for r in rows if r["id"] in texts]
    if not wanted:
        return 0
    members = thread_members(conn, caller, workspace_id)
    ids = list(members)
    # Every thread's phrases count: a phrase common to many threads names none of them.
    keyless = dict(zip(ids, phrases.titles([members[i] for i in ids]), strict=True))
    titles: list[tuple[UUID, str, str]] = []
    for n, thread_id in enumerate(wanted):
        title = llm_title(chat, texts[thread_id]) if chat and n < MAX_LLM_TITLES else None
        if title:
            titles.append((thread_id, title, "llm"))
        else:
            titles.append((thread_id, keyless.get(thread_id, ""), "terms"))
    with transaction_as(conn, caller):
        conn.execute(
            """
            update public.topic_threads t
            set title = m.title, title_source = m.source, updated_at = now()
            from unnest(%s::uuid[], %s::text[], %s::text[]) as m (id, title, source)
            where t.id = m.id and t.title_source <> 'user'
            """,
            [[t[0] for t in titles], [t[1] for t in titles], [t[2] for t in titles]],
        )
    return len(titles)


def workspaces_waiting(conn: Connection) -> list[UUID]:
    """Workspaces with a conversation in no thread or a thread without a title (as the
    service role, for the worker)."""
    with transaction_as(conn, Caller.service()):
        rows = conn.execute(
            """
            select distinct s.workspace_id from public.sources s where s.thread_id is null
            union
            select distinct t.workspace_id from public.topic_threads t
            where t.title_source = 'pending'
            """
        ).fetchall()
    return [r["workspace_id"] for r in rows]
