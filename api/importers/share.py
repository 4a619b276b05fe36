"""ChatGPT share links (chatgpt.com/share/<id>, chat.openai.com/share/<id>).

A share page embeds the same conversation tree as the export (`mapping`, `current_node`),
in one of three generations: since 2025 streamed in `streamController.enqueue("…")` calls
(React Router's turbo-stream, at loaderData[<share route>].serverResponse.data); in 2024 as
`window.__remixContext = {…}` (state.loaderData["routes/share.$shareId.($action)"]
.serverResponse.data); in 2023 as JSON in <script id="__NEXT_DATA__">
(props.pageProps.serverResponse.data). A page that names itself a share page (its
canonical or og:url address) but carries none of them is an error, never a web page.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from typing import Any

from api.errors import ImportFormatError
from api.importers import turbo_stream
from api.importers.chatgpt import parse_conversation
from api.importers.fetch import FetchError, FetchPolicy, fetch
from api.importers.model import Conversation

SHARE_URL = re.compile(
    r"^https?://(?:www\.)?(?:chatgpt\.com|chat\.openai\.com)/share/([A-Za-z0-9-]{8,100})/?(?:[?#].*)?$",
    re.IGNORECASE,
)
# A JavaScript string literal passed to enqueue: JSON-compatible in practice.
ENQUEUE = re.compile(r'streamController\.enqueue\(\s*("(?:[^"\\]|\\.)*")\s*\)', re.DOTALL)
NEXT_DATA = re.compile(
    r'<script[^>]*\bid=["\']__NEXT_DATA__["\'][^>]*>(.*?)</script>', re.DOTALL | re.IGNORECASE
)
JS_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\'")
REMIX_CONTEXT = re.compile(r"window\.__remixContext\s*=\s*")
# The page's own address, as a saved page keeps it.
SHARE_ADDRESS = re.compile(
    r"<(?:link|meta)\b[^>]*(?:rel=[\"']canonical[\"']|property=[\"']og:url[\"'])[^>]*"
    r"(?:chatgpt\.com|chat\.openai\.com)/share/",
    re.IGNORECASE,
)


def share_id(url: str) -> str | None:
    match = SHARE_URL.match(url.strip())
    return match[1] if match else None


def looks_like_share_page(text: str) -> bool:
    return (
        "streamController.enqueue(" in text
        or ("__NEXT_DATA__" in text and "serverResponse" in text)
        or ("__remixContext" in text and "serverResponse" in text)
        or SHARE_ADDRESS.search(text[:200_000]) is not None
    )


def fetch_share(url: str, policy: FetchPolicy) -> Conversation:
    identifier = share_id(url)
    if identifier is None:
        raise ImportFormatError(f"not a ChatGPT share link: {url}")
    try:
        page = fetch(url, policy, headers={"accept": "text/html"})
    except FetchError as exc:
        raise ImportFormatError(str(exc)) from exc
    if page.status == 404:
        raise ImportFormatError("the share link does not exist (404): it may have been deleted")
    if page.status != 200:
        raise ImportFormatError(f"the share page answered HTTP {page.status}")
    return parse_share_page(page.text, url)


def parse_share_page(page: str, url: str | None = None) -> Conversation:
    """The shared conversation; ImportFormatError when the page carries none."""
    data = _from_turbo_stream(page)
    if data is None:
        data = _from_remix_context(page)
    if data is None:
        data = _from_next_data(page)
    if data is None:
        raise ImportFormatError(
            "the page holds no shared conversation (neither React Router stream data,"
            " __remixContext nor __NEXT_DATA__): is it a ChatGPT share link?"
        )
    conversation = parse_conversation(data, kind="chatgpt_share")
    if not conversation.messages:
        raise ImportFormatError("the shared conversation has no visible messages")
    identifier = (share_id(url) if url else None) or conversation.external_id
    metadata = dict(conversation.metadata)
    if isinstance(data.get("backing_conversation_id"), str):
        metadata["conversation_id"] = data["backing_conversation_id"]
    return dataclasses.replace(
        conversation,
        url=f"https://chatgpt.com/share/{identifier}" if identifier else url,
        external_id=identifier,
        metadata=metadata,
    )


def _from_turbo_stream(page: str) -> dict[str, Any] | None:
    chunks = [_js_string(m[1]) for m in ENQUEUE.finditer(page)]
    if not chunks:
        return None
    root = turbo_stream.decode("".join(chunks))
    loader = root.get("loaderData") if isinstance(root, dict) else None
    if not isinstance(loader, dict):
        raise ImportFormatError("the page's stream data has no loaderData")
    for route in loader.values():
        data = _server_data(route)
        if data is not None:
            return data
    raise ImportFormatError("the page's stream data holds no conversation")


def _from_remix_context(page: str) -> dict[str, Any] | None:
    match = REMIX_CONTEXT.search(page)
    if match is None:
        return None
    try:
        context, _ = json.JSONDecoder().raw_decode(page, match.end())
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"the page's __remixContext is not JSON: {exc}") from exc
    state = context.get("state") if isinstance(context, dict) else None
    loader = state.get("loaderData") if isinstance(state, dict) else None
    for route in loader.values() if isinstance(loader, dict) else []:
        data = _server_data(route)
        if data is not None:
            return data
    raise ImportFormatError("the page's __remixContext holds no conversation")


def _from_next_data(page: str) -> dict[str, Any] | None:
    match = NEXT_DATA.search(page)
    if match is None:
        return None
    try:
        document = json.loads(html.unescape(match[1]) if "&quot;" in match[1] else match[1])
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"the page's __NEXT_DATA__ is not JSON: {exc}") from exc
    props = document.get("props") if isinstance(document, dict) else None
    page_props = props.get("pageProps") if isinstance(props, dict) else None
    data = _server_data(page_props)
    if data is None:
        raise ImportFormatError("the page's __NEXT_DATA__ holds no conversation")
    return data


def _server_data(holder: Any) -> dict[str, Any] | None:
    response = holder.get("serverResponse") if isinstance(holder, dict) else None
    data = response.get("data") if isinstance(response, dict) else None
    return data if isinstance(data, dict) and "mapping" in data else None


def _js_string(literal: str) -> str:
    try:
        value = json.loads(literal)
    except json.JSONDecodeError:
        # JavaScript escapes JSON lacks (\xNN, \'): rewrite them, then read it as JSON.
        fixed = JS_ESCAPE.sub(lambda m: f"\\u00{m[1]}" if m[1] else "'", literal)
        try:
            value = json.loads(fixed)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(f"the page's stream data is not readable: {exc}") from exc
    if not isinstance(value, str):
        raise ImportFormatError("the page's stream data is not a string")
    return value
