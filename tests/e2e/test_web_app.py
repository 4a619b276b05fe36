"""The web app end to end: Debian's Chromium (driven by Playwright) against `knitter dev`.

Sign up → import the ChatGPT fixture export → search by keyword and by meaning → open the
conversation at the passage → delete the source → it is gone from search; a guest session;
a second person sees none of the first one's data. Screenshots of the main screens go to
test-artifacts/e2e-browser/ (ignored by git).

What the tests need: tests/e2e/conftest.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import DevStack
from tests.e2e.pages import MARKS, PASSWORD, import_fixture, new_page, shot, sign_up

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# No word of it is in the fixture: only the vector branch can find "Bicycle gears".
BY_MEANING = "bicycle drivetrain slips when pedaling hard"
FOLDER = "e2e-browser"

pytestmark = MARKS


def _shot(page: Page, name: str, *, full_page: bool = False) -> None:
    shot(page, FOLDER, name, full_page=full_page)


def _search(page: Page, query: str) -> list[str]:
    """Types the query into the search box (focused with `/`) and returns the result titles
    once the results for it have come."""
    box = page.get_by_label("Search your conversations")
    if "/search" not in page.url:  # the nav link starts a fresh search (no filters)
        page.get_by_role("link", name="Search", exact=True).click()
        # The page is there before its shortcut is tried (on a loaded machine the key
        # could land while the previous page still showed).
        box.wait_for()
    page.evaluate("document.activeElement instanceof HTMLElement && document.activeElement.blur()")
    page.keyboard.press("/")
    assert box.evaluate("node => node === document.activeElement"), "`/` did not focus search"
    box.fill(query)
    # The URL takes the query once typing settles; then the results for it arrive.
    page.wait_for_function(
        "q => new URLSearchParams(location.search).get('q') === q"
        " && document.querySelector('ol.results').getAttribute('aria-busy') === 'false'"
        " && /\\d+ conversations?/.test(document.getElementById('search-status').textContent)",
        arg=query,
    )
    results = page.locator("ol.results > li")
    return [results.nth(i).locator(".result-title").inner_text() for i in range(results.count())]


def test_the_web_app_end_to_end(dev: DevStack, browser: Browser) -> None:
    errors: list[str] = []
    page = new_page(browser, dev.origin, errors, viewport={"width": 1280, "height": 800})
    page.goto("/")
    page.get_by_role("heading", name="knitter").wait_for()
    _shot(page, "01-sign-in")
    sign_up(page, "first@example.com")
    assert page.url.endswith("/search")

    import_fixture(page)
    _shot(page, "02-import-dialog")
    page.keyboard.press("Escape")
    expect_no_dialog = page.get_by_role("dialog", name="Import")
    expect_no_dialog.wait_for(state="hidden")

    titles = _search(page, "derailleur")
    assert titles[0] == "Bicycle gears"
    first = page.get_by_role("list", name="Results").get_by_role("listitem").first
    assert first.locator("mark").first.inner_text().lower() == "derailleur"
    _shot(page, "03-search-keyword")

    # Filters narrow the same query: by role, then by a date range with nothing in it.
    page.get_by_role("button", name="Filters").click()
    page.get_by_label("Role").select_option("assistant")
    roles = _search(page, "derailleur chain")
    heads = page.get_by_role("list", name="Results").locator(".result-head .muted")
    assert roles and all(h.startswith("assistant ·") for h in heads.all_inner_texts())
    page.get_by_label("From").fill("2030-01-01")
    assert _search(page, "derailleur chain") == []
    assert "role=assistant" in page.url and "from=2030-01-01" in page.url
    page.get_by_label("Role").select_option("")
    page.get_by_label("From").fill("")
    page.get_by_role("button", name="Filters").click()

    titles = _search(page, BY_MEANING)
    assert titles[0] == "Bicycle gears"
    first = page.get_by_role("list", name="Results").get_by_role("listitem").first
    assert first.locator("mark").count() == 0  # found by meaning, not by a word
    assert "keyword only" not in page.locator("#search-status").inner_text()
    _shot(page, "04-search-meaning")

    # Open in context: the conversation, scrolled to the passage, which is highlighted.
    passage_text = first.locator(".snippet").first.inner_text()
    first.get_by_role("link", name="Open in context").click()
    page.wait_for_url(re.compile(r"/sources/[0-9a-f-]+\?passage=\d+(&q=[^&]*)?$"))
    page.get_by_role("heading", name="Bicycle gears").wait_for()
    target = page.locator(".passage[aria-current='true']")
    target.wait_for()
    assert passage_text.strip() in target.inner_text()
    page.wait_for_function(
        "() => { const r = document.querySelector('.passage.target').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    assert target.evaluate("node => node === document.activeElement")
    _shot(page, "05-conversation")
    # The passage link survives a reload (the SPA fallback serves the route).
    page.reload()
    page.locator(".passage[aria-current='true']").wait_for()

    page.get_by_role("link", name="Sources", exact=True).click()
    sources = page.get_by_role("list", name="Imported sources").get_by_role("listitem")
    sources.first.wait_for()
    assert sources.count() == 3
    _shot(page, "06-sources")
    page.get_by_role("button", name="Delete Bicycle gears").click()
    page.get_by_role("button", name="Delete Bicycle gears").wait_for(state="detached")
    assert sources.count() == 2

    # Gone from both branches: no word matches any more, and its passages are not near.
    titles = _search(page, "derailleur")
    assert "Bicycle gears" not in titles
    assert page.get_by_role("list", name="Results").locator("mark").count() == 0
    assert "Bicycle gears" not in _search(page, BY_MEANING)

    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("heading", name="Settings").wait_for()
    model = page.get_by_label(re.compile(r"^Personal"))
    model.wait_for()
    assert "all-MiniLM-L6-v2" in model.locator("option:checked").inner_text()
    # No key anywhere: "Test" answers with the server's reason, from no network at all.
    page.get_by_role("button", name="Test").first.click()
    page.get_by_role("alert").first.wait_for()
    page.get_by_label("Dark").check()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    _shot(page, "07-settings-dark", full_page=True)
    page.get_by_label("Light").check()

    phone = new_page(
        browser, dev.origin, errors, viewport={"width": 375, "height": 740}, is_mobile=True
    )
    phone.goto("/")
    phone.get_by_label("Email").fill("first@example.com")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("form", name="Sign in").get_by_role("button", name="Sign in").click()
    phone.get_by_role("navigation", name="Main").wait_for()
    assert _search(phone, "sourdough")[0] == "Sourdough starter troubleshooting"
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"
    # The five sections on one line, under the name and the actions: two rows in all.
    tops = phone.evaluate(
        "[...document.querySelectorAll('nav[aria-label=Main] a')]"
        ".map(a => Math.round(a.getBoundingClientRect().top))"
    )
    actions = phone.locator(".header-actions").bounding_box()
    assert len(tops) == 5 and len(set(tops)) == 1, tops
    assert actions is not None and actions["y"] + actions["height"] <= tops[0]
    _shot(phone, "08-search-phone", full_page=True)

    assert errors == []


def test_a_second_person_sees_none_of_the_first_ones_data(dev: DevStack, browser: Browser) -> None:
    errors: list[str] = []
    first = new_page(browser, dev.origin, errors)
    sign_up(first, "owner@example.com")
    import_fixture(first)
    first.keyboard.press("Escape")
    assert _search(first, "sourdough")[0] == "Sourdough starter troubleshooting"

    second = new_page(browser, dev.origin, errors)
    sign_up(second, "other@example.com")
    assert _search(second, "sourdough") == []
    assert _search(second, BY_MEANING) == []
    second.get_by_role("link", name="Sources", exact=True).click()
    second.get_by_text("Nothing imported yet").wait_for()
    # Even the first person's passage link shows nothing to the second.
    first_link = first.get_by_role("list", name="Results").get_by_role("link").first
    path = first_link.get_attribute("href")
    assert path is not None and path.startswith("/sources/")
    second.goto(path)
    second.get_by_role("heading", name="Not found").wait_for()
    assert errors == []


def test_a_guest_session(dev: DevStack, browser: Browser, tmp_path: Path) -> None:
    errors: list[str] = []
    page = new_page(browser, dev.origin, errors)
    page.goto("/")
    page.get_by_role("button", name="Continue as guest").click()
    page.get_by_role("navigation", name="Main").wait_for()
    assert page.get_by_text("Guest", exact=True).is_visible()
    assert _search(page, "sourdough") == []  # nobody else's data
    import_fixture(page)
    # A broken file fails on its own, with its reason; a pasted non-link is refused.
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    dialog = page.get_by_role("dialog", name="Import")
    dialog.get_by_label("Files to import").set_input_files(str(broken))
    item = dialog.locator("li.import-item").filter(has_text="broken.zip")
    item.get_by_text(re.compile(r"^a damaged or incomplete zip")).wait_for()
    assert "1 failed" in item.inner_text()
    assert item.inner_text().count("broken.zip") == 1  # its name heads the item, once
    dialog.get_by_label(re.compile("paste links")).fill("not-a-link")
    dialog.get_by_role("button", name="Import links").click()
    assert "Not a web address: not-a-link" in dialog.get_by_role("alert").inner_text()
    _shot(page, "10-import-errors")
    page.keyboard.press("Escape")
    assert _search(page, "sourdough")[0] == "Sourdough starter troubleshooting"
    _shot(page, "09-guest-search")
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_text("Guests cannot store API keys").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Continue as guest").wait_for()
    assert errors == []
