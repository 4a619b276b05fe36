"""Search as a product, end to end in Chromium against `knitter dev`: results grouped by
conversation ("N more passages in this conversation", expandable), the relevance floor
(gibberish finds nothing), Enter, Ctrl+K and the arrow keys, the 1,000-character box, the
query marked in the conversation with "Back to results", and the indexing notice that
refreshes the results when embedding ends. Screenshots (desktop and 390x844) go to
test-artifacts/e2e-search-product/.

What the tests need: tests/e2e/conftest.py."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import psycopg

from tests.conftest import DevStack
from tests.e2e.pages import MARKS, import_fixture, new_page, shot, sign_up

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

FOLDER = "e2e-search-product"
# Shares no word with the fixture: only the vector branch finds "Bicycle gears".
BY_MEANING = "bicycle drivetrain slips when pedaling hard"
# Three passages of "Sourdough starter troubleshooting" have one of these words.
MANY_IN_ONE = "starter feed doubles"

pytestmark = MARKS


def _results(page: Page) -> Locator:
    return page.locator("ol.results > li")


def _settled(page: Page, query: str) -> None:
    page.wait_for_function(
        "q => new URLSearchParams(location.search).get('q') === q"
        # Between pages (back from a conversation) neither element exists yet.
        " && document.querySelector('ol.results')?.getAttribute('aria-busy') === 'false'"
        " && /\\d+ conversations?/.test(document.getElementById('search-status')?.textContent)",
        arg=query,
    )


def _database_url(dev: DevStack) -> str:
    return dev.database_url


def test_search_reads_like_a_product(dev: DevStack, browser: Browser) -> None:
    errors: list[str] = []
    page = new_page(browser, dev.origin, errors, viewport={"width": 1280, "height": 800})
    sign_up(page, "product@example.com")
    import_fixture(page)
    page.keyboard.press("Escape")
    page.get_by_role("dialog", name="Import").wait_for(state="hidden")

    # Ctrl+K focuses the box from anywhere; Enter searches without waiting for a pause.
    page.get_by_role("link", name="Sources", exact=True).click()
    # Navigation commits in a transition: press the keys once Sources is on screen.
    page.get_by_role("heading", name="Sources", level=1).wait_for()
    page.keyboard.press("Control+k")
    box = page.get_by_label("Search your conversations")
    box.wait_for()
    assert box.evaluate("node => node === document.activeElement")
    box.fill(MANY_IN_ONE)
    box.press("Enter")
    _settled(page, MANY_IN_ONE)

    # One row per conversation: the best passage, the others behind a toggle.
    titles = _results(page).locator(".result-title").all_inner_texts()
    assert titles.count("Sourdough starter troubleshooting") == 1
    first = _results(page).first
    assert first.locator(".result-title").inner_text() == "Sourdough starter troubleshooting"
    toggle = first.locator("button[aria-controls^='more-']")
    assert re.fullmatch(r"\d+ more passages? in this conversation", toggle.inner_text())
    more = int(toggle.inner_text().split()[0])
    assert more >= 2
    assert first.locator(".more-passages").is_hidden()
    assert "score" not in first.inner_text().lower()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert first.locator(".more-passages > li").count() == more
    shot(page, FOLDER, "01-grouped-desktop")

    # Arrow keys: from the box to the first result, on to the next, back up to the box.
    box.focus()
    page.keyboard.press("ArrowDown")
    links = _results(page).locator("[data-result-link]")
    assert links.nth(0).evaluate("node => node === document.activeElement")
    if links.count() > 1:
        page.keyboard.press("ArrowDown")
        assert links.nth(1).evaluate("node => node === document.activeElement")
        page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert box.evaluate("node => node === document.activeElement")

    # Gibberish: the relevance floor leaves no meaning-only match, so nothing is found.
    box.fill("qwpeoiru zmxncb asdkjh")
    box.press("Enter")
    _settled(page, "qwpeoiru zmxncb asdkjh")
    page.get_by_text(re.compile("^Nothing found for")).wait_for()
    assert _results(page).count() == 0
    shot(page, FOLDER, "02-gibberish-nothing-found")

    # The box stops at the API's 1,000 characters, and says so, instead of an error.
    box.fill("")
    box.focus()
    page.keyboard.insert_text("y" * 1200)
    assert len(box.input_value()) == 1000
    page.get_by_text("A query can be at most 1,000 characters.").wait_for()
    assert page.get_by_role("alert").count() == 0

    # Open in context: the query's words are marked there, and "Back to results" restores.
    box.fill(MANY_IN_ONE)
    box.press("Enter")
    _settled(page, MANY_IN_ONE)
    _results(page).first.get_by_role("link", name="Open in context").click()
    page.wait_for_url(re.compile(r"/sources/[0-9a-f-]+\?passage=\d+&q=starter"))
    target = page.locator(".passage[aria-current='true']")
    target.wait_for()
    page.locator(".conversation .passage mark").first.wait_for()
    marked = {m.lower() for m in page.locator(".conversation .passage mark").all_inner_texts()}
    assert {"starter", "doubles"} <= marked
    # The summary card is in place and the opened passage is still in view.
    page.get_by_role("heading", name="Summary").wait_for()
    page.wait_for_function(
        "() => { const r = document.querySelector('.passage.target').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    shot(page, FOLDER, "03-conversation-marked")
    page.get_by_role("link", name="← Back to results").click()
    _settled(page, MANY_IN_ONE)
    assert page.get_by_label("Search your conversations").input_value() == MANY_IN_ONE
    assert _results(page).first.locator(".result-title").inner_text() == (
        "Sourdough starter troubleshooting"
    )

    phone = new_page(browser, dev.origin, errors, viewport={"width": 390, "height": 844})
    phone.goto(page.url)
    phone.get_by_label("Email").fill("product@example.com")
    phone.get_by_label("Password").fill("a-long-password")
    phone.get_by_role("form", name="Sign in").get_by_role("button", name="Sign in").click()
    phone.get_by_role("navigation", name="Main").wait_for()
    phone.goto(page.url)
    _settled(phone, MANY_IN_ONE)
    phone.locator("ol.results > li").first.get_by_role(
        "button", name=re.compile("more passages? in this conversation")
    ).click()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    shot(phone, FOLDER, "04-grouped-phone", full_page=True)
    assert errors == []


def test_the_page_says_when_passages_are_still_indexing_and_refreshes(
    dev: DevStack, browser: Browser
) -> None:
    errors: list[str] = []
    page = new_page(browser, dev.origin, errors, viewport={"width": 1280, "height": 800})
    sign_up(page, "indexing@example.com")
    import_fixture(page)
    page.keyboard.press("Escape")
    with (
        psycopg.connect(_database_url(dev), autocommit=True) as admin,
        psycopg.connect(_database_url(dev)) as holder,
    ):
        (workspace, model) = admin.execute(
            "select w.id, w.embedding_model_id from public.workspaces w"
            " join auth.users u on u.id = w.owner_id where u.email = 'indexing@example.com'"
        ).fetchone() or (None, None)
        assert workspace is not None
        admin.execute("delete from public.chunk_embeddings where workspace_id = %s", [workspace])
        # Held: the worker takes the queue and then waits to store the embeddings, so the
        # passages stay pending for as long as the test needs, with no race.
        holder.execute("lock table public.chunk_embeddings in share mode")
        admin.execute(
            "insert into public.embedding_queue (chunk_id, model_id, workspace_id)"
            " select id, %s, workspace_id from public.chunks where workspace_id = %s",
            [model, workspace],
        )
        page.keyboard.press("/")
        box = page.get_by_label("Search your conversations")
        box.fill(BY_MEANING)
        box.press("Enter")
        _settled(page, BY_MEANING)
        notice = page.get_by_text(
            re.compile(r"^\d+ conversations? (is|are) still being indexed for meaning search")
        )
        notice.wait_for()
        assert _results(page).count() == 0
        shot(page, FOLDER, "05-indexing-notice")
        holder.rollback()  # embedding ends; the page looks again on its own
        notice.wait_for(state="detached", timeout=120_000)
        _results(page).filter(has_text="Bicycle gears").first.wait_for()
    shot(page, FOLDER, "06-indexing-done")
    assert errors == []
