"""What the browser tests share: opening a watched page, signing up, importing the fixture
export through the Import dialog, screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
FIXTURE = ROOT / "tests" / "fixtures" / "chatgpt" / "conversations.json"
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "a-long-password"
MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


def shot(page: Page, folder: str, name: str, *, full_page: bool = False) -> None:
    """A screenshot in test-artifacts/<folder>/ (ignored by git)."""
    (ARTIFACTS / folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / folder / f"{name}.png"), full_page=full_page)


def new_page(browser: Browser, origin: str, errors: list[str], **options: object) -> Page:
    """A page in a fresh context whose errors are collected: page errors, console errors
    (a CSP refusal, a React error) and 5xx answers. An expected 4xx (no key stored yet) is
    logged by Chromium as "Failed to load resource" and does not count. Dialogs are
    accepted."""
    context = browser.new_context(base_url=origin, **options)  # type: ignore[arg-type]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} from {r.url}") if r.status >= 500 else None,
    )
    page.on("dialog", lambda dialog: dialog.accept())
    page.set_default_timeout(30_000)
    return page


def sign_up(page: Page, email: str) -> None:
    page.goto("/")
    page.get_by_role("tab", name="Create account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("form", name="Create account").get_by_role(
        "button", name="Create account"
    ).click()
    page.get_by_role("navigation", name="Main").wait_for()


def import_fixture(page: Page) -> None:
    """Imports the ChatGPT fixture export; the dialog stays open."""
    page.get_by_role("button", name="Import", exact=True).click()
    dialog = page.get_by_role("dialog", name="Import")
    dialog.get_by_label("Files to import").set_input_files(str(FIXTURE))
    item = dialog.get_by_role("list", name="Imports").get_by_role("listitem").first
    # "Done" only once the passages are embedded as well (semantically searchable).
    item.get_by_text(re.compile(r"^Done$")).wait_for(timeout=180_000)
    assert "3 added" in item.inner_text()
    # The empty conversation is skipped, and the person is told why.
    assert "skipped: conversation 3 ('Empty chat'): no messages" in item.inner_text()
