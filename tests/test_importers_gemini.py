"""Gemini: Takeout's My Activity (JSON and HTML, grouped by time gaps) and chats saved as PDF."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.importers.detect import parse
from api.importers.gemini import parse_takeout, parse_takeout_html
from api.importers.inputs import Input, collect
from api.importers.model import Conversation, ItemError, Parsed, Skipped
from api.importers.options import DEFAULT_OPTIONS, ImportOptions
from tests.conftest import FIXTURES

TAKEOUT = FIXTURES / "takeout"
ACTIVITY_JSON = TAKEOUT / "MyActivity.json"
ACTIVITY_HTML = TAKEOUT / "MyActivity.html"
GEMINI_PDF = FIXTURES / "pdf" / "gemini-chat.pdf"
GAP = timedelta(minutes=30)


def parsed(path: Path, options: ImportOptions = DEFAULT_OPTIONS) -> list[Parsed]:
    return list(parse(Input(str(path), path.read_bytes()), options))


def chats(items: list[Parsed]) -> list[Conversation]:
    return [c for c in items if isinstance(c, Conversation)]


def test_json_entries_are_ordered_and_grouped_by_time_gap() -> None:
    ginger, code = chats(parsed(ACTIVITY_JSON))
    assert (ginger.kind, ginger.platform) == ("gemini_takeout", "gemini")
    assert ginger.title == "what is the best way to store fresh ginger?"
    assert [m.role for m in ginger.messages] == ["user", "assistant", "user", "assistant"]
    assert ginger.messages[2].text == "can I freeze grated ginger in ice cube trays?"
    assert ginger.messages[3].text.endswith(
        "- one cube is about one teaspoon\n- use within six months"
    )
    assert "<" not in "".join(m.text for m in ginger.messages)  # HTML turned into text
    assert ginger.metadata["prompts"] == 2
    # The last prompt has no answer in the export: kept as the person's question.
    assert [m.role for m in code.messages] == ["user", "assistant", "user"]
    assert "reversed_text = text[::-1]" in code.messages[1].text
    assert ginger.external_id != code.external_id


def test_the_gap_is_configurable() -> None:
    one = chats(parsed(ACTIVITY_JSON, ImportOptions(gemini_gap=timedelta(hours=12))))
    assert len(one) == 1 and len(one[0].messages) == 7
    three = chats(parsed(ACTIVITY_JSON, ImportOptions(gemini_gap=timedelta(minutes=1))))
    assert [len(c.messages) for c in three] == [2, 2, 3]


def test_html_variant_gives_the_same_conversations() -> None:
    from_json = chats(parsed(ACTIVITY_JSON))
    from_html = chats(parsed(ACTIVITY_HTML))
    assert [[(m.role, m.text) for m in c.messages] for c in from_html] == [
        [(m.role, m.text) for m in c.messages] for c in from_json
    ]
    assert [c.external_id for c in from_html] == [c.external_id for c in from_json]
    assert [c.started_at for c in from_html] == [
        c.started_at.replace(microsecond=0) for c in from_json if c.started_at
    ]


def test_activity_of_other_products_is_skipped_not_failed() -> None:
    search_only = [
        {
            "header": "Search",
            "title": "Searched for ginger",
            "time": "2025-03-02T09:01:00.000Z",
            "products": ["Search"],
        }
    ]
    [item] = list(parse_takeout(search_only, "MyActivity.json", GAP))
    assert isinstance(item, Skipped)
    [empty] = list(parse(Input("MyActivity.html", b"<html><body></body></html>")))
    # Without Takeout's markup it is just an (empty) web page.
    assert isinstance(empty, ItemError) and "no readable text" in empty.message


def test_malformed_entries_are_left_out() -> None:
    entries = json.loads(ACTIVITY_JSON.read_text())
    entries[0]["time"] = "yesterday"
    entries.insert(1, "not an entry")
    convs = [
        c for c in parse_takeout(entries, "MyActivity.json", GAP) if isinstance(c, Conversation)
    ]
    assert sum(len(c.messages) for c in convs) == 6
    assert list(parse_takeout_html("<div class='outer-cell'></div>", "x", GAP)) == [
        Skipped("x", "no Gemini prompts among the activity entries")
    ]


def test_takeout_zip_reads_only_gemini_activity(tmp_path: Path) -> None:
    archive = tmp_path / "takeout-20250303T101010Z-001.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(ACTIVITY_JSON, "Takeout/My Activity/Gemini Apps/MyActivity.json")
        z.write(ACTIVITY_HTML, "Takeout/My Activity/Gemini Apps/MyActivity.html")
        z.writestr("Takeout/My Activity/Search/MyActivity.json", "[]")
        z.writestr("Takeout/archive_browser.html", "<html>index</html>")
    inputs = [i for i in collect([archive]) if isinstance(i, Input)]
    assert [i.name for i in inputs] == [
        f"{archive}:Takeout/My Activity/Gemini Apps/MyActivity.json"
    ]
    assert len(chats([c for i in inputs for c in parse(i)])) == 2


def test_gemini_chat_saved_as_pdf() -> None:
    [chat] = parsed(GEMINI_PDF)
    assert isinstance(chat, Conversation)
    assert (chat.kind, chat.platform, chat.title) == ("gemini_pdf", "gemini", "Sourdough hydration")
    assert [m.metadata["page"] for m in chat.messages] == [1, 2]
    assert "70 percent hydration" in chat.messages[0].text


@pytest.mark.parametrize(
    "data",
    [b'[{"header": "Gemini Apps", "title": "Prompted x", "time": 5}]', b"[{]"],
)
def test_broken_takeout_json_gives_an_item_error_or_nothing(data: bytes) -> None:
    items = list(parse(Input("MyActivity.json", data)))
    assert all(isinstance(i, ItemError | Skipped) for i in items) and items


def test_canvases_branches_image_prompts_and_other_activity() -> None:
    """Takeout's newer entries: a canvas is a document of the conversation, "Branched" and
    a bare image-only "Prompted" are turns, two-item answers are one answer, and the rest
    of the activity is counted, not imported."""
    path = FIXTURES / "takeout" / "MyActivity-2025.json"
    [bake] = [c for c in parse(Input(str(path), path.read_bytes())) if isinstance(c, Conversation)]
    assert bake.title == "How long should sourdough bulk ferment at 24°C?"
    assert [m.role for m in bake.messages] == [
        "user", "assistant", "assistant", "user", "assistant", "document",
    ]  # fmt: skip
    assert "under-proofed" in bake.messages[2].text  # the answer to the photo
    assert "Shift every step by one day" in bake.messages[4].text
    assert "Sunday 08:00 mix" in bake.messages[4].text
    canvas = bake.messages[5]
    assert canvas.text.startswith("Bread baking schedule\n\n")
    assert "feed the levain" in canvas.text and canvas.metadata == {
        "canvas": "Bread baking schedule"
    }
    assert bake.left_out == {"files": 1, "activity": 4}
    assert not any("feedback" in m.text or "survey" in m.text for m in bake.messages)


GEM_SUBTITLE = "Sourdough Coach was used in this chat. Manage your Gems."


def gem_entry(prompt: str, time: str, answer: str, gem: str | None) -> dict[str, object]:
    """A Takeout entry in its real shape; a Gem chat names the Gem in a linked subtitle."""
    entry: dict[str, object] = {
        "header": "Gemini Apps",
        "title": f"Prompted {prompt}",
        "time": time,
        "products": ["Gemini Apps"],
        "activityControls": ["Gemini Apps Activity"],
        "safeHtmlItem": [{"html": f"<p>{answer}</p>"}],
    }
    if gem:
        entry["subtitles"] = [
            {"name": gem, "url": "https://gemini.google.com/gems/view/0a1b2c3d4e5f"}
        ]
    return entry


def test_a_gem_named_in_subtitles_is_recorded_and_starts_its_own_conversation() -> None:
    data = [  # newest first, as Takeout writes them; a minute apart
        gem_entry("feed it twice a day?", "2025-06-01T10:02:00Z", "Yes, in summer.", GEM_SUBTITLE),
        gem_entry("my starter smells of acetone", "2025-06-01T10:01:00Z", "Feed it.", GEM_SUBTITLE),
        gem_entry("capital of Peru", "2025-06-01T10:00:00Z", "Lima.", None),
    ]
    plain, coach = [
        c for c in parse_takeout(data, "MyActivity.json", GAP) if isinstance(c, Conversation)
    ]
    assert "gem" not in plain.metadata and plain.messages[1].author == "Gemini"
    assert coach.metadata["gem"] == "Sourdough Coach"
    assert [m.author for m in coach.messages if m.role == "assistant"] == ["Sourdough Coach"] * 2
    assert not any("Manage your Gems" in m.text for m in coach.messages)


def test_a_gem_in_the_html_variant_is_recorded_not_kept_as_prompt_text() -> None:
    cell = (
        '<div class="outer-cell"><div class="header-cell"><p>Gemini Apps<br></p></div>'
        '<div class="content-cell">Prompted my starter smells of acetone<br>'
        f'<a href="https://gemini.google.com/gems/view/0a1b2c3d4e5f">{GEM_SUBTITLE}</a><br>'
        "Jun 1, 2025, 12:01:00 PM CEST<br><p>Feed it.</p></div></div></div>"
    )
    [coach] = [c for c in parse_takeout_html(f"<html><body>{cell}</body></html>", "x", GAP)]
    assert isinstance(coach, Conversation)
    assert coach.metadata["gem"] == "Sourdough Coach"
    assert coach.messages[0].text == "my starter smells of acetone"
    assert coach.messages[1].author == "Sourdough Coach"


gem_names = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda name: name.strip() and " was used in this chat." not in name)


@settings(max_examples=60, deadline=None)
@given(name=gem_names, prompt=st.text(min_size=1, max_size=60).filter(str.strip))
def test_any_gem_name_is_recorded_and_its_subtitle_never_indexed(name: str, prompt: str) -> None:
    subtitle = f"{name} was used in this chat. Manage your Gems."
    entry = gem_entry(prompt.replace("\n", " "), "2025-06-01T10:00:00Z", "An answer.", subtitle)
    [chat] = [
        c for c in parse_takeout([entry], "MyActivity.json", GAP) if isinstance(c, Conversation)
    ]
    assert chat.metadata["gem"] == name.strip()
    assert not any("Manage your Gems" in m.text for m in chat.messages)
