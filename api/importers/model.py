"""The one shape every importer produces: a conversation (or document) of messages."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from api.errors import ImportFormatError
from api.text import storable

Role = Literal["user", "assistant", "system", "tool", "speaker", "document"]
Kind = Literal[
    "chatgpt_export",
    "chatgpt_share",
    "claude_export",
    "gemini_takeout",
    "gemini_pdf",
    "youtube",
    "pdf",
    "text",
    "markdown",
    "html",
    "agent_session",
]


@dataclass(frozen=True)
class Message:
    role: Role
    text: str
    author: str | None = None
    model: str | None = None
    created_at: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _make_storable(self, "text", "author", "model", "metadata")


@dataclass(frozen=True)
class Conversation:
    kind: Kind
    platform: str
    title: str
    messages: list[Message]
    # Other versions of its messages (edits, regenerations and what follows them), each
    # with metadata `alternative_of` (the message index it is a version of): see
    # api/importers/branches.py. Search, answers and threads read `messages` only.
    alternatives: list[Message] = field(default_factory=list)
    url: str | None = None
    external_id: str | None = None
    started_at: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # What the reader saw or the export held but is not kept as text, by kind (images,
    # audio, files, reasoning, plumbing): the import report counts it.
    left_out: dict[str, int] = field(default_factory=dict)
    # The input the user named (a file, folder, zip or URL) this conversation came from.
    origin: str = ""

    def __post_init__(self) -> None:
        _make_storable(self, "title", "url", "external_id", "metadata", "origin")

    def content_hash(self) -> str:
        """Identity of the content: the same messages hash the same, whatever the file name."""
        body: list[Any] = [self.kind, [[m.role, m.author, m.text] for m in self.messages]]
        if self.alternatives:  # absent, the hash is what it was before branches were kept
            body.append(
                [
                    [m.role, m.author, m.text, m.metadata.get("alternative_of")]
                    for m in self.alternatives
                ]
            )
        canonical = json.dumps(
            body,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _make_storable(instance: object, *names: str) -> None:
    """One NUL or half an emoji must not sink a source (see api.text)."""
    for name in names:
        value = getattr(instance, name)
        if value:
            object.__setattr__(instance, name, storable(value))


@dataclass(frozen=True)
class ItemError:
    """One input (a file, a conversation in an export) that could not be imported."""

    item: str
    message: str
    origin: str = ""


@dataclass(frozen=True)
class Skipped:
    """An input with nothing to import (an empty conversation): not an error."""

    item: str
    reason: str
    origin: str = ""


@dataclass(frozen=True)
class Ignored:
    """Files that belong to an export but hold no conversations (the HTML viewer, account
    details, attachments): counted in the report, never a failure."""

    item: str
    count: int
    what: str = "side files"
    origin: str = ""


# What parsing one input yields, item by item.
Parsed = Conversation | ItemError | Skipped | Ignored


def each_conversation(
    items: list[Any], parse: Callable[[Any], Conversation], title_key: str
) -> Iterator[Parsed]:
    """Every conversation of an export: a malformed one becomes an ItemError and an empty
    one is Skipped, so neither stops the rest."""
    for position, item in enumerate(items):
        label = f"conversation {position + 1}"
        if isinstance(item, dict) and isinstance(item.get(title_key), str) and item[title_key]:
            label += f" ({item[title_key][:80]!r})"
        try:
            conversation = parse(item)
        except ImportFormatError as exc:
            yield ItemError(label, str(exc))
            continue
        if conversation.messages:
            yield conversation
        else:
            yield Skipped(label, "no messages")


def branch_to(leaf: object, nodes: Mapping[str, Any], parent_key: str) -> list[Any]:
    """The nodes from the root down to leaf, following each node's parent_key (the branch
    of an export's tree of edits and regenerations the person last saw). A cycle or a
    missing parent ends the walk."""
    branch: list[Any] = []
    seen: set[str] = set()
    node: Any = leaf
    while isinstance(node, str) and node in nodes and node not in seen:
        seen.add(node)
        branch.append(nodes[node])
        node = nodes[node].get(parent_key)
    branch.reverse()
    return branch
