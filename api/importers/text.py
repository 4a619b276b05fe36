"""Plain text and Markdown notes: one source per file; Markdown split at its headings."""

from __future__ import annotations

import re
from pathlib import PurePath

from api.errors import ImportFormatError
from api.importers.model import Conversation, Message

HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?(^\1|\Z)", re.MULTILINE | re.DOTALL)


def decode_text(data: bytes, name: str) -> str:
    if b"\x00" in data[:8192]:
        raise ImportFormatError("a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"not UTF-8 text (byte {exc.start})") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_text(data: bytes, name: str) -> Conversation:
    text = decode_text(data, name).strip()
    if not text:
        raise ImportFormatError("the file is empty")
    return Conversation(
        kind="text",
        platform="notes",
        title=PurePath(name).stem or name,
        messages=[Message(role="document", text=text)],
        metadata={"file_name": PurePath(name).name},
    )


def parse_markdown(data: bytes, name: str) -> Conversation:
    """One message per section, each remembering its heading."""
    text = decode_text(data, name).strip()
    if not text:
        raise ImportFormatError("the file is empty")
    fences = [m.span() for m in FENCE.finditer(text)]
    headings = [h for h in HEADING.finditer(text) if not any(a <= h.start() < b for a, b in fences)]
    messages = []
    preamble = text[: headings[0].start()].strip() if headings else text
    if preamble:
        messages.append(Message(role="document", text=preamble))
    # Each heading with the next one (None after the last); no headings, no sections.
    for heading, following in zip(headings, [*headings[1:], None], strict=False):
        end = following.start() if following else len(text)
        section = text[heading.start() : end].strip()
        messages.append(
            Message(role="document", text=section, metadata={"heading": heading[2].strip()})
        )
    title = next((h[2].strip() for h in headings if h[1] == "#"), None)
    return Conversation(
        kind="markdown",
        platform="notes",
        title=title or PurePath(name).stem or name,
        messages=messages,
        metadata={"file_name": PurePath(name).name},
    )
