"""Switching a workspace's embedding model in the web app's Settings, in Chromium against
`knitter dev` with KNITTER_LOCAL_MODEL set to a real sentence-transformers model saved on
disk: the menu offers it (the default of new workspaces) and the packaged
all-MiniLM-L6-v2; switching shows "Re-embedding N / M" until the embedding worker has
re-embedded every passage, and search by meaning keeps working throughout.

Screenshots go to test-artifacts/e2e-models/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.conftest import DevStack, start_dev
from tests.e2e.pages import MARKS, ROOT, import_fixture, new_page, shot, sign_up
from tests.e2e.test_web_app import BY_MEANING, _search
from tests.test_embedding_models import saved_local_model

if TYPE_CHECKING:
    from playwright.sync_api import Browser

FOLDER = "e2e-models"
pytestmark = MARKS


@pytest.fixture(scope="module")
def dev_with_local_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    if not (ROOT / "frontend" / "dist" / "index.html").is_file():
        pytest.fail("frontend/dist is not built: run `npm ci && npm run build` in frontend/")
    model = saved_local_model(tmp_path_factory.mktemp("model") / "minilm-64")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.pop("DATABASE_URL", None)
    env["KNITTER_LOCAL_MODEL"] = str(model)
    stack = start_dev(tmp_path_factory.mktemp("knitter-home"), env)
    try:
        assert httpx.get(f"{stack.origin}/config.js", timeout=5).status_code == 200
        yield stack
    finally:
        stack.stop()


def test_switching_the_model_in_settings(dev_with_local_model: DevStack, browser: Browser) -> None:
    errors: list[str] = []
    page = new_page(
        browser, dev_with_local_model.origin, errors, viewport={"width": 1280, "height": 900}
    )
    sign_up(page, "models@example.com")
    import_fixture(page)
    page.keyboard.press("Escape")
    assert "Bicycle gears" in _search(page, BY_MEANING)

    page.get_by_role("link", name="Settings", exact=True).click()
    menu = page.get_by_label(re.compile(r"^Personal"))
    menu.wait_for()
    page.wait_for_function(
        "() => document.querySelector('.workspace-row select').options.length === 2"
    )
    options = [o.strip() for o in menu.locator("option").all_inner_texts()]
    assert len(options) == 2 and options[1] == "local · all-MiniLM-L6-v2 (384d)"
    # KNITTER_LOCAL_MODEL (a path) comes first: the default of new workspaces.
    assert options[0].startswith("local · ") and options[0].endswith("minilm-64 (64d)")
    assert menu.locator("option:checked").inner_text().endswith("minilm-64 (64d)")

    menu.select_option(label="local · all-MiniLM-L6-v2 (384d)")
    progress = page.get_by_role("status").filter(has_text="Re-embedding")
    progress.wait_for()
    assert re.search(
        r"Re-embedding \d+ / \d+ with local · all-MiniLM-L6-v2 \(384d\); search uses local · "
        r".*minilm-64 \(64d\) until every passage is done\.",
        progress.inner_text(),
    ), progress.inner_text()
    shot(page, FOLDER, "01-re-embedding", full_page=True)
    # The worker finishes in the background; the page follows it and the note goes.
    progress.wait_for(state="detached", timeout=120_000)
    assert menu.locator("option:checked").inner_text() == "local · all-MiniLM-L6-v2 (384d)"
    shot(page, FOLDER, "02-switched", full_page=True)
    assert "Bicycle gears" in _search(page, BY_MEANING)
    assert errors == []
