"""Answers, micro-threads, topic threads and summaries in the web app, end to end: Debian's
Chromium (driven by Playwright) against `knitter dev`, with no API key anywhere, so every
answer and summary is extractive.

Sign up → import the ChatGPT fixture export → wait until the conversations are grouped
into topic threads → open a thread and summarise it → open one of its conversations and
follow its thread link → ask about a passage → ask a question on the search page and follow
a citation to the passage. Screenshots go to test-artifacts/e2e-threads-browser/.

What the tests need: tests/e2e/conftest.py."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest

from tests.conftest import DevStack
from tests.e2e.pages import MARKS, import_fixture, new_page, shot, sign_up

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# The embedding worker groups new conversations once they are embedded; allow for a slow CI.
GROUPING_TIMEOUT_S = 120
NO_MODEL = "No language model was used"
VIEWPORT = {"width": 1280, "height": 900}

pytestmark = MARKS


def _shot(page: Page, name: str) -> None:
    shot(page, "e2e-threads-browser", name, full_page=True)


def _import_fixture(page: Page) -> None:
    import_fixture(page)
    page.keyboard.press("Escape")
    page.get_by_role("dialog", name="Import").wait_for(state="hidden")


def _wait_for_threads(page: Page) -> int:
    """Opens the Threads page and waits until it lists a thread (the page polls while
    conversations wait for their embeddings; a reload now and then covers the rest)."""
    page.get_by_role("link", name="Threads", exact=True).click()
    page.get_by_role("heading", name="Threads", exact=True).wait_for()
    page.get_by_label("Granularity").wait_for()
    threads = page.get_by_role("list", name="Topic threads").get_by_role("listitem")
    deadline = time.monotonic() + GROUPING_TIMEOUT_S
    while True:
        try:
            threads.first.wait_for(timeout=10_000)
            return threads.count()
        except Exception:
            if time.monotonic() > deadline:
                _shot(page, "00-no-threads")
                pytest.fail(
                    f"no topic thread after {GROUPING_TIMEOUT_S} s; the page says: "
                    + page.locator("main").inner_text()
                )
            page.reload()


def test_answers_threads_and_summaries(dev: DevStack, browser: Browser) -> None:
    errors: list[str] = []
    page = new_page(browser, dev.origin, errors, viewport=VIEWPORT)
    sign_up(page, "threads@example.com")
    _import_fixture(page)

    # Threads: the imported conversations are grouped without anyone asking.
    assert _wait_for_threads(page) >= 1
    assert "Granularity" in page.locator(".granularity").inner_text()
    assert "hand are lost" in page.locator("#granularity-help").inner_text()
    _shot(page, "01-threads")

    first = page.get_by_role("list", name="Topic threads").get_by_role("listitem").first
    first.locator(".result-title").click()
    page.wait_for_url(re.compile(r"/threads/[0-9a-f-]+$"))
    thread_url = page.url
    conversations = page.get_by_role("list", name="Conversations in this thread")
    conversations.get_by_role("listitem").first.wait_for()

    # Summarise the thread: an extractive summary appears (and may retitle the thread).
    page.get_by_role("button", name=re.compile(r"^(Summarize|Refresh summary)$")).click()
    summary = page.locator(".summary-text")
    summary.wait_for(timeout=60_000)
    assert summary.inner_text().strip()
    page.get_by_role("button", name="Refresh summary").wait_for()
    _shot(page, "02-thread")

    # One of its conversations links back to the thread.
    conversations.get_by_role("listitem").first.locator(".result-title").click()
    page.wait_for_url(re.compile(r"/sources/[0-9a-f-]+$"))
    thread_link = page.locator(".thread-link").get_by_role("link")
    thread_link.wait_for()
    href = thread_link.get_attribute("href")
    assert href is not None and thread_url.endswith(href)

    # Ask about a passage: answered from it without a model, and kept in its list.
    question = "What should I do about it?"
    page.get_by_role("button", name="Ask about this passage").first.click()
    panel = page.get_by_role("region", name="Questions about this passage")
    panel.get_by_label("Your question about this passage").fill(question)
    panel.get_by_role("button", name="Ask", exact=True).click()
    asked = panel.get_by_role("list", name="Questions asked").get_by_role("listitem")
    asked.first.wait_for(timeout=60_000)
    assert question in asked.first.locator(".micro-question").inner_text()
    assert asked.first.locator(".badge").inner_text() == NO_MODEL
    _shot(page, "03-micro-thread")

    # Ask on the search page: a streamed, extractive answer whose citations lead to passages.
    page.get_by_role("link", name="Search", exact=True).click()
    page.get_by_label("Search your conversations").fill(
        "Why does my sourdough starter smell like acetone?"
    )
    page.get_by_role("button", name="Ask", exact=True).click()
    answer = page.get_by_role("region", name="Answer")
    answer.locator(".badge").get_by_text(NO_MODEL).wait_for(timeout=60_000)
    citations = answer.locator("a.cite")
    assert citations.count() >= 1
    cited = answer.get_by_role("list", name="Cited passages").get_by_role("listitem")
    assert cited.count() >= 1
    _shot(page, "04-answer")
    citations.first.click()
    page.wait_for_url(re.compile(r"/sources/[0-9a-f-]+\?passage=\d+$"))
    page.locator(".passage[aria-current='true']").wait_for()
    _shot(page, "05-cited-passage")

    assert errors == []


def test_merging_splitting_renaming_and_regrouping_threads(dev: DevStack, browser: Browser) -> None:
    errors: list[str] = []
    page = new_page(browser, dev.origin, errors, viewport=VIEWPORT)
    sign_up(page, "editor@example.com")
    _import_fixture(page)
    assert _wait_for_threads(page) >= 2, "the fixture's three topics should not share a thread"
    rows = page.get_by_role("list", name="Topic threads").get_by_role("listitem")

    # Keyless titles are phrases, not "A · B · C" stems.
    # (The worker titles threads right after placing conversations in them.)
    titles = rows.locator(".result-title")
    deadline = time.monotonic() + 30
    while "Untitled thread" in (before := titles.all_inner_texts()):
        assert time.monotonic() < deadline, f"threads still untitled: {before}"
        time.sleep(1)
        page.reload()
        rows.first.wait_for()
    _shot(page, "04-threads-titled")
    assert all(t and " · " not in t for t in before), before

    # Merge two threads: the first one checked (here the second row) survives, with both
    # conversations and its title, as the page promises.
    rows.nth(1).get_by_role("checkbox").check()
    rows.nth(0).get_by_role("checkbox").check()
    survivor = rows.nth(1).locator(".result-title").get_attribute("href")
    kept = before[1]
    page.get_by_role("button", name="Merge selected").click()
    page.wait_for_url(f"**{survivor}")
    conversations = page.get_by_role("list", name="Conversations in this thread")
    conversations.get_by_role("listitem").nth(1).wait_for()
    assert conversations.get_by_role("listitem").count() == 2
    page.get_by_role("heading", name=kept, exact=True).wait_for()
    _shot(page, "05-merged")
    # Still so once the embedding worker has had its turns (it retitles pending threads),
    # on the list and on the thread's page.
    time.sleep(6)
    page.get_by_role("link", name="Threads", exact=True).click()
    merged = rows.filter(has=page.locator(f".result-title[href='{survivor}']"))
    merged.wait_for()
    assert merged.locator(".result-title").inner_text() == kept
    assert rows.count() == len(before) - 1
    merged.locator(".result-title").click()
    page.get_by_role("heading", name=kept, exact=True).wait_for()

    # Rename in place.
    page.get_by_role("button", name="Rename").click()
    page.get_by_label("Thread title").fill("Kitchen and bikes")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Kitchen and bikes").wait_for()

    # Split one conversation off into a new, titled thread.
    conversations.get_by_role("listitem").first.get_by_role("checkbox").check()
    page.get_by_label("Title of the new thread (optional)").fill("Bread only")
    page.get_by_role("button", name="Split into a new thread").click()
    page.wait_for_url(lambda url: "/threads/" in url and not url.endswith(survivor or "?"))
    page.get_by_role("heading", name="Bread only", exact=True).wait_for()
    conversations.get_by_role("listitem").first.wait_for()
    assert conversations.get_by_role("listitem").count() == 1
    _shot(page, "06-split")

    # The database refuses to empty a thread: its reason is shown.
    conversations.get_by_role("listitem").first.get_by_role("checkbox").check()
    page.get_by_role("button", name="Split into a new thread").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "at least one conversation" in alert.inner_text()

    # Regroup at another granularity: hand-made threads are replaced.
    page.get_by_role("link", name="Threads", exact=True).click()
    rows.first.wait_for()
    assert rows.count() >= 2
    page.get_by_label("Granularity").fill("0.1")
    assert page.locator(".granularity output").inner_text() == "0.10"
    page.get_by_role("button", name="Regroup").click()
    status = page.locator(".granularity [role='status']")
    page.wait_for_function(
        "node => /Regrouped \\d+ conversations? into \\d+ threads?/.test(node.textContent)",
        arg=status.element_handle(),
    )
    titles = page.get_by_role("list", name="Topic threads").locator(".result-title")
    titles.first.wait_for()
    assert not {"Kitchen and bikes", "Bread only"} & set(titles.all_inner_texts())
    _shot(page, "07-regrouped")

    assert errors == []
