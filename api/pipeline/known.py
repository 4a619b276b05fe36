"""Which stored source an incoming conversation is a version of, and what of it is new.

An export's id alone does not make two conversations the same: files derived from other
exports (or hand-edited ones) reuse ids for different conversations (an address, a page's
URL or a video's id, does name one source). A stored source with
the same id is the same conversation only when the two share content (a passage in
common); else the newcomer is kept beside it under the id with its content hash appended.
A version that grew (a coding-agent session, a chat continued) keeps the passages it shares
with the stored copy, and their embeddings: only the messages from the first that changed
are written again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from api.db.session import Connection
from api.importers.model import Conversation

# Between an export's id and the content hash of a different conversation that reuses it.
CLASH_SEPARATOR = "#"
# Kinds whose id is an address (a page's URL, a video's or a share link's id): the same
# address is the same source, whatever its content became.
ID_IS_ADDRESS = {"html", "youtube", "chatgpt_share"}


@dataclass(frozen=True)
class Known:
    """The stored version of a conversation."""

    id: UUID
    external_id: str
    updated_at: str | None


def same_content(conn: Connection, workspace_id: UUID, content_hash: str) -> bool:
    row = conn.execute(
        "select exists(select from public.sources where workspace_id = %s"
        " and content_hash = %s) as same",
        [workspace_id, content_hash],
    ).fetchone()
    return bool(row and row["same"])


def find_version(
    conn: Connection, workspace_id: UUID, conversation: Conversation, contents: list[str]
) -> tuple[Known | None, str | None]:
    """The stored version of this conversation (None if there is none) and the external id a
    new source takes: the export's id, or, when other conversations already hold that id
    and share nothing with this one, the id with this content's hash (None: no id)."""
    external_id = conversation.external_id
    if external_id is None:
        return None, None
    select = (
        "select id, external_id, metadata->>'updated_at' as updated_at from public.sources"
        " where workspace_id = %s and kind = %s and "
    )
    exact = conn.execute(
        select + "external_id = %s", [workspace_id, conversation.kind, external_id]
    ).fetchone()
    if exact is None:
        return None, external_id
    if conversation.kind in ID_IS_ADDRESS or _shares(conn, exact["id"], contents):
        return Known(exact["id"], external_id, exact["updated_at"]), external_id
    # A clash (rare): other conversations under this id, kept with their hash appended. Only
    # then are they looked for, so the common import costs one lookup by the unique index.
    others = conn.execute(
        select + "starts_with(external_id, %s) order by imported_at",
        [workspace_id, conversation.kind, external_id + CLASH_SEPARATOR],
    ).fetchall()
    for row in others:
        if _is_clash_of(row["external_id"], external_id) and _shares(conn, row["id"], contents):
            return Known(row["id"], row["external_id"], row["updated_at"]), row["external_id"]
    return None, f"{external_id}{CLASH_SEPARATOR}{conversation.content_hash()[:16]}"


def _shares(conn: Connection, source_id: UUID, contents: list[str]) -> bool:
    row = conn.execute(
        "select exists(select from public.chunks where source_id = %s"
        " and content = any(%s)) as shared",
        [source_id, contents],
    ).fetchone()
    return bool(row and row["shared"])


def _is_clash_of(candidate: str, external_id: str) -> bool:
    suffix = candidate[len(external_id) + len(CLASH_SEPARATOR) :]
    return (
        candidate.startswith(external_id + CLASH_SEPARATOR)
        and len(suffix) == 16
        and all(c in "0123456789abcdef" for c in suffix)
    )


def first_changed_message(
    conn: Connection, source_id: UUID, new: list[tuple[int, tuple[Any, ...]]]
) -> int:
    """The index of the first message whose passages differ between the stored source and
    the new version (new: (message_index, passage fields) in reading order); every message
    before it is kept as it is."""
    stored = conn.execute(
        "select message_index, role, author, model, created_at, content, metadata"
        " from public.chunks where source_id = %s order by message_index, chunk_index",
        [source_id],
    ).fetchall()
    old = _by_message(
        [
            (
                r["message_index"],
                (r["role"], r["author"], r["model"], r["created_at"], r["content"], r["metadata"]),
            )
            for r in stored
        ]
    )
    fresh = _by_message(new)
    indexes = sorted(set(old) | set(fresh))
    changed = (i for i in indexes if old.get(i) != fresh.get(i))
    return next(changed, indexes[-1] + 1 if indexes else 0)


def _by_message(rows: list[tuple[int, tuple[Any, ...]]]) -> dict[int, list[tuple[Any, ...]]]:
    messages: dict[int, list[tuple[Any, ...]]] = {}
    for message_index, fields in rows:
        messages.setdefault(message_index, []).append(_normal(fields))
    return messages


def _normal(fields: tuple[Any, ...]) -> tuple[Any, ...]:
    # Stored times come back as aware datetimes; compare instants, not representations.
    return tuple(f.timestamp() if isinstance(f, datetime) else f for f in fields)
