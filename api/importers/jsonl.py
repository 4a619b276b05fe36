"""JSON Lines, as coding agents write their sessions: one JSON object per line."""

from __future__ import annotations

import json
from typing import Any

from api.errors import ImportFormatError


def records(data: bytes) -> list[dict[str, Any]] | None:
    """The objects of a JSON Lines file, or None when it is not one (a line that is not a
    JSON object, or fewer than one). A line cut short at the end (a session still being
    written) is left out rather than failing the file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    lines = [line for line in text.splitlines() if line.strip()]
    out: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            if number == len(lines) and out:
                break
            return None
        if not isinstance(value, dict):
            return None
        out.append(value)
    return out or None


def text_of(content: Any, *types: str) -> str:
    """The text of a message's content: a string, or the `text` of its blocks of the given
    types (all blocks with text when none are given)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
        elif (
            isinstance(block, dict)
            and isinstance(block.get("text"), str)
            and (not types or block.get("type") in types)
        ):
            texts.append(block["text"])
    return "\n\n".join(t for t in texts if t.strip())


def compact(value: Any, limit: int = 20_000) -> str:
    """A tool's input or output as text: a string bare, anything else as JSON; long output
    is cut (a test run's log is searchable by its start)."""
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))  # a command, a path: show it bare
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " …"


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ImportFormatError(message)


def first_line(text: str) -> str:
    """A title from a first prompt: its first non-blank line, cut to 120 characters."""
    return next((line.strip()[:120] for line in text.splitlines() if line.strip()), "")
