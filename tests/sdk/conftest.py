"""Fixtures of the browser tests: one real ingest service, the test sites, real Chromium.

The service and the browser are started once for this package (each test gets a fresh browser context:
empty storage and cookies, and its own events, told apart by their ids). `site` proxies `/api/*`
same-origin as a web app would; `cross_site` is another origin that talks to the service directly
(it is in `INGEST_CORS_ORIGINS`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from tests.sdk.chromium import launch_chromium, new_context
from tests.sdk.ingest_process import IngestProcess
from tests.sdk.site_server import TestSite


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    # package scope, not session: Playwright's sync API runs an event loop in this thread while it
    # is open, and the tests that come after this package call asyncio.run
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def cross_site() -> Iterator[TestSite]:
    site = TestSite(upstream=None).start()
    yield site
    site.close()


@pytest.fixture(scope="package")
def ingest(tmp_path_factory: pytest.TempPathFactory, cross_site: TestSite) -> Iterator[IngestProcess]:
    service = IngestProcess(tmp_path_factory.mktemp("sdk-ingest"), INGEST_CORS_ORIGINS=cross_site.origin)
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="package")
def _site(ingest: IngestProcess) -> Iterator[TestSite]:
    site = TestSite(upstream=ingest.url).start()
    yield site
    site.close()


@pytest.fixture
def site(_site: TestSite, cross_site: TestSite) -> TestSite:
    """The web app's site (same-origin proxy), with no recorded requests, faults or signed-in user."""
    _site.reset()
    cross_site.reset()
    return _site


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = new_context(browser)
    yield context
    context.close()


@pytest.fixture
def make_service(tmp_path, cross_site: TestSite) -> Iterator:
    """make_service(**env) → a started ingest service of this test's own (stopped at teardown)."""
    services: list[IngestProcess] = []

    def make(**env: str) -> IngestProcess:
        service = IngestProcess(
            tmp_path / f"ingest-{len(services)}", INGEST_CORS_ORIGINS=cross_site.origin, **env
        )
        services.append(service)
        return service.start()

    yield make
    for service in services:
        service.stop()


@pytest.fixture
def make_site() -> Iterator:
    """make_site(upstream) → another web app site (its own origin) proxying to `upstream`."""
    sites: list[TestSite] = []

    def make(upstream: str | None) -> TestSite:
        site = TestSite(upstream=upstream).start()
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()
