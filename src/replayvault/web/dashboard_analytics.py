"""Analytics pages of the dashboard: the interactive heatmap view, funnels and form analytics.

The heatmap view stacks two things at the recorded page's width:

* ``/heatmaps/frame``: the masked page, written as static HTML from its latest full snapshot
  (:mod:`replayvault.render.static_html`) with only the text that at least
  ``REPLAYVAULT_BACKDROP_MIN_SESSIONS`` sessions share (:mod:`replayvault.privacy.common_text`). It
  is shown in an ``<iframe sandbox>`` without any allowance (no scripts, an opaque origin) and the
  response carries its own CSP (``sandbox``, nothing but inline styles and ``data:`` images);
* a ``<canvas>`` on top, drawn by ``/static/heatmap-view.js`` from ``/api/v1/heatmaps/layers``:
  click, move, scroll and rage layers, switched on and off in the page.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import InvalidInput, NotFound
from ..heatmaps import dominant_class, heatmap_layers, reference_snapshot
from ..render.static_html import snapshot_html
from ..runtime import Runtime
from .dashboard import _day_ms, _page

__all__ = ["router", "api_router", "FRAME_CSP", "layers"]

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["heatmaps"])

#: CSP of the static page inside the heatmap view (https://www.w3.org/TR/CSP3/#directive-sandbox):
#: sandboxed even when opened on its own, no scripts, no requests except inline styles and data: images.
FRAME_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
             "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


@router.get("/heatmaps/frame", response_class=HTMLResponse)
def heatmap_frame(request: Request, url: str = Query(..., max_length=2048),
                  viewport: Literal["desktop", "tablet", "mobile"] | None = None) -> Response:
    """The masked page as inert static HTML, for the sandboxed iframe of the heatmap view."""
    ref = reference_snapshot(request.app.state.rt, url, viewport)
    if ref is None:
        raise NotFound("no page snapshot of this URL was recorded" + (f" at {viewport} width" if viewport else ""))
    return HTMLResponse(snapshot_html(ref.node), headers={
        "Content-Security-Policy": FRAME_CSP, "X-Frame-Options": "SAMEORIGIN"})


@router.get("/heatmaps/view", response_class=HTMLResponse)
def heatmap_view(request: Request, url: str = Query("", max_length=2048),
                 viewport: Literal["desktop", "tablet", "mobile"] | None = None,
                 since: str = Query("", max_length=10), until: str = Query("", max_length=10)) -> Response:
    """The interactive heatmap view of one page: sandboxed static page, canvas layers, viewport and date range."""
    if not url.strip():  # no page chosen: the page list
        return RedirectResponse("/heatmaps", status_code=303)
    rt = request.app.state.rt
    counts = rt.analytics.viewport_counts(url)
    viewport = viewport or dominant_class(counts) or "desktop"
    params: dict[str, Any] = {"url": url, "viewport": viewport}
    start, end = _day_ms(since), _day_ms(until, end=True)
    if start is not None:
        params["since_ms"] = start
    if end is not None:
        params["until_ms"] = end + 1  # the whole "to" day: until_ms is exclusive
    return _page(request, "heatmap_view.html", {
        "url": url, "viewport": viewport, "counts": counts, "since": since, "until": until,
        "q": urlencode(params), "nav": "heatmaps", "min_sessions": rt.settings.backdrop_min_sessions})


_MAX_MS = 2**53


@api_router.get("/heatmaps/layers", summary="Every layer of the interactive heatmap view")
def layers(request: Request, url: str = Query(..., max_length=2048, description="Page URL; query and fragment ignored"),
           viewport: Literal["desktop", "tablet", "mobile"] | None = None, project: str | None = None,
           since_ms: int | None = Query(None, ge=0, le=_MAX_MS, description="From (epoch ms, inclusive)"),
           until_ms: int | None = Query(None, ge=0, le=_MAX_MS, description="To (epoch ms, exclusive)")) -> dict[str, Any]:
    """Click, move, scroll, rage and dead-click layers on the reference page (see :func:`replayvault.heatmaps.heatmap_layers`)."""
    if since_ms is not None and until_ms is not None and until_ms <= since_ms:
        raise InvalidInput("until_ms must be after since_ms")
    return heatmap_layers(request.app.state.rt, url=url, viewport=viewport, project=project,
                          since_ms=since_ms, until_ms=until_ms)
