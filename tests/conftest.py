"""Shared fixtures: a runtime on a temporary data directory, the shared data folder, a Chromium launcher."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from replayvault.config import Settings
from replayvault.runtime import Runtime

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
RECORDINGS = SHARED / "recordings"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"


def need_shared() -> Path:
    """The shared recordings folder, or skip (a user's fresh clone has no ../shared)."""
    if not RECORDINGS.is_dir():
        pytest.skip("../shared/data/recordings is not present beside the checkout")
    return RECORDINGS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", allowed_hosts="127.0.0.1,localhost,testserver")


@pytest.fixture
def rt(settings: Settings) -> Runtime:
    return Runtime(settings)


@pytest.fixture(scope="session")
def chromium():
    """A Playwright Chromium browser (Debian's /usr/bin/chromium), or skip when it is absent."""
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def block_outside(context) -> None:  # type: ignore[no-untyped-def]
    """Abort every request that does not go to a loopback address (the network here is closed)."""

    def handler(route):  # type: ignore[no-untyped-def]
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", handler)


def wait_for(page, predicate, timeout: float = 10.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something truthy (returned); waits through Playwright
    (``page.wait_for_timeout``) so route handlers keep running meanwhile.

    Raises:
        AssertionError: still falsy after ``timeout`` seconds.
    """
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(50)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(rt):
    """The replayvault app served by uvicorn on a free loopback port; yields its base URL."""
    from replayvault.demo_runner import start_server
    from replayvault.web.app import create_app

    port = free_port()
    server = start_server(create_app(rt), "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
