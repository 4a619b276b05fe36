"""PDFs (page numbers and outline headings) and web pages (readable text, headings)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
import respx
from pypdf import PdfReader, PdfWriter

from api.importers.detect import parse
from api.importers.inputs import Input, UrlItem
from api.importers.model import Conversation, ItemError, Parsed
from tests.conftest import FIXTURES

GUIDE = FIXTURES / "pdf" / "field-guide.pdf"
CAST_IRON = FIXTURES / "html" / "cast-iron.html"
ARTICLE_URL = "https://slowkitchen.example.com/guides/cast-iron"


def parse_one(name: str, data: bytes) -> Parsed:
    [item] = list(parse(Input(name, data)))
    return item


def test_pdf_pages_and_outline_headings() -> None:
    guide = parse_one(str(GUIDE), GUIDE.read_bytes())
    assert isinstance(guide, Conversation)
    assert (guide.kind, guide.platform, guide.title) == (
        "pdf",
        "pdf",
        "Field guide to mushrooms",
    )
    assert [m.metadata for m in guide.messages] == [
        {"page": 1, "heading": "Introduction"},
        {"page": 2, "heading": "Chanterelles"},
        {"page": 3, "heading": "Chanterelles"},  # no new outline entry: still that chapter
        {"page": 4, "heading": "Death cap"},
    ]
    assert "smell faintly of apricots" in guide.messages[1].text
    assert all(m.role == "document" for m in guide.messages)
    assert guide.metadata == {"file_name": "field-guide.pdf", "pages": 4}


def test_pdf_is_detected_by_content_not_extension() -> None:
    renamed = parse_one("download", GUIDE.read_bytes())
    assert isinstance(renamed, Conversation) and renamed.kind == "pdf"


def test_pdf_without_text_or_with_a_password_gives_clear_errors() -> None:
    blank = PdfWriter()
    blank.add_blank_page(200, 200)
    buffer = io.BytesIO()
    blank.write(buffer)
    error = parse_one("scan.pdf", buffer.getvalue())
    assert isinstance(error, ItemError) and "has no text" in error.message

    locked = PdfWriter(clone_from=PdfReader(GUIDE))
    locked.encrypt(user_password="s3cret", owner_password="owner")
    buffer = io.BytesIO()
    locked.write(buffer)
    error = parse_one("locked.pdf", buffer.getvalue())
    assert isinstance(error, ItemError) and "password" in error.message


def test_truncated_pdf_is_an_item_error() -> None:
    error = parse_one("broken.pdf", GUIDE.read_bytes()[:700])
    assert isinstance(error, ItemError) and error.item == "broken.pdf"


def test_web_page_keeps_the_article_and_its_headings() -> None:
    page = parse_one(str(CAST_IRON), CAST_IRON.read_bytes())
    assert isinstance(page, Conversation)
    assert (page.kind, page.platform, page.title) == ("html", "web", "Caring for cast iron pans")
    assert [m.metadata.get("heading") for m in page.messages] == [
        "Caring for cast iron pans",
        "Seasoning a new pan",
        "Cleaning after cooking",
        "Rescuing a rusty pan",
    ]
    text = "\n".join(m.text for m in page.messages)
    assert "Bake it upside down at 230 °C for an hour" in text
    assert "- Too much oil leaves a sticky, blotchy finish." in text
    # Menus, the cookie banner, related links, footer and scripts are not the article.
    for boilerplate in (
        "Accept all",
        "Recipes",
        "Carbon steel woks",
        "All rights reserved",
        "gtag",
    ):
        assert boilerplate not in text


def test_a_short_page_falls_back_to_its_body_text() -> None:
    page = parse_one("note.html", b"<html><body><p>Buy <b>lentils</b>.</p></body></html>")
    assert isinstance(page, Conversation) and page.messages[0].text == "Buy lentils."


@respx.mock
def test_web_pages_and_pdfs_by_url() -> None:
    respx.get(ARTICLE_URL).mock(
        return_value=httpx.Response(
            200, content=CAST_IRON.read_bytes(), headers={"content-type": "text/html"}
        )
    )
    respx.get("https://example.org/papers/guide").mock(
        return_value=httpx.Response(
            200, content=GUIDE.read_bytes(), headers={"content-type": "application/pdf"}
        )
    )
    respx.get("https://example.org/gone").mock(return_value=httpx.Response(410))
    [page] = list(parse(UrlItem(ARTICLE_URL)))
    assert isinstance(page, Conversation)
    assert (page.url, page.external_id) == (ARTICLE_URL, ARTICLE_URL)
    [pdf] = list(parse(UrlItem("https://example.org/papers/guide")))
    assert isinstance(pdf, Conversation) and pdf.kind == "pdf"
    [gone] = list(parse(UrlItem("https://example.org/gone")))
    assert isinstance(gone, ItemError) and "HTTP 410" in gone.message


@pytest.mark.parametrize("suffix", [".html", ".htm"])
def test_html_by_extension_even_without_a_doctype(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"saved{suffix}"
    path.write_text("<div><h2>Pantry</h2><p>Rice keeps for years in a sealed jar.</p></div>")
    page = parse_one(str(path), path.read_bytes())
    assert isinstance(page, Conversation) and page.kind == "html"
    assert "Rice keeps for years" in page.messages[-1].text


def test_markdown_without_headings_is_one_passage_group() -> None:
    note = parse_one("todo.md", b"- buy flour\n- feed the starter\n")
    assert isinstance(note, Conversation) and note.kind == "markdown"
    assert [m.text for m in note.messages] == ["- buy flour\n- feed the starter"]
