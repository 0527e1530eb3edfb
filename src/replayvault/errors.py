"""Exceptions raised by replayvault.

Hierarchy::

    ReplayVaultError
    ├── ConfigError
    │   └── UnknownDetector          (a policy names a detector that is not registered)
    ├── MalformedState               (stored per-session pipeline state has the wrong shape)
    ├── InvalidInput                 (bad data from a client or a file; never echoes personal data)
    │   ├── MalformedBatch           -> HTTP 400
    │   ├── BatchTooLarge            -> HTTP 413
    │   ├── UnsupportedFormat        (import: not an rrweb array or PostHog export)
    │   └── InvalidTCString          (governance.tcf: a TC string that cannot be decoded) -> HTTP 400
    ├── AccessDenied
    │   ├── InvalidWriteKey          -> HTTP 401
    │   ├── OriginNotAllowed         -> HTTP 403
    │   ├── NotAuthenticated         -> HTTP 401 (no or bad login session / API token)
    │   ├── PermissionDenied         -> HTTP 403 (role, purpose, training or approval missing)
    │   ├── CsrfFailed               -> HTTP 403
    │   ├── PasswordChangeRequired   -> HTTP 403 (an initial or reset password must be replaced first)
    │   └── TooManyAttempts          -> HTTP 429 (login rate limit)
    ├── AuditError
    │   ├── AuditUnavailable         -> HTTP 503 (entry could not be committed; the action is refused)
    │   ├── MalformedProof           (a proof, entry or checkpoint is not in the documented shape)
    │   ├── ProofError               (a well-formed RFC 9162 inclusion or consistency proof does not verify)
    │   ├── NoteError                (a signed checkpoint note is malformed or its signature is bad)
    │   └── AuditTampered            (verification found altered, missing or reordered entries)
    ├── ConsentRevoked               -> HTTP 409 (consent withdrawn or refused for this session)
    ├── ConsentRequired              -> HTTP 403 (no valid consent token with the batch)
    ├── ReportRenderFailed           (compliance.report_render: Chromium could not print the PDF)
    ├── VaultError
    │   ├── KeyFileError             (missing or unreadable key file)
    │   └── ChunkIntegrityError      (GCM tag mismatch: changed byte or wrong key)
    └── NotFound                     -> HTTP 404
"""

from __future__ import annotations


class ReplayVaultError(Exception):
    """Base class of every error replayvault raises on purpose."""

    #: HTTP status used when the error reaches the API.
    status_code: int = 500


class ConfigError(ReplayVaultError):
    """A setting is missing or invalid."""


class UnknownDetector(ConfigError):
    """A policy names a detector that is not registered."""

    def __init__(self, name: str, known: tuple[str, ...] = ()) -> None:
        super().__init__(f"unknown detector {name!r}; registered detectors: {', '.join(known)}")


class MalformedState(ReplayVaultError):
    """A stored per-session state (mask or fact state) is not in the shape its ``to_dict`` writes."""


class InvalidInput(ReplayVaultError):
    """Input from a client or a file is not acceptable."""

    status_code = 400


class MalformedBatch(InvalidInput):
    """An ingest batch does not have the documented shape."""

    status_code = 400


class BatchTooLarge(InvalidInput):
    """An ingest batch exceeds a size limit (bytes or events)."""

    status_code = 413


class UnsupportedFormat(InvalidInput):
    """A file is neither an rrweb event array nor a PostHog export."""


class AccessDenied(ReplayVaultError):
    """The caller may not perform this action."""

    status_code = 403


class InvalidWriteKey(AccessDenied):
    """The project write key is missing or wrong."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("missing or invalid project write key")


class OriginNotAllowed(AccessDenied):
    """The request's Origin is not one of the project's allowed origins."""

    status_code = 403

    def __init__(self) -> None:
        super().__init__("origin is not allowed for this project")


class ConsentRevoked(ReplayVaultError):
    """The data subject revoked consent for this session; no more events are accepted."""

    status_code = 409

    def __init__(self, message: str = "consent was revoked for this session; batch not accepted") -> None:
        super().__init__(message)


class ConsentRequired(ReplayVaultError):
    """A batch came without a valid consent token (missing, malformed, forged, expired, or bound to
    another session): nothing is stored. ``reason`` is ``no_token``, ``invalid_token`` or ``expired_token``."""

    status_code = 403

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class VaultError(ReplayVaultError):
    """Encryption, key or blob storage failure."""


class KeyFileError(VaultError):
    """The project key file is missing, unreadable or malformed."""


class ChunkIntegrityError(VaultError):
    """A chunk failed AES-GCM authentication: it was altered or the key is wrong."""


class NotFound(ReplayVaultError):
    """The requested resource does not exist (or is not visible)."""

    status_code = 404


class NotAuthenticated(AccessDenied):
    """No valid login session or API token came with the request."""

    status_code = 401

    def __init__(self, message: str = "login required") -> None:
        super().__init__(message)


class PermissionDenied(AccessDenied):
    """The user is authenticated but the role, purpose, training attestation or approval is missing."""

    status_code = 403


class CsrfFailed(AccessDenied):
    """A state-changing request came without the session's CSRF token."""

    status_code = 403

    def __init__(self) -> None:
        super().__init__("missing or invalid CSRF token")


class TooManyAttempts(AccessDenied):
    """Too many failed logins for this user name or address; ``retry_after`` is in seconds."""

    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


class AuditError(ReplayVaultError):
    """Audit log failure."""


class AuditUnavailable(AuditError):
    """An audit entry could not be committed, so the action it records is refused."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__("audit log unavailable; the action was refused and not performed")


class MalformedProof(AuditError):
    """A proof, entry, checkpoint or key is malformed (wrong length, bad base64, bad index); nothing was verified."""

    status_code = 400


class ProofError(AuditError):
    """An inclusion or consistency proof does not verify (RFC 9162 §2.1.3.2, §2.1.4.2)."""

    status_code = 400


class NoteError(AuditError):
    """A checkpoint note is malformed or carries no valid signature by the expected key."""

    status_code = 400


class AuditTampered(AuditError):
    """``audit verify`` found the stored log inconsistent; ``index`` is the first bad entry (or None)."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class PasswordChangeRequired(AccessDenied):
    """The user's password was set by someone else; they must choose their own before anything else."""

    status_code = 403

    def __init__(self) -> None:
        super().__init__("choose your own password first (GET/POST /account/password)")
