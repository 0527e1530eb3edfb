"""Exceptions raised by replayvault.

Hierarchy::

    ReplayVaultError
    ├── ConfigError
    │   └── UnknownDetector          (a policy names a detector that is not registered)
    ├── MalformedState               (stored per-session pipeline state has the wrong shape)
    ├── InvalidInput                 (bad data from a client or a file; never echoes personal data)
    │   ├── MalformedBatch           -> HTTP 400
    │   ├── BatchTooLarge            -> HTTP 413
    │   └── UnsupportedFormat        (import: not an rrweb array or PostHog export)
    ├── AccessDenied
    │   ├── InvalidWriteKey          -> HTTP 401
    │   └── OriginNotAllowed         -> HTTP 403
    ├── ConsentRevoked               -> HTTP 409
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

    def __init__(self) -> None:
        super().__init__("consent was revoked for this session; batch not accepted")


class VaultError(ReplayVaultError):
    """Encryption, key or blob storage failure."""


class KeyFileError(VaultError):
    """The project key file is missing, unreadable or malformed."""


class ChunkIntegrityError(VaultError):
    """A chunk failed AES-GCM authentication: it was altered or the key is wrong."""


class NotFound(ReplayVaultError):
    """The requested resource does not exist (or is not visible)."""

    status_code = 404
