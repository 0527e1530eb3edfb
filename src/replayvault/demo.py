"""The demo bank (``examples/demo_bank``) and scripted visitors that browse it through the real tracker.

- :func:`make_bank_app` serves the static "Northwind Bank" site with the collector URL and the
  project's write key substituted into each page's tracker ``<script>`` tag.
- :data:`JOURNEYS` are scripted visitors (log in, transfer to an IBAN, add a card, KYC, withdraw
  bitcoin, decline consent) typing realistic fake personal data, so the privacy pipeline has
  something to mask.
- :func:`run_journeys` plays them in headless Chromium, one fresh browser context (one session)
  per journey, with every non-loopback request aborted.

Example::

    app = make_bank_app("http://127.0.0.1:8000", write_key)      # serve on 127.0.0.1:8001
    results = run_journeys("http://127.0.0.1:8001")
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from .errors import ConfigError

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Route as PwRoute

__all__ = ["BANK_DIR", "JOURNEYS", "Journey", "make_bank_app", "run_journeys"]

#: Folder of the demo bank site (HTML, CSS, JS; no external assets).
BANK_DIR = Path(__file__).resolve().parents[2] / "examples" / "demo_bank"

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
_STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".png": "image/png"}


# --------------------------------------------------------------------------- bank web app

def _bank_dir() -> Path:
    if not (BANK_DIR / "login.html").is_file():
        raise ConfigError(f"demo bank site not found at {BANK_DIR} (expected examples/demo_bank/login.html "
                          "in a source checkout of replayvault)")
    return BANK_DIR


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def make_bank_app(collector_url: str, write_key: str) -> Starlette:
    """ASGI app serving the demo bank, each page wired to the collector at ``collector_url``.

    ``{{TOPBAR}}`` and ``{{END}}`` in the HTML pages are replaced by the partials ``_topbar.html`` and
    ``_end.html``; then ``{{COLLECTOR}}`` and ``{{WRITE_KEY}}`` (HTML-escaped) by ``collector_url``
    (trailing slash removed) and ``write_key``. ``/`` redirects to the login page.
    Pages carry a Content-Security-Policy that allows scripts and connections only to the bank
    itself and the collector's origin.

    Raises:
        ConfigError: the ``examples/demo_bank`` folder is missing (installed without the sources).
        ValueError: ``collector_url`` is not an absolute http(s) URL, or ``write_key`` is empty.
    """
    root = _bank_dir()
    collector = collector_url.rstrip("/")
    if urlsplit(collector).scheme not in ("http", "https") or not urlsplit(collector).netloc:
        raise ValueError(f"collector_url must be an absolute http(s) URL, got {collector_url!r}")
    if not write_key:
        raise ValueError("write_key must not be empty")
    # Fixed at startup: only files that exist now are served, so no path from a request touches the disk.
    # Files named _*.html are partials (shared top bar, footer + consent banner + scripts), not pages.
    files = {p.name: p for p in root.iterdir()
             if p.is_file() and not p.name.startswith("_") and (p.suffix == ".html" or p.suffix in _STATIC_TYPES)}
    subs = {"{{TOPBAR}}\n": (root / "_topbar.html").read_text(encoding="utf-8"),
            "{{END}}\n": (root / "_end.html").read_text(encoding="utf-8"),
            "{{COLLECTOR}}": html.escape(collector, quote=True), "{{WRITE_KEY}}": html.escape(write_key, quote=True)}
    csp = ("default-src 'self'; "
           f"script-src 'self' {_origin(collector)}; connect-src 'self' {_origin(collector)}; "
           "img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'")
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": csp}

    async def home(request: Request) -> Response:
        return RedirectResponse("/login.html", status_code=302)

    async def asset(request: Request) -> Response:
        path = files.get(request.path_params["name"])
        if path is None:
            return PlainTextResponse("not found", status_code=404)
        if path.suffix == ".html":
            text = path.read_text(encoding="utf-8")
            for placeholder, value in subs.items():
                text = text.replace(placeholder, value)
            return HTMLResponse(text, headers=headers)
        return FileResponse(path, media_type=_STATIC_TYPES[path.suffix], headers=headers)

    return Starlette(routes=[Route("/", home), Route("/{name:str}", asset)])


# --------------------------------------------------------------------------- journeys

Step = Callable[["Page", str], None]


@dataclass(frozen=True)
class Journey:
    """One scripted visitor: what they consent to, their screen, and what they do.

    ``run(page, bank_url)`` starts on the login page with the consent banner showing; ``consent``
    is answered before it runs. ``viewport`` is (width, height) in CSS px.
    """

    name: str
    description: str
    consent: Literal["grant", "decline"]
    run: Step
    viewport: tuple[int, int] = (1280, 800)


def _pause(page: Page, ms: int) -> None:
    page.wait_for_timeout(ms)


def _type(page: Page, selector: str, text: str, delay: int = 35) -> None:
    """Click into a field and type like a person (one key event per character, ``delay`` ms apart)."""
    field = page.locator(selector)
    field.click()
    field.press_sequentially(text, delay=delay)
    _pause(page, 120)


def _go(page: Page, selector: str) -> None:
    """Hover, then click a link and wait for the next page's DOM."""
    link = page.locator(selector).first
    link.hover()
    _pause(page, 150)
    with page.expect_navigation(wait_until="domcontentloaded"):
        link.click()
    _pause(page, 300)


def _scroll(page: Page, dy: int, steps: int = 3) -> None:
    for _ in range(steps):
        page.mouse.wheel(0, dy / steps)
        _pause(page, 180)


def _login(page: Page, username: str, password: str) -> None:
    _type(page, "#username", username)
    _type(page, "#password", password, delay=60)
    _pause(page, 200)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("#login-submit").click()
    _pause(page, 400)


def _submit(page: Page, button: str, done: str) -> None:
    page.locator(button).click()
    page.locator(done).wait_for(state="visible", timeout=5000)
    _pause(page, 600)


def _transfer_iban(page: Page, bank_url: str) -> None:
    _login(page, "anna.schmidt", "Tr0ub4dor&3-nwb")
    _scroll(page, 500)
    page.locator("#transactions tbody tr").nth(4).click()  # looks at a past transfer (dead click)
    _pause(page, 1500)  # nothing happens: a dead click needs a second without any reaction
    _scroll(page, -500)
    _go(page, ".nav a[href='transfer.html']")
    _type(page, "#payee", "Jonas Weber")
    _type(page, "#iban", "DE89 3704 0044 0532 0130 00")
    _type(page, "#amount", "120.00")
    _type(page, "#reference", "Rent share December")
    page.locator("#from").select_option("current")
    _submit(page, "#transfer-submit", "#transfer-done")
    _go(page, "#transfer-done a")


def _add_card(page: Page, bank_url: str) -> None:
    _login(page, "anna.schmidt", "Tr0ub4dor&3-nwb")
    _go(page, "#quick-card")
    _scroll(page, 300, steps=2)
    _type(page, "#holder", "Anna Schmidt")
    _type(page, "#number", "4111 1111 1111 1111", delay=45)
    _type(page, "#expiry", "09/28")
    _type(page, "#cvc", "737", delay=80)
    _submit(page, "#card-submit", "#card-done")


def _kyc(page: Page, bank_url: str) -> None:
    _login(page, "oliver.bennett", "correct-horse-battery-staple")
    _go(page, ".nav a[href='kyc.html']")
    _type(page, "#fullname", "Oliver James Bennett")
    page.locator("#birthdate").fill("1987-04-12")
    _type(page, "#phone", "+44 20 7946 0958")
    _type(page, "#email", "oliver.bennett@example.co.uk")
    _type(page, "#address", "221B Baker Street\nLondon NW1 6XE\nUnited Kingdom", delay=25)
    _scroll(page, 300, steps=2)
    _submit(page, "#kyc-submit", "#kyc-done")


def _crypto_withdrawal(page: Page, bank_url: str) -> None:
    # Mobile viewport: the top navigation is hidden, so the visitor uses the account tile's link.
    _login(page, "satoshi.n", "hodl-2009-genesis")
    _scroll(page, 200, steps=2)
    _go(page, "#acct-crypto a")
    _type(page, "#wallet", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", delay=20)
    _type(page, "#btc-amount", "0.015")
    _submit(page, "#crypto-submit", "#crypto-done")


def _frustrated_card_and_transfer(page: Page, bank_url: str) -> None:
    _login(page, "mia.clarke", "Sunflower!2024")
    _go(page, ".nav a[href='card.html']")
    for _ in range(4):  # rage clicks on the card picture, which is not a button
        page.locator("#card-visual").click(position={"x": 120, "y": 90})
        _pause(page, 90)
    _type(page, "#holder", "Mia Clarke")
    _type(page, "#number", "5555 5555 5555 4445", delay=40)
    page.locator("#number").press("Backspace")
    page.locator("#number").press_sequentially("4", delay=60)
    _type(page, "#expiry", "11/27")
    _type(page, "#cvc", "123", delay=80)
    _submit(page, "#card-submit", "#card-done")
    _go(page, ".nav a[href='transfer.html']")
    _type(page, "#payee", "Westminster Lettings Ltd")
    _type(page, "#iban", "GB82 WEST 1234 5698 7654 32")
    _type(page, "#amount", "850")
    _type(page, "#reference", "Deposit flat 3")
    _submit(page, "#transfer-submit", "#transfer-done")


def _browse_declined(page: Page, bank_url: str) -> None:
    _login(page, "lukas.meyer", "Winter-Sonne-77")
    _scroll(page, 600)
    _go(page, ".nav a[href='transfer.html']")
    _type(page, "#payee", "Sophie Keller")
    _type(page, "#iban", "DE89370400440532013000")
    _go(page, ".nav a[href='index.html']")


#: Scripted visitors, in the order the demo plays them (each about 5-15 s).
JOURNEYS: tuple[Journey, ...] = (
    Journey("transfer_iban", "Log in, check transactions, send EUR 120 to a German IBAN.", "grant", _transfer_iban),
    Journey("add_card", "Log in and add a Visa card (number, expiry, CVC).", "grant", _add_card),
    Journey("kyc", "Identity verification: name, birth date, phone, email, address (tablet).", "grant", _kyc,
            viewport=(820, 1180)),
    Journey("crypto_withdrawal", "Withdraw bitcoin to a bech32 address (phone).", "grant", _crypto_withdrawal,
            viewport=(390, 844)),
    Journey("frustrated_card_and_transfer", "Rage clicks, a corrected card number, then a GB IBAN transfer.",
            "grant", _frustrated_card_and_transfer),
    Journey("browse_declined", "Declines the recording banner, then browses and starts a transfer.", "decline",
            _browse_declined),
)


# --------------------------------------------------------------------------- runner

def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = (parts.hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guard(route: PwRoute) -> None:
    if _is_loopback(route.request.url):
        route.continue_()
    else:
        route.abort("blockedbyclient")


def _answer_consent(page: Page, consent: str) -> None:
    button = "#consent-accept" if consent == "grant" else "#consent-decline"
    page.locator(button).wait_for(state="visible", timeout=5000)
    _pause(page, 400)  # reads the banner
    page.locator(button).click()
    _pause(page, 200)


def _flush(page: Page) -> bool:
    """Ask the tracker to send what it holds; True when the collector accepted every batch."""
    ok = bool(page.evaluate("() => window.replayvault ? window.replayvault.flush() : false"))
    try:
        page.wait_for_load_state("networkidle", timeout=5000)
    except Exception:  # noqa: BLE001 - a slow collector is reported through `flushed`, not raised
        pass
    return ok


def _play(context: BrowserContext, journey: Journey, bank_url: str) -> dict:
    page = context.new_page()
    pages: list[str] = []
    page.on("framenavigated", lambda f: f.parent_frame is None and pages.append(urlsplit(f.url).path))
    started = time.monotonic()
    page.goto(f"{bank_url}/login.html", wait_until="domcontentloaded")
    _answer_consent(page, journey.consent)
    journey.run(page, bank_url)
    flushed = _flush(page)
    session_id = page.evaluate("() => window.replayvault ? window.replayvault.sessionId() : null")
    return {
        "name": journey.name,
        "session_id": session_id,
        "pages": pages,
        "consent": journey.consent,
        "flushed": flushed,
        "seconds": round(time.monotonic() - started, 1),
    }


def run_journeys(bank_url: str, journeys: Sequence[Journey] = JOURNEYS,
                 progress: Callable[[int, int, dict], object] | None = None, *,
                 chromium_path: str | Path = CHROMIUM_PATH) -> list[dict]:
    """Play ``journeys`` against the demo bank at ``bank_url`` in headless Chromium.

    Each journey gets a fresh browser context, hence its own tracker session; requests to any
    host other than loopback are aborted. After each journey the tracker is flushed
    (``replayvault.flush()``) and the page waits for network idle (at most 5 s).

    Uses Playwright's sync API; when called from a thread that runs an asyncio event loop (or
    another sync Playwright), the journeys run in a worker thread and this call blocks until they
    finish. ``progress(done, total, result)`` is called after each journey (from that thread).

    Returns one dict per journey: ``name``, ``session_id`` (the tracker's session id from
    sessionStorage; ``None`` when the visitor declined, since nothing was recorded), ``pages``
    (paths of the documents visited, in order), ``consent`` ("grant" or "decline"), ``flushed``
    (the collector accepted every batch) and ``seconds`` (wall time of the journey).

    Raises:
        ConfigError: ``chromium_path`` does not exist.
        playwright.sync_api.Error: the bank is unreachable or a scripted step failed (a timeout
            after 5-30 s names the selector that was not found).
    """
    if not Path(chromium_path).is_file():
        raise ConfigError(f"Chromium not found at {chromium_path} (set REPLAYVAULT_CHROMIUM_PATH)")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_all(bank_url.rstrip("/"), journeys, progress, str(chromium_path))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-journeys") as pool:
        return pool.submit(_run_all, bank_url.rstrip("/"), journeys, progress, str(chromium_path)).result()


def _run_all(bank_url: str, journeys: Sequence[Journey], progress: Callable[[int, int, dict], object] | None,
             chromium_path: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    results: list[dict] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            for i, journey in enumerate(journeys, 1):
                width, height = journey.viewport
                context = browser.new_context(viewport={"width": width, "height": height},
                                              locale="en-GB", timezone_id="Europe/Berlin")
                context.set_default_timeout(15_000)
                context.route("**/*", _guard)
                try:
                    results.append(_play(context, journey, bank_url))
                finally:
                    context.close()
                if progress is not None:
                    progress(i, len(journeys), results[-1])
        finally:
            browser.close()
    return results
