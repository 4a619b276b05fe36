"""Codex CLI sessions: `~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`.

Newer rollouts wrap each line as `{"timestamp", "type", "payload"}`: `session_meta` (id,
cwd, git branch), `turn_context` (model), `response_item` (a message with `input_text` or
`output_text` blocks, `reasoning`, `function_call` / `custom_tool_call` and their
`…_output`) and `event_msg` (the UI's copy of the same events, not read again). Older
rollouts start with a bare `{"id", "timestamp", "git"}` line followed by bare response
items. The harness's own context messages (`<environment_context>`, `<user_instructions>`,
AGENTS.md) are left out and counted, like reasoning.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from api.importers.claude import timestamp
from api.importers.jsonl import compact, first_line, require, text_of
from api.importers.model import Conversation, Message, Role

CONTEXT_PREFIXES = ("<environment_context>", "<user_instructions>", "# AGENTS.md", "<permissions")
CALLS = ("function_call", "custom_tool_call", "local_shell_call")
OUTPUTS = ("function_call_output", "custom_tool_call_output", "local_shell_call_output")


def looks_like_rollout(lines: list[dict[str, Any]]) -> bool:
    head = lines[0]
    if head.get("type") == "session_meta" and isinstance(head.get("payload"), dict):
        return True
    # The older layout: a bare session header, then bare response items.
    return isinstance(head.get("id"), str) and "instructions" in head and "timestamp" in head


def parse_rollout(lines: list[dict[str, Any]], name: str) -> Conversation:
    meta: dict[str, Any] = {}
    items: list[tuple[dict[str, Any], Any]] = []
    model: str | None = None
    for line in lines:
        payload = line.get("payload")
        kind = line.get("type")
        if kind == "session_meta" and isinstance(payload, dict):
            meta = payload
        elif kind == "turn_context" and isinstance(payload, dict):
            model = payload["model"] if isinstance(payload.get("model"), str) else model
        elif kind == "response_item" and isinstance(payload, dict):
            items.append((payload, line.get("timestamp")))
        elif "payload" not in line and line is lines[0] and isinstance(line.get("id"), str):
            meta = line
        elif "payload" not in line and isinstance(line.get("type"), str):
            items.append((line, line.get("timestamp")))
    session = meta.get("id") or meta.get("session_id")
    require(isinstance(session, str), "the Codex session has no id in its session_meta")
    messages: list[Message] = []
    left_out: Counter[str] = Counter()
    tools: dict[str, str] = {}
    for item, when in items:
        created = timestamp(when)
        item_type = item.get("type")
        if item_type == "message":
            role: Role | None = {"user": "user", "assistant": "assistant"}.get(
                str(item.get("role"))
            )  # type: ignore[assignment]
            text = text_of(item.get("content"), "input_text", "output_text", "text").strip()
            if role is None or not text:
                if text:  # developer and system messages: the harness's instructions
                    left_out["plumbing"] += 1
                continue
            if role == "user" and text.lstrip().startswith(CONTEXT_PREFIXES):
                left_out["plumbing"] += 1
                continue
            messages.append(
                Message(
                    role, text, model=model if role == "assistant" else None, created_at=created
                )
            )
        elif item_type == "reasoning":
            left_out["reasoning"] += 1
        elif item_type in CALLS:
            tool: str = item["name"] if isinstance(item.get("name"), str) else "shell"
            if isinstance(item.get("call_id"), str):
                tools[item["call_id"]] = tool
            raw = item.get("arguments", item.get("input", item.get("action")))
            messages.append(
                Message(
                    "tool",
                    f"{tool}: {compact(_decoded(raw))}",
                    author=tool,
                    created_at=created,
                    metadata={"block": "tool_use"},
                )
            )
        elif item_type in OUTPUTS:
            tool = tools.get(str(item.get("call_id")), "shell")
            output = _decoded(item.get("output"))
            if isinstance(output, dict) and "output" in output:
                output = output["output"]
            text = compact(output) if output not in (None, "") else ""
            if text.strip():
                messages.append(
                    Message(
                        "tool",
                        text,
                        author=tool,
                        created_at=created,
                        metadata={"block": "tool_result"},
                    )
                )
        elif item_type:
            left_out["plumbing"] += 1
    metadata: dict[str, Any] = {"session_file": name.rsplit("/", 1)[-1]}
    if isinstance(meta.get("cwd"), str):
        metadata["project"] = meta["cwd"]
    git: dict[str, Any] = meta["git"] if isinstance(meta.get("git"), dict) else {}
    branch = git.get("branch") or meta.get("git_branch")
    if isinstance(branch, str) and branch:
        metadata["git_branch"] = branch
    if model:
        metadata["model"] = model
    if left_out:
        metadata["left_out"] = dict(left_out)
    first_prompt = next((m.text for m in messages if m.role == "user"), "")
    return Conversation(
        kind="agent_session",
        platform="codex",
        title=first_line(first_prompt) or "Codex session",
        messages=messages,
        external_id=f"codex:{session}",
        started_at=timestamp(meta.get("timestamp"))
        or next((t for _, w in items if (t := timestamp(w))), None),
        metadata=metadata,
        left_out=dict(left_out),
    )


def _decoded(value: Any) -> Any:
    """Arguments and outputs arrive as JSON inside a string; read them when they are."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            return value
    return value
