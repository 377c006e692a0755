"""Fixtures of the end-to-end tests: Debian's Chromium, driven by Playwright."""

from __future__ import annotations

import pytest

from tests.support.phone import CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (each test opens its own contexts)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
