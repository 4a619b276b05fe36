"""Pick the importer by content (and, for text, by extension) and parse one input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from api.errors import ImportFormatError
from api.importers import chatgpt, text
from api.importers.inputs import Input
from api.importers.model import ItemError, Parsed

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}


def parse(item: Input) -> Iterator[Parsed]:
    """Conversations in the input; a malformed input is one ItemError, never an exception."""
    try:
        yield from _parse(item)
    except ImportFormatError as exc:
        yield ItemError(item.name, str(exc))
    except RecursionError:
        yield ItemError(item.name, "the file is nested too deeply to read")


def _parse(item: Input) -> Iterator[Parsed]:
    head = item.data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = PurePath(item.name.rsplit(":", 1)[-1]).suffix.lower()
    if head[:1] in (b"[", b"{") or suffix == ".json":
        data = _load_json(item)
        if data is not None:
            if chatgpt.looks_like_export(data):
                yield from chatgpt.parse_export(data)
                return
            if data == [] and suffix == ".json":
                raise ImportFormatError(f"{item.name} holds no conversations")
            if suffix == ".json":
                raise ImportFormatError(
                    f"{item.name}: JSON in a shape knitter does not know"
                    " (expected a ChatGPT export's conversations.json)"
                )
    if suffix in MARKDOWN_SUFFIXES:
        yield text.parse_markdown(item.data, item.name)
    else:
        yield text.parse_text(item.data, item.name)


def _load_json(item: Input) -> Any:
    """The JSON document, or None when a non-.json file merely starts like JSON."""
    try:
        return json.loads(item.data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if item.name.lower().endswith(".json"):
            raise ImportFormatError(f"{item.name} is not valid JSON: {exc}") from exc
        return None
