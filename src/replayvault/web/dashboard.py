"""Dashboard pages (Jinja2): sessions list, session replay, heatmaps.

Pages contain no inline script; the replay page loads ``/static/replay.js``, which fetches the
masked events and starts rrweb-player. rrweb replays into an ``about:blank`` iframe sandboxed
without ``allow-scripts``; the page's CSP (see :mod:`.app`) blocks every third-party request.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ..display import duration, when
from ..heatmaps import dominant_class
from ..recordings import get_session, list_sessions

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


templates.env.filters["when"] = when
templates.env.filters["duration"] = duration
templates.env.filters["urlq"] = lambda s: quote(str(s), safe="")
templates.env.filters["plural"] = lambda n, word: f"{n:,} {word}{'' if n == 1 else 's'}"


@router.get("/", response_class=HTMLResponse)
def sessions_page(request: Request) -> HTMLResponse:
    """Sessions list: time, duration, pages, clicks, masked items."""
    rows = list_sessions(request.app.state.rt)
    return templates.TemplateResponse(request, "sessions.html", {"sessions": rows, "nav": "sessions"})


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def session_page(request: Request, session_id: str) -> HTMLResponse:
    """One session: summary, masking counts, replay."""
    summary, counts = get_session(request.app.state.rt, session_id)
    return templates.TemplateResponse(
        request, "session.html", {"s": summary, "maskings": sorted(counts.items()), "nav": "sessions"})


@router.get("/heatmaps", response_class=HTMLResponse)
def heatmaps_page(request: Request, url: str | None = None, kind: str = "click",
                  viewport: str | None = None) -> HTMLResponse:
    """Pages with their page views; with ``url``, that page's click or scroll map."""
    rt = request.app.state.rt
    pages = rt.analytics.pages(None)
    if kind not in ("click", "scroll"):
        kind = "click"
    counts = rt.analytics.viewport_counts(url) if url else {}
    if viewport not in ("desktop", "tablet", "mobile"):
        viewport = dominant_class(counts) if url else None
    return templates.TemplateResponse(request, "heatmaps.html", {
        "pages": pages, "url": url, "kind": kind, "viewport": viewport, "counts": counts, "nav": "heatmaps"})
