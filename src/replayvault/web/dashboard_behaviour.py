"""Behaviour analytics in the dashboard: funnels, form analytics, the session list's search, signal markers.

    GET /funnels   ordered steps (URL pattern or event:NAME, one per line), date range, project:
                   conversion chart, drop-off, median time between steps, dropped sessions, splits
    GET /forms     per form: sessions, submitted, abandoned; per field a table and two charts
                   (where sessions abandon, hesitation before typing)
    GET /          (route in :mod:`.dashboard`) the session list: :func:`session_list` reads its
                   search filters, sorting and paging from the query string

Both pages need ``heatmaps:read`` (aggregates, like heatmaps); the session list and the signal
list of a session page need ``sessions:list`` (no recording content). Dropped sessions link to the
purpose-bound session page, where watching the replay still needs a declared purpose.

Charts are inline SVG drawn by the templates from the geometry :func:`bar_chart` computes (no
script, no chart library). Every bad parameter is shown on the page with status 400.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from ..analytics.behaviour import KINDS
from ..analytics.facts import strip_url
from ..analytics.forms import form_report
from ..analytics.funnels import funnel, journeys
from ..analytics.search import SORT_KEYS, VIEWPORT_CLASSES, SessionSearch, search_sessions
from ..analytics.signals import session_signals
from ..db.models import Project, RecordingSession
from ..errors import InvalidInput, NotFound
from ..recordings import capture_compliance
from ..runtime import Runtime
from .api_analytics import _incident_ids
from .dashboard import _page, templates

__all__ = ["router", "session_list", "bar_chart", "human_ms", "SIGNAL_LABELS", "PAGE_SIZE"]

router = APIRouter(include_in_schema=False)

#: Sessions per page of the session list.
PAGE_SIZE = 50
#: Short names of the signal kinds (pills in the session list, markers on the replay timeline).
SIGNAL_LABELS = {"rage_click": "rage", "dead_click": "dead", "error_click": "error", "u_turn": "u-turn",
                 "thrashed_cursor": "thrash"}
#: Dropped sessions linked per funnel step (the rest are counted).
MAX_DROPPED_LINKS = 40
_TEXT_MAX = 2048


def human_ms(ms: float | None) -> str:
    """A duration for people: ``350 ms``, ``2.4 s``, ``42 s``, ``3 min 05 s``, ``1 h 02 min``; ``–`` when unknown."""
    if ms is None or (isinstance(ms, float) and math.isnan(ms)):
        return "–"
    if ms < 1000:
        return f"{round(ms)} ms"
    if ms < 10_000:
        return f"{ms / 1000:.1f} s"
    s = round(ms / 1000)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s // 60 % 60:02d} min"


def _pct(x: float | None) -> str:
    """A share as a percentage (``40 %``, ``2.5 %``); ``–`` when unknown."""
    if x is None:
        return "–"
    v = x * 100
    return f"{v:.0f} %" if v >= 10 or v == round(v) else f"{v:.1f} %"


def selector_tail(selector: str | None, parts: int = 3) -> str:
    """The last ``parts`` steps of a selector path (``… > form#f > input#iban``): the full one is often a screen long."""
    steps = (selector or "").split(" > ")
    return " > ".join(steps) if len(steps) <= parts else "… > " + " > ".join(steps[-parts:])


templates.env.filters["ms"] = human_ms
templates.env.filters["selector_tail"] = selector_tail
templates.env.filters["pct"] = _pct
templates.env.filters["path"] = lambda url: (urlsplit(url).path or "/") if url else "–"


# -- shared helpers --------------------------------------------------------------------------
def _day_range(since: str, until: str) -> tuple[int | None, int | None]:
    """``[since 00:00 UTC, the day after until 00:00 UTC)`` in epoch ms from ``YYYY-MM-DD`` (empty: open).

    Raises:
        InvalidInput: a date that is not ``YYYY-MM-DD``, or ``since`` after ``until``.
    """
    out: list[int | None] = []
    for name, text, extra in (("From", since, 0), ("To", until, 1)):
        text = text.strip()
        if not text:
            out.append(None)
            continue
        try:
            day = dt.date.fromisoformat(text) + dt.timedelta(days=extra)
        except ValueError:
            raise InvalidInput(f"{name} date must be YYYY-MM-DD, not {text[:20]!r}") from None
        out.append(int(dt.datetime.combine(day, dt.time.min, dt.UTC).timestamp() * 1000))
    if out[0] is not None and out[1] is not None and out[0] >= out[1]:
        raise InvalidInput(f"the From date ({since}) is after the To date ({until})")
    return out[0], out[1]


def _projects(rt: Runtime) -> list[dict[str, str]]:
    with rt.sessions() as db:
        return [{"id": p.id, "name": p.name} for p in db.scalars(select(Project).order_by(Project.id))]


def bar_chart(bars: list[dict[str, Any]], *, label_w: int = 250, bar_w: int = 360, row_h: int = 30,
              text_w: int = 190, keep_end: bool = False) -> dict[str, Any]:
    """Geometry of a horizontal bar chart for the ``bars`` macro of ``_charts.html``.

    Each input bar: ``label`` (left column, cut to fit, at the start or with ``keep_end`` at the
    end; the full text is the SVG title), ``value`` (>= 0, scaled to the largest), ``text`` (right
    of the bar) and optionally ``note`` (a second, dim line under the bar: ``row_h`` grows by
    16 px) and ``frac`` (0..1, overrides value scaling).
    """
    top = max((b["value"] for b in bars), default=0) or 1
    noted = any(b.get("note") for b in bars)
    h = row_h + (16 if noted else 0)
    chars = max(8, label_w // 7)
    out = []
    for i, b in enumerate(bars):
        frac = b.get("frac", b["value"] / top) or 0
        w = round(bar_w * min(1.0, max(0.0, frac)), 1)
        label = b["label"]
        if len(label) > chars:
            label = "…" + label[1 - chars:] if keep_end else label[:chars - 1] + "…"
        out.append({**b, "short": label, "y": i * h, "w": w, "text_x": label_w + w + 8})
    return {"bars": out, "label_w": label_w, "bar_w": bar_w, "row_h": h, "bar_h": row_h - 12,
            "width": label_w + bar_w + text_w, "height": max(h * len(bars), h)}


# -- funnels ---------------------------------------------------------------------------------
def _as_pattern(url: str) -> str:
    """A recorded URL as a step: its path (``/transfer.html``), which matches it on any host."""
    return urlsplit(url).path or url


def example_steps(rt: Runtime, project: str | None) -> list[str]:
    """Steps to start from (paths), or []: the most frequent move from one page to another (sessions
    counted once per move), followed by the most frequent next page after it when there is one."""
    pairs: Counter[tuple[str, str]] = Counter()
    for j in journeys(rt.analytics, project_id=project):
        paths = [_as_pattern(v) for _, kind, v in j.items if kind == "url"]
        pairs.update({(a, b) for a, b in zip(paths, paths[1:]) if a != b})
    if not pairs:
        return []
    (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
    after = [(n, c) for (x, c), n in pairs.items() if x == b and c != a]
    return [a, b, max(after)[1]] if after else [a, b]


def _funnel_bars(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bars = []
    for k, s in enumerate(steps):
        note = []
        if k:
            note.append(f"{_pct(s['conversion_from_previous'])} of step {k}")
            note.append(f"median {human_ms(s['median_ms_from_previous'])} after step {k}")
        if s["dropped"]:
            note.append(f"{s['dropped']} dropped here ({_pct(s['drop_off'])})")
        bars.append({"label": f"{k + 1}. {s['step']}", "value": s["reached"],
                     "frac": s["conversion_from_first"] or 0,
                     "text": f"{s['reached']:,} · {_pct(s['conversion_from_first'])}", "note": " · ".join(note)})
    return bars


@router.get("/funnels", response_class=HTMLResponse)
def funnels_page(request: Request, steps: str | None = Query(None, max_length=20 * (_TEXT_MAX + 2)),
                 since: str = Query("", max_length=10), until: str = Query("", max_length=10),
                 project: str = Query("", max_length=64)) -> HTMLResponse:
    """A funnel over ordered steps: conversion chart, drop-off, median time between steps,
    dropped sessions (links), splits by viewport class and entry page; without ``steps``, an example."""
    rt = request.app.state.rt
    example = steps is None
    lines = [line.strip() for line in (steps or "").splitlines() if line.strip()]
    if example:
        lines = example_steps(rt, project or None)
    ctx: dict[str, Any] = {"nav": "funnels", "projects": _projects(rt), "example": example and bool(lines),
                           "f": {"steps": "\n".join(lines), "since": since, "until": until, "project": project},
                           "result": None, "max_links": MAX_DROPPED_LINKS}
    if not lines and example:
        return _page(request, "funnels.html", ctx)
    try:
        since_ms, until_ms = _day_range(since, until)
        result = funnel(rt.analytics, lines, project_id=project or None, since_ms=since_ms, until_ms=until_ms)
    except InvalidInput as exc:
        return _page(request, "funnels.html", {**ctx, "error": str(exc)}, exc.status_code)
    ctx.update(result=result, chart=bar_chart(_funnel_bars(result["steps"]), label_w=260, bar_w=380, text_w=130),
               by_viewport=sorted(result["by_viewport"].items()),
               by_entry=[(e["entry_url"], e) for e in result["by_entry_page"]])
    return _page(request, "funnels.html", ctx)


# -- forms -----------------------------------------------------------------------------------
def short_field(form: str, field: str) -> str:
    """A field's selector without its form's prefix (``input#iban`` for ``body > form#f > input#iban``)."""
    prefix = form + " > "
    return field[len(prefix):] if form and field.startswith(prefix) else field


def _form_charts(form: dict[str, Any]) -> dict[str, Any]:
    fields = form["fields"]
    total = form["abandoned_sessions"]
    abandon = [{"label": short_field(form["form"], f["field"]), "value": f["abandoned"],
                "text": f"{f['abandoned']:,} · {_pct(f['abandoned'] / total)}" if f["abandoned"] else "0"}
               for f in fields]
    hesitate = [{"label": short_field(form["form"], f["field"]), "value": f["median_hesitation_ms"] or 0,
                 "text": human_ms(f["median_hesitation_ms"])} for f in fields]
    return {"abandon": bar_chart(abandon, label_w=230, bar_w=240, text_w=90, keep_end=True) if total else None,
            "hesitate": bar_chart(hesitate, label_w=230, bar_w=240, text_w=90, keep_end=True)
            if any(f["median_hesitation_ms"] is not None for f in fields) else None}


@router.get("/forms", response_class=HTMLResponse)
def forms_page(request: Request, url: str = Query("", max_length=_TEXT_MAX), since: str = Query("", max_length=10),
               until: str = Query("", max_length=10), project: str = Query("", max_length=64)) -> HTMLResponse:
    """Form analytics per form and field: sessions, submitted, abandoned; time, hesitation, refills,
    abandonment, validation errors; charts of where sessions abandon and of hesitation."""
    rt = request.app.state.rt
    ctx: dict[str, Any] = {"nav": "forms", "projects": _projects(rt), "forms": [], "urls": [],
                           "f": {"url": url, "since": since, "until": until, "project": project}}
    try:
        since_ms, until_ms = _day_range(since, until)
    except InvalidInput as exc:
        return _page(request, "forms.html", {**ctx, "error": str(exc)}, exc.status_code)
    every = form_report(rt.analytics, project_id=project or None, since_ms=since_ms, until_ms=until_ms)
    wanted = strip_url(url) if url.strip() else None
    forms = [f for f in every if wanted is None or f["url"] == wanted]
    for f in forms:
        f["abandon_rate"] = f["abandoned_sessions"] / f["sessions"] if f["sessions"] else None
        f["charts"] = _form_charts(f)
        for fld in f["fields"]:
            fld["short"] = short_field(f["form"], fld["field"])
    urls = Counter(f["url"] for f in every)
    ctx.update(forms=forms, urls=sorted(urls.items()), wanted=wanted)
    return _page(request, "forms.html", ctx)


# -- session list ----------------------------------------------------------------------------
def _number(label: str, text: str, scale: int = 1) -> int | None:
    """A non-negative number from a form field (empty: None), times ``scale``, as an int.

    Raises:
        InvalidInput: not a number, negative or too large.
    """
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= 2**40):
        raise InvalidInput(f"{label} must be a number of at least 0, not {text[:20]!r}")
    return round(value * scale)


def _search_from(q: dict[str, str]) -> SessionSearch:
    """The :class:`SessionSearch` of the session list's filter form (values already length-checked)."""
    since_ms, until_ms = _day_range(q["since"], q["until"])
    incident = {"": None, "yes": True, "no": False}.get(q["incident"])
    if q["incident"] and incident is None:
        raise InvalidInput(f"masking incident must be yes, no or empty, not {q['incident'][:20]!r}")
    page = _number("page", q["page"]) or 1
    query = SessionSearch(
        project_id=q["project"] or None, urls=tuple(u for u in [q["url"].strip()] if u),
        min_duration_ms=_number("min. duration (s)", q["min_s"], 1000),
        max_duration_ms=_number("max. duration (s)", q["max_s"], 1000),
        min_clicks=_number("min. clicks", q["min_clicks"]), signals=tuple(s for s in [q["signal"]] if s),
        viewport=q["viewport"] or None, since_ms=since_ms, until_ms=until_ms, incident=incident,
        sort=q["sort"] or "start", order=q["order"] or "desc", limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    query.validate()
    return query


_FILTERS = ("url", "min_s", "max_s", "min_clicks", "signal", "viewport", "since", "until", "incident", "project",
            "sort", "order", "page")


def _rows(rt: Runtime, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Search rows joined with the control-plane numbers (masked items, incidents) and signal pills."""
    ids = [r["session_id"] for r in found]
    with rt.sessions() as db:
        sql = {s.id: s for s in db.scalars(select(RecordingSession).where(RecordingSession.id.in_(ids)))} if ids else {}
    out = []
    for r in found:
        s = sql.get(r["session_id"])
        by_kind = r.get("signals_by_kind") or {}
        out.append({
            "id": r["session_id"], "start": r["start_ms"], "duration_ms": int(r["duration_ms"] or 0),
            "page_views": r["page_views"], "clicks": r["clicks"], "device_class": r["device_class"],
            "viewport": f"{r['viewport_w']}x{r['viewport_h']}" if r["viewport_w"] and r["viewport_h"] else None,
            "masked_items": s.masked_items if s else None, "incidents": (s.incidents or 0) if s else None,
            "entry_url": r.get("entry_url"),
            "pills": [(k, SIGNAL_LABELS[k], by_kind[k]) for k in KINDS if by_kind.get(k)]})
    return out


def session_list(request: Request) -> tuple[dict[str, Any], int]:
    """Context and status of the session list (``sessions.html``) for the request's query string.

    Filters: ``url`` (pattern the session visited), ``min_s``/``max_s`` (duration, seconds),
    ``min_clicks``, ``signal`` (kind), ``viewport`` (class), ``since``/``until`` (dates, UTC),
    ``incident`` (``yes``/``no``/empty), ``project``; ``sort`` (start, duration, clicks, signals),
    ``order`` (asc, desc), ``page`` (:data:`PAGE_SIZE` sessions each). A bad value: status 400 and
    the message, with the filters kept.
    """
    rt = request.app.state.rt
    q = {k: request.query_params.get(k, "")[:_TEXT_MAX] for k in _FILTERS}
    ctx: dict[str, Any] = {"nav": "sessions", "capture": capture_compliance(rt), "f": q, "sessions": [], "total": 0,
                           "kinds": [(k, SIGNAL_LABELS[k]) for k in KINDS], "viewports": VIEWPORT_CLASSES,
                           "sort_keys": SORT_KEYS, "projects": _projects(rt),
                           "filtered": any(q[k] for k in _FILTERS if k not in ("sort", "order", "page"))}
    try:
        query = _search_from(q)
        ids = _incident_ids(rt, query.project_id) if query.incident is not None else None
        found = search_sessions(rt.analytics, query, ids)
    except InvalidInput as exc:
        return {**ctx, "error": str(exc)}, exc.status_code
    keep = {k: v for k, v in q.items() if v and k != "page"}
    page = query.offset // PAGE_SIZE + 1

    def link(n: int) -> str:
        return "/?" + urlencode({**keep, "page": n} if n > 1 else keep)

    ctx.update(sessions=_rows(rt, found["sessions"]), total=found["total"], first=query.offset + 1,
               last=query.offset + len(found["sessions"]),
               prev=link(page - 1) if page > 1 else None,
               next=link(page + 1) if query.offset + PAGE_SIZE < found["total"] else None)
    return ctx, 200


# -- session page: signal list ---------------------------------------------------------------
def signal_markers(request: Request, session_id: str) -> list[dict[str, Any]]:
    """The session's frustration signals for the session page's list ([] when it has no analytics facts)."""
    try:
        marks = session_signals(request.app.state.rt.analytics, session_id)["signals"]
    except NotFound:
        return []
    return [{**m, "label": SIGNAL_LABELS.get(m["kind"], m["kind"])} for m in marks]


templates.env.globals["signal_markers"] = signal_markers
