"""The budget planner page of the dashboard (``budget:read``).

    GET  /budget?example=NAME[&example=NAME2…]   plan the example scenarios (``examples/budget``);
                                                 several are shown side by side
    POST /budget                                 plan a pasted or uploaded scenario (YAML or JSON; the
                                                 form carries the CSRF token); ``format=csv|json|png``
                                                 answers with the export instead of the page
    GET  /budget/export?example=…&format=csv|json|png   the examples' plan as a download

Tables, notes and the chart (a PNG in a ``data:`` URI, which the dashboard CSP allows) come from
:mod:`replayvault.compliance.budget`; the page has no script. Unit figures are measured on this
installation (see :mod:`replayvault.compliance.budget_units`) at most once a minute. A bad scenario
is shown on the page with status 400, naming the field.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from ..errors import InvalidInput
from ..compliance.budget import BudgetPlan, Measurement, measure_installation, parse_scenario, plan, unit_figures
from ..compliance.budget_export import CATEGORY_LABELS, chart_png, example_files, to_csv
from ..compliance.budget_scenario import CATEGORIES, MAX_SCENARIO_BYTES, Scenario
from .dashboard import _page, templates

__all__ = ["router", "MEASURE_EVERY_S"]

router = APIRouter(include_in_schema=False)

#: The installation's unit figures are measured again after this many seconds.
MEASURE_EVERY_S = 60.0
Format = Literal["html", "csv", "json", "png"]
_MAX_COMPARED = 6


def _measurement(request: Request) -> Measurement:
    """This installation's unit figures, measured at most once every :data:`MEASURE_EVERY_S` seconds."""
    cached = getattr(request.app.state, "budget_measurement", None)
    now = time.monotonic()
    if cached and now - cached[0] < MEASURE_EVERY_S:
        return cached[1]
    m = measure_installation(request.app.state.rt)
    request.app.state.budget_measurement = (now, m)
    return m


def _examples(names: list[str]) -> tuple[dict[str, str], list[tuple[str, Scenario]]]:
    """All example files ``{stem: text}`` and the chosen ones parsed (the first example when none is chosen).

    Raises:
        InvalidInput: an unknown example name, or an example file that does not validate.
    """
    files = {stem: path.read_text(encoding="utf-8") for stem, path in example_files().items()}
    chosen = list(dict.fromkeys(names))[:_MAX_COMPARED] or list(files)[:1]
    out = []
    for name in chosen:
        if name not in files:
            raise InvalidInput(f"no example scenario named {name[:60]!r}; there are: {', '.join(files) or 'none'}")
        try:
            out.append((name, parse_scenario(files[name])))
        except InvalidInput as exc:
            raise InvalidInput(f"examples/budget/{name}.yaml: {exc}") from None
    return files, out


def _download(plans: list[BudgetPlan], fmt: Format, stem: str) -> Response:
    if fmt == "csv":
        body, media = to_csv(plans).encode(), "text/csv; charset=utf-8"
    elif fmt == "json":
        docs = [p.as_dict() for p in plans]
        body, media = json.dumps(docs[0] if len(docs) == 1 else docs, indent=2).encode(), "application/json"
    else:
        body, media = chart_png(plans), "image/png"
    ext = {"csv": "csv", "json": "json", "png": "png"}[fmt]
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{stem}.{ext}"'})


def _view(p: BudgetPlan) -> dict[str, Any]:
    """What the template shows of one plan: rows of the category table, storage rows, headline cards."""
    years, rec = p.years, p.recorded_per_month[0]
    cols = [p.year1_monthly_average, p.steady_month, *(y.lines for y in years), p.total_lines]
    totals = [sum(c.values()) for c in cols]
    sessions = [rec, rec, *(y.recorded_sessions for y in years), p.recorded_sessions]
    return {
        "plan": p, "name": p.scenario.name, "currency": p.scenario.currency,
        "heads": ["Per month, year-1 average", "Per month, steady state", *(f"Year {y.year}" for y in years),
                  f"{p.scenario.years} years"],
        "rows": [(CATEGORY_LABELS[c], [col[c] for col in cols]) for c in CATEGORIES],
        "totals": totals, "sessions": sessions,
        "per_session": [t / n if n else None for t, n in zip(totals, sessions, strict=True)],
        "storage": [(name, c.share, c.days, p.steady_gb[name],
                     [p.stored_gb_per_month[12 * y.year - 1][name] for y in years])
                    for name, c in p.scenario.retention.items()],
        "cards": [("Year 1", totals[2]), (f"{p.scenario.years} years", totals[-1]),
                  ("Per month, steady state", totals[1])],
        "per_session_total": totals[-1] / sessions[-1] if sessions[-1] else None,
        "notes": p.notes[1:],
    }


def _render(request: Request, plans: list[BudgetPlan], ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    chart = base64.b64encode(chart_png(plans)).decode() if plans else ""
    units = plans[0].units if plans else None
    return _page(request, "budget.html", {"nav": "budget", "views": [_view(p) for p in plans], "chart": chart,
                                          "units": units, "labels": CATEGORY_LABELS, "categories": CATEGORIES,
                                          "max_bytes": MAX_SCENARIO_BYTES, **ctx}, status)


def _money(x: float | None) -> str:
    """Whole currency units, with cents below 100 (storage and compute are often a few cents)."""
    if x is None:
        return "–"
    return f"{x:,.2f}" if 0 < abs(x) < 100 else f"{x:,.0f}"


templates.env.filters["budget_money"] = _money


@router.get("/budget", response_class=HTMLResponse)
def budget_page(request: Request, example: list[str] = Query([], max_length=80),
                format: Format = "html") -> Response:
    """The plan of one or more example scenarios, with the form to paste or upload a scenario."""
    try:
        files, chosen = _examples(example)
    except InvalidInput as exc:
        return _render(request, [], {"error": str(exc), "files": {}, "chosen": [], "text": ""}, 400)
    measured = _measurement(request)
    plans = [plan(s, unit_figures(s, measured)) for _, s in chosen]
    if format != "html" and plans:
        return _download(plans, format, "budget-" + "-".join(n for n, _ in chosen))
    names = [n for n, _ in chosen]
    return _render(request, plans, {"files": files, "chosen": names, "text": files[names[0]] if names else "",
                                    "query": "&".join(f"example={n}" for n in names)})


@router.get("/budget/export")
def budget_export(request: Request, example: list[str] = Query([], max_length=80),
                  format: Literal["csv", "json", "png"] = "csv") -> Response:
    """The example scenarios' plan as CSV, JSON or the chart PNG (an attachment)."""
    _, chosen = _examples(example)
    measured = _measurement(request)
    plans = [plan(s, unit_figures(s, measured)) for _, s in chosen]
    if not plans:
        raise InvalidInput("no example scenario to export")
    return _download(plans, format, "budget-" + "-".join(n for n, _ in chosen))


@router.post("/budget", response_class=HTMLResponse)
async def budget_post(request: Request, scenario: str = Form("", max_length=MAX_SCENARIO_BYTES),
                      upload: UploadFile | None = File(None), format: Format = Form("html")) -> Response:
    """Plan a pasted (``scenario``) or uploaded (``upload``, wins when given) scenario."""
    text = scenario
    if upload is not None and upload.filename:
        raw = await upload.read(MAX_SCENARIO_BYTES + 1)
        if len(raw) > MAX_SCENARIO_BYTES:
            raise InvalidInput("scenario is larger than 64 KB")
        text = raw.decode("utf-8", errors="replace")
    files = await run_in_threadpool(lambda: {k: p.read_text(encoding="utf-8") for k, p in example_files().items()})
    try:
        if not text.strip():
            raise InvalidInput("paste a scenario (YAML or JSON) or choose a file to upload")
        parsed = parse_scenario(text)
    except InvalidInput as exc:
        return _render(request, [], {"error": str(exc), "files": files, "chosen": [], "text": text}, 400)
    measured = await run_in_threadpool(_measurement, request)
    plans = [plan(parsed, unit_figures(parsed, measured))]
    if format != "html":
        return _download(plans, format, "budget")
    return await run_in_threadpool(_render, request, plans, {"files": files, "chosen": [], "text": text,
                                                             "posted": True})
