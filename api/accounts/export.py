"""Everything a user owns, exported: the workspaces they own with every source and its
passages, summaries and topic threads, their search history, import jobs, the
micro-threads they asked and which
provider keys they stored (never the keys). Read as the user, so row-level security
bounds it as well as the owner filter.

Workspaces the user only belongs to (as editor or viewer) are left out: their data
belongs to the workspace's owner, who exports it."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

from api import __version__
from api.db.session import Caller, Connection, transaction_as


def collect(conn: Connection, caller: Caller) -> dict[str, Any]:
    """The caller's data as one JSON-ready document."""
    with transaction_as(conn, caller):
        workspaces = conn.execute(
            "select id, name, is_personal, embedding_model_id, created_at"
            " from public.workspaces where owner_id = auth.uid() order by created_at, id"
        ).fetchall()
        sources = conn.execute(
            """
            select s.id, s.workspace_id, s.kind, s.platform, s.title, s.url, s.external_id,
                   s.started_at, s.imported_at, s.metadata, s.thread_id, s.summary,
                   s.key_topics, s.summary_model, s.summarized_at
            from public.sources s
            join public.workspaces w on w.id = s.workspace_id
            where w.owner_id = auth.uid()
            order by coalesce(s.started_at, s.imported_at), s.id
            """
        ).fetchall()
        chunks = conn.execute(
            """
            select c.id, c.source_id, c.message_index, c.chunk_index, c.role, c.author,
                   c.model, c.created_at, c.content, c.metadata
            from public.chunks c
            join public.workspaces w on w.id = c.workspace_id
            where w.owner_id = auth.uid()
            order by c.source_id, c.message_index, c.chunk_index
            """
        ).fetchall()
        topic_threads = conn.execute(
            """
            select t.id, t.workspace_id, t.title, t.title_source, t.summary, t.key_topics,
                   t.summary_model, t.summarized_at, t.created_at
            from public.topic_threads t
            join public.workspaces w on w.id = t.workspace_id
            where w.owner_id = auth.uid()
            order by t.created_at, t.id
            """
        ).fetchall()
        history = conn.execute(
            "select query, workspace_id, created_at from public.search_history"
            " where user_id = auth.uid() order by created_at, id"
        ).fetchall()
        jobs = conn.execute(
            "select id, workspace_id, status, items_total, added, updated, skipped, failed,"
            " passages, errors, created_at, finished_at from public.import_jobs"
            " where user_id = auth.uid() order by created_at"
        ).fetchall()
        threads = conn.execute(
            "select id, chunk_id, workspace_id, question, answer, model, citations, created_at"
            " from public.micro_threads where user_id = auth.uid() order by created_at, id"
        ).fetchall()
        keys = conn.execute(
            "select provider, last_four, updated_at from public.api_keys"
            " where user_id = auth.uid() order by provider"
        ).fetchall()
    passages: dict[Any, list[dict[str, Any]]] = {}
    for chunk in chunks:
        source_id = chunk.pop("source_id")
        passages.setdefault(source_id, []).append({"chunk_id": chunk.pop("id"), **chunk})
    document: dict[str, Any] = _jsonable(
        {
            "format": "knitter-export",
            "version": 1,
            "exported_at": datetime.now(UTC),
            "app_version": __version__,
            "user_id": caller.user_id,
            "workspaces": workspaces,
            "sources": [{**s, "passages": passages.get(s["id"], [])} for s in sources],
            "topic_threads": topic_threads,
            "search_history": history,
            "import_jobs": jobs,
            "micro_threads": threads,
            "api_keys": keys,
        }
    )
    return document


def _jsonable(value: Any) -> Any:
    """UUIDs, datetimes and the like as the strings JSON clients expect."""
    result: Any = json.loads(json.dumps(value, default=_encode))
    return result


def _encode(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def markdown(source: dict[str, Any]) -> str:
    """One conversation or document as readable Markdown: a heading per message."""
    title = source["title"] or "Untitled"
    lines = [f"# {title}", ""]
    facts = [f"- platform: {source['platform']}", f"- kind: {source['kind']}"]
    if source.get("url"):
        facts.append(f"- url: {source['url']}")
    if source.get("started_at"):
        facts.append(f"- started: {source['started_at']}")
    lines += [*facts, ""]
    if source.get("summary"):
        lines += ["> " + source["summary"].replace("\n", "\n> "), ""]
    current: int | None = None
    for passage in source["passages"]:
        if passage["message_index"] != current:
            current = passage["message_index"]
            who = passage["author"] or passage["role"]
            stamp = f" ({passage['created_at']})" if passage.get("created_at") else ""
            lines += [f"## {who}{stamp}", ""]
        lines += [passage["content"], ""]
    return "\n".join(lines).rstrip() + "\n"


def file_name(source: dict[str, Any]) -> str:
    """A safe, unique file name: the title's words and the source id's first 8 digits."""
    slug = re.sub(r"[^a-z0-9]+", "-", (source["title"] or "untitled").lower()).strip("-")
    return f"{slug[:60] or 'untitled'}-{str(source['id'])[:8]}.md"


def to_zip(data: dict[str, Any]) -> bytes:
    """`conversations.json` with everything, and `markdown/<title>-<id>.md` per source."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conversations.json", json.dumps(data, ensure_ascii=False, indent=2))
        for source in data["sources"]:
            archive.writestr(f"markdown/{file_name(source)}", markdown(source))
    return buffer.getvalue()
