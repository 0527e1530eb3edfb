"""The compliance checklist, evaluated from configuration and records: each item green, amber or red
with the evidence that decided it.

Rules (thresholds are the module constants; "capture rate" etc. are :mod:`.metrics` over the period):

1. ``masking_encryption`` (PII masking and encryption). Red when a stored session holding data has no
   wrapped data key (not encrypted under its own key) or the data capture compliance rate is below
   :data:`CAPTURE_AMBER` (95 %); green when the rate is at least :data:`CAPTURE_GREEN` (99 %) and every
   stored session is encrypted; amber otherwise, and amber without recorded sessions (nothing shown).
2. ``consent`` (consent mechanism), from the consent ledger. Red when a recorded session of the period
   has no consent receipt (metric 2's ``recorded_without_receipt``: its consent cannot be shown); amber
   when the period has no receipts at all, or when the consent check refused or trimmed batches
   (``consent`` incidents: a tracker sent events without valid consent); green otherwise.
3. ``audit_trails``. Red when ``audit verify`` fails; green when it passes and the latest signed
   checkpoint is younger than 2 × ``REPLAYVAULT_CHECKPOINT_INTERVAL_S``; amber otherwise (no checkpoint,
   an old one, or scheduled checkpoints switched off).
4. ``retention`` (retention policy). Red when an expired session is still present (metric 5's
   ``expired_but_present`` > 0, over all time); green when every project (the period's project, when
   one is chosen) sets a ``retention`` section in its policy; amber when one relies on the built-in 30-day
   default.
5. ``training`` (staff training, from attestations). Staff: active users holding a role that may read
   recordings (``recordings:read``, the reads that require a current attestation). Green when every one
   has an attestation younger than ``REPLAYVAULT_TRAINING_MAX_AGE_DAYS``; amber from
   :data:`TRAINING_AMBER` (80 %); red below; amber without such staff.
6. ``reviews`` (periodic audits and access reviews): :func:`~replayvault.governance.reviews.review_status`
   — amber when overdue, green otherwise.
7. ``integration`` (integration with compliance systems): green when ``REPLAYVAULT_WEBHOOK_URL`` is set and
   the push cursor (``siem-push.json``) records a success for that URL with no failure since; amber
   otherwise (the pull feeds ``/api/v1/siem/*.jsonl`` stay available).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..db.models import Project, RecordingSession, User, UserRole
from ..governance.access import training_status
from ..governance.permissions import Permission, permissions_for
from ..governance.reviews import review_status
from .metrics import Metric, Period, compute_metrics

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = ["GREEN", "AMBER", "RED", "CAPTURE_GREEN", "CAPTURE_AMBER", "TRAINING_AMBER", "Item", "evaluate",
           "checklist"]

GREEN, AMBER, RED = "green", "amber", "red"
CAPTURE_GREEN = 0.99
CAPTURE_AMBER = 0.95
TRAINING_AMBER = 0.80


@dataclass(frozen=True)
class Item:
    """One checklist item: ``status`` (green, amber, red), the evidence sentence, the facts, links."""

    key: str
    title: str
    status: str
    evidence: str
    facts: dict[str, Any]
    link: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return asdict(self)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f} %"


def _masking(db: Any, capture: Metric) -> Item:
    S = RecordingSession
    unkeyed = list(db.scalars(select(S.id).where(S.shredded_ms.is_(None), S.chunk_count > 0, S.wrapped_dek.is_(None))))
    rate, n = capture.value, capture.denominator
    facts = {"capture_rate": rate, "sessions": n, "unencrypted_sessions": unkeyed[:100]}
    enc = "every stored session is encrypted under its own data key" if not unkeyed else \
        f"{len(unkeyed)} stored session(s) without a wrapped data key"
    text = f"capture compliance {_pct(rate)} ({capture.numerator}/{n} sessions without a masking incident); {enc}"
    if unkeyed or (rate is not None and rate < CAPTURE_AMBER):
        status = RED
    elif rate is not None and rate >= CAPTURE_GREEN:
        status = GREEN
    else:
        status = AMBER
        if rate is None:
            text = f"no recorded sessions yet; {enc}"
    return Item("masking_encryption", "PII masking and encryption", status, text, facts, "/")


def _consent(c: Metric, incidents: Metric) -> Item:
    d = c.detail
    blocked = incidents.detail["counts"]["consent"]
    facts = {"rate": c.value, **d, "consent_incidents": blocked}
    text = (f"consent rate {_pct(c.value)} ({c.numerator}/{c.denominator}); {d['refusals']} refusals "
            f"({d['refusals_gpc']} by GPC, {d['refusals_dnt']} by DNT, {d['refusals_tcf']} by TCF), {d['skipped']} "
            f"skipped, {d['withdrawn_after_recording'] + d['withdrawn_before_recording']} withdrawn; "
            f"{blocked} batches refused or trimmed by the consent check")
    if d["recorded_without_receipt"]:
        return Item("consent", "Consent mechanism", RED,
                    f"{d['recorded_without_receipt']} recorded sessions have no consent receipt, so their consent "
                    f"cannot be shown; {text}", facts)
    if c.denominator == 0:
        return Item("consent", "Consent mechanism", AMBER, "no consent receipts in the period: the mechanism is "
                    "not shown to work", facts)
    if blocked:
        return Item("consent", "Consent mechanism", AMBER, f"{text}: batches without valid consent reached the "
                    "collector (check the site's tracker integration)", facts)
    return Item("consent", "Consent mechanism", GREEN, f"every recorded session has a grant receipt; {text}", facts)


def _audit(rt: "Runtime", audit: dict[str, Any], now_ms: int) -> Item:
    interval = rt.settings.checkpoint_interval_s
    age_s = None if audit.get("checkpoint_ms") is None else (now_ms - audit["checkpoint_ms"]) / 1000
    facts = {**audit, "checkpoint_age_s": age_s, "checkpoint_interval_s": interval}
    if not audit.get("ok"):
        return Item("audit_trails", "Audit trails", RED, "audit verify failed: " + "; ".join(audit.get("problems") or []),
                    facts, "/audit")
    base = f"audit log verifies ({audit.get('entries')} entries)"
    if age_s is None:
        status, text = AMBER, base + "; no signed checkpoint yet"
    elif interval <= 0:
        status, text = AMBER, base + f"; scheduled checkpoints are off (latest {age_s / 60:.0f} min old)"
    elif age_s < 2 * interval:
        status, text = GREEN, base + f"; latest checkpoint (size {audit['checkpoint_size']}) is {age_s:.0f} s old, " \
                                     f"under 2 × {interval} s"
    else:
        status, text = AMBER, base + f"; latest checkpoint is {age_s:.0f} s old, over 2 × {interval} s"
    return Item("audit_trails", "Audit trails", status, text, facts, "/audit")


def _retention(db: Any, ret: Metric) -> Item:
    project = ret.period.get("project")
    q = select(Project).order_by(Project.id)
    projects = list(db.scalars(q.where(Project.id == project) if project else q))
    default = [p.id for p in projects if not (isinstance(p.policy, dict) and p.policy.get("retention"))]
    expired = ret.detail["expired_but_present"]
    facts = {"projects": len(projects), "projects_on_default": default, "expired_but_present": expired,
             "rate": ret.value, "expired_sessions": ret.links["expired_but_present"]["ids"]}
    if expired:
        status, text = RED, (f"{expired} session{'s are' if expired != 1 else ' is'} past its retention period and "
                             "still present (must be 0)")
    elif default:
        status, text = AMBER, f"no expired session is present; projects on the built-in default period: {', '.join(default)}"
    else:
        status, text = GREEN, f"every project ({len(projects)}) sets its retention policy; no expired session is present"
    return Item("retention", "Retention policy", status, text, facts, "/retention")


def _training(rt: "Runtime", db: Any, today: dt.date) -> Item:
    roles: dict[str, set[str]] = {}
    for uid, role in db.execute(select(UserRole.user_id, UserRole.role).join(User, User.id == UserRole.user_id)
                                .where(User.disabled.is_(False))):
        roles.setdefault(uid, set()).add(role)
    staff = sorted(uid for uid, r in roles.items() if Permission.RECORDINGS_READ in permissions_for(r))
    max_age = rt.settings.training_max_age_days
    lapsed = [uid for uid in staff if not training_status(db, uid, max_age, today)[0]]
    current = len(staff) - len(lapsed)
    share = None if not staff else current / len(staff)
    facts = {"staff": len(staff), "current": current, "share": share, "lapsed_user_ids": lapsed[:100],
             "max_age_days": max_age}
    text = f"{current}/{len(staff)} staff who may read recordings hold a training attestation younger than {max_age} days"
    if share is None:
        status, text = AMBER, "no active staff may read recordings: nothing to attest"
    elif share == 1:
        status = GREEN
    elif share >= TRAINING_AMBER:
        status = AMBER
    else:
        status = RED
    return Item("training", "Staff training", status, text, facts, "/training")


def _reviews(rt: "Runtime", db: Any, now_ms: int) -> Item:
    s = review_status(db, now_ms, period_days=rt.settings.access_review_days)
    return Item("reviews", "Periodic audits and access reviews", AMBER if s.overdue else GREEN,
                f"access reviews every {s.period_days} days: {s.reason}", s.as_dict(), "/reviews")


def _integration(rt: "Runtime") -> Item:
    from .webhook import load_state, state_path

    url = rt.settings.webhook_url
    state = load_state(state_path(rt.settings))
    same = url is not None and state.url_sha256 == hashlib.sha256(url.encode("utf-8")).hexdigest()
    facts = {"webhook_configured": url is not None, "last_success_ms": state.last_success_ms if same else None,
             "consecutive_failures": state.consecutive_failures if same else 0,
             "last_error": state.last_error if same else None, "next_index": state.next_index if same else 0}
    if url is None:
        return Item("integration", "Integration with compliance systems", AMBER,
                    "no SIEM/GRC webhook configured (REPLAYVAULT_WEBHOOK_URL); the pull feeds /api/v1/siem/*.jsonl "
                    "are available", facts)
    if same and state.last_success_ms is not None and state.consecutive_failures == 0:
        when = dt.datetime.fromtimestamp(state.last_success_ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return Item("integration", "Integration with compliance systems", GREEN,
                    f"webhook push succeeded last at {when}; cursor at audit index {state.next_index}", facts)
    why = "no successful push yet" if not same or state.last_success_ms is None else \
        f"{state.consecutive_failures} failed rounds since the last success ({state.last_error})"
    return Item("integration", "Integration with compliance systems", AMBER, f"webhook configured; {why}", facts)


def evaluate(rt: "Runtime", metrics: list[Metric], now_ms: int, everything: list[Metric] | None = None) -> list[Item]:
    """The seven items from the period's ``metrics`` (and all-time ones, ``everything``, for retention)."""
    by = {m.name: m for m in metrics}
    all_time = {m.name: m for m in (everything or metrics)}
    today = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).date()
    with rt.sessions() as db:
        return [_masking(db, by["data_capture"]), _consent(by["consent"], by["incident_rate"]),
                _audit(rt, by["access_log"].detail["audit"], now_ms), _retention(db, all_time["retention"]),
                _training(rt, db, today), _reviews(rt, db, now_ms), _integration(rt)]


def checklist(rt: "Runtime", period: Period | None = None, now_ms: int | None = None) -> list[Item]:
    """Compute the metrics over ``period`` and evaluate the checklist at ``now_ms`` (default now)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    period = period or Period()
    metrics = compute_metrics(rt, period, now)
    whole = Period(project=period.project)
    everything = metrics if period == whole else compute_metrics(rt, whole, now)
    return evaluate(rt, metrics, now, everything)
