"""REST API for behaviour analytics (``/api/v1``): session search, frustration signals, funnels, forms.

Every error is JSON ``{"error": message, "status": code}``; a bad parameter is a 400 naming it.
Times are epoch ms, durations ms, positions page px. Permissions (governance.permissions):
session search and a session's signal markers need ``sessions:list`` (like the sessions list);
the aggregates need ``heatmaps:read`` (like heatmaps).

    GET /api/v1/sessions/search         filter, sort and page sessions
    GET /api/v1/sessions/{id}/signals   one session's signal markers for the replay timeline
    GET /api/v1/signals                 signal counts per page and kind, top target selectors
    GET /api/v1/funnels                 ordered steps (repeated ``step``), conversion and drop-off
    GET /api/v1/forms                   per form and field: time, hesitation, refills, abandonment, errors

This router is included before :mod:`.api`'s so ``/sessions/search`` is not taken for a session id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from ..analytics.forms import form_report
from ..analytics.funnels import funnel, parse_steps
from ..analytics.search import SessionSearch, search_sessions
from ..analytics.signals import parse_kinds, session_signals, signal_summary
from ..db.models import RecordingSession
from ..errors import InvalidInput
from ..runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")

_MAX_MS = 2**62
_SINCE = Query(None, ge=0, le=_MAX_MS, description="Only from this time on (epoch ms, inclusive)")
_UNTIL = Query(None, ge=0, le=_MAX_MS, description="Only before this time (epoch ms, exclusive)")
_PROJECT = Query(None, max_length=64, description="Project id (default: every project)")


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


def _range(since_ms: int | None, until_ms: int | None) -> None:
    if since_ms is not None and until_ms is not None and since_ms > until_ms:
        raise InvalidInput(f"since_ms ({since_ms}) is greater than until_ms ({until_ms})")


def _incident_ids(rt: Runtime, project: str | None) -> list[str]:
    """Ids of the sessions with at least one masking incident (control-plane database)."""
    with rt.sessions() as db:
        q = select(RecordingSession.id).where(RecordingSession.incidents > 0)
        if project:
            q = q.where(RecordingSession.project_id == project)
        return list(db.scalars(q))


@router.get("/sessions/search", summary="Search sessions: pages visited, duration, clicks, signals, viewport, "
                                        "date, masking incident")
def search(
    request: Request,
    project: str | None = _PROJECT,
    url: list[str] = Query([], description="URL pattern the session visited (* wildcard; /path matches the "
                                           "path); repeat: every pattern must be visited"),
    min_duration_ms: int | None = Query(None, ge=0, le=_MAX_MS),
    max_duration_ms: int | None = Query(None, ge=0, le=_MAX_MS),
    min_clicks: int | None = Query(None, ge=0, le=2**31),
    max_clicks: int | None = Query(None, ge=0, le=2**31),
    signal: list[str] = Query([], description="Signal kind; repeat: any of them"),
    viewport: str | None = Query(None, max_length=16, description="mobile | tablet | desktop"),
    since_ms: int | None = _SINCE,
    until_ms: int | None = _UNTIL,
    incident: bool | None = Query(None, description="true: with a masking incident; false: without"),
    sort: str = Query("start", max_length=16, description="start | duration | clicks | signals"),
    order: str = Query("desc", max_length=8, description="asc | desc"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=2**31),
) -> dict[str, Any]:
    """``{"total", "limit", "offset", "sessions": [{"session_id", "project_id", "start_ms", "end_ms",
    "duration_ms", "page_views", "clicks", "viewport_w", "viewport_h", "device_class", "signals",
    "signals_by_kind", "entry_url"}]}``."""
    rt = _rt(request)
    query = SessionSearch(project, tuple(url), min_duration_ms, max_duration_ms, min_clicks, max_clicks,
                          tuple(signal), viewport, since_ms, until_ms, incident, sort, order, limit, offset)
    query.validate()
    ids = _incident_ids(rt, project) if incident is not None else None
    return search_sessions(rt.analytics, query, ids)


@router.get("/sessions/{session_id}/signals", summary="Frustration signal markers of one session")
def signals_of_session(request: Request, session_id: str) -> dict[str, Any]:
    """``{"session_id", "start_ms", "signals": [{"kind", "ts_ms", "offset_ms", "page_view", "url", "x", "y",
    "selector", "count", "duration_ms"}]}`` in time order; 404 for an unknown session."""
    return session_signals(_rt(request).analytics, session_id)


@router.get("/signals", summary="Frustration signal counts per page and kind")
def signals(
    request: Request,
    project: str | None = _PROJECT,
    url: str | None = Query(None, max_length=2048, description="Only this page (query and fragment ignored)"),
    kind: list[str] = Query([], description="Signal kind; repeat for several (default: all)"),
    since_ms: int | None = _SINCE,
    until_ms: int | None = _UNTIL,
) -> dict[str, Any]:
    """``{"total", "by_url_kind": [{"url", "kind", "signals", "sessions", "clicks"}],
    "by_selector": [{"url", "kind", "selector", "signals", "sessions"}]}``."""
    _range(since_ms, until_ms)
    return signal_summary(_rt(request).analytics, project_id=project, url=url, kinds=parse_kinds(kind),
                          since_ms=since_ms, until_ms=until_ms)


@router.get("/funnels", summary="Funnel over ordered steps (URL patterns or event:NAME)")
def funnels(
    request: Request,
    step: list[str] = Query(..., description="A step, in order: URL pattern (* wildcard; /path matches the "
                                             "path) or event:NAME; 2 to 20 steps"),
    project: str | None = _PROJECT,
    since_ms: int | None = Query(None, ge=0, le=_MAX_MS, description="Sessions starting from (epoch ms)"),
    until_ms: int | None = Query(None, ge=0, le=_MAX_MS, description="Sessions starting before (epoch ms)"),
) -> dict[str, Any]:
    """``{"sessions", "entered", "completed", "steps": [{"step", "kind", "reached", "conversion_from_first",
    "conversion_from_previous", "dropped", "drop_off", "median_ms_from_previous", "dropped_sessions"}],
    "by_viewport": {class: {...}}, "by_entry_page": [{"entry_url", ...}]}``."""
    _range(since_ms, until_ms)
    parse_steps(step)  # 400 naming the bad step before any work
    return funnel(_rt(request).analytics, step, project_id=project, since_ms=since_ms, until_ms=until_ms)


@router.get("/forms", summary="Form analytics per form and field")
def forms(
    request: Request,
    project: str | None = _PROJECT,
    url: str | None = Query(None, max_length=2048, description="Only forms on this page (query ignored)"),
    since_ms: int | None = _SINCE,
    until_ms: int | None = _UNTIL,
) -> list[dict[str, Any]]:
    """``[{"url", "form", "sessions", "submitted_sessions", "abandoned_sessions", "fields": [{"field",
    "interactions", "sessions", "changed", "median_time_ms", "median_hesitation_ms", "refills",
    "abandoned", "validation_errors"}]}]``."""
    _range(since_ms, until_ms)
    return form_report(_rt(request).analytics, project_id=project, url=url, since_ms=since_ms, until_ms=until_ms)
