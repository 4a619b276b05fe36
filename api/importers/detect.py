"""Pick the importer by content and URL (by extension only where content cannot tell, as
for Markdown) and parse one input."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from api.errors import ImportFormatError
from api.importers import chatgpt, claude, gemini, pdf, share, text, web, youtube
from api.importers.fetch import FetchError, fetch
from api.importers.html_text import decode_html
from api.importers.inputs import ZIP_MAGIC, Input, UrlItem, from_zip
from api.importers.model import ItemError, Parsed
from api.importers.options import DEFAULT_OPTIONS, ImportOptions

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype html|html|head|body|meta|script)\b", re.I | re.S
)
JSON_KNOWN = "a ChatGPT or Claude export's conversations.json, or Takeout's MyActivity.json"


def parse(item: Input | UrlItem, options: ImportOptions = DEFAULT_OPTIONS) -> Iterator[Parsed]:
    """Conversations in the input; a malformed input is one ItemError, never an exception."""
    name = item.url if isinstance(item, UrlItem) else item.name
    try:
        if isinstance(item, UrlItem):
            yield from _parse_url(item.url, options)
        else:
            yield from _parse(item, options)
    except ImportFormatError as exc:
        yield ItemError(name, str(exc))
    except RecursionError:
        yield ItemError(name, "the file is nested too deeply to read")


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
            for entry in from_zip(io.BytesIO(page.content), url):
                if isinstance(entry, ItemError):
                    yield entry
                else:
                    yield from _parse(entry, options)
            return
        yield from _parse(Input(url, page.content, page.url, page.content_type), options)


def _parse(item: Input, options: ImportOptions) -> Iterator[Parsed]:
    data = item.data
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = PurePath(item.name.rsplit(":", 1)[-1]).suffix.lower() if not item.url else ""
    if pdf.looks_like_pdf(data) or item.content_type == "application/pdf":
        yield pdf.parse_pdf(data, item.name)
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


def _parse_json(data: Any, item: Input, options: ImportOptions, strict: bool) -> Iterator[Parsed]:
    if chatgpt.looks_like_export(data):
        yield from chatgpt.parse_export(data)
    elif claude.looks_like_export(data):
        yield from claude.parse_export(data)
    elif gemini.looks_like_takeout(data):
        yield from gemini.parse_takeout(data, item.name, options.gemini_gap)
    elif data == [] and strict:
        raise ImportFormatError(f"{item.name} holds no conversations")
    elif strict or item.url:
        raise ImportFormatError(
            f"{item.name}: JSON in a shape knitter does not know (expected {JSON_KNOWN})"
        )
    else:  # a note that merely looks like JSON
        yield text.parse_text(item.data, item.name)


def _parse_html(item: Input, options: ImportOptions) -> Iterator[Parsed]:
    page = decode_html(item.data, item.name)
    if share.looks_like_share_page(page):
        yield share.parse_share_page(page, item.url)
    elif gemini.looks_like_takeout_html(page):
        yield from gemini.parse_takeout_html(page, item.name, options.gemini_gap)
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
            raise ImportFormatError(f"{item.name} is not valid JSON: {exc}") from exc
        return None
