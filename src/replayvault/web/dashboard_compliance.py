"""Dashboard page ``/compliance``: the five metrics as cards (value, numerator/denominator, the records
behind each as links to ``/sessions/{id}`` or ``/audit?before={idx + 1}``) and the checklist as traffic
lights with their evidence. Filters: ``from``, ``to`` (days, UTC) and ``project``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from ..compliance.checklist import evaluate
from ..compliance.metrics import MAX_LINKS, Period, compute_metrics, parse_period
from ..db.models import Project
from ..errors import InvalidInput
from .dashboard import _page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _compute(rt: Any, period: Period) -> dict[str, Any]:
    import time

    now = int(time.time() * 1000)
    metrics = compute_metrics(rt, period, now)
    whole = Period(project=period.project)
    everything = metrics if period == whole else compute_metrics(rt, whole, now)
    with rt.sessions() as db:
        projects = list(db.scalars(select(Project.id).order_by(Project.id)))
    return {"metrics": metrics, "items": evaluate(rt, metrics, now, everything), "projects": projects}


@router.get("/compliance", response_class=HTMLResponse)
async def compliance_page(request: Request, from_: str = Query("", alias="from", max_length=20),
                          to: str = Query("", max_length=20), project: str = Query("", max_length=64)) -> HTMLResponse:
    """Metric cards and the traffic-light checklist for the chosen period and project."""
    error = None
    try:
        period = parse_period(from_, to, project)
    except InvalidInput as exc:
        error, period = str(exc), Period(project=project.strip() or None)
    ctx = await run_in_threadpool(_compute, request.app.state.rt, period)
    status = 400 if error else 200
    return _page(request, "compliance.html", {"nav": "compliance", "f": {"from": from_, "to": to, "project": project},
                                              "error": error, "max_links": MAX_LINKS, **ctx}, status)
