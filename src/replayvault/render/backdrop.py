"""Page backdrops for heatmaps: the masked page rebuilt from a recording in headless Chromium.

Steps:

1. take the first Meta event and the first FullSnapshot after it (already privacy-masked);
2. open a blank page in headless Chromium with every non-loopback request aborted (the replay
   must not contact third-party hosts) and load rrweb's UMD build into it;
3. ``new rrweb.Replayer([meta, snapshot], {mouseTail: false, UNSAFE_replayCanvas: false})``,
   ``pause()`` just after the snapshot; rrweb rebuilds the page in an iframe sandboxed with
   ``allow-same-origin`` only (no scripts) — we check that before taking any picture;
4. size the iframe to ``width`` x the document's full height (capped at :data:`MAX_HEIGHT_PX`);
5. in the same pass, for each requested CSS selector, ``querySelector`` in the rebuilt document and
   take the element's ``getBoundingClientRect()`` plus the iframe document's scroll offset: its box
   in page coordinates at this width, at document scroll 0 (what click placement anchors to);
6. screenshot the iframe.

Any failure (no Chromium, no rrweb build, a broken snapshot, a timeout) returns None, so heatmaps
fall back to a plain canvas.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from ..analytics.heatmap import Box
from ..config import get_settings
from ..rrweb import EventType
from ..types import Event

__all__ = ["CHROMIUM_ARGS", "MAX_HEIGHT_PX", "RenderedPage", "render_backdrop", "render_page", "rrweb_umd_path"]

log = logging.getLogger(__name__)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 # Belt and braces behind the request route: every http(s) request, loopback
                 # included ("<-loopback>"), goes to a proxy on the discard port, which refuses.
                 # Speculative fetches (prefetch, preconnect) that bypass routing fail there too.
                 "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
#: Tallest backdrop taken, px (Chromium also refuses very tall screenshots).
MAX_HEIGHT_PX = 10_000
TIMEOUT_MS = 30_000
_PAGE = '<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0;background:#fff"><div id="root"></div></body></html>'

_REPLAY_JS = """
async ({events, offset, width, height, cap}) => {
  const root = document.getElementById("root");
  const replayer = new rrweb.Replayer(events, {
    root, mouseTail: false, UNSAFE_replayCanvas: false, triggerFocus: false,
    showWarning: false, showDebug: false, skipInactive: false,
  });
  replayer.pause(offset);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const iframe = root.querySelector("iframe");
  if (!iframe || !iframe.contentDocument) return null;
  const doc = iframe.contentDocument;
  iframe.style.display = "block";
  iframe.setAttribute("width", String(width));
  const full = Math.max(doc.documentElement ? doc.documentElement.scrollHeight : 0,
                        doc.body ? doc.body.scrollHeight : 0, 1);
  const h = Math.min(cap, height || full);
  iframe.setAttribute("height", String(h));
  iframe.style.border = "0";
  return {height: h, sandbox: iframe.getAttribute("sandbox") || ""};
}
"""

# Boxes in page px: client rect + the rebuilt document's scroll. A selector that does not parse or
# matches nothing gives null.
_BOXES_JS = """
(selectors) => {
  const iframe = document.querySelector("#root iframe");
  const doc = iframe.contentDocument, win = iframe.contentWindow;
  const sx = win.scrollX || 0, sy = win.scrollY || 0;
  const out = {};
  for (const s of selectors) {
    let el = null;
    try { el = doc.querySelector(s); } catch (_) { el = null; }
    if (!el) { out[s] = null; continue; }
    const r = el.getBoundingClientRect();
    out[s] = [r.left + sx, r.top + sy, r.width, r.height];
  }
  return out;
}
"""


@dataclass(frozen=True)
class RenderedPage:
    """One Chromium pass over a page snapshot: the screenshot and the boxes of the requested selectors.

    ``boxes`` maps every requested selector to its element's :class:`~replayvault.analytics.heatmap.Box`
    in page px at the render width, or None when no element matches.
    """

    image: Image.Image
    boxes: dict[str, Box | None] = field(default_factory=dict)


def rrweb_umd_path() -> Path | None:
    """rrweb's UMD build: the packaged copy, else the tracker's node_modules (source checkout)."""
    here = Path(__file__).resolve()
    candidates = [
        here.parents[1] / "web" / "static" / "vendor" / "rrweb.umd.js",
        here.parents[3] / "tracker" / "node_modules" / "rrweb" / "dist" / "rrweb.umd.cjs",
    ]
    return next((p for p in candidates if p.is_file()), None)


def _snapshot_pair(events: list[Event]) -> list[Event] | None:
    """The first Meta event and the first FullSnapshot after it, or None."""
    meta = None
    for ev in events:
        if ev.get("type") == EventType.Meta and meta is None:
            meta = ev
        elif ev.get("type") == EventType.FullSnapshot and meta is not None:
            return [meta, ev]
    return None


def _block_remote(route: Any) -> None:
    """Allow only inline resources: a recording must not make the renderer fetch anything, not even
    from loopback (a crafted snapshot could otherwise send GET requests to local services)."""
    if urlsplit(route.request.url).scheme in ("data", "blob", "about"):
        route.continue_()
    else:
        route.abort()


def render_backdrop(events: list[Event], width: int, height: int | None = None) -> Image.Image | None:
    """Screenshot (RGB, ``width`` px wide) of the page rebuilt from the first Meta + FullSnapshot
    of ``events``; ``height`` px tall, or the document's full height when None (capped at
    :data:`MAX_HEIGHT_PX`). Returns None when Chromium or rrweb is unavailable or replay fails.
    """
    page = render_page(events, width, height)
    return page.image if page is not None else None


def render_page(events: list[Event], width: int, height: int | None = None,
                selectors: Sequence[str] = ()) -> RenderedPage | None:
    """Like :func:`render_backdrop`, and in the same Chromium pass the page-px box of the first
    element matching each of ``selectors`` (see :class:`RenderedPage`). None on failure.
    """
    pair = _snapshot_pair(events)
    umd = rrweb_umd_path()
    chromium = str(get_settings().chromium_path)
    if pair is None or umd is None or not Path(chromium).exists():
        log.info("backdrop skipped: %s", "no Meta+FullSnapshot" if pair is None else
                 "rrweb UMD build not found" if umd is None else f"no Chromium at {chromium}")
        return None
    meta = dict(pair[0], data=dict(pair[0].get("data") or {}, width=int(width)))
    args = {"events": [meta, pair[1]], "offset": max(0, pair[1]["timestamp"] - meta["timestamp"]) + 1,
            "width": int(width), "height": int(height) if height else 0, "cap": MAX_HEIGHT_PX}
    try:
        # Playwright's sync API refuses to run in a thread with a running asyncio loop (the
        # server's, or another sync Playwright), so the browser always runs in its own thread.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="backdrop") as pool:
            job = pool.submit(_screenshot, umd.read_text(encoding="utf-8"), args, chromium, list(selectors))
            return job.result(timeout=120)
    except Exception as exc:  # noqa: BLE001 - a missing backdrop must never break a heatmap
        log.warning("backdrop failed: %s", type(exc).__name__)  # message may quote page text
        return None


def _screenshot(umd_js: str, args: dict[str, Any], chromium: str, selectors: list[str]) -> RenderedPage | None:
    from playwright.sync_api import sync_playwright  # imported lazily: optional at runtime

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": args["width"], "height": 800},
                                          java_script_enabled=True, service_workers="block")
            context.route("**/*", _block_remote)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.set_content(_PAGE, wait_until="domcontentloaded")
            page.add_script_tag(content=umd_js)
            info = page.evaluate(_REPLAY_JS, args)
            if not info:
                return None
            if "allow-scripts" in info["sandbox"].split():
                log.warning("backdrop refused: replay iframe would allow scripts")
                return None
            page.set_viewport_size({"width": args["width"], "height": int(info["height"])})
            raw = page.evaluate(_BOXES_JS, selectors) if selectors else {}
            png = page.locator("#root iframe").screenshot(timeout=TIMEOUT_MS, animations="disabled")
        finally:
            browser.close()
    boxes = {s: (Box(*map(float, raw[s])) if raw.get(s) else None) for s in selectors}
    return RenderedPage(Image.open(io.BytesIO(png)).convert("RGB"), boxes)
