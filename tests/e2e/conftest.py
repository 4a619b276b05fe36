"""The web app end to end: Debian's Chromium, driven by Playwright, against `knitter dev`
(a subprocess) with no remote provider key. Needs the built frontend (frontend/dist:
`npm ci && npm run build` in frontend/) and /usr/bin/chromium (`apt-get install
chromium`); without Chromium the tests are skipped (tests.e2e.pages.MARKS)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.conftest import DevStack, start_dev
from tests.e2e.pages import CHROMIUM, CHROMIUM_ARGS, ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    if not (ROOT / "frontend" / "dist" / "index.html").is_file():
        pytest.fail("frontend/dist is not built: run `npm ci && npm run build` in frontend/")
    # Remote providers' keys are left out: nothing may reach the network, and answers and
    # summaries are extractive.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.pop("DATABASE_URL", None)
    stack = start_dev(tmp_path_factory.mktemp("knitter-home"), env)
    try:
        config = httpx.get(f"{stack.origin}/config.js", timeout=5)
        assert config.status_code == 200, "knitter dev does not serve the web app's /config.js"
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
