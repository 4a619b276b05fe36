"""Claude Code sessions: `~/.claude/projects/<project>/<session>.jsonl`.

Each line is an event with `type` (user, assistant, summary, system, …), the session's
`sessionId`, `cwd`, `gitBranch` and `timestamp`, and for messages an Anthropic `message`
(`role`, `model`, `content` as a string or blocks: text, thinking, tool_use, tool_result).
Text is kept as the user's and the assistant's words, tool calls and results as `tool`
messages with the tool's name; thinking, meta lines (`isMeta`), sub-agent lines
(`isSidechain`) and local command echoes are left out and counted.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from api.importers.claude import timestamp
from api.importers.jsonl import compact, first_line, require, text_of
from api.importers.model import Conversation, Message, Role

# Lines Claude Code writes for itself, not the person: command echoes and caveats.
LOCAL_COMMAND = ("<command-name>", "<local-command-stdout>", "<command-message>", "Caveat:")


def looks_like_session(lines: list[dict[str, Any]]) -> bool:
    return any(
        isinstance(line.get("sessionId"), str)
        and line.get("type") in ("user", "assistant")
        and isinstance(line.get("message"), dict)
        for line in lines[:50]
    )


def parse_session(lines: list[dict[str, Any]], name: str) -> Conversation:
    session = next((x["sessionId"] for x in lines if isinstance(x.get("sessionId"), str)), None)
    require(session is not None, "the Claude Code session has no sessionId")
    messages: list[Message] = []
    left_out: Counter[str] = Counter()
    tools: dict[str, str] = {}  # tool_use id → tool name, to name the results
    title = next(
        (
            x["summary"]
            for x in lines
            if x.get("type") == "summary" and isinstance(x.get("summary"), str)
        ),
        None,
    )
    for line in lines:
        messages.extend(_messages(line, tools, left_out))
    first = next((x for x in lines if isinstance(x.get("cwd"), str)), {})
    metadata: dict[str, Any] = {"session_file": name.rsplit("/", 1)[-1]}
    if isinstance(first.get("cwd"), str):
        metadata["project"] = first["cwd"]
    branch = next(
        (x["gitBranch"] for x in lines if isinstance(x.get("gitBranch"), str) and x["gitBranch"]),
        None,
    )
    if branch:
        metadata["git_branch"] = branch
    if left_out:
        metadata["left_out"] = dict(left_out)
    first_prompt = next((m.text for m in messages if m.role == "user"), "")
    return Conversation(
        kind="agent_session",
        platform="claude_code",
        title=title or first_line(first_prompt) or "Claude Code session",
        messages=messages,
        external_id=f"claude-code:{session}",
        started_at=next((t for x in lines if (t := timestamp(x.get("timestamp")))), None),
        metadata=metadata,
        left_out=dict(left_out),
    )


def _messages(line: dict[str, Any], tools: dict[str, str], left_out: Counter[str]) -> list[Message]:
    """One event line as messages: its text, split where tool calls and results come."""
    kind, message = line.get("type"), line.get("message")
    messages: list[Message] = []
    if kind not in ("user", "assistant") or not isinstance(message, dict):
        return []
    if line.get("isMeta") or line.get("isSidechain"):
        left_out["plumbing"] += 1
        return []
    created = timestamp(line.get("timestamp"))
    model = message.get("model") if isinstance(message.get("model"), str) else None
    content = message.get("content")
    blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
    role: Role = "user" if kind == "user" else "assistant"
    texts: list[str] = []

    def flush() -> None:
        """The text so far, before a tool call or result interrupts it."""
        text = "\n\n".join(t for t in texts if t.strip()).strip()
        texts.clear()
        if text:
            author_model = model if role == "assistant" else None
            messages.append(Message(role, text, model=author_model, created_at=created))

    for block in blocks:
        if not isinstance(block, dict):
            continue
        block_type = block.get("type")
        if block_type == "text" and isinstance(block.get("text"), str):
            if block["text"].lstrip().startswith(LOCAL_COMMAND):
                left_out["plumbing"] += 1
            else:
                texts.append(block["text"])
        elif block_type in ("thinking", "redacted_thinking"):
            left_out["reasoning"] += 1
        elif block_type == "tool_use":
            flush()
            tool: str = block["name"] if isinstance(block.get("name"), str) else "tool"
            if isinstance(block.get("id"), str):
                tools[block["id"]] = tool
            text = f"{tool}: {compact(block.get('input'))}"
            messages.append(
                Message(
                    "tool",
                    text,
                    author=tool,
                    created_at=created,
                    metadata={"block": "tool_use"},
                )
            )
        elif block_type == "tool_result":
            flush()
            tool = tools.get(str(block.get("tool_use_id")), "tool")
            text = text_of(block.get("content")) or compact(block.get("content") or "")
            if text.strip():
                result: dict[str, Any] = {"block": "tool_result"}
                if block.get("is_error"):
                    result["is_error"] = True
                messages.append(
                    Message(
                        "tool",
                        compact(text),
                        author=tool,
                        created_at=created,
                        metadata=result,
                    )
                )
        elif block_type == "image":
            left_out["images"] += 1
    flush()
    return messages
