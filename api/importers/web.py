"""Web pages and saved HTML: the readable text (trafilatura drops menus, footers and ads),
split at its headings, each section remembering its heading."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import PurePath
from typing import Any

import trafilatura

from api.errors import ImportFormatError
from api.importers.html_text import decode_html, html_to_text, soup
from api.importers.model import Conversation, Message

# trafilatura logs every page it cannot use; the import reports what matters.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def parse_html(data: bytes, name: str, url: str | None = None) -> Conversation:
    page = decode_html(data, name)
    title = _page_title(page)
    sections = _readable_sections(page, url) or _fallback_sections(page)
    if not sections:
        raise ImportFormatError(f"{name}: the page has no readable text")
    messages = [
        Message(role="document", text=text, metadata={"heading": heading} if heading else {})
        for heading, text in sections
    ]
    metadata: dict[str, Any] = {}
    if url is None:
        metadata["file_name"] = PurePath(name).name
    return Conversation(
        kind="html",
        platform="web",
        title=title or next((h for h, _ in sections if h), None) or _fallback_title(name, url),
        messages=messages,
        url=url,
        external_id=url,
        metadata=metadata,
    )


def _readable_sections(page: str, url: str | None) -> list[tuple[str | None, str]]:
    extracted = trafilatura.extract(
        page,
        url=url,
        output_format="xml",
        favor_recall=True,
        # Without it, inline markup leaves stray spaces ("Buy lentils .").
        include_formatting=True,
        include_comments=False,
        include_images=False,
    )
    if not extracted:
        return []
    # trafilatura's own output, not the page: safe for the standard parser.
    root = ET.fromstring(extracted)  # noqa: S314
    main = root.find("main")
    if main is None:
        return []
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for element in main:
        text = " ".join("".join(element.itertext()).split()) if element.tag != "code" else ""
        if element.tag == "head":
            if text:
                sections.append((text, []))
        elif element.tag == "list":
            items = ["- " + " ".join("".join(i.itertext()).split()) for i in element]
            sections[-1][1].append("\n".join(items))
        elif element.tag == "code":
            sections[-1][1].append("".join(element.itertext()).strip())
        elif text:
            sections[-1][1].append(text)
    return [(h, "\n\n".join(b)) for h, b in sections if b]


def _fallback_sections(page: str) -> list[tuple[str | None, str]]:
    """When trafilatura finds no main text (very short pages): the whole body."""
    document = soup(page)
    body = document.body or document
    text = html_to_text(body)
    return [(None, text)] if text else []


def _page_title(page: str) -> str | None:
    metadata = trafilatura.extract_metadata(page)
    title = metadata.title if metadata is not None else None
    if isinstance(title, str) and title.strip():
        return title.strip()
    tag = soup(page).title
    text = tag.get_text(" ", strip=True) if tag is not None else ""
    return text or None


def _fallback_title(name: str, url: str | None) -> str:
    if url:
        return url
    return PurePath(name).stem or name
