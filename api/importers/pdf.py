"""PDF documents (pypdf), platform "pdf": one message per page, each remembering its page
number and the heading (from the PDF's outline) it falls under. A Gemini conversation
printed to PDF imports the same way, as platform gemini."""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime
from pathlib import PurePath
from typing import Any

from pypdf import PdfReader
from pypdf.generic import Destination

from api.errors import ImportFormatError
from api.importers.model import Conversation, Kind, Message

MAGIC = b"%PDF-"
MAX_PAGES = 5000
MAX_OUTLINE_ENTRIES = 10_000
GEMINI_MARK = re.compile(r"gemini\.google\.com|^\W*Gemini\b", re.IGNORECASE)
# "Gemini - <title>", also with en and em dashes.
GEMINI_TITLE_PREFIX = re.compile(r"^\W*Gemini\s*[-\u2013\u2014:|]\s*", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# pypdf reports recoverable damage as log warnings; the import reports what matters.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def looks_like_pdf(data: bytes) -> bool:
    return MAGIC in data[:1024]


def parse_pdf(data: bytes, name: str) -> Conversation:
    try:
        return _parse(data, name)
    except ImportFormatError:
        raise
    except RecursionError as exc:
        raise ImportFormatError("the PDF is nested too deeply to read") from exc
    except Exception as exc:  # pypdf raises many kinds on damaged files; all mean the same
        raise ImportFormatError(f"not a readable PDF: {exc}") from exc


def _parse(data: bytes, name: str) -> Conversation:
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ImportFormatError("the PDF is encrypted with a password")
    if len(reader.pages) > MAX_PAGES:
        raise ImportFormatError(f"the PDF has more than {MAX_PAGES} pages")
    headings = _headings(reader)
    messages: list[Message] = []
    heading: str | None = None
    for number, page in enumerate(reader.pages, start=1):
        heading = headings.get(number, heading)
        text = CONTROL.sub("", page.extract_text() or "").strip()
        if not text:
            continue
        metadata: dict[str, Any] = {"page": number}
        if heading:
            metadata["heading"] = heading
        messages.append(Message(role="document", text=text, metadata=metadata))
    if not messages:
        raise ImportFormatError("the PDF has no text (a scanned PDF needs OCR first)")

    info = reader.metadata
    title = info.title.strip() if info is not None and isinstance(info.title, str) else ""
    gemini = bool(GEMINI_MARK.search(title)) or any(
        "gemini.google.com" in m.text for m in messages[:3]
    )
    kind: Kind = "gemini_pdf" if gemini else "pdf"
    if gemini:
        title = GEMINI_TITLE_PREFIX.sub("", title)
    metadata = {"file_name": PurePath(name).name, "pages": len(reader.pages)}
    started_at = _creation_date(reader)
    return Conversation(
        kind=kind,
        platform="gemini" if gemini else "pdf",
        title=title or next(iter(headings.values()), None) or PurePath(name).stem or name,
        messages=messages,
        started_at=started_at,
        metadata=metadata,
    )


def _creation_date(reader: PdfReader) -> datetime | None:
    """The document's creation time; a malformed date is no reason to refuse the text."""
    try:
        created = reader.metadata.creation_date if reader.metadata is not None else None
    except (ValueError, TypeError, AttributeError):
        return None
    return created if created is not None and created.tzinfo is not None else None


def _headings(reader: PdfReader) -> dict[int, str]:
    """Page number → the last outline entry that starts on it (top levels first)."""
    found: dict[int, str] = {}
    stack: list[Any] = [reader.outline]
    seen = 0
    while stack and seen < MAX_OUTLINE_ENTRIES:
        entry = stack.pop(0)
        if isinstance(entry, list):
            stack[:0] = entry
            continue
        seen += 1
        if not isinstance(entry, Destination) or not isinstance(entry.title, str):
            continue
        page = reader.get_destination_page_number(entry)
        if page is not None and page >= 0 and entry.title.strip():
            found[page + 1] = entry.title.strip()
    return found
