"""The Import history page in Chromium against `knitter dev`: after the Import dialog is
closed, every job is still listed with its status, counts and errors in plain words, next
to the guides for getting exports out. Screenshots (desktop and 390x844) go to
test-artifacts/e2e-import-history/.

What the tests need: tests/e2e/conftest.py."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import DevStack
from tests.e2e.pages import MARKS, import_fixture, new_page, shot, sign_up

if TYPE_CHECKING:
    from playwright.sync_api import Browser

FOLDER = "e2e-import-history"

pytestmark = MARKS


def test_the_import_history_outlives_the_dialog(
    dev: DevStack, browser: Browser, tmp_path: Path
) -> None:
    errors: list[str] = []
    page = new_page(browser, dev.origin, errors, viewport={"width": 1280, "height": 900})
    sign_up(page, "history@example.com")
    import_fixture(page)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    dialog = page.get_by_role("dialog", name="Import")
    dialog.get_by_label("Files to import").set_input_files(str(broken))
    dialog.locator("li.import-item").filter(has_text="broken.zip").get_by_text(
        "1 failed"
    ).wait_for()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    page.get_by_role("link", name="Imports", exact=True).click()
    page.get_by_role("heading", name="Import history").wait_for()
    rows = (
        page.get_by_role("list", name="Imports")
        .get_by_role("listitem")
        .filter(has=page.locator(".import-row-head"))
    )
    rows.nth(1).wait_for()
    assert rows.count() == 2
    newest, oldest = rows.nth(0), rows.nth(1)
    assert newest.locator(".import-row-head strong").inner_text() == "Failed"
    assert "broken.zip: A damaged or incomplete zip" in newest.inner_text()
    assert "Importing" not in newest.inner_text()
    assert oldest.locator(".import-row-head strong").inner_text() == "Done"
    assert "3 added" in oldest.inner_text()
    for guide in ("ChatGPT", "Claude", "Gemini (Google Takeout)", "Coding agents"):
        page.get_by_text(guide, exact=True).wait_for()
    shot(page, FOLDER, "01-history-desktop", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    shot(page, FOLDER, "02-history-phone", full_page=True)
    assert errors == []
