"""Prometheus metrics: computed from the database on each scrape, written in the text exposition
format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).

Counters only ever grow, so they are taken from the append-only audit log, not from tables that
retention shrinks: an in-process :class:`AuditTally` adds up the entries appended since the previous
scrape (the first scrape reads the whole log once; a restart recomputes the same values). Gauges are
cheap aggregate queries over the current tables.

=================================================== ======= =====================================================
metric                                              type    value
=================================================== ======= =====================================================
``replayvault_sessions_total``                      counter sessions that ever held a recording (shredded too)
``replayvault_ingest_batches_total``                counter ``chunk.ingested`` audit entries
``replayvault_chunks_stored_bytes_total``           counter sealed chunk bytes stored at ingest (audit details)
``replayvault_masking_incidents_total``             counter masking incidents at ingest (audit details)
``replayvault_masking_incidents{kind}``             gauge   masking incidents per kind in sessions still stored
``replayvault_access_denied_total{action}``         counter audit entries with outcome ``denied``, per action
``replayvault_login_failures_total``                counter ``login`` entries with outcome ``failed``
``replayvault_consent_receipts_total{decision}``    counter ``consent.receipt`` entries, per decision
``replayvault_consent_blocked_total{reason}``       counter ``consent.blocked`` entries (consent incidents), per reason
``replayvault_scope_dropped_events_total``          counter events dropped as outside the capture scope
``replayvault_audit_entries_total``                 counter entries in the audit log (its tree size)
``replayvault_audit_last_checkpoint_timestamp_seconds`` gauge  when the latest checkpoint was signed (0: none)
``replayvault_audit_last_checkpoint_tree_size``     gauge   entries that checkpoint covers (0: none)
``replayvault_legal_holds_active``                  gauge   legal holds not released
``replayvault_retention_expired_present``           gauge   sessions past retention, not held, not yet shredded
``replayvault_dsar_requests_open``                  gauge   data subject requests not answered
``replayvault_dsar_requests_overdue``               gauge   open requests past their due time (30 days)
``replayvault_siem_push_next_index``                gauge   webhook cursor (only when a webhook URL is set)
``replayvault_siem_push_consecutive_failures``      gauge   failed push rounds in a row (idem)
``replayvault_siem_push_last_success_timestamp_seconds`` gauge last delivered batch (idem; 0: none)
=================================================== ======= =====================================================
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from ..db.models import AuditEntry, DsarRequest, LegalHold, MaskingEvidence, RecordingSession
from ..privacy.evidence import SANITIZING_KINDS
from ..runtime import Runtime

__all__ = ["CONTENT_TYPE", "Sample", "Family", "AuditTally", "render", "collect", "metrics_text"]

#: Media type of the text exposition format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Sample:
    """One sample: label pairs (in output order) and a value."""

    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True)
class Family:
    """A metric family: name, ``counter`` or ``gauge``, help text, samples."""

    name: str
    kind: str
    help: str
    samples: list[Sample] = field(default_factory=list)


def _number(value: float) -> str:
    """Integers without a fraction (``3``), other floats as Python's shortest round-trip repr."""
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def _label(value: str) -> str:
    """A label value escaped: backslash, double quote and line feed."""
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _help(text: str) -> str:
    """A HELP text escaped: backslash and line feed."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def render(families: list[Family]) -> str:
    """The families in the text format 0.0.4: ``# HELP``, ``# TYPE``, then one line per sample."""
    out = []
    for f in families:
        out.append(f"# HELP {f.name} {_help(f.help)}")
        out.append(f"# TYPE {f.name} {f.kind}")
        for s in f.samples:
            labels = ",".join(f'{k}="{_label(v)}"' for k, v in s.labels)
            out.append(f"{f.name}{{{labels}}} {_number(s.value)}" if labels else f"{f.name} {_number(s.value)}")
    return "\n".join(out) + "\n"


class AuditTally:
    """Running sums over the audit log, brought up to date from the last index seen on each call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.next_index = 0
        self.batches = 0
        self.stored_bytes = 0
        self.incidents = 0
        self.login_failures = 0
        self.denied: Counter[str] = Counter()
        self.receipts: Counter[str] = Counter()
        self.blocked: Counter[str] = Counter()
        self.scope_dropped = 0

    def update(self, rt: Runtime) -> int:
        """Add the entries appended since the last call; return the log's size (entries)."""
        with self._lock, rt.sessions() as db:
            last = db.scalar(select(func.max(AuditEntry.idx)))
            size = 0 if last is None else last + 1
            if size < self.next_index:  # the log was replaced: start again
                self._reset()
            rows = db.execute(select(AuditEntry.action, AuditEntry.outcome, AuditEntry.details).where(
                AuditEntry.idx >= self.next_index, AuditEntry.idx < size,
                or_(AuditEntry.action.in_(("chunk.ingested", "consent.receipt", "consent.blocked", "scope.dropped")),
                    AuditEntry.outcome.in_(("denied", "failed")))))
            for action, outcome, details in rows:
                if outcome == "denied":
                    self.denied[action] += 1
                elif outcome == "failed" and action == "login":
                    self.login_failures += 1
                elif action == "chunk.ingested":
                    d = json.loads(details or "{}")
                    self.batches += 1
                    self.stored_bytes += _count(d.get("stored_bytes"))
                    self.incidents += _count(d.get("incidents"))
                    self.scope_dropped += _count(d.get("scope_dropped"))
                elif action == "scope.dropped":
                    self.scope_dropped += _count(json.loads(details or "{}").get("events"))
                elif action in ("consent.receipt", "consent.blocked"):
                    key = "decision" if action == "consent.receipt" else "reason"
                    value = json.loads(details or "{}").get(key)
                    if isinstance(value, str) and value.replace("_", "").isalnum():
                        (self.receipts if action == "consent.receipt" else self.blocked)[value] += 1
            self.next_index = size
            return size


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


_TALLIES: "weakref.WeakKeyDictionary[Runtime, AuditTally]" = weakref.WeakKeyDictionary()
_TALLIES_LOCK = threading.Lock()


def _tally(rt: Runtime) -> AuditTally:
    with _TALLIES_LOCK:
        return _TALLIES.setdefault(rt, AuditTally())


def _one(name: str, kind: str, help_: str, value: float) -> Family:
    return Family(name, kind, help_, [Sample((), value)])


def _audit_families(rt: Runtime) -> list[Family]:
    tally = _tally(rt)
    size = tally.update(rt)
    cp = rt.audit.latest_checkpoint()
    return [
        _one("replayvault_ingest_batches_total", "counter", "Ingest batches accepted (chunk.ingested audit entries).",
             tally.batches),
        _one("replayvault_chunks_stored_bytes_total", "counter",
             "Bytes of sealed chunks stored at ingest (compressed and encrypted), crypto-shredded ones included.",
             tally.stored_bytes),
        _one("replayvault_masking_incidents_total", "counter",
             "Masking incidents at ingest: personal data the browser should have masked (audit entries).",
             tally.incidents),
        Family("replayvault_access_denied_total", "counter", "Audit entries with outcome denied, by action.",
               [Sample((("action", a),), n) for a, n in sorted(tally.denied.items())]),
        _one("replayvault_login_failures_total", "counter", "Failed logins (audit entries).", tally.login_failures),
        Family("replayvault_consent_receipts_total", "counter", "Consent receipts stored, by decision (audit entries).",
               [Sample((("decision", k),), n) for k, n in sorted(tally.receipts.items())]),
        Family("replayvault_consent_blocked_total", "counter",
               "Batches the consent check refused or trimmed, by reason (consent.blocked audit entries).",
               [Sample((("reason", k),), n) for k, n in sorted(tally.blocked.items())]),
        _one("replayvault_scope_dropped_events_total", "counter",
             "Events dropped at ingest as outside the project's capture scope (audit entries).", tally.scope_dropped),
        _one("replayvault_audit_entries_total", "counter", "Entries in the audit log (its tree size).", size),
        _one("replayvault_audit_last_checkpoint_timestamp_seconds", "gauge",
             "Unix time the latest audit checkpoint was signed (0: none yet).", 0 if cp is None else cp.created_ms / 1000),
        _one("replayvault_audit_last_checkpoint_tree_size", "gauge",
             "Audit entries covered by the latest signed checkpoint (0: none yet).", 0 if cp is None else cp.size),
    ]


def _state_families(rt: Runtime, now_ms: int) -> list[Family]:
    from ..governance.retention import ensure_expiry

    ensure_expiry(rt, now_ms)  # periods of sessions recorded under an older policy
    S = RecordingSession
    with rt.sessions() as db:
        held = select(LegalHold.session_id).where(LegalHold.released_ms.is_(None))
        sessions = db.scalar(select(func.count()).select_from(S).where(
            or_(S.chunk_count > 0, S.shredded_ms.is_not(None)))) or 0
        kinds = db.execute(select(MaskingEvidence.kind, func.sum(MaskingEvidence.count)).where(
            MaskingEvidence.browser.is_(False), MaskingEvidence.kind.not_in(sorted(SANITIZING_KINDS)))
            .group_by(MaskingEvidence.kind).order_by(MaskingEvidence.kind)).all()
        holds = db.scalar(select(func.count()).select_from(LegalHold).where(LegalHold.released_ms.is_(None))) or 0
        expired = db.scalar(select(func.count()).select_from(S).where(
            S.shredded_ms.is_(None), S.expires_ms <= now_ms, S.id.not_in(held))) or 0
        open_ = db.scalar(select(func.count()).select_from(DsarRequest).where(DsarRequest.status == "open")) or 0
        overdue = db.scalar(select(func.count()).select_from(DsarRequest).where(
            DsarRequest.status == "open", DsarRequest.due_ms < now_ms)) or 0
    return [
        _one("replayvault_sessions_total", "counter", "Recording sessions that ever held data (crypto-shredded ones included).",
             sessions),
        Family("replayvault_masking_incidents", "gauge", "Masking incidents per kind in sessions still stored.",
               [Sample((("kind", k),), int(n or 0)) for k, n in kinds if n]),
        _one("replayvault_legal_holds_active", "gauge", "Legal holds not released.", holds),
        _one("replayvault_retention_expired_present", "gauge",
             "Sessions past their retention period, not under a legal hold, not yet crypto-shredded.", expired),
        _one("replayvault_dsar_requests_open", "gauge", "Data subject requests not yet answered.", open_),
        _one("replayvault_dsar_requests_overdue", "gauge", "Open data subject requests past their due time.", overdue),
    ]


def _push_families(rt: Runtime) -> list[Family]:
    if not rt.settings.webhook_url:
        return []
    from .webhook import load_state, state_path

    st = load_state(state_path(rt.settings))
    return [
        _one("replayvault_siem_push_next_index", "gauge", "Next audit index the webhook push will send.", st.next_index),
        _one("replayvault_siem_push_consecutive_failures", "gauge", "Webhook push rounds failed in a row.",
             st.consecutive_failures),
        _one("replayvault_siem_push_last_success_timestamp_seconds", "gauge",
             "Unix time of the last batch the webhook accepted (0: none yet).",
             0 if st.last_success_ms is None else st.last_success_ms / 1000),
    ]


def collect(rt: Runtime, now_ms: int | None = None) -> list[Family]:
    """Every family, in the order of the module docstring's table."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    audit, state = _audit_families(rt), _state_families(rt, now)
    by_name = {f.name: f for f in [*audit, *state, *_push_families(rt)]}
    order = ["replayvault_sessions_total", "replayvault_ingest_batches_total", "replayvault_chunks_stored_bytes_total",
             "replayvault_masking_incidents_total", "replayvault_masking_incidents", "replayvault_access_denied_total",
             "replayvault_login_failures_total", "replayvault_consent_receipts_total",
             "replayvault_consent_blocked_total", "replayvault_scope_dropped_events_total",
             "replayvault_audit_entries_total",
             "replayvault_audit_last_checkpoint_timestamp_seconds", "replayvault_audit_last_checkpoint_tree_size",
             "replayvault_legal_holds_active", "replayvault_retention_expired_present", "replayvault_dsar_requests_open",
             "replayvault_dsar_requests_overdue", "replayvault_siem_push_next_index",
             "replayvault_siem_push_consecutive_failures", "replayvault_siem_push_last_success_timestamp_seconds"]
    return [by_name[n] for n in order if n in by_name]


def metrics_text(rt: Runtime, now_ms: int | None = None) -> str:
    """:func:`render` of :func:`collect`."""
    return render(collect(rt, now_ms))
