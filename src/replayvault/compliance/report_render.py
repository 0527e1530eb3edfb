"""The auditor report as one self-contained HTML page and as an A4 PDF printed by headless Chromium.

The HTML holds everything inline: CSS (screen and print, A4 with page breaks), the weekly charts as SVG
drawn by :func:`~.report_charts.line_chart_svg`, no scripts and no external references; a
Content-Security-Policy meta tag forbids fetching anything. Metric ``detail`` dicts are rendered
generically: known keys get readable labels, unknown ones their key, nested dicts a small table, so a
metric that gains detail keys keeps rendering.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from ..errors import ReplayVaultError
from ._report_template import TEMPLATE
from .report_charts import line_chart_svg

if TYPE_CHECKING:
    from .report import Report

__all__ = ["ReportRenderFailed", "fmt_value", "render_html", "render_pdf"]

PDF_TIMEOUT_S = 120
#: Column heads of the weekly table.
SHORT = {"data_capture": "capture", "consent": "consent", "access_log": "access log",
         "incident_rate": "incidents / 1,000", "retention": "retention"}
#: Readable names of metric detail keys; any other key is shown as itself.
LABELS = {
    "sessions_with_incidents": "sessions with a masking incident", "incidents": "masking incidents",
    "shredded_sessions": "crypto-shredded since", "recorded_with_consent": "recorded with consent granted",
    "withdrawn_after_recording": "consent withdrawn after recording",
    "withdrawn_before_recording": "consent withdrawn before recording",
    "granted_not_recorded": "consent granted, nothing recorded", "refusals": "refusals", "skipped": "skipped",
    "by_method": "by method", "grants": "access grants", "export_downloads": "export downloads",
    "dsar_exports": "DSAR exports", "missing": "reads without an audit entry", "views_logged": "views logged",
    "views_without_grant": "views citing no grant", "counts": "count", "per_1000": "per 1,000 sessions",
    "expired_but_present": "expired but present (must be 0)", "held_past_expiry": "kept past expiry under legal hold",
    "without_period": "without a retention period", "now_ms": "evaluated at",
    "refusals_gpc": "refused by GPC", "refusals_dnt": "refused by DNT", "refusals_tcf": "refused by TCF",
    "refused_then_granted": "refused, then granted", "recorded_without_receipt": "recorded without a receipt",
    "imported": "imported (left out)", "reasons": "reasons", "events_dropped": "events dropped",
}


class ReportRenderFailed(ReplayVaultError):
    """Headless Chromium could not print the report to PDF (missing binary, crash or timeout)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"could not print the report to PDF: {reason}")


# -- formatting -------------------------------------------------------------------------------------
def _when(ms: Any) -> str:
    if ms is None:
        return "–"
    return dt.datetime.fromtimestamp(int(ms) / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _day(ms: Any) -> str:
    return "–" if ms is None else dt.datetime.fromtimestamp(int(ms) / 1000, dt.UTC).strftime("%Y-%m-%d")


def fmt_value(value: float | None, unit: str) -> str:
    """A metric value as the dashboard shows it: shares ``62.5 %``, rates ``1,000.0``; None is ``–``."""
    if value is None:
        return "–"
    return f"{value * 100:.1f} %" if unit == "share" else f"{value:,.1f}"


def _num(x: Any) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:,.0f}" if x.is_integer() else f"{x:,.1f}"
    return str(x)


def _cell(key: str, value: Any) -> Markup | str:
    """One detail value: None is "not recorded", ``*_ms`` a UTC time, dicts a nested table."""
    if value is None:
        return Markup('<span class="dim">not recorded</span>')
    if isinstance(value, dict):
        return _kv(value)
    if isinstance(value, list):
        return ", ".join(_num(v) for v in value) or "none"
    if key.endswith("_ms") and isinstance(value, int):
        return _when(value)
    return _num(value)


#: A metric's detail with more plain (not nested) entries than this is laid out in two columns.
KV_COLUMNS_FROM = 8


def _kv(d: dict[str, Any]) -> Markup:
    esc = Markup.escape

    def rows(items: list[tuple[Any, Any]]) -> str:
        return "".join(f"<tr><th>{esc(LABELS.get(str(k), str(k).replace('_', ' ')))}</th>"
                       f"<td>{esc(_cell(str(k), v))}</td></tr>" for k, v in items)

    items = list(d.items())
    if not items:
        return Markup('<span class="dim">none</span>')
    plain = [kv for kv in items if not isinstance(kv[1], dict)]
    if len(plain) > KV_COLUMNS_FROM:  # e.g. the consent metric: keep its card short on the page
        half = (len(plain) + 1) // 2
        nested = [kv for kv in items if isinstance(kv[1], dict)]
        cols = "".join(f'<table class="kv">{rows(part)}</table>' for part in (plain[:half], plain[half:]))
        tail = f'<table class="kv">{rows(nested)}</table>' if nested else ""
        return Markup(f'<div class="kv-cols">{cols}</div>{tail}')
    return Markup(f'<table class="kv">{rows(items)}</table>')


# -- charts -----------------------------------------------------------------------------------------
def _charts(data: dict[str, Any]) -> list[dict[str, Any]]:
    weeks = data["weeks"]
    labels = [w["label"].split("-")[1] + ("*" if w["partial"] else "") for w in weeks]
    out = []
    for m in data["metrics"]:
        name = m["name"]
        series: dict[str, list[float | None]] = {m["title"]: [w["metrics"][name]["value"] for w in weeks]}
        if name == "incident_rate":
            series = {"total": series[m["title"]]}
            kinds = sorted({k for w in weeks for k, n in w["incidents"]["counts"].items() if n})
            for k in kinds:
                series[k.replace("_", " ")] = [w["incidents"]["per_1000"].get(k) for w in weeks]
        svg = line_chart_svg(m["title"], labels, series, m["unit"], salt=f"report-{name}")
        out.append({"name": name, "title": m["title"], "svg": Markup(svg)})
    return out


# -- HTML -------------------------------------------------------------------------------------------
_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True), trim_blocks=True,
                   lstrip_blocks=True)
_env.filters.update(when=_when, day=_day, num=_num, kv=_kv, value=lambda m: fmt_value(m["value"], m["unit"]))


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document (UTF-8 text; inline CSS and SVG, no scripts)."""
    data = report.data
    return _env.from_string(TEMPLATE).render(d=data, charts=_charts(data), SHORT=SHORT)


# -- PDF --------------------------------------------------------------------------------------------
def _footer(data: dict[str, Any]) -> str:
    p = data["period"]
    text = f"replayvault compliance report · {p['first_day']} to {p['last_day']} · {p['project'] or 'all projects'}"
    return ('<div style="font-size:7pt;color:#666;width:100%;padding:0 14mm;display:flex;justify-content:space-between;'
            f'font-family:sans-serif"><span>{Markup.escape(text)}</span><span>page <span class="pageNumber"></span> of '
            '<span class="totalPages"></span></span></div>')


def _print(html: str, chromium: str, footer: str) -> bytes:
    from playwright.sync_api import sync_playwright

    from ..render.backdrop import CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(java_script_enabled=False, service_workers="block")
            context.route("**/*", lambda route: route.abort())  # the page is self-contained
            page = context.new_page()
            page.set_content(html, wait_until="load")
            return page.pdf(format="A4", print_background=True, prefer_css_page_size=True,
                            display_header_footer=True, header_template="<span></span>", footer_template=footer,
                            margin={"top": "14mm", "bottom": "16mm", "left": "14mm", "right": "14mm"})
        finally:
            browser.close()


def render_pdf(html: str, path: Path | None = None, *, footer_data: dict[str, Any] | None = None) -> bytes:
    """Print ``html`` to an A4 PDF in headless Chromium (``REPLAYVAULT_CHROMIUM_PATH``, network closed,
    JavaScript off); return the bytes, also written to ``path`` when given. ``footer_data`` (the report
    data) adds a footer with the period and page numbers.

    Raises:
        ReportRenderFailed: no Chromium, or printing failed or took longer than 120 s.
    """
    from ..config import get_settings

    chromium = str(get_settings().chromium_path)
    if not Path(chromium).exists():
        raise ReportRenderFailed(f"no Chromium at {chromium} (REPLAYVAULT_CHROMIUM_PATH)")
    footer = _footer(footer_data) if footer_data else "<span></span>"
    try:
        # Playwright's sync API refuses a thread with a running asyncio loop: print in a thread of its own.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-pdf") as pool:
            pdf = pool.submit(_print, html, chromium, footer).result(timeout=PDF_TIMEOUT_S)
    except Exception as exc:
        raise ReportRenderFailed(type(exc).__name__) from exc
    if path is not None:
        path.write_bytes(pdf)
    return pdf
