"""ChatGPT: the official data export (`conversations.json`, alone or in the export zip).

A conversation is a tree (`mapping` of nodes with `parent` and `children`): edits and
regenerations are branches. The one the person last saw is rebuilt by walking from
`current_node` up the `parent` chain. The share-page importer reuses `parse_conversation`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from api.errors import ImportFormatError
from api.importers.model import Conversation, Message, Parsed, Role, branch_to, each_conversation

# Content types whose text the ChatGPT UI shows as part of the conversation. Others
# (browsing results, quotes, reasoning, custom instructions) are tool plumbing.
VISIBLE_CONTENT_TYPES = {"text", "multimodal_text", "code", "execution_output"}
ROLES: dict[str, Role] = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "tool": "tool",
}
# Citation markers left in answers: 【3†source】 and the private-use-area form.
CITATION = re.compile(r"【\d+(?::\d+)?†[^】]*】|\ue200[^\ue201]*\ue201")


def looks_like_export(data: Any) -> bool:
    return (
        isinstance(data, list) and bool(data) and isinstance(data[0], dict) and "mapping" in data[0]
    )


def parse_export(data: Any, *, kind: str = "chatgpt_export") -> Iterator[Parsed]:
    """Every conversation in an export; a malformed one becomes an ItemError, not a stop."""
    if not isinstance(data, list):
        raise ImportFormatError("a ChatGPT export is a JSON array of conversations")
    yield from each_conversation(data, lambda item: parse_conversation(item, kind=kind), "title")


def parse_conversation(item: Any, *, kind: str = "chatgpt_export") -> Conversation:
    if not isinstance(item, dict):
        raise ImportFormatError("a conversation must be a JSON object")
    mapping = item.get("mapping")
    if not isinstance(mapping, dict) or not all(isinstance(n, dict) for n in mapping.values()):
        raise ImportFormatError("the conversation has no valid 'mapping' of messages")

    skipped_parts = 0
    messages: list[Message] = []
    for node in _active_branch(mapping, item.get("current_node")):
        message, skipped = _message(node.get("message"), item.get("default_model_slug"))
        skipped_parts += skipped
        if message is not None:
            messages.append(message)

    conversation_id = item.get("conversation_id") or item.get("id")
    if not isinstance(conversation_id, str):
        conversation_id = None
    title = item.get("title")
    metadata: dict[str, Any] = {}
    if skipped_parts:
        metadata["skipped_parts"] = skipped_parts
    if item.get("default_model_slug"):
        metadata["model"] = item["default_model_slug"]
    if updated_at := _timestamp(item.get("update_time")):
        metadata["updated_at"] = updated_at.isoformat()
    return Conversation(
        kind=kind,  # type: ignore[arg-type]
        platform="chatgpt",
        title=title.strip() if isinstance(title, str) and title.strip() else "Untitled chat",
        messages=messages,
        url=f"https://chatgpt.com/c/{conversation_id}" if conversation_id else None,
        external_id=conversation_id,
        started_at=_timestamp(item.get("create_time")),
        metadata=metadata,
    )


def _active_branch(mapping: dict[str, dict[str, Any]], current: Any) -> list[dict[str, Any]]:
    """Nodes from the root to current_node. Without a usable current_node (older exports),
    follow the last child from the root: the most recent edit or regeneration."""
    if not isinstance(current, str) or current not in mapping:
        current = _last_leaf(mapping)
    return branch_to(current, mapping, "parent")


def _last_leaf(mapping: dict[str, dict[str, Any]]) -> str | None:
    roots = [k for k, n in mapping.items() if n.get("parent") not in mapping]
    if not roots:
        return None
    node_id, seen = roots[0], set()
    while node_id not in seen:
        seen.add(node_id)
        children = [c for c in mapping[node_id].get("children") or [] if c in mapping]
        if not children:
            break
        node_id = children[-1]
    return node_id


def _message(raw: Any, default_model: Any) -> tuple[Message | None, int]:
    """The message as the person saw it, or None if it is hidden plumbing; and the number of
    non-text parts (images, files) left out."""
    if not isinstance(raw, dict):
        return None, 0
    author, content, metadata = (_dict(raw.get(k)) for k in ("author", "content", "metadata"))
    role = ROLES.get(str(author.get("role")))
    if role is None or content.get("content_type") not in VISIBLE_CONTENT_TYPES:
        return None, 0
    if metadata.get("is_visually_hidden_from_conversation"):
        return None, 0
    # Messages addressed to a tool (a search command, code to run) are not shown as text.
    if raw.get("recipient", "all") != "all":
        return None, 0

    parts = content.get("parts")
    skipped = 0
    if isinstance(parts, list):
        texts = [p for p in parts if isinstance(p, str)]
        skipped = len(parts) - len(texts)
    else:
        texts = [content["text"]] if isinstance(content.get("text"), str) else []
    text = CITATION.sub("", "\n\n".join(texts)).strip()
    if not text:
        return None, skipped

    model = metadata.get("model_slug") if role == "assistant" else None
    if role == "assistant" and not model and isinstance(default_model, str):
        model = default_model
    name = author.get("name")
    return (
        Message(
            role=role,
            text=text,
            author=name if isinstance(name, str) and name else None,
            model=model if isinstance(model, str) else None,
            created_at=_timestamp(raw.get("create_time")),
        ),
        skipped,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
