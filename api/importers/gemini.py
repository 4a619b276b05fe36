"""Gemini: Google Takeout's "My Activity" for Gemini Apps (MyActivity.json or .html).

Takeout lists one entry per prompt, newest first: a title "Prompted <prompt>" (also
"Branched …", "Live Prompt …"; a bare "Prompted" for an image-only prompt), the time, and
the answer as HTML (`safeHtmlItem[].html`, one or more items). A canvas is an entry
"Created Gemini Canvas titled <title>" with the canvas's text: kept as a document of the
conversation. Other activity ("Used Gemini Apps", "Gave feedback", surveys, preferred
drafts) is not a conversation: left out and counted. Takeout has no conversation id, so
entries are put back in time order and grouped into conversations wherever the gap
between two prompts is longer than a configurable pause (30 minutes by default).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from bs4 import Tag

from api.errors import ImportFormatError
from api.importers.claude import timestamp
from api.importers.html_text import html_to_text, soup
from api.importers.model import Conversation, Message, Parsed, Skipped

PRODUCTS = ("Gemini Apps", "Bard")
PROMPTED = re.compile(r"^\s*(?:Prompted|Branched|Live Prompt)(?:[\s\u00a0]+|$)", re.IGNORECASE)
CANVAS = re.compile(r"^\s*Created Gemini Canvas titled(?:[\s\u00a0]+|$)", re.IGNORECASE)
# A chat with a Gem (a custom Gemini) names it in a subtitle, linked to the Gem:
# "<name> was used in this chat. Manage your Gems."
GEM = re.compile(r"^\s*(.+?) was used in this chat\.(?:\s*Manage your Gems\.?)?\s*$")
TITLE_WORDS = 12
# Takeout's HTML writes times like "Jan 5, 2025, 9:14:03 AM CET" in the export's locale.
HTML_TIME = re.compile(
    r"([A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2}[\s\u202f\u00a0]*[AP]M)"
    r"(?:[\s\u202f\u00a0]+([A-Z]{2,5}|GMT[+-]\d{1,2}(?::\d{2})?|UTC))?"
)
ZONES = {
    "UTC": 0, "GMT": 0, "WET": 0, "WEST": 1, "BST": 1, "IST": 5.5, "CET": 1, "CEST": 2,
    "EET": 2, "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
    "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10, "JST": 9, "KST": 9,
    "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13, "SGT": 8,
}  # fmt: skip


@dataclass(frozen=True)
class Turn:
    time: datetime
    prompt: str
    answer: str
    canvas: str | None = None  # the canvas's title, for a "Created Gemini Canvas" entry
    files: int = 0  # images and files attached to the prompt (not kept)
    gem: str | None = None  # the Gem the prompt was sent to, from its subtitle


def looks_like_takeout(data: Any) -> bool:
    return (
        isinstance(data, list)
        and bool(data)
        and isinstance(data[0], dict)
        and "time" in data[0]
        and ("header" in data[0] or "products" in data[0])
        and "title" in data[0]
    )


def looks_like_takeout_html(page: str) -> bool:
    return "outer-cell" in page and "content-cell" in page and any(p in page for p in PRODUCTS)


def parse_takeout(data: Any, name: str, gap: timedelta) -> Iterator[Parsed]:
    if not isinstance(data, list):
        raise ImportFormatError("Takeout's My Activity is a JSON array of entries")
    turns = [t for entry in data if (t := _json_turn(entry)) is not None]
    other = sum(1 for entry in data if isinstance(entry, dict) and _is_gemini(entry)) - len(turns)
    yield from _conversations(turns, name, gap, len(data), other)


def parse_takeout_html(page: str, name: str, gap: timedelta) -> Iterator[Parsed]:
    cells = soup(page).select("div.outer-cell")
    turns = [t for cell in cells if (t := _html_turn(cell)) is not None]
    yield from _conversations(turns, name, gap, len(cells), len(cells) - len(turns))


def _json_turn(entry: Any) -> Turn | None:
    if not isinstance(entry, dict) or not _is_gemini(entry):
        return None
    title = entry.get("title")
    time = timestamp(entry.get("time"))
    if not isinstance(title, str) or time is None:
        return None
    canvas = CANVAS.match(title)
    if not canvas and not PROMPTED.match(title):
        return None  # "Used Gemini Apps", feedback, surveys: not a conversation turn
    answers = entry.get("safeHtmlItem")
    html = "\n".join(
        a["html"]
        for a in (answers if isinstance(answers, list) else [])
        if isinstance(a, dict) and isinstance(a.get("html"), str)
    )
    attached = entry.get("attachedFiles")
    files = len(attached) if isinstance(attached, list) else 0
    files += 1 if isinstance(entry.get("imageFile"), str) else 0
    subtitles = entry.get("subtitles")
    gem = _gem(
        s["name"]
        for s in (subtitles if isinstance(subtitles, list) else [])
        if isinstance(s, dict) and isinstance(s.get("name"), str)
    )
    if canvas:
        name = CANVAS.sub("", title, count=1).strip() or "Untitled canvas"
        return Turn(time, "", html_to_text(html), canvas=name, files=files, gem=gem)
    prompt = PROMPTED.sub("", title, count=1).strip()
    return Turn(time, prompt, html_to_text(html), files=files, gem=gem)


def _gem(lines: Iterable[str]) -> str | None:
    return next((m[1].strip() for line in lines if (m := GEM.match(line))), None)


def _is_gemini(entry: dict[str, Any]) -> bool:
    products = entry.get("products")
    if isinstance(products, list) and products:
        return any(p in PRODUCTS for p in products)
    return entry.get("header") in PRODUCTS


def _html_turn(cell: Tag) -> Turn | None:
    header = cell.select_one(".header-cell")
    if header is not None and not any(p in header.get_text() for p in PRODUCTS):
        return None
    content = cell.select_one(".content-cell")
    if content is None:
        return None
    # The cell holds: "Prompted <prompt>" <br> <time> <br> <answer HTML>.
    lead: list[str] = []
    answer_parts: list[str] = []
    for child in content.children:
        if answer_parts or (isinstance(child, Tag) and child.name not in ("br", "a", "span")):
            answer_parts.append(str(child))
        elif isinstance(child, Tag) and child.name == "br":
            lead.append("\n")
        else:
            lead.append(child.get_text() if isinstance(child, Tag) else str(child))
    lines = [line.strip() for line in "".join(lead).split("\n") if line.strip()]
    gem = _gem(lines)
    lines = [line for line in lines if not GEM.match(line)]  # the Gem's subtitle
    if not lines or not (PROMPTED.match(lines[0]) or CANVAS.match(lines[0])):
        return None
    time_at = next((i for i, line in enumerate(lines) if HTML_TIME.search(line)), None)
    if time_at is None:
        return None
    time = _html_time(lines[time_at])
    if time is None:
        return None
    prompt = "\n".join(lines[:time_at])
    extra = lines[time_at + 1 :]  # answer text before its first block element
    answer = html_to_text("<p>" + "<br>".join(extra) + "</p>" + "".join(answer_parts))
    if CANVAS.match(prompt):
        title = CANVAS.sub("", prompt, count=1).strip() or "Untitled canvas"
        return Turn(time, "", answer, canvas=title, gem=gem)
    return Turn(time, PROMPTED.sub("", prompt, count=1).strip(), answer, gem=gem)


def _html_time(line: str) -> datetime | None:
    match = HTML_TIME.search(line)
    if match is None:
        return None
    clock = re.sub(r"[\s\u202f\u00a0]+", " ", match[1]).replace(".", "")
    try:
        local = datetime.strptime(clock, "%b %d, %Y, %I:%M:%S %p")
    except ValueError:
        try:
            local = datetime.strptime(clock, "%B %d, %Y, %I:%M:%S %p")
        except ValueError:
            return None
    return local.replace(tzinfo=_zone(match[2]))


def _zone(name: str | None) -> timezone:
    if name is None:
        return UTC
    if name.startswith("GMT") and len(name) > 3:
        sign = -1 if name[3] == "-" else 1
        hours, _, minutes = name[4:].partition(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
    return timezone(timedelta(hours=ZONES.get(name, 0)))


def _conversations(
    turns: list[Turn], name: str, gap: timedelta, entries: int, other: int
) -> Iterator[Parsed]:
    turns = [t for t in turns if t.prompt or t.answer or t.canvas]
    if not turns:
        if entries:
            yield Skipped(name, "no Gemini prompts among the activity entries")
            return
        raise ImportFormatError("the Takeout file holds no activity entries")
    turns.sort(key=lambda t: t.time)
    groups: list[list[Turn]] = [[turns[0]]]
    for turn in turns[1:]:
        # A chat with another Gem (or none) is another conversation, however close in time.
        if turn.time - groups[-1][-1].time > gap or turn.gem != groups[-1][-1].gem:
            groups.append([])
        groups[-1].append(turn)
    for position, group in enumerate(groups):
        # Activity that is no conversation is counted once, with the first conversation.
        yield _conversation(group, other if position == 0 else 0)


def _conversation(turns: list[Turn], other: int) -> Conversation:
    messages: list[Message] = []
    left_out: dict[str, int] = {}
    for turn in turns:
        if turn.canvas is not None:
            text = f"{turn.canvas}\n\n{turn.answer}".strip()
            messages.append(
                Message(
                    "document",
                    text,
                    author="Gemini Canvas",
                    created_at=turn.time,
                    metadata={"canvas": turn.canvas},
                )
            )
            continue
        if turn.prompt:
            messages.append(Message("user", turn.prompt, created_at=turn.time))
        if turn.answer:
            author = turn.gem or "Gemini"
            messages.append(Message("assistant", turn.answer, author=author, created_at=turn.time))
        if turn.files:
            left_out["files"] = left_out.get("files", 0) + turn.files
    if other:
        left_out["activity"] = other
    first = next((t for t in turns if t.prompt), turns[0])
    words = (first.prompt or first.canvas or "").split()
    title = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    # Stable across re-imports of a newer Takeout: the first prompt and its time.
    identity = f"{first.time.astimezone(UTC).replace(microsecond=0).isoformat()}\n{first.prompt}"
    metadata: dict[str, Any] = {"prompts": len(turns), "ended_at": turns[-1].time.isoformat()}
    if first.gem:
        metadata["gem"] = first.gem
    return Conversation(
        kind="gemini_takeout",
        platform="gemini",
        title=title or "Gemini conversation",
        messages=messages,
        external_id="takeout-" + hashlib.sha256(identity.encode()).hexdigest()[:32],
        started_at=first.time,
        metadata=metadata,
        left_out=left_out,
    )
