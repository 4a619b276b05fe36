"""HTML fragments to clean text: paragraphs stay paragraphs, list items stay lines,
code keeps its line breaks (not its indentation); scripts, styles and markup go."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, UnicodeDammit
from bs4.element import NavigableString, Tag

from api.errors import ImportFormatError

BLOCKS = {
    "address", "article", "aside", "blockquote", "div", "dl", "dd", "dt", "figure",
    "figcaption", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
}  # fmt: skip
DROPPED = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object"}
SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2003]+")
BLANK_LINES = re.compile(r"\n\s*\n+")


def decode_html(data: bytes, name: str) -> str:
    """The page as text, in the encoding its BOM, meta tag or content says."""
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFormatError("a binary file, not HTML")
    markup = UnicodeDammit(data, ["utf-8"], is_html=True).unicode_markup
    if markup is None:
        raise ImportFormatError("cannot tell the page's text encoding")
    return markup


def soup(markup: str) -> BeautifulSoup:
    # The standard library's parser: lenient, and the same wherever knitter runs.
    return BeautifulSoup(markup, "html.parser")


def html_to_text(markup: str | Tag) -> str:
    root = soup(markup) if isinstance(markup, str) else markup
    parts: list[str] = []
    _walk(root, parts)
    text = "".join(parts)
    lines = [SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _walk(node: Tag, parts: list[str]) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not comments, doctypes, CDATA
                parts.append(str(child).replace("\n", " "))
            continue
        if not isinstance(child, Tag) or child.name in DROPPED:
            continue
        name = child.name
        if name == "br":
            parts.append("\n")
        elif name == "pre":
            parts.append("\n\n" + child.get_text().strip("\n") + "\n\n")
        elif name == "li":
            parts.append("\n- ")
            _walk(child, parts)
        elif name in ("td", "th"):
            _walk(child, parts)
            parts.append(" | ")
        elif name in BLOCKS:
            parts.append("\n\n")
            _walk(child, parts)
            parts.append("\n\n")
        else:
            _walk(child, parts)
