"""Agents in the web app, end to end: Debian's Chromium (Playwright) against `knitter dev`.

Sign up → make a read-write access token in Settings (shown once) → the SDK's MCP client
saves a note with it over Streamable HTTP → the list shows it was used → import the
fixture export, open a conversation, download its context pack (within budget) → revoke
the token in Settings → /mcp refuses it. Screenshots go to test-artifacts/e2e-agents/.

What the tests need: tests/e2e/conftest.py."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx

from api.pipeline.chunking import count_tokens
from tests.conftest import DevStack
from tests.e2e.pages import MARKS, import_fixture, new_page, shot, sign_up
from tests.test_mcp import call, data, http_session

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = MARKS
VIEWPORT = {"width": 1280, "height": 900}
T = TypeVar("T")


def _shot(page: Page, name: str) -> None:
    shot(page, "e2e-agents", name, full_page=True)


def off_the_page(fn: Callable[[], T]) -> T:
    """Runs an asyncio client beside Playwright's own loop, in a thread of its own."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result(timeout=120)


def test_access_tokens_and_context_packs(dev: DevStack, browser: Browser) -> None:
    errors: list[str] = []
    page = new_page(browser, dev.origin, errors, viewport=VIEWPORT, accept_downloads=True)
    sign_up(page, f"agents-{uuid.uuid4().hex[:8]}@example.com")

    page.get_by_role("link", name="Settings", exact=True).click()
    form = page.get_by_role("form", name="New access token")
    form.get_by_label("Name").fill("Claude Desktop")
    form.get_by_label("Scope").select_option("read-write")
    form.get_by_role("button", name="Create token").click()
    token = page.get_by_label("New access token value").inner_text().strip()
    assert re.fullmatch(r"knt_[0-9a-f]{64}", token)
    page.get_by_role("button", name="Copy", exact=True).click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == token
    _shot(page, "01-token-made")
    page.get_by_role("button", name="Done").click()
    listed = page.get_by_role("list", name="Access tokens").get_by_role("listitem")
    assert listed.count() == 1
    row = listed.first.inner_text()
    assert token[:12] in row and token not in row and "never used" in row
    assert token not in page.content()  # shown once: gone from the page

    async def save() -> dict[str, Any]:
        async with http_session(dev, token) as session:
            saved: dict[str, Any] = data(
                await call(session, "save_note", text="Agents may write here.", title="Hello")
            )
            return saved

    saved = off_the_page(lambda: anyio.run(save))
    assert saved["saved"] is True
    page.reload()
    listed.first.get_by_text(re.compile("last used")).wait_for()

    import_fixture(page)
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Sources", exact=True).click()
    sources = page.get_by_role("list", name="Imported sources").get_by_role("listitem")
    sources.first.wait_for()
    sources.filter(has_text="Bicycle gears").get_by_role("link").first.click()
    page.get_by_role("heading", name="Bicycle gears").wait_for()
    page.get_by_label("Pack budget in tokens").select_option("500")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download pack").click()
    pack = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename == "bicycle-gears.md"
    assert pack.startswith("# Context pack: Bicycle gears") and count_tokens(pack) <= 500
    assert re.search(r"^\[1\]: .*/sources/.*\?passage=\d+$", pack, re.MULTILINE)
    done = page.get_by_role("status").filter(has_text="Downloaded")
    done.wait_for()
    assert re.fullmatch(
        r"Downloaded: [\d,]+ tokens, (1 passage|\d+ passages) cited\.", done.inner_text()
    )
    _shot(page, "02-pack-downloaded")

    page.get_by_role("link", name="Settings", exact=True).click()
    listed.first.get_by_role("button", name="Revoke").click()
    listed.first.get_by_text(re.compile("revoked")).wait_for()
    _shot(page, "03-token-revoked")
    refused = httpx.post(
        f"{dev.origin}/mcp",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        timeout=30,
    )
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error_description"]
    assert errors == []
