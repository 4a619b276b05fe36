"""Pick the importer by content and URL (by extension only where content cannot tell, as
for Markdown) and parse one input."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import PurePath
from typing import Any

from api.errors import ImportFormatError
from api.importers import (
    chatgpt,
    claude,
    claude_code,
    codex,
    gemini,
    gemini_cli,
    jsonl,
    pdf,
    share,
    text,
    web,
    youtube,
)
from api.importers.fetch import FetchError, fetch
from api.importers.html_text import decode_html
from api.importers.inputs import ZIP_MAGIC, Input, UrlItem, from_zip
from api.importers.model import Conversation, Ignored, ItemError, Parsed, Skipped
from api.importers.options import DEFAULT_OPTIONS, ImportOptions

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype html|html|head|body|meta|script)\b", re.I | re.S
)
JSON_KNOWN = (
    "a ChatGPT or Claude export's conversations.json, Takeout's MyActivity.json or a"
    " Gemini CLI chat"
)
JSONL_KNOWN = "a Claude Code or Codex CLI session"
JSON_LINES = re.compile(rb"^\s*\{.*\}\s*\r?\n\s*\{", re.S)


def parse(item: Input | UrlItem, options: ImportOptions = DEFAULT_OPTIONS) -> Iterator[Parsed]:
    """Conversations in the input; a malformed input is one ItemError, never an exception.
    Each outcome names the input it came from once (a conversation's label is prefixed with
    the file's name) and carries the origin the user named (the zip or folder)."""
    name = item.url if isinstance(item, UrlItem) else item.name
    origin = item.url if isinstance(item, UrlItem) else (item.origin or item.name)
    try:
        outcomes = (
            _parse_url(item.url, options) if isinstance(item, UrlItem) else _parse(item, options)
        )
        for outcome in outcomes:
            yield _stamped(outcome, name, origin)
    except ImportFormatError as exc:
        yield ItemError(name, str(exc), origin)
    except RecursionError:
        yield ItemError(name, "the file is nested too deeply to read", origin)


def _stamped(outcome: Parsed, name: str, origin: str) -> Parsed:
    if isinstance(outcome, Conversation | Ignored):
        return replace(outcome, origin=origin)
    label = outcome.item if outcome.item == name else f"{name}, {outcome.item}"
    return replace(outcome, item=label, origin=origin)


def _export(outcomes: Iterable[Parsed], what: str) -> Iterator[Parsed]:
    """An export's outcomes; an export with no conversation to import is a failure, not a
    success for nothing."""
    found = skipped = 0
    for outcome in outcomes:
        found += isinstance(outcome, Conversation)
        skipped += isinstance(outcome, Skipped)
        yield outcome
    if not found:
        empty = f" ({skipped} empty)" if skipped else ""
        raise ImportFormatError(f"no conversations found in this {what}{empty}")


def _parse_url(url: str, options: ImportOptions) -> Iterator[Parsed]:
    if youtube.video_id(url) is not None:
        yield youtube.fetch_video(url, options)
    elif share.share_id(url) is not None:
        yield share.fetch_share(url, options.fetch)
    else:
        try:
            page = fetch(url, options.fetch)
        except FetchError as exc:
            raise ImportFormatError(str(exc)) from exc
        if page.status != 200:
            raise ImportFormatError(f"the server answered HTTP {page.status}")
        if not page.content.strip():
            raise ImportFormatError("the page is empty")
        if page.content.startswith(ZIP_MAGIC):  # an export offered for download
            for entry in from_zip(io.BytesIO(page.content), url, options.limits):
                if isinstance(entry, Input):
                    yield from _parse(entry, options)
                else:
                    yield entry
            return
        yield from _parse(Input(url, page.content, page.url, page.content_type), options)


def _parse(item: Input, options: ImportOptions) -> Iterator[Parsed]:
    data = item.data
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = PurePath(item.name.rsplit(":", 1)[-1]).suffix.lower() if not item.url else ""
    if pdf.looks_like_pdf(data) or item.content_type == "application/pdf":
        yield pdf.parse_pdf(data, item.name)
        return
    if suffix == ".jsonl" or (head[:1] == b"{" and JSON_LINES.match(data[:65536])):
        lines = jsonl.records(data)
        if lines is not None or suffix == ".jsonl":
            yield from _parse_jsonl(lines or [], item)
            return
    if head[:1] in (b"[", b"{") or suffix == ".json" or item.content_type == "application/json":
        parsed = _load_json(item, strict=suffix == ".json")
        if parsed is not None:
            yield from _parse_json(parsed, item, options, strict=suffix == ".json")
            return
    if youtube.looks_like_timedtext(data):
        yield youtube.parse_timedtext(data, item.name, options)
    elif suffix in HTML_SUFFIXES or HTML_START.match(data[:2048]) or _is_html_type(item):
        yield from _parse_html(item, options)
    elif suffix in MARKDOWN_SUFFIXES:
        yield text.parse_markdown(data, item.name)
    else:
        yield text.parse_text(data, item.name)


def _parse_jsonl(lines: list[dict[str, Any]], item: Input) -> Iterator[Parsed]:
    if not lines:
        raise ImportFormatError("not JSON Lines (one JSON object per line)")
    if claude_code.looks_like_session(lines):
        conversation = claude_code.parse_session(lines, item.name)
    elif codex.looks_like_rollout(lines):
        conversation = codex.parse_rollout(lines, item.name)
    elif all("session_id" in line and "text" in line for line in lines[:20]):
        yield Ignored(item.name, 1)  # Codex's history.jsonl: the prompts again, by session
        return
    else:
        raise ImportFormatError(
            f"JSON Lines in a shape knitter does not know (expected {JSONL_KNOWN})"
        )
    if conversation.messages:
        yield conversation
    else:
        yield Skipped(item.name, "no messages")


def _parse_json(data: Any, item: Input, options: ImportOptions, strict: bool) -> Iterator[Parsed]:
    if chatgpt.looks_like_export(data):
        yield from _export(chatgpt.parse_export(data), "ChatGPT export")
    elif claude.looks_like_export(data):
        yield from _export(claude.parse_export(data), "Claude export")
    elif claude.looks_like_projects(data):
        yield from claude.parse_projects(data)
    elif claude.looks_like_memories(data):
        yield from claude.parse_memories(item.name)
    elif gemini_cli.looks_like_chat(data):
        chat = gemini_cli.parse_chat(data)
        yield chat if chat.messages else Skipped(item.name, "no messages")
    elif gemini.looks_like_takeout(data):
        yield from _export(
            gemini.parse_takeout(data, item.name, options.gemini_gap), "Takeout file"
        )
    elif (video := youtube.saved_player_video(data)) is not None:
        raise ImportFormatError(
            "a YouTube player response: it links to the video's transcript but does not hold"
            f" it; import the video's address instead (https://www.youtube.com/watch?v={video})"
        )
    elif data == [] and PurePath(item.name.rsplit(":", 1)[-1]).name == "projects.json":
        yield Ignored(item.name, 1)  # a Claude export without projects
    elif data == [] and strict:
        raise ImportFormatError("the export holds no conversations")
    elif strict or item.url:
        raise ImportFormatError(f"JSON in a shape knitter does not know (expected {JSON_KNOWN})")
    else:  # a note that merely looks like JSON
        yield text.parse_text(item.data, item.name)


def _parse_html(item: Input, options: ImportOptions) -> Iterator[Parsed]:
    page = decode_html(item.data, item.name)
    if share.looks_like_share_page(page):
        yield share.parse_share_page(page, item.url)
    elif gemini.looks_like_takeout_html(page):
        yield from _export(
            gemini.parse_takeout_html(page, item.name, options.gemini_gap), "Takeout file"
        )
    else:
        yield web.parse_html(item.data, item.name, item.url)


def _is_html_type(item: Input) -> bool:
    return item.content_type in ("text/html", "application/xhtml+xml")


def _load_json(item: Input, strict: bool) -> Any:
    """The JSON document, or None when a non-.json file merely starts like JSON."""
    try:
        return json.loads(item.data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if strict or item.content_type == "application/json":
            raise ImportFormatError(f"not valid JSON: {exc}") from exc
        return None
