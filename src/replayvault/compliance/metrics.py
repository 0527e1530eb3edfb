"""The five compliance metrics, for a period and a project, each with the records behind it.

Every metric is a :class:`Metric`: ``value`` (a share 0..1, or a rate per 1,000 sessions), its
``numerator`` and ``denominator``, the ``period`` and ``project`` it covers, a ``detail`` dict, notes on
what is not recorded yet, and ``links``: the session ids (``/sessions/{id}``) or audit entry indexes
(``/audit?before={idx + 1}``) behind it, at most :data:`MAX_LINKS` of each with their ``total``.

Populations (``created_ms`` of the session row, server time of its first batch or consent call, in
``[from_ms, to_ms)``; ``project`` filters ``project_id``):

* **known sessions**: every session row (the tracker ran: it sent a batch or a consent decision);
* **recorded sessions**: known sessions that stored data (``chunk_count > 0``) or were crypto-shredded
  since (a tombstone: it was recorded). Their masking incidents come from the session row while it is
  stored and from the audit log's ``chunk.ingested`` entries (``details.incidents``) once shredded, so a
  retention sweep does not improve the rate.

The metrics:

1. ``data_capture`` = recorded sessions without a masking incident / recorded sessions.
2. ``consent`` = sessions recorded under a grant receipt / sessions where the tracker ran. From the
   consent ledger (:mod:`replayvault.governance.consent`): the tracker ran for every session whose first
   receipt arrived in the period, and for every recorded session of the period without a grant receipt
   that arrived before its recording started (``recorded_without_receipt``: recorded before the ledger
   existed, or by a tracker that sent none; they count against the rate, and a grant sent afterwards does
   not change that). Recorded with consent: a grant receipt arrived no later than the first batch. Imported recordings (``replayvault import``) are left out (``imported``).
   A session's decision is its newest receipt other than ``skipped``. Shown apart: ``refusals`` (with
   those by GPC, DNT and TCF), ``skipped`` (only ``skipped`` receipts), ``refused_then_granted``,
   ``withdrawn_after_recording`` (counted as recorded with consent: the withdrawal does not make the
   earlier recording unlawful, GDPR Art. 7(3)), ``withdrawn_before_recording``, ``granted_not_recorded``,
   and sessions by the method of their decision.
3. ``access_log`` = reads with a matching ``ok`` audit entry / reads. No read of content happens without
   a record outside the log: a view needs an access grant (``access_grants``), an export download marks
   its request (``export_requests.downloaded_ms``), a DSAR export completes its request
   (``dsar_requests``). Matches: grant → ``recording.access_declared`` with ``details.grant``; export →
   ``recording.exported`` with ``details.export``; DSAR → ``dsar.export`` on ``dsar:{id}``. Each
   ``recording.view`` entry must name a grant that exists (counted as ``views_without_grant``). Plus
   the audit log's verification status (``audit verify``) and its latest checkpoint.
4. ``incident_rate`` = incidents per 1,000 recorded sessions, by kind: ``masking`` (sum of masking
   incidents of the recorded sessions), ``access_policy`` (audit entries with outcome ``denied`` in the
   period; with a project, only those naming one of its sessions), ``scope`` and ``consent`` (the
   collector's :class:`~replayvault.db.models.IngestIncident` rows received in the period: one per batch
   and reason, with their ``reasons`` and the events they dropped). ``value`` is the total of the kinds.
5. ``retention`` = stored sessions inside their retention period / stored sessions (stored: not
   shredded, holding data), at ``now``. Inside: ``expires_ms`` in the future, or past it under an active
   legal hold (lawfully kept, counted apart as ``held_past_expiry``). ``expired_but_present`` (past
   expiry, no hold, data or wrapped key still there) must be 0; they are listed.

A metric with a zero denominator has ``value`` None.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import (AccessGrant, AuditEntry, ConsentReceipt, DsarRequest, ExportRequest, IngestIncident,
                         RecordingSession)
from ..governance.consent import receipts_of
from ..errors import InvalidInput
from ..governance.retention import DAY_MS, ensure_expiry, held_ids

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = ["MAX_LINKS", "METRICS", "Period", "Metric", "parse_period", "compute_metrics", "data_capture", "consent",
           "access_log", "incident_rate", "retention", "audit_status"]

#: At most this many session ids or audit indexes are listed per link group (with the total).
MAX_LINKS = 100
#: The metrics in the order the API, the dashboard and reports show them.
METRICS = ("data_capture", "consent", "access_log", "incident_rate", "retention")
_IN = 500


def _now() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Period:
    """``[from_ms, to_ms)`` (epoch ms; None: open) and the project (None: every project)."""

    from_ms: int | None = None
    to_ms: int | None = None
    project: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return asdict(self)


def _bound(text: str | None, name: str, end: bool) -> int | None:
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    if text.isdigit() and len(text) > 8:
        return int(text)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{name}' must be a day YYYY-MM-DD (UTC) or epoch milliseconds") from None
    ms = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
    return ms + DAY_MS if end else ms


def parse_period(from_: str | None, to: str | None, project: str | None = None) -> Period:
    """A period from query text: days ``YYYY-MM-DD`` (UTC; ``to`` included) or epoch ms (``to`` excluded).

    Raises:
        InvalidInput: a bound that is neither, or ``from`` after ``to``.
    """
    lo, hi = _bound(from_, "from", False), _bound(to, "to", True)
    if lo is not None and hi is not None and lo > hi:
        raise InvalidInput("'from' is after 'to'")
    return Period(lo, hi, (project or "").strip() or None)


def _links(kind: str, ids: list[Any]) -> dict[str, Any]:
    return {"kind": kind, "total": len(ids), "ids": ids[:MAX_LINKS]}


@dataclass
class Metric:
    """One metric's value and the records behind it (see the module docstring)."""

    name: str
    title: str
    definition: str
    value: float | None
    numerator: float
    denominator: int
    unit: str  # "share" (0..1) or "per_1000_sessions"
    period: dict[str, Any]
    detail: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON shape (API, reports)."""
        return asdict(self)


def _share(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def _in_period(col: Any, period: Period) -> list[Any]:
    conds = []
    if period.from_ms is not None:
        conds.append(col >= period.from_ms)
    if period.to_ms is not None:
        conds.append(col < period.to_ms)
    return conds


def _sessions(db: Session, period: Period) -> list[RecordingSession]:
    S = RecordingSession
    q = select(S).where(*_in_period(S.created_ms, period))
    if period.project:
        q = q.where(S.project_id == period.project)
    return list(db.scalars(q.order_by(S.created_ms, S.id)))


def _recorded(s: RecordingSession) -> bool:
    return s.chunk_count > 0 or s.shredded_ms is not None


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i:i + _IN] for i in range(0, len(ids), _IN)]


def _logged_incidents(db: Session, sids: list[str]) -> dict[str, int]:
    """Masking incidents per session summed from its ``chunk.ingested`` audit entries."""
    out: dict[str, int] = defaultdict(int)
    for part in _chunks(sids):
        rows = db.execute(select(AuditEntry.resource, AuditEntry.details).where(
            AuditEntry.action == "chunk.ingested", AuditEntry.resource.in_([f"session:{s}" for s in part])))
        for resource, details in rows:
            try:
                n = json.loads(details or "{}").get("incidents", 0)
            except (ValueError, AttributeError):
                n = 0
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                out[resource.removeprefix("session:")] += n
    return out


def _incidents(db: Session, recorded: list[RecordingSession]) -> dict[str, int]:
    """Masking incidents per recorded session: the row while stored, the audit log once shredded."""
    logged = _logged_incidents(db, [s.id for s in recorded if s.shredded_ms is not None])
    return {s.id: (logged.get(s.id, 0) if s.shredded_ms is not None else s.incidents or 0) for s in recorded}


# -- 1. data capture compliance ---------------------------------------------------------------------
def data_capture(db: Session, period: Period) -> Metric:
    """Recorded sessions without a masking incident / recorded sessions."""
    recorded = [s for s in _sessions(db, period) if _recorded(s)]
    inc = _incidents(db, recorded)
    bad = [sid for sid, n in inc.items() if n]
    clean = len(recorded) - len(bad)
    return Metric("data_capture", "Data capture compliance rate",
                  "recorded sessions without a masking incident / recorded sessions",
                  _share(clean, len(recorded)), clean, len(recorded), "share", period.as_dict(),
                  detail={"sessions_with_incidents": len(bad), "incidents": sum(inc.values()),
                          "shredded_sessions": sum(1 for s in recorded if s.shredded_ms is not None)},
                  links={"sessions_with_incidents": _links("session", bad)})


# -- 2. consent acquisition -------------------------------------------------------------------------
def _receipt_sessions(db: Session, period: Period) -> dict[str, list[ConsentReceipt]]:
    """Sessions whose first consent receipt arrived in the period, with all their receipts (arrival order)."""
    R = ConsentReceipt
    q = select(R.session_id).where(*_in_period(R.received_ms, period))
    if period.project:
        q = q.where(R.project_id == period.project)
    sids = sorted(set(db.scalars(q)))
    timelines = receipts_of(db, sids)
    return {sid: rs for sid, rs in timelines.items()
            if rs and (period.from_ms is None or rs[0].received_ms >= period.from_ms)}


def consent(db: Session, period: Period) -> Metric:
    """Sessions recorded with a grant receipt / sessions where the tracker ran (module docstring)."""
    timelines = _receipt_sessions(db, period)
    rows = {s.id: s for s in _sessions(db, period)}
    for part in _chunks(sorted(set(timelines) - set(rows))):
        rows.update({s.id: s for s in db.scalars(select(RecordingSession).where(RecordingSession.id.in_(part)))})
    recorded = {sid for sid, s in rows.items() if _recorded(s)}
    imported = sorted(sid for sid, s in rows.items() if s.consent == "imported" and sid not in timelines)

    def granted_first(sid: str) -> bool:  # a grant receipt that arrived before the recording started
        return any(r.decision == "granted" and r.received_ms <= rows[sid].created_ms for r in timelines.get(sid, []))

    legacy = sorted(sid for sid in recorded - set(imported) if not granted_first(sid))
    granted, refusals, skipped, withdrawn_data, withdrawn_none, waiting, changed = [], [], [], [], [], [], []
    by_method: dict[str, int] = defaultdict(int)
    finals: dict[str, ConsentReceipt] = {}  # each refused session's deciding receipt
    for sid, rs in timelines.items():
        decisive = [r for r in rs if r.decision != "skipped"]
        final = decisive[-1] if decisive else None
        if final is None:
            skipped.append(sid)
            continue
        by_method[final.method] += 1
        if sid in recorded and granted_first(sid):
            granted.append(sid)
        if any(a.decision == "refused" and b.decision == "granted" for a, b in zip(decisive, decisive[1:])):
            changed.append(sid)
        if final.decision == "refused":
            refusals.append(sid)
            finals[sid] = final
        elif final.decision == "withdrawn":
            (withdrawn_data if sid in recorded else withdrawn_none).append(sid)
        elif sid not in recorded:
            waiting.append(sid)
    known = len(set(timelines) | set(legacy))
    refused_by = {k: sum(1 for sid in refusals if finals[sid].method == k or (k == "gpc" and finals[sid].gpc)
                         or (k == "dnt" and finals[sid].dnt)) for k in ("gpc", "dnt", "tcf")}
    return Metric("consent", "Consent acquisition rate",
                  "sessions recorded under a grant receipt / sessions where the tracker ran",
                  _share(len(granted), known), len(granted), known, "share", period.as_dict(),
                  detail={"recorded_with_consent": len(granted), "refusals": len(refusals),
                          "refusals_gpc": refused_by["gpc"], "refusals_dnt": refused_by["dnt"],
                          "refusals_tcf": refused_by["tcf"], "skipped": len(skipped),
                          "refused_then_granted": len(changed), "withdrawn_after_recording": len(withdrawn_data),
                          "withdrawn_before_recording": len(withdrawn_none), "granted_not_recorded": len(waiting),
                          "recorded_without_receipt": len(legacy), "imported": len(imported),
                          "by_method": dict(sorted(by_method.items()))},
                  notes=["GPC refusals and skipped visits count page loads (without consent no id links a "
                         "visitor's pages); a banner refusal counts once"] +
                        (["imported recordings have no consent receipt here and are left out"] if imported else []),
                  links={"recorded_with_consent": _links("session", granted),
                         "recorded_without_receipt": _links("session", legacy),
                         "refusals": _links("receipt", refusals), "skipped": _links("receipt", skipped),
                         "withdrawn_after_recording": _links("session", withdrawn_data)})


# -- 3. access log completeness ---------------------------------------------------------------------
def _entries(db: Session, action: str, period: Period | None = None) -> list[AuditEntry]:
    q = select(AuditEntry).where(AuditEntry.action == action)
    if period is not None:
        q = q.where(*_in_period(AuditEntry.time_ms, period))
    return list(db.scalars(q.order_by(AuditEntry.idx)))


def _detail(e: AuditEntry, key: str) -> Any:
    try:
        return json.loads(e.details or "{}").get(key)
    except (ValueError, AttributeError):
        return None


def _project_sessions(db: Session, project: str | None) -> set[str] | None:
    if project is None:
        return None
    return set(db.scalars(select(RecordingSession.id).where(RecordingSession.project_id == project)))


def access_log(db: Session, period: Period, audit: dict[str, Any] | None = None) -> Metric:
    """Reads (grants, export downloads, DSAR exports) with a matching ``ok`` audit entry / reads."""
    mine = _project_sessions(db, period.project)
    ok = lambda e: e.outcome == "ok"  # noqa: E731
    declared = {_detail(e, "grant"): e.idx for e in _entries(db, "recording.access_declared") if ok(e)}
    exported = {_detail(e, "export"): e.idx for e in _entries(db, "recording.exported") if ok(e)}
    dsar = {e.resource.removeprefix("dsar:"): e.idx for e in _entries(db, "dsar.export") if ok(e)}
    grants = [g for g in db.scalars(select(AccessGrant).where(*_in_period(AccessGrant.created_ms, period))
                                    .order_by(AccessGrant.created_ms, AccessGrant.id))
              if mine is None or g.session_id in mine]
    exports = [x for x in db.scalars(select(ExportRequest).where(
        ExportRequest.downloaded_ms.is_not(None), *_in_period(ExportRequest.downloaded_ms, period))
        .order_by(ExportRequest.downloaded_ms)) if mine is None or x.session_id in mine]
    dsars = [] if period.project else list(db.scalars(select(DsarRequest).where(
        DsarRequest.kind == "export", DsarRequest.status == "completed",
        *_in_period(DsarRequest.completed_ms, period)).order_by(DsarRequest.completed_ms)))
    reads = [("grant", g.id, declared.get(g.id)) for g in grants] + [("export", x.id, exported.get(x.id)) for x in exports] \
        + [("dsar", d.id, dsar.get(d.id)) for d in dsars]
    matched = [idx for _, _, idx in reads if idx is not None]
    missing = [f"{kind}:{rid}" for kind, rid, idx in reads if idx is None]
    known_grants = set(db.scalars(select(AccessGrant.id)))
    views = [e for e in _entries(db, "recording.view", period) if ok(e)
             and (mine is None or e.resource.removeprefix("session:") in mine)]
    orphan = [e.idx for e in views if _detail(e, "grant") not in known_grants]
    return Metric("access_log", "Access log completeness",
                  "reads of recordings (access grants, export downloads, DSAR exports) with a matching audit entry / reads",
                  _share(len(matched), len(reads)), len(matched), len(reads), "share", period.as_dict(),
                  detail={"grants": len(grants), "export_downloads": len(exports), "dsar_exports": len(dsars),
                          "missing": len(missing), "views_logged": len(views), "views_without_grant": len(orphan),
                          "audit": audit},
                  notes=[] if not period.project else ["DSAR exports span projects: left out when a project is chosen"],
                  links={"audit_entries": _links("audit", sorted(matched)), "missing": _links("record", missing),
                         "views_without_grant": _links("audit", orphan)})


def audit_status(rt: "Runtime", max_age_s: float = 60.0) -> dict[str, Any]:
    """``audit verify`` in short: ``ok``, ``entries``, ``problems``, ``verified_at`` (epoch s) and the latest
    checkpoint's ``checkpoint_size`` and ``checkpoint_ms`` (None before the first)."""
    from ..errors import AuditTampered

    result, at = rt.audit.verify_recent(max_age_s)
    cp = rt.audit.latest_checkpoint()
    base = {"checkpoint_size": cp.size if cp else None, "checkpoint_ms": cp.created_ms if cp else None,
            "verified_at": at}
    if isinstance(result, AuditTampered):
        return {"ok": False, "entries": None, "problems": [str(result)], **base}
    d = result.as_dict()
    return {"ok": bool(d.get("ok", True)), "entries": d.get("entries"), "problems": d.get("problems", []), **base}


# -- 4. incident rate -------------------------------------------------------------------------------
def incident_rate(db: Session, period: Period) -> Metric:
    """Incidents per 1,000 recorded sessions, by kind (masking, scope, consent, access_policy)."""
    recorded = [s for s in _sessions(db, period) if _recorded(s)]
    inc = _incidents(db, recorded)
    mine = _project_sessions(db, period.project)
    denied = [e.idx for e in db.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied",
                                                                   *_in_period(AuditEntry.time_ms, period))
                                        .order_by(AuditEntry.idx))
              if mine is None or e.resource.removeprefix("session:") in mine]
    I = IngestIncident
    q = select(I).where(*_in_period(I.received_ms, period))
    if period.project:
        q = q.where(I.project_id == period.project)
    ingest = list(db.scalars(q.order_by(I.id)))
    by_kind = {k: [i for i in ingest if i.kind == k] for k in ("scope", "consent")}
    counts = {"masking": sum(inc.values()), "scope": len(by_kind["scope"]), "consent": len(by_kind["consent"]),
              "access_policy": len(denied)}
    n = len(recorded)
    per = {k: (None if n == 0 else v * 1000 / n) for k, v in counts.items()}
    total = sum(counts.values())
    reasons = {k: dict(sorted(_count(f"{i.reason}" for i in rows).items())) for k, rows in by_kind.items()}
    return Metric("incident_rate", "Incident rate", "incidents per 1,000 recorded sessions, by kind",
                  None if n == 0 else total * 1000 / n, total, n, "per_1000_sessions", period.as_dict(),
                  detail={"counts": counts, "per_1000": per, "reasons": reasons,
                          "events_dropped": {k: sum(i.events for i in rows) for k, rows in by_kind.items()}},
                  links={"masking": _links("session", [sid for sid, v in inc.items() if v]),
                         "scope": _links("session", sorted({i.session_id for i in by_kind["scope"]})),
                         "consent": _links("session", sorted({i.session_id for i in by_kind["consent"]})),
                         "access_policy": _links("audit", denied)})


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for x in items:
        out[x] += 1
    return out


# -- 5. retention -----------------------------------------------------------------------------------
def retention(db: Session, period: Period, now_ms: int) -> Metric:
    """Stored sessions inside their retention period / stored sessions, at ``now_ms``."""
    held = set(db.scalars(held_ids()))
    rows = [s for s in _sessions(db, period)
            if s.shredded_ms is None and (s.chunk_count > 0 or s.wrapped_dek is not None)]
    stored = [s for s in rows if s.chunk_count > 0]
    expired = [s for s in rows if s.expires_ms is not None and s.expires_ms <= now_ms and s.id not in held]
    bad = {s.id for s in expired}
    inside = [s.id for s in stored if s.id not in bad]
    held_past = [s.id for s in stored if s.expires_ms is not None and s.expires_ms <= now_ms and s.id in held]
    no_period = [s.id for s in stored if s.expires_ms is None]
    return Metric("retention", "Data retention compliance",
                  "stored sessions inside their retention period (or under legal hold) / stored sessions",
                  _share(len(inside), len(stored)), len(inside), len(stored), "share", period.as_dict(),
                  detail={"expired_but_present": len(expired), "held_past_expiry": len(held_past),
                          "without_period": len(no_period), "now_ms": now_ms},
                  links={"expired_but_present": _links("session", [s.id for s in expired]),
                         "held_past_expiry": _links("session", held_past)})


# -- all ----------------------------------------------------------------------------------------------
def compute_metrics(rt: "Runtime", period: Period | None = None, now_ms: int | None = None,
                    verify_max_age_s: float = 60.0) -> list[Metric]:
    """The five metrics over ``period`` (default: everything), in :data:`METRICS` order."""
    period = period or Period()
    now = _now() if now_ms is None else now_ms
    ensure_expiry(rt, now)
    audit = audit_status(rt, verify_max_age_s)
    with rt.sessions() as db:
        return [data_capture(db, period), consent(db, period), access_log(db, period, audit),
                incident_rate(db, period), retention(db, period, now)]

