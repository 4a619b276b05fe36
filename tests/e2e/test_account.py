"""Settings → Account in Chromium against `knitter dev`: a guest is warned before signing
out and turns their session into an account that keeps their imports (PUT /auth/v1/user
through supabase-js `updateUser`), exports a zip, changes the password, and deletes the
account, after which the app is signed out. Screenshots (desktop and 390x844) go to
test-artifacts/e2e-account/.

What the tests need: tests/e2e/conftest.py."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import TYPE_CHECKING

from tests.conftest import DevStack
from tests.e2e.pages import MARKS, import_fixture, new_page, shot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Response

FOLDER = "e2e-account"
EMAIL = "kept-guest@example.com"
FIRST_PASSWORD = "a guest no more"
SECOND_PASSWORD = "another long password"

pytestmark = MARKS


def _sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("form", name="Sign in").get_by_role("button", name="Sign in").click()


def _account(page: Page) -> None:
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("heading", name="Account").wait_for()


def test_a_guest_keeps_their_data_then_exports_and_deletes_the_account(
    dev: DevStack, browser: Browser
) -> None:
    errors: list[str] = []
    dialogs: list[str] = []
    page = new_page(browser, dev.origin, errors, viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    page.goto("/")
    page.get_by_role("button", name="Continue as guest").click()
    page.get_by_role("navigation", name="Main").wait_for()
    import_fixture(page)
    page.keyboard.press("Escape")

    _account(page)
    form = page.get_by_role("form", name="Create an account")
    form.get_by_text("At least 8 characters.").wait_for()  # said before submitting
    shot(page, FOLDER, "01-guest-account", full_page=True)
    form.get_by_label("Email").fill(EMAIL)
    form.get_by_label("New password").fill(FIRST_PASSWORD)
    form.get_by_role("button", name="Create account").click()
    page.get_by_text("Your account is ready").wait_for()
    # The refreshed session is a permanent user's: the header names them, keys are allowed.
    page.locator(".who").filter(has_text=EMAIL).wait_for()
    page.get_by_label("OpenAI API key").wait_for()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Continue as guest").wait_for()
    assert dialogs == []  # no guest warning for an account
    _sign_in(page, EMAIL, FIRST_PASSWORD)
    page.get_by_role("navigation", name="Main").wait_for()
    page.get_by_role("link", name="Search", exact=True).click()
    page.get_by_label("Search your conversations").fill("sourdough")
    page.locator("ol.results > li").filter(has_text="Sourdough starter troubleshooting").wait_for()

    # Export: a zip with conversations.json and the guest-era imports in it. Settings loads
    # without a single failed request (no 404 for keys that are not stored).
    failed: list[str] = []

    def on_response(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("response", on_response)
    _account(page)
    page.get_by_text("No key stored", exact=False).first.wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export my data").click()
    download = download_info.value
    assert re.fullmatch(r"knitter-export-\d{4}-\d{2}-\d{2}\.zip", download.suggested_filename)
    path = download.path()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        assert "conversations.json" in archive.namelist()
        exported = json.loads(archive.read("conversations.json"))
    assert "Sourdough starter troubleshooting" in json.dumps(exported)
    page.remove_listener("response", on_response)
    assert failed == []

    # Change the password: a short one is refused here, a good one works at sign-in.
    change = page.get_by_role("form", name="Change password")
    change.get_by_label("New password").fill(SECOND_PASSWORD)
    change.get_by_label("Repeat it").fill(SECOND_PASSWORD + "!")
    change.get_by_role("button", name="Change password").click()
    change.get_by_text("The two passwords differ.").wait_for()
    change.get_by_label("Repeat it").fill(SECOND_PASSWORD)
    change.get_by_role("button", name="Change password").click()
    change.get_by_text("Password changed").wait_for()

    # Delete: only the typed phrase arms the button; afterwards the app is signed out.
    delete = page.get_by_role("form", name="Delete account")
    button = delete.get_by_role("button", name="Delete my account")
    assert button.is_disabled()
    delete.get_by_label("Confirmation").fill("delete my account")
    shot(page, FOLDER, "02-account-delete-armed", full_page=True)
    button.click()
    page.get_by_role("button", name="Continue as guest").wait_for()
    shot(page, FOLDER, "03-signed-out-after-delete")
    _sign_in(page, EMAIL, SECOND_PASSWORD)
    page.get_by_text("Invalid login credentials").wait_for()
    assert errors == []


def test_a_guest_is_warned_before_signing_out(dev: DevStack, browser: Browser) -> None:
    errors: list[str] = []
    page = new_page(browser, dev.origin, errors, viewport={"width": 390, "height": 844})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    page.goto("/")
    page.get_by_role("button", name="Continue as guest").click()
    page.get_by_role("navigation", name="Main").wait_for()
    _account(page)
    shot(page, FOLDER, "04-guest-account-phone", full_page=True)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Continue as guest").wait_for()
    assert len(dialogs) == 1 and "nothing you imported can be reached again" in dialogs[0]
    assert errors == []
