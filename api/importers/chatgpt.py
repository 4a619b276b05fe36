"""ChatGPT: the official data export (`conversations.json`, or `conversations-000.json`,
`conversations-001.json`, … in newer exports; alone, in the export zip or unzipped).

A conversation is a tree (`mapping` of nodes with `parent` and `children`): edits and
regenerations are branches. The one the person last saw is rebuilt by walking from
`current_node` up the `parent` chain; the other versions (siblings, with what follows
them) are kept as alternatives (api/importers/branches.py). Each is read as the person saw
it: voice transcripts are
text, the code the assistant ran and its output are kept, a canvas document is kept once in
its latest version, a generated image is its prompt; reasoning, custom instructions, memory
writes, browsing and file-search results and tool confirmations are not. The share-page
importer reuses `parse_conversation`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from api.errors import ImportFormatError
from api.importers.branches import Path, kept_versions, paths
from api.importers.model import Conversation, Message, Parsed, Role, branch_to, each_conversation

ROLES: dict[str, Role] = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "tool": "tool",
}
# Citation markers left in answers: 【3†source】 and the private-use-area form.
CITATION = re.compile(r"[ \t]*(?:【\d+(?::\d+)?†[^】]*】|\ue200[^\ue201]*\ue201)")
IMAGE_DISPLAYED = "<<ImageDisplayed>>"
# Reasoning: o-series and GPT-5 thinking; not shown as conversation text (like Claude's).
REASONING_TYPES = {"thoughts", "reasoning_recap"}
# Custom instructions and memory: context for the model, not what anyone said.
CONTEXT_TYPES = {"user_editable_context", "model_editable_context"}
AUDIO_PARTS = {
    "audio_asset_pointer",
    "real_time_user_audio_video_asset_pointer",
    "video_container_asset_pointer",
}
# Tools that draw images: the DALL·E plugin and 4o image generation's internal name.
IMAGE_TOOLS = ("dalle", "t2uay3k", "image_gen")
# Canvas patterns that mean "the whole document".
WHOLE_DOCUMENT = {".*", "^.*$", "(?s).*", "[\\s\\S]*", "^[\\s\\S]*$"}


def looks_like_export(data: Any) -> bool:
    return isinstance(data, list) and any(
        isinstance(item, dict) and "mapping" in item for item in data[:20]
    )


def parse_export(data: Any, *, kind: str = "chatgpt_export") -> Iterator[Parsed]:
    """Every conversation in an export; a malformed one becomes an ItemError, not a stop."""
    if not isinstance(data, list):
        raise ImportFormatError("a ChatGPT export is a JSON array of conversations")
    yield from each_conversation(data, lambda item: parse_conversation(item, kind=kind), "title")


def parse_conversation(item: Any, *, kind: str = "chatgpt_export") -> Conversation:
    if not isinstance(item, dict):
        raise ImportFormatError("a conversation must be a JSON object")
    # Exports list some conversations without their messages (a null or absent mapping):
    # nothing to import, so they are skipped; a mapping of the wrong shape is an error.
    mapping = item.get("mapping") or {}
    if not isinstance(mapping, dict) or not all(isinstance(n, dict) for n in mapping.values()):
        raise ImportFormatError("the conversation has no valid 'mapping' of messages")

    left_out: Counter[str] = Counter()

    def read(node_ids: list[str]) -> list[list[Message]]:
        reader = _Reader(item.get("default_model_slug"))
        bounds = []
        for node_id in node_ids:
            start = len(reader.messages)
            reader.read(mapping[node_id].get("message"))
            bounds.append((start, len(reader.messages)))
        messages = reader.finish()
        left_out.update(reader.left_out)
        return [[m for m in messages[a:b] if m.text.strip()] for a, b in bounds]

    messages, alternatives = kept_versions(_tree(mapping, item.get("current_node")), read)

    conversation_id = item.get("conversation_id") or item.get("id")
    if not isinstance(conversation_id, str):
        conversation_id = None
    title = item.get("title")
    metadata: dict[str, Any] = {}
    if left_out:
        metadata["left_out"] = dict(left_out)
    if item.get("default_model_slug"):
        metadata["model"] = item["default_model_slug"]
    if updated_at := _timestamp(item.get("update_time")):
        metadata["updated_at"] = updated_at.isoformat()
    metadata.update(_gizmo(item))
    return Conversation(
        kind=kind,  # type: ignore[arg-type]
        platform="chatgpt",
        title=title.strip() if isinstance(title, str) and title.strip() else "Untitled chat",
        messages=messages,
        alternatives=alternatives,
        url=f"https://chatgpt.com/c/{conversation_id}" if conversation_id else None,
        external_id=conversation_id,
        started_at=_timestamp(item.get("create_time")),
        metadata=metadata,
        left_out=dict(left_out),
    )


def _gizmo(item: dict[str, Any]) -> dict[str, str]:
    """A custom GPT's or a project's id (and name, where the file has one: exports name
    neither, the web API's conversation objects sometimes do)."""
    out: dict[str, str] = {}
    gizmo_id, template = item.get("gizmo_id"), item.get("conversation_template_id")
    gizmo_type = item.get("gizmo_type")
    project = next(
        (v for v in (template, gizmo_id) if isinstance(v, str) and v.startswith("g-p-")), None
    )
    if project is not None or gizmo_type == "snorlax":
        if project is not None:
            out["project_id"] = project
        name = _name(item.get("project") or item.get("gizmo"))
        if name:
            out["project"] = name
    elif isinstance(gizmo_id, str) and gizmo_id.startswith("g-"):
        out["gizmo_id"] = gizmo_id
        name = _name(item.get("gizmo")) or _string(item.get("gizmo_name"))
        if name:
            out["gizmo"] = name
    return out


def _name(value: Any) -> str | None:
    if isinstance(value, dict):
        display = value.get("display")
        if isinstance(display, dict):
            return _string(display.get("name"))
        return _string(value.get("name"))
    return None


@dataclass
class _Canvas:
    title: str
    text: str
    position: int
    textdoc_id: str | None = None


@dataclass
class _Reader:
    """Reads the messages of one branch in order, as the person saw them."""

    default_model: Any
    messages: list[Message] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)
    canvases: list[_Canvas] = field(default_factory=list)
    pending_update: list[Any] | None = None
    image_prompt: str | None = None

    def read(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            return
        author, content, metadata = (_dict(raw.get(k)) for k in ("author", "content", "metadata"))
        role = ROLES.get(str(author.get("role")))
        content_type = content.get("content_type")
        if role is None:
            return
        if content_type in REASONING_TYPES or raw.get("channel") == "analysis":
            self.left_out["reasoning"] += 1
            return
        hidden = (
            metadata.get("is_visually_hidden_from_conversation")
            or metadata.get("is_user_system_message")
            or content_type in CONTEXT_TYPES
        )
        if hidden:
            if _has_content(content):
                self.left_out["plumbing"] += 1
            return
        recipient = raw.get("recipient") or "all"
        if role == "assistant" and recipient != "all":
            self._tool_call(raw, str(recipient), content)
        elif role == "tool":
            self._tool_reply(raw, author, content, metadata)
        elif content_type in ("text", "multimodal_text", "code"):
            self._said(raw, role, author, content, metadata)
        elif _has_content(content):
            self.left_out["plumbing"] += 1

    def _said(
        self,
        raw: dict[str, Any],
        role: Role,
        author: dict[str, Any],
        content: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        texts = self._parts(content)
        attachments = metadata.get("attachments")
        for attachment in attachments if isinstance(attachments, list) else []:
            mime = _dict(attachment).get("mime_type")
            if not (isinstance(mime, str) and mime.startswith("image/")):
                self.left_out["files"] += 1
        text = CITATION.sub("", "\n\n".join(texts)).strip()
        if text:
            extra = {"voice": True} if metadata.get("voice_mode_message") else {}
            self._add(raw, role, text, author, metadata, extra)

    def _parts(self, content: dict[str, Any]) -> list[str]:
        """The text of a message's parts; images and audio are counted, not kept."""
        parts = content.get("parts")
        if not isinstance(parts, list):
            text = content.get("text")
            return [text] if isinstance(text, str) else []
        texts = []
        for part in parts:
            if isinstance(part, str):
                texts.append(part)
                continue
            part = _dict(part)
            part_type = part.get("content_type")
            if part_type == "audio_transcription":
                if isinstance(part.get("text"), str):
                    texts.append(part["text"])
            elif part_type == "image_asset_pointer":
                self.left_out["images"] += 1
            elif part_type in AUDIO_PARTS:
                self.left_out["audio"] += 1
            elif isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part:
                self.left_out["files"] += 1
        return texts

    def _tool_call(self, raw: dict[str, Any], recipient: str, content: dict[str, Any]) -> None:
        """An assistant message addressed to a tool: only code the assistant ran and canvas
        documents are things the person saw; searches, memory writes and the like are not."""
        text = content.get("text") if isinstance(content.get("text"), str) else None
        if text is None:
            text = "\n".join(self._parts(content))
        if recipient == "python":
            if text.strip():
                language = content.get("language")
                fence = language if isinstance(language, str) and language != "unknown" else ""
                block = f"```{fence or 'python'}\n{text.strip()}\n```"
                self._add(
                    raw, "assistant", block, {}, _dict(raw.get("metadata")), {"tool": "python"}
                )
            return
        call = _json_object(text)
        if recipient == "canmore.create_textdoc" and call is not None:
            title = _string(call.get("name")) or "Untitled document"
            body = call["content"] if isinstance(call.get("content"), str) else ""
            self._flush_update()
            self.canvases.append(_Canvas(title, body, len(self.messages)))
            self.messages.append(Message(role="assistant", text=""))  # placeholder
            return
        if recipient == "canmore.update_textdoc" and call is not None:
            self._flush_update()
            updates = call.get("updates")
            self.pending_update = updates if isinstance(updates, list) else None
            return
        if any(tool in recipient for tool in IMAGE_TOOLS) and call is not None:
            self.image_prompt = _string(call.get("prompt"))
            return
        self.left_out["plumbing"] += 1

    def _tool_reply(
        self,
        raw: dict[str, Any],
        author: dict[str, Any],
        content: dict[str, Any],
        metadata: dict[str, Any],
    ) -> None:
        name = str(author.get("name") or "")
        content_type = content.get("content_type")
        if metadata.get("finished_text") or metadata.get("initial_text"):
            self.left_out["reasoning"] += 1  # "Reasoned about … for 3m 15s"
            return
        if name.startswith("canmore."):
            textdoc = _string(_dict(metadata.get("canvas")).get("textdoc_id"))
            self._flush_update(textdoc)
            created = name == "canmore.create_textdoc"
            if created and textdoc and self.canvases and self.canvases[-1].textdoc_id is None:
                self.canvases[-1].textdoc_id = textdoc
            self.left_out["plumbing"] += 1
            return
        if content_type == "execution_output" and name == "python":
            text = content["text"] if isinstance(content.get("text"), str) else ""
            images = text.count(IMAGE_DISPLAYED)
            self.left_out["images"] += images
            text = text.replace(IMAGE_DISPLAYED, "").strip()
            if text:
                self._add(raw, "tool", text, author, metadata, {})
            return
        if content_type == "multimodal_text" and isinstance(content.get("parts"), list):
            prompts = []
            for part in content["parts"]:
                part = _dict(part)
                if part.get("content_type") != "image_asset_pointer":
                    continue
                self.left_out["images"] += 1
                dalle = _dict(_dict(part.get("metadata")).get("dalle"))
                prompt = _string(dalle.get("prompt")) or self.image_prompt
                if prompt and prompt not in prompts:
                    prompts.append(prompt)
            if prompts:
                self.image_prompt = None
                text = "\n".join(f"Generated image: {p}" for p in prompts)
                self._add(raw, "assistant", text, {}, metadata, {"image_prompt": True})
                return
        if _has_content(content):
            self.left_out["plumbing"] += 1

    def _flush_update(self, textdoc: str | None = None) -> None:
        updates, self.pending_update = self.pending_update, None
        if not updates or not self.canvases:
            return
        target = next((c for c in self.canvases if textdoc and c.textdoc_id == textdoc), None)
        canvas = target or self.canvases[-1]
        for update in updates:
            update = _dict(update)
            pattern, replacement = update.get("pattern"), update.get("replacement")
            if not isinstance(pattern, str) or not isinstance(replacement, str):
                continue
            if pattern in WHOLE_DOCUMENT:
                canvas.text = replacement
                continue
            try:
                count = 0 if update.get("multiple") else 1
                # The replacement is literal text (no backreferences to interpret).
                literal = replacement.replace("\\", "\\\\")
                canvas.text = re.sub(pattern, literal, canvas.text, count=count)
            except re.error:
                continue

    def _add(
        self,
        raw: dict[str, Any],
        role: Role,
        text: str,
        author: dict[str, Any],
        metadata: dict[str, Any],
        extra: dict[str, Any],
    ) -> None:
        model = metadata.get("model_slug") if role == "assistant" else None
        if role == "assistant" and not model and isinstance(self.default_model, str):
            model = self.default_model
        name = author.get("name")
        self.messages.append(
            Message(
                role=role,
                text=text,
                author=name if isinstance(name, str) and name else None,
                model=model if isinstance(model, str) else None,
                created_at=_timestamp(raw.get("create_time")),
                metadata=extra,
            )
        )

    def finish(self) -> list[Message]:
        """The messages, each canvas document in its latest version where it was created
        (empty ones too, so positions still match the nodes they came from)."""
        self._flush_update()
        for canvas in self.canvases:
            text = f"{canvas.title}\n\n{canvas.text.strip()}".strip()
            placeholder = self.messages[canvas.position]
            self.messages[canvas.position] = replace(
                placeholder, text=text, author="canvas", metadata={"canvas": canvas.title}
            )
        return self.messages


def _tree(mapping: dict[str, dict[str, Any]], current: Any) -> list[Path]:
    """The branch from the root to current_node, then every other version. Without a usable
    current_node (older exports), follow the last child from the root: the most recent edit
    or regeneration."""
    if not isinstance(current, str) or current not in mapping:
        current = _last_leaf(mapping)
    ids = {id(node): key for key, node in mapping.items()}
    branch = [ids[id(node)] for node in branch_to(current, mapping, "parent")]

    def parent(node_id: str) -> str | None:
        above = mapping[node_id].get("parent")
        return above if isinstance(above, str) and above in mapping else None

    roots = [k for k in mapping if parent(k) is None]

    def children(node_id: str | None) -> list[str]:
        if node_id is None:
            return roots
        below = mapping[node_id].get("children")
        # A child listed twice, or one whose own parent is another node, is not a version.
        return list(
            dict.fromkeys(
                c
                for c in (below if isinstance(below, list) else [])
                if isinstance(c, str) and c in mapping and mapping[c].get("parent") == node_id
            )
        )

    return paths(branch, children, parent)


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


def _has_content(content: dict[str, Any]) -> bool:
    """Whether a left-out message held anything (an empty system message is not worth
    counting)."""
    parts = content.get("parts")
    if isinstance(parts, list):
        return any(p for p in parts)
    return any(v for k, v in content.items() if k != "content_type")


def _json_object(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _string(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
