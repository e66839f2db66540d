"""Driving the test page (pages/app.html) from a test: its URL, the SDK client in it, its storage."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Page

from tests.sdk.site_server import TestSite


def page_url(site: TestSite, path: str = "/app.html", module: str | None = None, **options: Any) -> str:
    """The test page with createAnalytics options (`?options=` JSON) and where the SDK comes from."""
    query = {"options": json.dumps(options)}
    if module:
        query["module"] = module
    return site.url(f"{path}?{urlencode(query)}")


def open_sdk_page(page: Page, url: str) -> Page:
    page.goto(url)
    page.wait_for_function("window.sdkReady === true")
    return page


def local_storage(page: Page) -> dict[str, Any]:
    """The SDK's keys in the page's localStorage, JSON-decoded."""
    raw = page.evaluate("Object.fromEntries(Object.entries(localStorage))")
    return {key: json.loads(value) for key, value in raw.items() if key.startswith("ia.")}


def queued_event_ids(page: Page) -> list[str]:
    ids = []
    for key, queue in local_storage(page).items():
        if key.startswith("ia.q."):
            ids.extend(item["event"].get("eventId") or item["event"].get("event_id") for item in queue)
    return ids
