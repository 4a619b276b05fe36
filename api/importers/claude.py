"""Claude: the data export's conversations.json (alone or in its zip), and one conversation
as the claude.ai web API returns it (what browser exporters save).

A conversation has `uuid`, `name`, `created_at` and `chat_messages[]`; a message has a
`sender` (human, assistant), its `text` and, in newer exports, typed `content[]` blocks
(text, thinking, tool_use, tool_result). The text of attached files (`extracted_content`)
belongs to the message it was attached to. Where messages link to their parents
(`parent_message_uuid`), the branch the person last saw is rebuilt (to
`current_leaf_message_uuid`, or the newest message) and the other versions are kept as
alternatives, as for ChatGPT.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from api.errors import ImportFormatError
from api.importers.branches import Path, kept_versions, paths
from api.importers.model import (
    Conversation,
    Ignored,
    Message,
    Parsed,
    Role,
    branch_to,
    each_conversation,
)

SENDERS: dict[str, Role] = {"human": "user", "user": "user", "assistant": "assistant"}
ROOT_PARENT = "00000000-0000-4000-8000-000000000000"
# Artifacts and hidden reasoning show up in older exports' text as tags; the reasoning is
# not what the person read.
HIDDEN_TAGS = ("antThinking",)


def looks_like_export(data: Any) -> bool:
    if isinstance(data, dict):
        return "chat_messages" in data
    return (
        isinstance(data, list)
        and bool(data)
        and isinstance(data[0], dict)
        and "chat_messages" in data[0]
    )


def parse_export(data: Any) -> Iterator[Parsed]:
    """Every conversation; a malformed one is an ItemError, an empty one is skipped."""
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ImportFormatError("a Claude export is a JSON array of conversations")
    yield from each_conversation(items, parse_conversation, "name")


def parse_conversation(item: Any) -> Conversation:
    if not isinstance(item, dict):
        raise ImportFormatError("a conversation must be a JSON object")
    raw_messages = item.get("chat_messages")
    if not isinstance(raw_messages, list):
        raise ImportFormatError("the conversation has no 'chat_messages' list")
    model = item.get("model") if isinstance(item.get("model"), str) else None
    left_out: Counter[str] = Counter()
    tree = _tree(raw_messages, item.get("current_leaf_message_uuid"))
    if tree is None:
        messages: list[Message] = []
        alternatives: list[Message] = []
        for raw in _in_time_order(raw_messages):
            messages.extend(_messages(raw, model, left_out))
    else:
        nodes, paths_ = tree

        def read(ids: list[str]) -> list[list[Message]]:
            return [_messages(nodes[i], model, left_out) for i in ids]

        messages, alternatives = kept_versions(paths_, read)

    uuid = item.get("uuid")
    name = item.get("name")
    metadata: dict[str, Any] = {}
    if model:
        metadata["model"] = model
    if left_out:
        metadata["left_out"] = dict(left_out)
    # The web API names the project; where only its uuid is given, the project's own source
    # (from projects.json) names it in the source list.
    project = item.get("project")
    if isinstance(project, dict) and isinstance(project.get("name"), str):
        metadata["project"] = project["name"]
    if isinstance(project, dict) and isinstance(project.get("uuid"), str):
        metadata["project_id"] = project["uuid"]
    if isinstance(item.get("project_uuid"), str):
        metadata["project_id"] = item["project_uuid"]
    if updated_at := timestamp(item.get("updated_at")):
        metadata["updated_at"] = updated_at.isoformat()
    if isinstance(item.get("summary"), str) and item["summary"].strip():
        metadata["summary"] = item["summary"].strip()
    return Conversation(
        kind="claude_export",
        platform="claude",
        title=name.strip() if isinstance(name, str) and name.strip() else "Untitled chat",
        messages=messages,
        alternatives=alternatives,
        url=f"https://claude.ai/chat/{uuid}" if isinstance(uuid, str) else None,
        external_id=uuid if isinstance(uuid, str) else None,
        started_at=timestamp(item.get("created_at")),
        metadata=metadata,
        left_out=dict(left_out),
    )


def looks_like_projects(data: Any) -> bool:
    """projects.json of the Claude export: projects with their documents and prompt."""
    return (
        isinstance(data, list)
        and bool(data)
        and isinstance(data[0], dict)
        and "uuid" in data[0]
        and ("docs" in data[0] or "prompt_template" in data[0])
    )


def looks_like_memories(data: Any) -> bool:
    """memories.json of the Claude export: what Claude wrote down about the person."""
    return (
        isinstance(data, list)
        and bool(data)
        and isinstance(data[0], dict)
        and ("conversations_memory" in data[0] or "project_memories" in data[0])
    )


def parse_memories(name: str) -> Iterator[Parsed]:
    """Claude's memory (`conversations_memory`, `project_memories`) is Claude's summary of
    the person's chats, not text the person wrote (they can only ask Claude to change it):
    a side file of the export, counted, like ChatGPT's memory writes."""
    yield Ignored(name, 1)


def parse_projects(data: Any) -> Iterator[Parsed]:
    """Each project as one source: its description, its prompt template (the project's
    instructions) and its documents, each a `document` passage group of that project."""
    if not isinstance(data, list):
        raise ImportFormatError("projects.json is a JSON array of projects")
    yield from each_conversation(data, parse_project, "name")


def parse_project(item: Any) -> Conversation:
    if not isinstance(item, dict) or not isinstance(item.get("uuid"), str):
        raise ImportFormatError("a project must be a JSON object with a 'uuid'")
    name: str = item["name"].strip() if isinstance(item.get("name"), str) else ""
    created = timestamp(item.get("created_at"))
    messages = []
    for label, key in (("Description", "description"), ("Instructions", "prompt_template")):
        text = item.get(key)
        if isinstance(text, str) and text.strip():
            messages.append(Message("document", f"{label}:\n\n{text.strip()}", created_at=created))
    docs = item.get("docs")
    for doc in docs if isinstance(docs, list) else []:
        if not isinstance(doc, dict) or not isinstance(doc.get("content"), str):
            continue
        filename: str = doc["filename"] if isinstance(doc.get("filename"), str) else "document"
        if doc["content"].strip():
            messages.append(
                Message(
                    "document",
                    f"{filename}\n\n{doc['content'].strip()}",
                    author=filename,
                    created_at=timestamp(doc.get("created_at")) or created,
                    metadata={"file_name": filename},
                )
            )
    return Conversation(
        kind="claude_export",
        platform="claude",
        title=f"Project: {name}" if name else "Untitled project",
        messages=messages,
        url=f"https://claude.ai/project/{item['uuid']}",
        external_id=f"project:{item['uuid']}",
        started_at=created,
        metadata={"project": name, "project_id": item["uuid"], "is_project": True},
    )


def _tree(
    raw_messages: list[Any], leaf: Any
) -> tuple[dict[str, dict[str, Any]], list[Path]] | None:
    """The messages by id and the conversation's branches, when the export links messages
    to their parents (`parent_message_uuid`; edits and regenerations are siblings, listed
    mixed in one array). The current branch ends at `current_leaf_message_uuid` where the
    file names it (the web API) and otherwise at the newest message without children (the
    data export names none). None for older exports without links: all messages are one
    branch, in time order."""
    by_id = {
        m["uuid"]: m for m in raw_messages if isinstance(m, dict) and isinstance(m.get("uuid"), str)
    }

    def parent(node_id: str) -> str | None:
        above = by_id[node_id].get("parent_message_uuid")
        return above if isinstance(above, str) and above in by_id and above != node_id else None

    if not any(parent(k) for k in by_id):
        return None
    below: dict[str | None, list[str]] = {}
    for node_id in sorted(by_id, key=lambda k: _order(by_id[k])):
        below.setdefault(parent(node_id), []).append(node_id)
    if not isinstance(leaf, str) or leaf not in by_id:
        leaves = [k for k in by_id if k not in below]
        leaf = max(leaves, key=lambda k: _order(by_id[k])) if leaves else None
    ids = {id(node): key for key, node in by_id.items()}
    branch = [ids[id(node)] for node in branch_to(leaf, by_id, "parent_message_uuid")]
    return by_id, paths(branch, lambda k: below.get(k, []), parent)


def _order(message: dict[str, Any]) -> tuple[datetime, int, int]:
    """Time order, a prompt before its same-time answer."""
    created = timestamp(message.get("created_at")) or datetime.min.replace(tzinfo=UTC)
    index = message.get("index")
    order = index if isinstance(index, int) and not isinstance(index, bool) else 0
    return created, order, 0 if message.get("sender") == "human" else 1


def _in_time_order(raw_messages: list[Any]) -> list[Any]:
    keys = []
    for message in raw_messages:
        created = timestamp(message.get("created_at")) if isinstance(message, dict) else None
        if created is None:
            return raw_messages
        index = message.get("index")
        order = index if isinstance(index, int) and not isinstance(index, bool) else 0
        keys.append((created, order, 0 if message.get("sender") == "human" else 1))
    ranked = sorted(range(len(raw_messages)), key=lambda i: keys[i])
    return [raw_messages[i] for i in ranked]


def _messages(raw: Any, model: str | None, left_out: Counter[str]) -> list[Message]:
    """One message, split where tool calls and results interrupt the text; what is not
    kept as text (thinking, images, files without text) is counted in left_out."""
    if not isinstance(raw, dict):
        raise ImportFormatError("a chat message must be a JSON object")
    role = SENDERS.get(str(raw.get("sender")))
    if role is None:
        return []
    created = timestamp(raw.get("created_at"))
    author_model = model if role == "assistant" else None
    messages: list[Message] = []
    texts: list[str] = []

    def flush(extra: list[str] | None = None, metadata: dict[str, Any] | None = None) -> None:
        text = "\n\n".join(t for t in [*texts, *(extra or [])] if t.strip()).strip()
        texts.clear()
        if text:
            messages.append(
                Message(role, text, model=author_model, created_at=created, metadata=metadata or {})
            )

    content = raw.get("content")
    if isinstance(content, list) and content:
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                texts.append(_visible(block["text"]))
            elif kind == "voice_note":  # a spoken message: its transcript is what was said
                spoken = block.get("transcript") or block.get("text")
                if isinstance(spoken, str):
                    texts.append(spoken)
                left_out["audio"] += 1
            elif kind in ("tool_use", "tool_result"):
                flush()
                if tool := _tool_message(block, created):
                    messages.append(tool)
            elif kind in ("thinking", "redacted_thinking"):
                left_out["reasoning"] += 1  # not what the person read
            elif kind == "image":
                left_out["images"] += 1
            else:
                left_out["plumbing"] += 1
    elif isinstance(raw.get("text"), str):
        texts.append(_visible(raw["text"]))

    attachments, skipped = _attachments(raw)
    if skipped:
        left_out["files"] += skipped
    names = [name for name, _ in attachments]
    extra = [f"Attached file {name}:\n\n{text}" for name, text in attachments]
    flush(extra, {"attachments": names} if names else None)
    return messages


def _tool_message(block: dict[str, Any], created: datetime | None) -> Message | None:
    name = block.get("name") if isinstance(block.get("name"), str) else None
    if block.get("type") == "tool_use":
        payload = block.get("input")
        if isinstance(payload, dict) and len(payload) == 1:
            payload = next(iter(payload.values()))  # a query, a command: show it bare
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        text = f"{name or 'tool'}: {text}".strip()
        kind = "tool_use"
    else:
        text = _block_text(block.get("content")).strip()
        kind = "tool_result"
    if not text:
        return None
    metadata: dict[str, Any] = {"block": kind}
    if block.get("is_error"):
        metadata["is_error"] = True
    return Message("tool", text, author=name, created_at=created, metadata=metadata)


def _block_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n\n".join(_block_text(part) for part in content if part)
    if isinstance(content, dict):
        if isinstance(content.get("text"), str):
            return str(content["text"])
        if "content" in content:
            return _block_text(content["content"])
    return ""


def _attachments(raw: dict[str, Any]) -> tuple[list[tuple[str, str]], int]:
    kept: list[tuple[str, str]] = []
    skipped = 0
    for attachment in raw.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        text = attachment.get("extracted_content")
        name = attachment.get("file_name")
        if isinstance(text, str) and text.strip():
            kept.append((name if isinstance(name, str) and name else "attachment", text.strip()))
        else:
            skipped += 1
    files = raw.get("files")
    skipped += len(files) if isinstance(files, list) else 0
    return kept, skipped


def _visible(text: str) -> str:
    for tag in HIDDEN_TAGS:
        while (start := text.find(f"<{tag}>")) >= 0:
            end = text.find(f"</{tag}>", start)
            if end < 0:
                break
            text = text[:start] + text[end + len(tag) + 3 :]
    return text


def timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
