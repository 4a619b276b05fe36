"""Gemini CLI chats: `~/.gemini/tmp/<project hash>/chats/session-<time>-<id>.json`.

One JSON object per session: `sessionId`, `projectHash`, `startTime`, `lastUpdated` and
`messages[]`, each with `type` (user, gemini, info, error), `content`, `timestamp`, and for
the model's turns `model`, `thoughts[]` (not indexed, counted) and `toolCalls[]` (name,
`args`, and a `result` of function responses, or `resultDisplay`), kept as `tool`
messages with the tool's name. The CLI's own info and error lines are left out.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from api.importers.claude import timestamp
from api.importers.jsonl import compact, first_line, require, text_of
from api.importers.model import Conversation, Message


def looks_like_chat(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("sessionId"), str)
        and isinstance(data.get("messages"), list)
        and ("projectHash" in data or "startTime" in data)
    )


def parse_chat(data: dict[str, Any]) -> Conversation:
    raw_messages = data["messages"]
    messages: list[Message] = []
    left_out: Counter[str] = Counter()
    for raw in raw_messages:
        require(isinstance(raw, dict), "a Gemini CLI message must be a JSON object")
        kind = raw.get("type")
        created = timestamp(raw.get("timestamp"))
        text = text_of(raw.get("content")).strip()
        if kind == "user":
            if text:
                messages.append(Message("user", text, created_at=created))
        elif kind == "gemini":
            model = raw["model"] if isinstance(raw.get("model"), str) else None
            thoughts = raw.get("thoughts")
            left_out["reasoning"] += len(thoughts) if isinstance(thoughts, list) else 0
            if text:
                messages.append(Message("assistant", text, model=model, created_at=created))
            calls = raw.get("toolCalls")
            for call in calls if isinstance(calls, list) else []:
                messages.extend(_tool_call(call, created))
        elif text:
            left_out["plumbing"] += 1  # the CLI's info and error notices
    left_out += Counter()  # only kinds that occurred
    project = data.get("projectHash")
    metadata: dict[str, Any] = {}
    if isinstance(project, str):
        metadata["project_hash"] = project
    if left_out:
        metadata["left_out"] = dict(left_out)
    first_prompt = next((m.text for m in messages if m.role == "user"), "")
    return Conversation(
        kind="agent_session",
        platform="gemini_cli",
        title=first_line(first_prompt) or "Gemini CLI session",
        messages=messages,
        external_id=f"gemini-cli:{data['sessionId']}",
        started_at=timestamp(data.get("startTime")),
        metadata=metadata,
        left_out=dict(left_out),
    )


def _tool_call(call: Any, created: Any) -> list[Message]:
    if not isinstance(call, dict):
        return []
    name = call["name"] if isinstance(call.get("name"), str) else "tool"
    out = [
        Message(
            "tool",
            f"{name}: {compact(call.get('args') or '')}",
            author=name,
            created_at=created,
            metadata={"block": "tool_use"},
        )
    ]
    result = _result_text(call.get("result")) or call.get("resultDisplay")
    if isinstance(result, str) and result.strip():
        out.append(
            Message(
                "tool",
                compact(result),
                author=name,
                created_at=created,
                metadata={"block": "tool_result"},
            )
        )
    return out


def _result_text(result: Any) -> str:
    """The outputs of the function responses a tool call returned."""
    texts = []
    for part in result if isinstance(result, list) else []:
        response = part.get("functionResponse") if isinstance(part, dict) else None
        body = response.get("response") if isinstance(response, dict) else None
        if isinstance(body, dict):
            value = body.get("output", body.get("error"))
            if value not in (None, ""):
                texts.append(compact(value))
    return "\n\n".join(texts)
