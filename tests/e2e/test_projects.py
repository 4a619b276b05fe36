"""A Claude project in the web app, end to end: Debian's Chromium (Playwright) against
`knitter dev`. Import a Claude export whose conversation names its project only by uuid,
beside projects.json → the source list labels the conversation "Project: <name>" → the
label lists the project's sources (the project's documents and its conversation) → the
conversation view links back to the project. Screenshots go to test-artifacts/e2e-projects/.

What the tests need: tests/e2e/conftest.py."""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import FIXTURES, DevStack
from tests.e2e.pages import MARKS, new_page, shot, sign_up

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = MARKS
EXPORT_2025 = FIXTURES / "claude" / "export-2025"
PROJECT = "7a0b0c0d-0000-4000-8000-00000000p001"


def test_a_project_conversation_is_labelled_and_lists_its_project(
    dev: DevStack, browser: Browser, tmp_path: Path
) -> None:
    chats = json.loads((EXPORT_2025 / "conversations.json").read_text(encoding="utf-8"))
    chats[0]["project_uuid"] = PROJECT
    archive = tmp_path / "claude-export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("conversations.json", json.dumps(chats))
        for name in ("projects.json", "users.json", "memories.json"):
            z.write(EXPORT_2025 / name, name)
    errors: list[str] = []
    page = new_page(browser, dev.origin, errors, viewport={"width": 1280, "height": 900})
    sign_up(page, f"projects-{uuid.uuid4().hex[:8]}@example.com")

    page.get_by_role("button", name="Import", exact=True).click()
    dialog = page.get_by_role("dialog", name="Import")
    dialog.get_by_label("Files to import").set_input_files(str(archive))
    item = dialog.get_by_role("list", name="Imports").get_by_role("listitem").first
    item.get_by_text(re.compile(r"^Done$")).wait_for(timeout=180_000)
    assert "2 added" in item.inner_text()  # the conversation and the project
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Sources", exact=True).click()
    sources = page.get_by_role("list", name="Imported sources").get_by_role("listitem")
    sources.first.wait_for()
    assert sources.count() == 2
    kiln = sources.filter(has_text="Kiln firing schedule")
    kiln.get_by_role("link", name="Project: Pottery studio").click()
    page.wait_for_url(re.compile(rf"/sources\?project={PROJECT}$"))
    page.get_by_text("In project “Pottery studio”").wait_for()
    sources.nth(1).wait_for()
    listed = sorted(
        sources.nth(i).locator(".result-title").inner_text() for i in range(sources.count())
    )
    assert listed == ["Kiln firing schedule", "Project: Pottery studio"]
    project = sources.filter(has_text="Project: Pottery studio (its sources)")
    assert project.count() == 1  # the project's own source says what it is
    shot(page, "e2e-projects", "01-project-sources", full_page=True)

    sources.filter(has_text="Kiln firing schedule").get_by_role(
        "link", name="Kiln firing schedule"
    ).click()
    page.get_by_role("heading", name="Kiln firing schedule").wait_for()
    back = page.locator(".conversation-head").get_by_role("link", name="Project: Pottery studio")
    assert back.get_attribute("href") == f"/sources?project={PROJECT}"
    assert errors == []
