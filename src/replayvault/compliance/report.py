"""The auditor report: everything an auditor asks about one period, as data, HTML and PDF.

Steps (each its own function):

1. :func:`build_report` collects a JSON-safe dict: the five metrics over the period (:mod:`.metrics`),
   the same metrics per ISO week (:mod:`.report_charts`), incidents by kind, the checklist
   (:mod:`.checklist`), retention (policies, sweeps, deletion certificates, legal holds), DSAR requests,
   training status, access reviews, reads of recordings by purpose, and the audit log's state with its
   latest signed checkpoint (signature checked with the log's own verifier key).
2. :func:`~.report_render.render_html` turns it into one self-contained HTML page (inline CSS and SVG,
   no scripts, no fetches); :func:`~.report_render.render_pdf` prints that page to A4 in headless Chromium.
3. :func:`write_report` writes the file atomically (mode 0600: a compliance record, owner only) and
   records ``report.generated`` in the audit log with the file's SHA-256 and the period. A report cannot
   hold its own digest; the audit entry does.

Personal data stays out: sessions appear by pseudonymous id (shortened), DSAR subjects not at all
(only request ids), staff by user name as ``/training`` shows them to compliance staff, and free-text
reasons (legal holds, justifications) are left out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from .. import __version__
from ..db.models import AuditEntry, LegalHold, Project, RecordingSession, User
from ..errors import InvalidInput
from ..governance.accounts import user_names
from ..governance.reading import VIEW_ACTIONS
from .checklist import evaluate
from .metrics import (
    Metric,
    Period,
    access_log,
    audit_status,
    consent,
    data_capture,
    incident_rate,
    retention,
)
from .report_charts import Week, iso_weeks
from .report_render import fmt_value, render_html, render_pdf

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = [
    "FORMATS",
    "HEATMAP_NOTE",
    "Report",
    "build_report",
    "fmt_value",
    "render_html",
    "render_pdf",
    "report_bytes",
    "write_report",
]

#: Output formats by file suffix.
FORMATS = {".html": "html", ".pdf": "pdf"}
#: Heatmap views are aggregate and not audited: the report says so instead of counting them.
HEATMAP_NOTE = ("Heatmap use is not recorded: heatmaps, scroll maps and funnels show aggregates of masked "
                "facts (no recording content) and are not written to the audit log, so the report cannot "
                "count them by purpose")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Report:
    """One report's content: ``data`` is a JSON-safe dict (times epoch ms UTC, shares 0..1, rates per
    1,000 recorded sessions; see :func:`build_report` for the keys)."""

    data: dict[str, Any]

    def to_json(self) -> str:
        """The data as JSON text."""
        return json.dumps(self.data, ensure_ascii=False, indent=1, sort_keys=True)


def _now() -> int:
    return int(time.time() * 1000)


def _ids(db: Any, project: str | None) -> set[str] | None:
    if project is None:
        return None
    return set(db.scalars(select(RecordingSession.id).where(RecordingSession.project_id == project)))


def _entries(db: Any, period: Period, actions: tuple[str, ...] | None = None) -> list[AuditEntry]:
    q = select(AuditEntry).where(AuditEntry.time_ms >= period.from_ms, AuditEntry.time_ms < period.to_ms)
    if actions is not None:
        q = q.where(AuditEntry.action.in_(actions))
    return list(db.scalars(q.order_by(AuditEntry.idx)))


def _details(e: AuditEntry) -> dict[str, Any]:
    try:
        d = json.loads(e.details or "{}")
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


def _mine(e: AuditEntry, ids: set[str] | None) -> bool:
    return ids is None or (e.resource.startswith("session:") and e.resource.removeprefix("session:") in ids)


# -- metrics, overall and per week ------------------------------------------------------------------
def _metrics(db: Any, period: Period, audit: dict[str, Any], now: int) -> list[Metric]:
    return [data_capture(db, period), consent(db, period), access_log(db, period, audit),
            incident_rate(db, period), retention(db, period, now)]


def _week_row(week: Week, found: list[Metric]) -> dict[str, Any]:
    inc = next(m for m in found if m.name == "incident_rate")
    return {**week.as_dict(),
            "metrics": {m.name: {"value": m.value, "numerator": m.numerator, "denominator": m.denominator}
                        for m in found},
            "incidents": {"counts": dict(inc.detail.get("counts") or {}),
                          "per_1000": dict(inc.detail.get("per_1000") or {})}}


def _metric_dict(m: Metric) -> dict[str, Any]:
    d = m.as_dict()
    d["detail"] = {k: v for k, v in d["detail"].items() if k != "audit"}  # shown in the audit section
    d["links"] = {k: {"kind": g["kind"], "total": g["total"]} for k, g in d["links"].items()}
    return d


# -- audit log and checkpoint -----------------------------------------------------------------------
def _checkpoint(rt: Runtime) -> dict[str, Any] | None:
    from ..audit.log import b64
    from ..audit.note import open_checkpoint

    cp = rt.audit.latest_checkpoint()
    if cp is None:
        return None
    key = rt.audit.verifier_key
    name, key_id = key.split("+")[:2]
    try:
        open_checkpoint(cp.note, key, rt.audit.origin)
        verified, problem = True, None
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        verified, problem = False, str(exc)[:200]
    return {"tree_size": cp.size, "root_hash": b64(cp.root), "root_hash_hex": cp.root.hex(),
            "created_ms": cp.created_ms, "origin": rt.audit.origin, "key_name": name, "key_id": key_id,
            "verifier_key": key, "signature_verified": verified, "problem": problem}


# -- sections ---------------------------------------------------------------------------------------
def _retention(rt: Runtime, db: Any, period: Period, ids: set[str] | None, now: int) -> dict[str, Any]:
    from ..governance.retention import retention_status

    names = user_names(db)
    projects = [p for p in retention_status(rt, now) if period.project in (None, p["project_id"])]
    entries = _entries(db, period, ("retention.deleted", "deletion.certificate", "legal_hold.placed",
                                    "legal_hold.released"))
    certs = [{"id": e.resource.removeprefix("certificate:"), "created_ms": e.time_ms, **{
        k: _details(e).get(k) for k in ("reason", "sessions", "sha256", "checkpoint_size", "dsar_request")}}
        for e in entries if e.action == "deletion.certificate"]
    count = Counter(e.action for e in entries if e.action == "deletion.certificate" or _mine(e, ids))
    hq = select(LegalHold, RecordingSession.project_id).join(
        RecordingSession, RecordingSession.id == LegalHold.session_id, isouter=True).where(LegalHold.released_ms.is_(None))
    holds = [{"session": h.session_id[:8], "project": pid, "placed_ms": h.placed_ms,
              "placed_by": names.get(h.placed_by.removeprefix("user:"), h.placed_by)}
             for h, pid in db.execute(hq.order_by(LegalHold.placed_ms)) if period.project in (None, pid)]
    return {"projects": projects, "certificates": certs, "sessions_deleted": count["retention.deleted"],
            "holds_placed": count["legal_hold.placed"], "holds_released": count["legal_hold.released"],
            "active_holds": holds}


def _dsar(rt: Runtime, period: Period, now: int) -> dict[str, Any]:
    from ..governance.dsar import list_requests

    inside = lambda ms: ms is not None and period.from_ms <= ms < period.to_ms
    rows = [r for r in list_requests(rt, now) if inside(r["created_ms"]) or inside(r["completed_ms"])
            or (r["status"] == "open" and r["created_ms"] < period.to_ms)]
    keep = ("id", "kind", "status", "created_ms", "due_ms", "completed_ms", "sessions", "certificate_id", "overdue")
    late = [r for r in rows if r["completed_ms"] is not None and r["completed_ms"] > r["due_ms"]]
    return {"requests": [{k: r[k] for k in keep} for r in rows],
            "opened": sum(1 for r in rows if inside(r["created_ms"])),
            "completed": sum(1 for r in rows if inside(r["completed_ms"])),
            "open": sum(1 for r in rows if r["status"] == "open"),
            "overdue": sum(1 for r in rows if r["overdue"]), "completed_late": len(late),
            "note": None if period.project is None else "DSAR requests span projects: all are shown"}


def _training(rt: Runtime, db: Any, now: int) -> dict[str, Any]:
    from ..governance.access import training_status
    from ..governance.accounts import roles_of
    from ..governance.permissions import Permission, permissions_for

    max_age = rt.settings.training_max_age_days
    today = dt.datetime.fromtimestamp(now / 1000, dt.UTC).date()
    users = []
    for u in db.scalars(select(User).where(User.disabled.is_(False)).order_by(User.username)):
        roles = sorted(roles_of(db, u.id))
        valid, latest = training_status(db, u.id, max_age, today)
        users.append({"username": u.username, "roles": roles, "latest": latest,
                      "status": "current" if valid else ("expired" if latest else "missing"),
                      "reads_recordings": Permission.RECORDINGS_READ in permissions_for(roles)})
    tally = Counter(u["status"] for u in users if u["reads_recordings"])
    return {"max_age_days": max_age, "users": users, "current": tally["current"], "expired": tally["expired"],
            "missing": tally["missing"]}


def _reviews(rt: Runtime, db: Any, period: Period, now: int) -> dict[str, Any]:
    from ..governance.reviews import list_reviews, review_status

    names = user_names(db)
    status = review_status(db, now, period_days=rt.settings.access_review_days).as_dict()
    rows = [r for r in list_reviews(rt, 200, now) if r["opened_ms"] < period.to_ms
            and (r["closed_ms"] is None or r["closed_ms"] >= period.from_ms)]
    for r in rows:
        for k in ("opened_by", "closed_by"):
            if r[k]:
                r[k] = names.get(r[k].removeprefix("user:"), r[k])
        r.pop("close_reason", None)  # free text
    return {"status": status, "reviews": rows}


def _use(db: Any, period: Period, ids: set[str] | None) -> dict[str, Any]:
    by: dict[str, Counter[str]] = defaultdict(Counter)
    denied: Counter[str] = Counter()
    for e in _entries(db, period, VIEW_ACTIONS):
        if not _mine(e, ids):
            continue
        purpose = e.purpose or "none declared"
        if e.outcome == "ok":
            by[purpose][e.action.removeprefix("recording.")] += 1
        else:
            denied[purpose] += 1
    return {"actions": [a.removeprefix("recording.") for a in VIEW_ACTIONS],
            "by_purpose": {p: dict(c) for p, c in sorted(by.items())}, "denied_by_purpose": dict(sorted(denied.items())),
            "heatmaps": {"recorded": False, "note": HEATMAP_NOTE}}


# -- the report -------------------------------------------------------------------------------------
def build_report(rt: Runtime, period: Period, now_ms: int | None = None,
                 progress: Progress | None = None) -> Report:
    """Collect the report over ``period`` (both bounds required, epoch ms, ``to`` excluded) at ``now_ms``.

    ``progress(step, done, total)`` is called as the weeks are computed. ``data`` keys: ``generator``
    (name, version), ``generated_ms``, ``period`` (``from_ms``, ``to_ms``, ``project``, ``first_day``,
    ``last_day``), ``projects``, ``metrics`` (as the API, links reduced to totals), ``weeks`` (per ISO week:
    the week's bounds, ``partial``, each metric's value/numerator/denominator, incidents by kind),
    ``incidents``, ``checklist``, ``audit`` (verification and ``checkpoint``: tree size, root hash, key
    name and id, ``signature_verified``), ``retention``, ``dsar``, ``training``, ``reviews``, ``use``.

    Raises:
        InvalidInput: a period without both bounds, an empty one, or one of more than 106 weeks; an unknown project.
    """
    if period.from_ms is None or period.to_ms is None:
        raise InvalidInput("a report needs both 'from' and 'to'")
    if period.project is not None:
        with rt.sessions() as db:
            if db.get(Project, period.project) is None:
                raise InvalidInput(f"no project {period.project[:64]!r}")
    now = _now() if now_ms is None else now_ms
    tick = progress or (lambda *_: None)
    weeks = iso_weeks(period.from_ms, period.to_ms)
    from ..governance.retention import ensure_expiry

    ensure_expiry(rt, now)
    audit = audit_status(rt)
    with rt.sessions() as db:
        overall = _metrics(db, period, audit, now)
        rows = []
        for i, week in enumerate(weeks):
            tick("weeks", i, len(weeks))
            rows.append(_week_row(week, _metrics(db, week.period(period.project), audit, now)))
        tick("weeks", len(weeks), len(weeks))
        everything = _metrics(db, Period(project=period.project), audit, now)
        ids = _ids(db, period.project)
        projects = list(db.scalars(select(Project.id).order_by(Project.id)))
        sections = {"retention": _retention(rt, db, period, ids, now), "training": _training(rt, db, now),
                    "reviews": _reviews(rt, db, period, now), "use": _use(db, period, ids)}
    tick("checklist", 0, 1)
    items = evaluate(rt, overall, now, everything)
    inc = next(m for m in overall if m.name == "incident_rate")
    data = {
        "generator": {"name": "replayvault", "version": __version__}, "generated_ms": now,
        "period": {**period.as_dict(), "first_day": weeks[0].first_day, "last_day": weeks[-1].last_day},
        "projects": [period.project] if period.project else projects,
        "metrics": [_metric_dict(m) for m in overall], "weeks": rows,
        "incidents": {"counts": inc.detail.get("counts", {}), "per_1000": inc.detail.get("per_1000", {}),
                      "sessions": inc.denominator, "notes": inc.notes},
        "checklist": [i.as_dict() for i in items],
        "audit": {**audit, "checkpoint": _checkpoint(rt)},
        "dsar": _dsar(rt, period, now), **sections,
    }
    return Report(json.loads(json.dumps(data, default=str)))


def _write_atomic(path: Path, body: bytes) -> None:
    """Write ``body`` to ``path`` through a temporary file in the same folder (mode 0600), then rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def report_bytes(report: Report, fmt: str) -> bytes:
    """The report as ``html`` (UTF-8) or ``pdf`` bytes.

    Raises:
        InvalidInput: another format.
        ReportRenderFailed: Chromium could not print the PDF.
    """
    html = render_html(report)
    if fmt == "html":
        return html.encode("utf-8")
    if fmt == "pdf":
        return render_pdf(html, footer_data=report.data)
    raise InvalidInput("the report format must be html or pdf")


def write_report(rt: Runtime, report: Report, path: Path, actor: str,
                 progress: Progress | None = None) -> dict[str, Any]:
    """Render ``report`` in the format of ``path``'s suffix (``.html`` or ``.pdf``), write it atomically
    (mode 0600) and audit ``report.generated`` (``details``: ``sha256`` of the file, ``bytes``, ``format``,
    ``from_ms``, ``to_ms``, ``project``). Returns ``{"path", "format", "bytes", "sha256", "audit_idx"}``.

    Raises:
        InvalidInput: another suffix, or a folder that does not exist.
        ReportRenderFailed: Chromium could not print the PDF.
        OSError: the file cannot be written.
        AuditUnavailable: the entry could not be committed (the file is written: it is removed again).
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(f"the report file must end in .html or .pdf, not {path.suffix or 'no suffix'!r}")
    if not path.parent.is_dir():
        raise InvalidInput(f"no such folder: {path.parent}")
    tick = progress or (lambda *_: None)
    tick(f"rendering {fmt}", 0, 1)
    body = report_bytes(report, fmt)
    digest = hashlib.sha256(body).hexdigest()
    _write_atomic(path, body)
    tick(f"rendering {fmt}", 1, 1)
    p = report.data["period"]
    try:
        entry = rt.audit.record(actor=actor, action="report.generated", resource=f"report:{digest[:16]}",
                                details={"sha256": digest, "bytes": len(body), "format": fmt, "from_ms": p["from_ms"],
                                         "to_ms": p["to_ms"], "project": p["project"]})
    except Exception:
        path.unlink(missing_ok=True)  # an unaudited compliance record must not be left behind
        raise
    return {"path": str(path), "format": fmt, "bytes": len(body), "sha256": digest, "audit_idx": entry.idx}
