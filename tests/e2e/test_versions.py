"""Other versions of a message in the conversation view, in Chromium against `knitter
dev`: the fixture's sourdough chat has a regenerated answer and an edited prompt; the
view shows the branch last seen, says "1 other version" on both messages and pages through
them like ChatGPT's "< 1/2 >" (the edited prompt's version brings the answer that followed
it). Screenshots go to test-artifacts/e2e-versions/.

What the tests need: tests/e2e/conftest.py."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.conftest import DevStack
from tests.e2e.pages import MARKS, import_fixture, new_page, shot, sign_up

if TYPE_CHECKING:
    from playwright.sync_api import Browser

FOLDER = "e2e-versions"

pytestmark = MARKS


def test_paging_through_the_versions_of_a_message(dev: DevStack, browser: Browser) -> None:
    errors: list[str] = []
    page = new_page(browser, dev.origin, errors, viewport={"width": 1280, "height": 900})
    sign_up(page, "versions@example.com")
    import_fixture(page)
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Sources", exact=True).click()
    page.get_by_role("link", name="Sourdough starter troubleshooting").click()
    page.get_by_role("heading", name="Sourdough starter troubleshooting").wait_for()

    messages = page.locator("article.conversation section.message")
    messages.nth(3).wait_for()
    article = page.locator("article.conversation")
    # The branch last seen; the other versions are there to page to, not shown.
    assert messages.count() == 4
    assert "4 passages (and 3 in other versions)" in page.locator("header").last.inner_text()
    assert "Not dead, just hungry" in article.inner_text()
    assert "OLD ANSWER" not in article.inner_text()
    controls = page.get_by_role("navigation", name="Versions of this message")
    assert controls.count() == 2
    answer = messages.nth(1)
    assert "1 other version" in answer.inner_text() and "Version 2 of 2" in answer.inner_text()
    shot(page, FOLDER, "01-current-branch", full_page=True)

    # The regenerated answer: the earlier one replaces it and what followed.
    answer.get_by_role("button", name="Previous version").click()
    page.get_by_text("OLD ANSWER: throw it away and start over.").wait_for()
    assert "Version 1 of 2" in messages.nth(1).inner_text()
    assert "Not dead, just hungry" not in article.inner_text()
    assert messages.count() == 2
    shot(page, FOLDER, "02-old-answer", full_page=True)
    messages.nth(1).get_by_role("button", name="Next version").click()
    page.get_by_text("Not dead, just hungry", exact=False).wait_for()

    # The edited prompt: its other version with the answer it got.
    prompt = messages.nth(2)
    assert "How long until it doubles" in prompt.inner_text()
    prompt.get_by_role("button", name="Previous version").click()
    page.get_by_text("ABANDONED EDIT: what flour?").wait_for()
    assert "ABANDONED ANSWER about flour." in article.inner_text()
    assert "three to five days" not in article.inner_text().lower()
    assert page.locator("section.message.other-version").count() == 2
    shot(page, FOLDER, "03-edited-prompt", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, FOLDER, "04-edited-prompt-phone", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Search finds the other versions only when asked; a hit opens its version.
    page.get_by_role("link", name="Search", exact=True).click()
    results = page.get_by_role("list", name="Results")
    settled = (
        "q => new URLSearchParams(location.search).get('q') === q"
        " && document.querySelector('ol.results').getAttribute('aria-busy') === 'false'"
        " && /\\d+ conversations?/.test(document.getElementById('search-status').textContent)"
    )
    page.get_by_label("Search your conversations").fill("throw it away and start over")
    page.wait_for_function(settled, arg="throw it away and start over")
    assert "throw it away" not in results.inner_text()
    page.get_by_role("button", name="Filters").click()
    page.get_by_label("Versions").select_option("all")
    page.wait_for_url(re.compile(r"versions=all"))
    hit = results.get_by_role("listitem").filter(has_text="throw it away")
    hit.first.wait_for()
    shot(page, FOLDER, "05-search-with-versions")
    hit.first.get_by_role("link", name="Open in context").click()
    page.get_by_role("heading", name="Sourdough starter troubleshooting").wait_for()
    target = page.locator(".passage[aria-current='true']")
    target.wait_for()
    assert "OLD ANSWER" in target.inner_text()
    assert "Version 1 of 2" in page.locator("section.message.other-version").inner_text()
    shot(page, FOLDER, "06-opened-other-version")
    assert errors == []
