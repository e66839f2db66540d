"""Debian's Chromium driven by Playwright's Python package (never `playwright install`, which
downloads a browser build of its own and fails offline)."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright

#: flags that work on a closed network: without the background-networking ones Chromium keeps
#: trying to reach Google's hosts. Playwright adds --headless itself and starts every launch with
#: a fresh, empty user-data-dir.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Chromium's real Global Privacy Control (navigator.globalPrivacyControl and Sec-GPC), switched on
GPC_FLAGS = ["--enable-features=GlobalPrivacyControl,GlobalPrivacyControlForce"]
#: a normal desktop Chrome: headless Chromium says `HeadlessChrome`, which the service rightly calls a bot
DESKTOP_CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Chromium is not installed: run `bash .ci/ensure-browser.sh` (apt-get install chromium)",
            pytrace=False,
        )
    return path


def launch_chromium(playwright: Playwright, extra_flags: list[str] | None = None) -> Browser:
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS + (extra_flags or [])
    )


def new_context(browser: Browser) -> BrowserContext:
    """A fresh profile's worth of state (storage, cookies) with a desktop user agent."""
    context = browser.new_context(user_agent=DESKTOP_CHROME_UA, viewport={"width": 1200, "height": 800})
    context.set_default_timeout(15_000)
    return context
