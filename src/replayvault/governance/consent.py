"""The consent ledger: receipts, consent tokens and the consent check of every ingest batch.

**Receipts.** The tracker sends a receipt (:class:`~replayvault.ingest.validate.ReceiptRequest`) when
consent is granted, refused or withdrawn, and when the visitor leaves without deciding (``skipped``).
The collector decides what a receipt means, stores it append-only (:class:`~replayvault.db.models.ConsentReceipt`;
updates and deletes raise) and writes its SHA-256 to the audit log (``consent.receipt``) in the same
transaction:

* Global Privacy Control (``gpc``), and Do Not Track (``dnt``) unless the project's
  ``consent.honour_dnt`` is false, turn a grant into a refusal: no recording at all.
* With method ``tcf`` the TC string decides: its core segment is decoded (TCF v2.x,
  :mod:`replayvault.governance.tcf`) and the receipt is a grant only when every purpose in the project's
  ``consent.tcf_purposes`` (and its vendor, if ``tcf_vendor_id`` is set) has consent; else a refusal.
  A TC string that cannot be decoded is refused with HTTP 400 and nothing is stored.

**Tokens.** A grant returns a consent token: ``base64url(payload) "." base64url(HMAC-SHA-256(key, payload))``
with payload ``{"v": 1, "p": project, "s": session, "r": receipt id, "exp": ms}``, valid for
``REPLAYVAULT_CONSENT_TOKEN_TTL_S`` seconds (default 900). The key is the data directory's
``_consent`` key (kek.json, mode 0600); signatures are compared in constant time. Accepted batches
carry a fresh token once half of the old one's life is gone; :func:`renew` extends a session's token
(up to :data:`RENEW_GRACE_MS` after expiry) while the grant it names is still the session's decision.

**The ingest check** (:func:`admit`), before any masking or storage:

1. no token, a malformed or forged one, one for another project or session, or an expired one:
   HTTP 403, nothing stored, a ``consent`` incident (``no_token``, ``invalid_token``, ``expired_token``);
2. the session's newest decision (by arrival) is a refusal or withdrawal: HTTP 409, nothing stored;
   events timestamped at or after the withdrawal are a ``consent`` incident (``after_withdrawal``);
3. events outside a granted period (browser clock: from a grant's ``ts`` until the next refusal or
   withdrawal) are dropped and counted (``outside_consent``): events between a refusal and a later grant
   are never stored.

Incidents are :class:`~replayvault.db.models.IngestIncident` rows (kind ``consent``), each with an audit
entry ``consent.blocked`` (details ``reason``, ``events``) committed with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..db.models import ConsentReceipt, IngestIncident, Project
from ..errors import ConsentRequired, ConsentRevoked, KeyFileError, NotFound
from ..ingest.validate import IngestRequest, ReceiptRequest
from ..privacy.policy import stored_policy
from .consent_rules import ConsentRules

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = ["Admission", "admit", "record_receipt", "renew", "issue_token", "receipts_of", "consent_rules",
           "list_receipts", "receipt_dict", "RENEW_GRACE_MS", "TOKEN_KEY", "MAX_LIST"]

#: kek.json entry holding the token MAC key.
TOKEN_KEY = "_consent"
#: How long after its expiry a token may still be renewed (ms): a tab left open over night.
RENEW_GRACE_MS = 24 * 3600 * 1000
_STOPS = ("refused", "withdrawn")


def _now() -> int:
    return int(time.time() * 1000)


@event.listens_for(ConsentReceipt, "before_update")
@event.listens_for(ConsentReceipt, "before_delete")
def _append_only(mapper: Any, connection: Any, target: ConsentReceipt) -> None:
    raise RuntimeError("consent receipts are append-only: a receipt is never changed or deleted")


def consent_rules(project: Project) -> ConsentRules:
    """The project's ``consent`` policy section (defaults when the policy has none)."""
    return stored_policy(project.policy).consent


# -- tokens -----------------------------------------------------------------------------------------
def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def _unb64(text: str) -> bytes:
    """Strict base64url without padding: any other character, or a spelling that is not the canonical one
    of its bytes, is an error (one token, one spelling)."""
    if not _B64URL.match(text):
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(raw) != text:
        raise ValueError("not the canonical base64url spelling")
    return raw


def _token_key(rt: "Runtime", *, issue: bool) -> bytes:
    """The token MAC key (kek.json entry :data:`TOKEN_KEY`). Made when a grant first needs it, unless the
    key file is missing while sessions hold data: a lost key file is an error, never silently replaced.

    Raises:
        KeyFileError: (issuing) the key file is missing on an installation with data, or unreadable.
        ConsentRequired: (verifying) there is no key, so no token can be valid (``invalid_token``).
    """
    from ..db.models import RecordingSession

    try:
        return rt.keys.kek(TOKEN_KEY)
    except KeyFileError:
        if not issue:
            raise ConsentRequired("invalid_token", "the consent token is not valid for this session") from None
    with rt.sessions() as db:
        keyed = db.scalar(select(RecordingSession.id).where(RecordingSession.wrapped_dek.is_not(None)).limit(1))
    return rt.keys.kek(TOKEN_KEY, create=keyed is None or rt.settings.key_file.exists())


def _mac(key: bytes, body: str) -> bytes:
    return hmac.new(key, b"rv-consent-v1." + body.encode(), hashlib.sha256).digest()


def issue_token(rt: "Runtime", project_id: str, session_id: str, receipt_id: str, now_ms: int) -> tuple[str, int]:
    """A consent token for (project, session, grant receipt); returns ``(token, expires_ms)``.

    Raises:
        KeyFileError: the token key is missing and may not be made (see :func:`_token_key`).
    """
    exp = now_ms + rt.settings.consent_token_ttl_s * 1000
    body = _b64(json.dumps({"v": 1, "p": project_id, "s": session_id, "r": receipt_id, "exp": exp},
                           separators=(",", ":")).encode())
    return f"{body}.{_b64(_mac(_token_key(rt, issue=True), body))}", exp


def _verify(rt: "Runtime", token: str | None, project_id: str, session_id: str) -> dict[str, Any]:
    """The token's payload after checking its signature and binding (not its expiry).

    Raises:
        ConsentRequired: missing, malformed, forged or bound to another project or session.
    """
    if not token:
        raise ConsentRequired("no_token", "the batch has no consent token: send a consent receipt first")
    bad = ConsentRequired("invalid_token", "the consent token is not valid for this session")
    body, dot, sig = token.partition(".")
    try:
        ok = dot == "." and hmac.compare_digest(_unb64(sig), _mac(_token_key(rt, issue=False), body))
        payload = json.loads(_unb64(body)) if ok else None
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(payload, dict) or payload.get("v") != 1 or not isinstance(payload.get("exp"), int):
        raise bad
    if not (hmac.compare_digest(str(payload.get("p")), project_id)
            and hmac.compare_digest(str(payload.get("s")), session_id)):
        raise bad
    return payload


# -- receipts ---------------------------------------------------------------------------------------
def receipts_of(db: Session, session_ids: list[str]) -> dict[str, list[ConsentReceipt]]:
    """Receipts per session id, in arrival order (their audit entries' order)."""
    out: dict[str, list[ConsentReceipt]] = {sid: [] for sid in session_ids}
    for i in range(0, len(session_ids), 500):
        q = select(ConsentReceipt).where(ConsentReceipt.session_id.in_(session_ids[i:i + 500]))
        for r in db.scalars(q.order_by(ConsentReceipt.audit_idx)):
            out[r.session_id].append(r)
    return out


#: Most receipts one listing returns.
MAX_LIST = 1000


def receipt_dict(r: ConsentReceipt) -> dict[str, Any]:
    """A receipt's JSON shape (API, DSAR export): every stored field; times are ms (``client_ms`` and
    ``decided_ms`` browser clock, ``received_ms`` server clock)."""
    return {k: getattr(r, k) for k in ("id", "project_id", "session_id", "decision", "method", "banner_id",
                                       "banner_version", "purposes", "tc_string", "tcf", "gpc", "dnt", "client_ms",
                                       "decided_ms", "received_ms", "sha256")}


def list_receipts(rt: "Runtime", *, from_ms: int | None = None, to_ms: int | None = None, project: str | None = None,
                  session_id: str | None = None, limit: int = MAX_LIST, offset: int = 0) -> dict[str, Any]:
    """Receipts received in ``[from_ms, to_ms)``, newest first: ``{"total", "receipts": [receipt_dict]}``
    (at most ``limit`` ≤ :data:`MAX_LIST` from ``offset``)."""
    from sqlalchemy import func

    R = ConsentReceipt
    conds = []
    if from_ms is not None:
        conds.append(R.received_ms >= from_ms)
    if to_ms is not None:
        conds.append(R.received_ms < to_ms)
    if project:
        conds.append(R.project_id == project)
    if session_id:
        conds.append(R.session_id == session_id)
    with rt.sessions() as db:
        total = db.scalar(select(func.count()).select_from(R).where(*conds)) or 0
        rows = db.scalars(select(R).where(*conds).order_by(R.audit_idx.desc())
                          .limit(max(0, min(limit, MAX_LIST))).offset(max(0, offset)))
        return {"total": total, "receipts": [receipt_dict(r) for r in rows]}


def _decide(rules: ConsentRules, req: ReceiptRequest) -> tuple[str, dict[str, Any] | None, str]:
    """(decision, TCF summary, reason) of a receipt under the project's rules."""
    from .tcf import decide, decode

    decision = req.decision
    summary = None
    reason = ""
    if req.tc_string is not None:  # always decoded: only a real TC string enters the ledger
        result = decide(decode(req.tc_string), rules.tcf_purposes, rules.tcf_vendor_id)
        summary = result.as_dict()
        if decision in (None, "granted"):
            decision = "granted" if result.allowed else "refused"
            reason = "" if result.allowed else "the TC string lacks consent for a required purpose or vendor"
    if decision == "granted" and req.gpc:
        decision, reason = "refused", "Global Privacy Control is on: nothing is recorded"
    elif decision == "granted" and req.dnt and rules.honour_dnt:
        decision, reason = "refused", "Do Not Track is on: nothing is recorded"
    return decision or "refused", summary, reason


def _digest(row: ConsentReceipt) -> str:
    doc = receipt_dict(row)
    doc.pop("sha256")
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def record_receipt(rt: "Runtime", project: Project, req: ReceiptRequest, now_ms: int | None = None) -> dict[str, Any]:
    """Decide, store and audit one receipt; returns the collector's answer::

        {"receipt", "session_id", "decision", "reason"?, "consent_token"?, "token_ttl_ms"?, "scope"?}

    ``consent_token`` and ``scope`` (the project's capture scope for the tracker) only for a grant.

    Raises:
        InvalidTCString: method ``tcf`` with a TC string that cannot be decoded (HTTP 400; nothing stored).
        NotFound: the session id belongs to another project.
        ConsentRevoked: a grant for a session that recorded data and was then withdrawn, or that holds data
            recorded without any grant (imported, or from before the ledger): 409, nothing stored.
        AuditUnavailable: the audit entry could not be written (nothing stored).
    """
    from ..db.models import RecordingSession

    now = _now() if now_ms is None else now_ms
    decision, summary, reason = _decide(consent_rules(project), req)
    if decision == "granted":
        _token_key(rt, issue=True)  # before anything is stored: a grant that cannot get a token stores nothing
    with rt.session_lock(req.session_id), rt.sessions() as db:
        sess = db.get(RecordingSession, req.session_id)
        if sess is not None and sess.project_id != project.id:
            raise NotFound("no such session for this project")
        other = db.scalar(select(ConsentReceipt.project_id).where(ConsentReceipt.session_id == req.session_id,
                                                                   ConsentReceipt.project_id != project.id).limit(1))
        if other is not None:
            raise NotFound("no such session for this project")
        if decision == "granted" and sess is not None and sess.consent == "revoked":
            # Recording stopped for good when consent was withdrawn; the tracker starts a new session.
            raise ConsentRevoked("consent was withdrawn for this session; a new grant needs a new session")
        if decision == "granted" and sess is not None and (sess.chunk_count > 0 or sess.shredded_ms is not None):
            granted_before = db.scalar(select(ConsentReceipt.id).where(ConsentReceipt.session_id == req.session_id,
                                                                        ConsentReceipt.decision == "granted").limit(1))
            if granted_before is None:  # recorded without consent (imported, or before the ledger)
                raise ConsentRevoked("this session was recorded without a consent receipt; consent cannot be "
                                     "granted afterwards")
        row = ConsentReceipt(id=secrets.token_hex(16), project_id=project.id, session_id=req.session_id,
                             decision=decision, method=req.method, banner_id=req.banner_id,
                             banner_version=req.banner_version, purposes=list(req.purposes), tc_string=req.tc_string,
                             tcf=summary, gpc=req.gpc, dnt=req.dnt, client_ms=req.client_ms, decided_ms=req.decided_ms,
                             received_ms=now, sha256="")
        row.sha256 = _digest(row)
        if decision in _STOPS and sess is not None:
            sess.consent = "revoked"
            sess.updated_ms = now
        with rt.audit.lock:  # then the database's write lock, as every writer (see ingest.service)
            entry = rt.audit.record(actor=f"project:{project.id}", action="consent.receipt",
                                    resource=f"session:{req.session_id}",
                                    details={"receipt": row.id, "decision": decision, "method": req.method,
                                             "sha256": row.sha256, "gpc": req.gpc, "dnt": req.dnt}, db=db)
            row.audit_idx = entry.idx
            db.add(row)
            db.commit()
    answer: dict[str, Any] = {"receipt": row.id, "session_id": req.session_id, "decision": decision}
    if reason:
        answer["reason"] = reason
    if decision == "granted":
        token, exp = issue_token(rt, project.id, req.session_id, row.id, now)
        answer.update(consent_token=token, token_ttl_ms=exp - now, scope=_scope_for_tracker(project))
    return answer


def _scope_for_tracker(project: Project) -> dict[str, Any]:
    return stored_policy(project.policy).capture_scope.to_tracker()


def renew(rt: "Runtime", project: Project, session_id: str, token: str, now_ms: int | None = None) -> dict[str, Any]:
    """A new token for a session whose grant still stands: ``{"consent_token", "token_ttl_ms", "scope"}``
    (the capture scope as it is now).

    Raises:
        ConsentRequired: the token is not this session's (or was issued more than
            :data:`RENEW_GRACE_MS` before now beyond its expiry: ``expired_token``).
        ConsentRevoked: the session's newest decision is a refusal or withdrawal (409).
    """
    now = _now() if now_ms is None else now_ms
    payload = _verify(rt, token, project.id, session_id)
    if payload["exp"] + RENEW_GRACE_MS < now:
        raise ConsentRequired("expired_token", "the consent token expired too long ago; send a new consent receipt")
    with rt.sessions() as db:
        _check_grant(receipts_of(db, [session_id])[session_id], str(payload.get("r")))
    new, exp = issue_token(rt, project.id, session_id, str(payload["r"]), now)
    return {"consent_token": new, "token_ttl_ms": exp - now, "scope": _scope_for_tracker(project)}


def _check_grant(receipts: list[ConsentReceipt], receipt_id: str) -> None:
    """Check a session's receipts (arrival order): the token's receipt is one of its grants, and no refusal
    or withdrawal arrived since the newest grant.

    Raises:
        ConsentRequired: ``receipt_id`` is not a grant of this session (``invalid_token``).
        ConsentRevoked: the newest decision is a refusal or withdrawal.
    """
    if not any(r.id == receipt_id and r.decision == "granted" for r in receipts):
        raise ConsentRequired("invalid_token", "the consent token is not valid for this session")
    decisive = [r for r in receipts if r.decision != "skipped"]
    if decisive and decisive[-1].decision in _STOPS:
        raise ConsentRevoked("consent was withdrawn or refused for this session; batch not accepted")


# -- the ingest check -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Admission:
    """What :func:`admit` lets through: ``request`` with only events inside a granted period,
    ``dropped`` events outside one, and a fresh ``consent_token`` (with ``token_ttl_ms``) or None."""

    request: IngestRequest
    dropped: int
    consent_token: str | None = None
    token_ttl_ms: int | None = None


def _incident(rt: "Runtime", project: Project, session_id: str, reason: str, events: int, now: int) -> None:
    """A ``consent`` incident row and its audit entry (``consent.blocked``), committed together."""
    with rt.sessions() as db, rt.audit.lock:
        db.add(IngestIncident(project_id=project.id, session_id=session_id, kind="consent", reason=reason, rule="",
                              events=events, received_ms=now))
        rt.audit.record(actor=f"project:{project.id}", action="consent.blocked", resource=f"session:{session_id}",
                        details={"reason": reason, "events": events}, db=db)
        db.commit()


def _granted_periods(receipts: list[ConsentReceipt]) -> list[tuple[int, int | None]]:
    """``[(start, end or None)]`` in browser ms: from each grant until the next refusal or withdrawal, taken
    in arrival order. A stop stamped before the open period's start (the browser clock went back) closes it
    at its start; a grant stamped before the end of the previous period starts at that end: so whatever
    the clock did, a stop always ends the consent the grants before it gave."""
    periods: list[tuple[int, int | None]] = []
    for r in receipts:  # arrival order (audit_idx)
        open_ = bool(periods) and periods[-1][1] is None
        if r.decision == "granted" and not open_:
            floor = max((end for _s, end in periods if end is not None), default=r.client_ms)
            periods.append((max(r.client_ms, floor), None))
        elif r.decision in _STOPS and open_:
            start = periods[-1][0]
            periods[-1] = (start, max(r.client_ms, start))
    return periods


def admit(rt: "Runtime", project: Project, req: IngestRequest, now_ms: int | None = None) -> Admission:
    """The consent check of one batch (module docstring, steps 1-3).

    Raises:
        ConsentRequired: no valid token (403); an incident is recorded.
        ConsentRevoked: the session's consent was refused or withdrawn (409).
    """
    now = _now() if now_ms is None else now_ms
    try:
        payload = _verify(rt, req.consent_token, project.id, req.session_id)
        if payload["exp"] <= now:
            raise ConsentRequired("expired_token", "the consent token has expired; renew it (POST /api/v1/consent/renew)")
    except ConsentRequired as exc:
        _incident(rt, project, req.session_id, exc.reason, len(req.events), now)
        raise
    with rt.sessions() as db:
        receipts = receipts_of(db, [req.session_id])[req.session_id]
    try:
        _check_grant(receipts, str(payload.get("r")))
    except ConsentRevoked:
        stop = max(r.client_ms for r in receipts if r.decision in _STOPS)
        late = sum(1 for ev in req.events if ev["timestamp"] >= stop)
        if late:
            _incident(rt, project, req.session_id, "after_withdrawal", late, now)
        raise
    except ConsentRequired as exc:
        _incident(rt, project, req.session_id, exc.reason, len(req.events), now)
        raise
    periods = _granted_periods(receipts)
    kept = [ev for ev in req.events
            if any(start <= ev["timestamp"] and (end is None or ev["timestamp"] < end) for start, end in periods)]
    dropped = len(req.events) - len(kept)
    if dropped:
        _incident(rt, project, req.session_id, "outside_consent", dropped, now)
    token = ttl = None
    if payload["exp"] - now < rt.settings.consent_token_ttl_s * 500:
        token, exp = issue_token(rt, project.id, req.session_id, str(payload["r"]), now)
        ttl = exp - now
    return Admission(replace(req, events=kept), dropped, token, ttl)

