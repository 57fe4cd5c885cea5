"""Fixtures for the web app's browser tests: the built site served beside the session's
offline stack, Debian's Chromium driven by Playwright, and screenshots in test-artifacts/.

Import the fixtures a test module uses from here (they build on tests/conftest.py's
`offline_stack`). Playwright never downloads a browser: it drives /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from local.config import REPO_ROOT
from local.stack import OfflineStack
from local.webapp import WEB_DIST, WebAppServer, WebConfig

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = Path(os.environ.get("STREAMFORGE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # As root, Chromium's own background connections get refused here; keep them off.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "web"
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture(scope="session")
def webapp(offline_stack: OfflineStack) -> Iterator[WebAppServer]:
    """web/dist (built by `make web/dist`) with a config.json for this stack."""
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail(f"{WEB_DIST} is not built: run `make web/dist` (npm ci && npm run build)")
    server = WebAppServer(
        WebConfig(
            api_url=offline_stack.api_url,
            cdn_url=offline_stack.cdn_url,
            uploads_url=offline_stack.s3_endpoint_url,
        ),
        offline_stack.issuer,
    )
    assert offline_stack.gateway is not None and offline_stack.cdn is not None
    for origin in server.origins:
        offline_stack.gateway.allow_origin(origin)
        offline_stack.cdn.allow_origin(origin)
    with server:
        yield server


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@dataclass
class BrowserSession:
    """One signed-in (or anonymous) person: a fresh browser context and its page."""

    context: BrowserContext
    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    expected_errors: list[re.Pattern[str]] = field(default_factory=list)

    def expect_console_error(self, pattern: str) -> None:
        """A console error this test causes on purpose (a 404 it asks for, say): allowed."""
        self.expected_errors.append(re.compile(pattern))

    def unexpected_errors(self) -> list[str]:
        return [
            error
            for error in self.errors
            if error.startswith("pageerror")
            or not any(p.search(error) for p in self.expected_errors)
        ]

    def open(self, route: str = "/") -> None:
        url = f"{self.base_url}/#{route}"
        if self.page.url == url:
            self.page.reload()  # the same hash again would not render the page anew
        else:
            self.page.goto(url)

    def sign_in(self, user: str) -> None:
        self.open(f"/signin?next={'/library'}")
        self.page.get_by_label("User name").fill(user)
        self.page.get_by_role("button", name="Sign in", exact=True).click()
        self.page.locator("main[data-page='library']").wait_for()
        expect(self.page.locator(".account .user")).to_contain_text(user)

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def new_session(browser: Browser, webapp: WebAppServer) -> Iterator[Callable[..., BrowserSession]]:
    """Makes browser sessions (each its own cookies and storage); closes them after the
    test, and fails it if a page raised an uncaught error, logged a console error the test
    did not expect, or opened an alert."""
    sessions: list[BrowserSession] = []

    def make(viewport: dict[str, int] | None = None) -> BrowserSession:
        context = browser.new_context(viewport=viewport or DESKTOP)  # type: ignore[arg-type]
        context.set_default_timeout(15_000)
        page = context.new_page()
        session = BrowserSession(context, page, webapp.url)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":  # with the URL, which a failed load's text omits
                session.errors.append(f"{message.text} [{message.location.get('url', '')}]")
            if "Content Security Policy" in message.text:  # Chromium reports each refusal
                session.csp_violations.append(message.text)

        page.on("pageerror", lambda error: session.errors.append(f"pageerror: {error}"))
        page.on("console", on_console)

        def on_dialog(dialog: object) -> None:
            session.dialogs.append(getattr(dialog, "message", ""))
            dialog.dismiss()  # type: ignore[attr-defined]

        page.on("dialog", on_dialog)
        # The page reports what the CSP refused, also from workers and before any script runs.
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', (e) => console.error("
            "`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`))"
        )
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.context.close()
    unexpected = [e for s in sessions for e in s.unexpected_errors()]
    alerts = [d for s in sessions for d in s.dialogs]
    refused = [v for s in sessions for v in s.csp_violations]
    assert not refused, f"the Content-Security-Policy refused what the app loads: {refused}"
    assert not unexpected, f"errors in the page or its console: {unexpected}"
    assert not alerts, f"the page opened dialogs (script injection?): {alerts}"
