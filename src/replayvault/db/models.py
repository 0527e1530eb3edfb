"""SQLAlchemy 2 models of the control plane (SQLite by default, PostgreSQL for scale-out).

Nothing here holds personal data in clear: recordings live encrypted in chunk files, session
state keeps only node-map structure (tags, input types, flags), write keys, API tokens and login
session tokens are stored as SHA-256 digests, passwords as argon2id hashes, and users appear in
the audit log by their pseudonymous id (``u_…``), never by user name.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "Project", "RecordingSession", "Chunk", "PageSnapshot", "Masking", "MaskingEvidence", "User", "UserRole", "ApiToken",
           "LoginSession", "TrainingAttestation", "AccessGrant", "ExportRequest", "AuditEntry", "AuditCheckpoint",
           "LegalHold", "DeletionCertificate", "DsarRequest", "ErasureTombstone", "AccessReview",
           "AccessReviewItem", "ConsentReceipt", "IngestIncident"]


class Base(DeclarativeBase):
    """Declarative base of every control-plane table."""


class Project(Base):
    """A site that sends recordings. ``write_key_sha256`` is the hex digest of the write key."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    write_key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The project's privacy policy (``privacy.policy.Policy`` as a dict); None = the strict default.
    policy: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class RecordingSession(Base):
    """One recorded browser session (and window). ``wrapped_dek`` is the AES-KW-wrapped data key."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    window_id: Mapped[str] = mapped_column(String(64), default="")
    wrapped_dek: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    consent: Mapped[str] = mapped_column(String(16), default="granted")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    raw_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    masked_items: Mapped[int] = mapped_column(Integer, default=0)
    #: Masking incidents: personal data the browser should have masked (privacy.evidence).
    incidents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Pipeline state (node maps, page-view bookkeeping), sealed with the session's data key, base64.
    mask_state: Mapped[str] = mapped_column(Text, default="{}")
    fact_state: Mapped[str] = mapped_column(Text, default="{}")
    #: The data subject (``replayvault.identify(id)``) as HMAC-SHA-256 hex under the subject key;
    #: the id itself is never stored (governance.dsar).
    subject_digest: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    #: Retention period (days) and the policy category that set it (None: the default period), computed
    #: under the retention section whose SHA-256 is ``retention_sha256`` (None: not computed yet).
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    retention_category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    retention_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: ``created_ms + retention_days`` days (ms epoch): from then on the session is absent everywhere
    #: unless a legal hold keeps it (governance.retention).
    expires_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    #: When the session was crypto-shredded (ms epoch); the row stays as a tombstone without data.
    shredded_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Chunk(Base):
    """One accepted ingest batch, sealed and stored as a blob. Unique on (session, seq): idempotency."""

    __tablename__ = "chunks"
    __table_args__ = (UniqueConstraint("session_id", "seq", name="uq_chunk_session_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    blob_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int] = mapped_column(Integer)
    first_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    has_full_snapshot: Mapped[bool] = mapped_column(default=False)
    raw_bytes: Mapped[int] = mapped_column(BigInteger)
    stored_bytes: Mapped[int] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class PageSnapshot(Base):
    """A FullSnapshot inside a chunk and the page it shows: masked URL without query or fragment,
    viewport width (px) from the Meta event before it, and its timestamp (ms). Heatmap backdrops."""

    __tablename__ = "page_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chunk_id: Mapped[int] = mapped_column(ForeignKey("chunks.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048), index=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ts: Mapped[int] = mapped_column(BigInteger)


class Masking(Base):
    """Count of server-side maskings per session and kind (e.g. ``email``, ``input_value``)."""

    __tablename__ = "maskings"
    __table_args__ = (UniqueConstraint("session_id", "kind", name="uq_masking_session_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer, default=0)


class MaskingEvidence(Base):
    """Maskings of a session by kind, location (snapshot, mutation, input, attribute, url, plugin)
    and whether the browser had already masked them (``browser``); see ``privacy.evidence``."""

    __tablename__ = "masking_evidence"
    __table_args__ = (UniqueConstraint("session_id", "kind", "location", "browser", name="uq_masking_evidence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    location: Mapped[str] = mapped_column(String(16))
    browser: Mapped[bool] = mapped_column(Boolean)
    count: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    """A person who uses the dashboard or API. ``id`` is pseudonymous (``u_`` + 16 hex) and is what the
    audit log records; ``password_hash`` is argon2id (RFC 9106); ``totp_secret`` is sealed (AES-GCM)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The password was set by someone else (initial or reset): the user must choose their own first.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Last accepted TOTP time step (RFC 6238 §5.2: a code is accepted once).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_login_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class UserRole(Base):
    """One role held by a user (see ``governance.permissions.Role``)."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_user_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    granted_by: Mapped[str] = mapped_column(String(40))
    granted_ms: Mapped[int] = mapped_column(BigInteger)


class ApiToken(Base):
    """A scoped API token for automation; only the SHA-256 of the secret is kept (shown once)."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_used_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginSession(Base):
    """A dashboard login: cookie token (SHA-256 kept), CSRF token, idle and absolute expiry (ms epoch)."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_seen_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)


class TrainingAttestation(Base):
    """A completed compliance-training course (date ``YYYY-MM-DD``), recorded by an hr_liaison."""

    __tablename__ = "training_attestations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    course: Mapped[str] = mapped_column(String(100))
    completed_on: Mapped[str] = mapped_column(String(10))
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_ms: Mapped[int] = mapped_column(BigInteger)


class AccessGrant(Base):
    """A declared purpose for reading one session's recording, valid until ``expires_ms``."""

    __tablename__ = "access_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    justification: Mapped[str] = mapped_column(String(200))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)


class ExportRequest(Base):
    """A request to export one recording; needs a privacy_officer other than the requester (four-eyes).

    ``status``: pending, approved, rejected, downloaded."""

    __tablename__ = "export_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    requested_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    justification: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decided_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    downloaded_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AuditEntry(Base):
    """One entry of the append-only audit log; ``idx`` is its leaf index in the RFC 9162 Merkle tree
    and ``leaf_hash`` = SHA-256(0x00 || canonical entry bytes) (see ``audit.entries``)."""

    __tablename__ = "audit_entries"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    resource: Mapped[str] = mapped_column(String(200), index=True)
    purpose: Mapped[str | None] = mapped_column(String(32), nullable=True)
    justification: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    origin_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: Canonical JSON text (sorted keys, compact), exactly as it appears inside the hashed entry.
    details: Mapped[str] = mapped_column(Text, default="{}")
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    """A signed checkpoint (C2SP signed note: origin, tree size, root hash; Ed25519)."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class LegalHold(Base):
    """A legal hold on one session: while ``released_ms`` is None the session is never deleted
    (retention or erasure). Reasons are 3-200 characters, personal data masked (audit.entries.clean_text)."""

    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    placed_by: Mapped[str] = mapped_column(String(40))
    placed_ms: Mapped[int] = mapped_column(BigInteger)
    released_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    release_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    released_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class DeletionCertificate(Base):
    """Proof of one deletion run (retention sweep or erasure): the canonical JSON ``document`` (pseudonymous
    session ids, counts, time, the signed audit checkpoint after the deletion entries) and its SHA-256."""

    __tablename__ = "deletion_certificates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    reason: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(40))
    sessions: Mapped[int] = mapped_column(Integer)
    chunks: Mapped[int] = mapped_column(Integer)
    stored_bytes: Mapped[int] = mapped_column(BigInteger)
    analytics_rows: Mapped[int] = mapped_column(Integer)
    checkpoint_size: Mapped[int] = mapped_column(BigInteger)
    document: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))


class DsarRequest(Base):
    """A data subject access request (``kind`` export: GDPR Art. 15; erasure: Art. 17), answered by
    ``due_ms`` = received + 30 days (Art. 12(3)). ``status``: open, completed. The subject is kept only
    as its digest (see ``RecordingSession.subject_digest``)."""

    __tablename__ = "dsar_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject_digest: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    requested_by: Mapped[str] = mapped_column(String(40))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    due_ms: Mapped[int] = mapped_column(BigInteger)
    completed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    completed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sessions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    certificate_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ErasureTombstone(Base):
    """The ledger row left by an erasure: subject digest, time (ms), the sessions erased and those kept
    under legal hold (pseudonymous ids), the deletion certificate and the ``dsar.erasure`` audit entry."""

    __tablename__ = "erasure_tombstones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(32), index=True)
    subject_digest: Mapped[str] = mapped_column(String(64), index=True)
    erased_ms: Mapped[int] = mapped_column(BigInteger)
    sessions: Mapped[int] = mapped_column(Integer)
    session_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    held_session_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    certificate_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    audit_idx: Mapped[int] = mapped_column(BigInteger)


class AccessReview(Base):
    """A periodic review of who holds which role (ISO/IEC 27001:2022 Annex A 5.18, governance.reviews).

    ``status``: ``open``; ``completed`` (every item decided); ``closed`` (closed by a reviewer with items
    left undecided). ``due_ms`` = ``opened_ms`` + due days × 86,400,000. Actors as in the audit log."""

    __tablename__ = "access_reviews"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    opened_by: Mapped[str] = mapped_column(String(40))
    opened_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    due_ms: Mapped[int] = mapped_column(BigInteger)
    closed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    closed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class AccessReviewItem(Base):
    """One (user, role) pair held when the review opened; ``decision``: None (undecided), ``attest``, ``revoke``.
    ``granted_ms`` is when the role was granted (snapshot)."""

    __tablename__ = "access_review_items"
    __table_args__ = (UniqueConstraint("review_id", "user_id", "role", name="uq_access_review_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    review_id: Mapped[str] = mapped_column(ForeignKey("access_reviews.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(32))
    granted_ms: Mapped[int] = mapped_column(BigInteger)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ConsentReceipt(Base):
    """One consent decision sent by the tracker (append-only: rows are never updated or deleted, and
    each row's canonical JSON digest ``sha256`` is in the audit log as ``consent.receipt``).

    ``decision``: ``granted``, ``refused``, ``withdrawn`` or ``skipped`` (the tracker ran and the
    visitor left without deciding). ``method``: ``banner``, ``tcf``, ``consent_mode``, ``api``,
    ``gpc`` or ``dnt``. ``client_ms`` is the browser's clock when the receipt takes effect (the
    clock of the session's event timestamps), ``received_ms`` the server's. ``tc_string`` is the TCF v2 TC string
    when the page has a CMP, ``tcf`` its decoded summary (purposes and vendor consent that decided).
    Nothing here identifies a person: the session id is random and the TC string holds only choices."""

    __tablename__ = "consent_receipts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    banner_id: Mapped[str] = mapped_column(String(64), default="")
    banner_version: Mapped[str] = mapped_column(String(32), default="")
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    tc_string: Mapped[str | None] = mapped_column(Text, nullable=True)
    tcf: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    gpc: Mapped[bool] = mapped_column(Boolean, default=False)
    dnt: Mapped[bool] = mapped_column(Boolean, default=False)
    client_ms: Mapped[int] = mapped_column(BigInteger)
    #: When the visitor made the decision (browser clock): earlier than ``client_ms`` when a decision
    #: stored in the browser is applied to a new session.
    decided_ms: Mapped[int] = mapped_column(BigInteger)
    received_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    #: Index of the receipt's ``consent.receipt`` audit entry: orders receipts by arrival, ties included.
    audit_idx: Mapped[int] = mapped_column(BigInteger, unique=True)


class IngestIncident(Base):
    """Events the collector refused or dropped for a reason of law, not of format: ``kind`` ``scope``
    (pages outside the project's capture scope) or ``consent`` (no valid consent token, events outside a
    granted period, events after a withdrawal). ``reason`` names the rule (e.g. ``out_of_scope``,
    ``outside_consent``, ``after_withdrawal``, ``no_token``, ``invalid_token``, ``expired_token``), ``rule`` the scope pattern that matched
    (configuration, never a URL), ``events`` how many events were dropped. One row per batch and reason."""

    __tablename__ = "ingest_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[int] = mapped_column(Integer)
    received_ms: Mapped[int] = mapped_column(BigInteger, index=True)
