"""Local accounts: users and roles, argon2id passwords, login sessions, API tokens, optional TOTP.

* Passwords are hashed with argon2id (RFC 9106, argon2-cffi defaults) and must be at least
  :data:`MIN_PASSWORD` characters.
* A login session is a random cookie token; only its SHA-256 is stored, with a CSRF token, an
  idle timeout (30 min) and an absolute lifetime (12 h).
* API tokens (``rvt_`` + 32 random bytes) are stored as SHA-256, shown once, and carry scopes: a
  subset of the owner's permissions, re-checked against the owner's current roles on every use.
* The TOTP second factor (RFC 6238, 30 s steps, 6 digits, ±1 step) is optional per user; its
  secret is sealed with AES-GCM under a key from the key ring.
* Failed logins are limited per user name and per address (:class:`LoginLimiter`).

Users are identified in the audit log by their pseudonymous id (``u_`` + 16 hex digits).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Callable

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db.models import ApiToken, LoginSession, User, UserRole
from ..errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied, TooManyAttempts
from .permissions import Permission, Role, permissions_for

__all__ = ["Principal", "LoginLimiter", "MIN_PASSWORD", "IDLE_MS", "LIFETIME_MS", "hash_password", "create_user",
           "get_user", "user_names", "user_by_name", "roles_of", "grant_role", "revoke_role", "set_disabled", "authenticate",
           "start_login", "principal_for_cookie", "end_login", "create_token", "principal_for_token",
           "revoke_token", "enable_totp", "new_password", "change_password"]

MIN_PASSWORD = 12
IDLE_MS = 30 * 60 * 1000
LIFETIME_MS = 12 * 3600 * 1000
#: Last-seen and last-used times are refreshed at most this often (ms): not a write per request.
_TOUCH_MS = 60_000
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

_hasher = PasswordHasher()  # argon2id, RFC 9106 "second recommended option" parameters
#: Hash checked when the user name is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def _now() -> int:
    return int(time.time() * 1000)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: user id (pseudonymous), user name (display only), roles, effective permissions.

    ``via``: ``session`` (cookie; ``csrf`` set), ``token`` (API token; permissions = scopes ∩ roles')."""

    user_id: str
    username: str
    roles: frozenset[str]
    permissions: frozenset[Permission]
    via: str
    csrf: str | None = None
    token_id: str | None = None
    must_change_password: bool = False

    @property
    def actor(self) -> str:
        """Audit-log actor: ``user:<id>`` (never the user name)."""
        return f"user:{self.user_id}"

    def can(self, permission: Permission) -> bool:
        """Whether the principal holds ``permission``."""
        return permission in self.permissions


def hash_password(password: str) -> str:
    """argon2id hash of ``password``.

    Raises:
        InvalidInput: shorter than :data:`MIN_PASSWORD` characters.
    """
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def change_password(db: Session, user: User, current: str, new: str) -> None:
    """Set the user's own password after checking the current one; clears ``must_change_password``.

    Raises:
        NotAuthenticated: the current password is wrong.
        InvalidInput: the new one is shorter than :data:`MIN_PASSWORD` or equals the current one.
    """
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise NotAuthenticated("the current password is wrong") from None
    if new == current:
        raise InvalidInput("choose a password different from the current one")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    db.flush()


def new_password() -> str:
    """A random 20-character password (about 119 bits) for new accounts."""
    return secrets.token_urlsafe(15)


def _check_roles(roles: list[str]) -> list[str]:
    bad = [r for r in roles if r not in Role._value2member_map_]
    if bad:
        raise InvalidInput(f"unknown role {bad[0]!r}; roles: {', '.join(r.value for r in Role)}")
    return sorted(set(roles))


def create_user(db: Session, username: str, password: str, roles: list[str], granted_by: str, *,
                must_change: bool = True) -> User:
    """Add a user with ``roles`` (flushes, caller commits).

    With ``must_change`` (the default: someone else chose the password) the user can do nothing
    but set their own password after logging in.

    Raises:
        InvalidInput: bad user name (``[a-z0-9][a-z0-9._-]{1,63}``), short password, unknown role,
            or the name is taken.
    """
    if not USERNAME.match(username):
        raise InvalidInput("user name must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    if db.scalar(select(User.id).where(User.username == username)):
        raise InvalidInput("a user with that name already exists")
    roles = _check_roles(roles)
    user = User(id="u_" + secrets.token_hex(8), username=username, password_hash=hash_password(password),
                disabled=False, must_change_password=must_change, created_ms=_now())
    db.add(user)
    db.flush()
    for role in roles:
        db.add(UserRole(user_id=user.id, role=role, granted_by=granted_by, granted_ms=_now()))
    db.flush()
    return user


def user_names(db: Session) -> dict[str, str]:
    """Pseudonymous user id -> user name, for showing audit actors to people (never stored in the log)."""
    return dict(db.execute(select(User.id, User.username)).all())  # type: ignore[arg-type]


def get_user(db: Session, user_id: str) -> User:
    """The user with this id. Raises NotFound."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def user_by_name(db: Session, username: str) -> User:
    """The user with this name. Raises NotFound."""
    user = db.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("no such user")
    return user


def roles_of(db: Session, user_id: str) -> frozenset[str]:
    """Role names the user holds."""
    return frozenset(db.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))


def _not_self(user: User, actor: str) -> None:
    if actor == f"user:{user.id}":
        raise PermissionDenied("nobody can change their own roles; ask another administrator")


def grant_role(db: Session, user: User, role: str, granted_by: str) -> bool:
    """Give ``role`` to ``user``; False when already held.

    Raises:
        InvalidInput: unknown role. PermissionDenied: ``granted_by`` is the user (no self-grants).
    """
    _check_roles([role])
    _not_self(user, granted_by)
    if role in roles_of(db, user.id):
        return False
    db.add(UserRole(user_id=user.id, role=role, granted_by=granted_by, granted_ms=_now()))
    db.flush()
    return True


def revoke_role(db: Session, user: User, role: str, revoked_by: str = "cli") -> bool:
    """Take ``role`` from ``user``; False when not held. Raises PermissionDenied for one's own roles."""
    _not_self(user, revoked_by)
    res = db.execute(delete(UserRole).where(UserRole.user_id == user.id, UserRole.role == role))
    return bool(res.rowcount)


def set_disabled(db: Session, user: User, disabled: bool = True) -> None:
    """Disable (or re-enable) a user; disabling ends their login sessions and revokes their API tokens."""
    user.disabled = disabled
    if disabled:
        db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
        for tok in db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
            tok.revoked = True
    db.flush()


@dataclass
class LoginLimiter:
    """Sliding-window limit of failed logins: ``max_failures`` per ``window_s`` per user name and per address.

    In memory, per server process (the embedded deployment runs one). ``clock`` returns seconds
    (``time.monotonic`` by default)."""

    max_failures: int = 5
    window_s: float = 15 * 60
    clock: Callable[[], float] = time.monotonic
    _fails: defaultdict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attempt(self, *keys: str) -> None:
        """Count one attempt against each key, atomically, before the password is checked.

        Counting first means concurrent guesses cannot all pass the check; a successful login
        gives its attempt back (:meth:`succeeded`).

        Raises:
            TooManyAttempts: a key already has ``max_failures`` attempts in the window.
        """
        now = self.clock()
        with self._lock:
            for key in keys:
                q = self._fails[key]
                while q and now - q[0] > self.window_s:
                    q.popleft()
                if len(q) >= self.max_failures:  # seconds until the oldest attempt leaves the window
                    raise TooManyAttempts(max(1, math.ceil(self.window_s - (now - q[0]))))
            for key in keys:
                self._fails[key].append(now)

    def succeeded(self, username_key: str, *other_keys: str) -> None:
        """After a good login: forget the user name's attempts and give back this attempt on the others."""
        with self._lock:
            self._fails.pop(username_key, None)
            for key in other_keys:
                if self._fails.get(key):
                    self._fails[key].pop()


def _totp_key(kek: bytes) -> AESGCM:
    return AESGCM(hashlib.sha256(b"replayvault totp seal\x00" + kek).digest())


def enable_totp(db: Session, user: User, kek: bytes) -> str:
    """Give ``user`` a new TOTP secret (RFC 6238); return the ``otpauth://`` provisioning URI to show once."""
    secret = pyotp.random_base32()
    nonce = os.urandom(12)
    user.totp_secret = (nonce + _totp_key(kek).encrypt(nonce, secret.encode(), user.id.encode())).hex()
    db.flush()
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="replayvault")


def _totp_ok(user: User, code: str | None, kek: bytes) -> bool:
    """RFC 6238 check, ±1 time step; each step's code is accepted once (§5.2): the step is remembered."""
    if not code or not code.isdigit() or len(code) != 6:
        return False
    raw = bytes.fromhex(user.totp_secret or "")
    totp = pyotp.TOTP(_totp_key(kek).decrypt(raw[:12], raw[12:], user.id.encode()).decode())
    now = int(time.time()) // totp.interval
    for step in (now - 1, now, now + 1):
        if step > (user.totp_last_step or -1) and hmac.compare_digest(totp.at(step * totp.interval), code):
            user.totp_last_step = step
            return True
    return False


def authenticate(db: Session, username: str, password: str, *, totp_code: str | None = None,
                 kek: bytes | None = None) -> User:
    """Check a user name, password and (when the user has one) TOTP code.

    Every failure raises the same :class:`NotAuthenticated` ("invalid user name, password or
    code"), and an unknown name costs the same argon2 work as a known one.

    Raises:
        NotAuthenticated: wrong name, password or code, or the user is disabled.
    """
    bad = NotAuthenticated("invalid user name, password or code")
    user = db.scalars(select(User).where(User.username == username)).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise bad from None
    if user is None or user.disabled:
        raise bad
    if user.totp_secret and (kek is None or not _totp_ok(user, totp_code, kek)):
        raise bad
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_ms = _now()
    return user


def start_login(db: Session, user: User) -> tuple[str, str]:
    """Create a login session; return ``(cookie token, csrf token)`` (only the token's SHA-256 is stored)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    db.add(LoginSession(token_sha256=_sha(token), user_id=user.id, csrf_token=csrf, created_ms=now,
                        last_seen_ms=now, expires_ms=now + LIFETIME_MS))
    db.flush()
    return token, csrf


def _principal(db: Session, user: User, via: str, perms: frozenset[Permission] | None = None,
               csrf: str | None = None, token_id: str | None = None) -> Principal:
    roles = roles_of(db, user.id)
    allowed = permissions_for(roles)
    return Principal(user.id, user.username, roles, allowed if perms is None else perms & allowed, via,
                     csrf, token_id, bool(user.must_change_password))


def principal_for_cookie(db: Session, token: str | None) -> Principal:
    """The principal of a login-session cookie; refreshes its idle timer.

    Raises:
        NotAuthenticated: missing, unknown, idle for over 30 min, older than 12 h, or user disabled.
    """
    if not token:
        raise NotAuthenticated()
    row = db.scalars(select(LoginSession).where(LoginSession.token_sha256 == _sha(token))).first()
    now = _now()
    if row is None or now > row.expires_ms or now - row.last_seen_ms > IDLE_MS:
        raise NotAuthenticated("login expired; log in again")
    user = db.get(User, row.user_id)
    if user is None or user.disabled:
        raise NotAuthenticated()
    if now - row.last_seen_ms > _TOUCH_MS:  # refresh the idle timer, not a write on every request
        row.last_seen_ms = now
    return _principal(db, user, "session", csrf=row.csrf_token)


def end_login(db: Session, token: str | None) -> None:
    """Delete the login session of this cookie token (logout)."""
    if token:
        db.execute(delete(LoginSession).where(LoginSession.token_sha256 == _sha(token)))


def create_token(db: Session, user: User, name: str, scopes: list[str], days: int | None = 90,
                 limit: frozenset[Permission] | None = None) -> tuple[ApiToken, str]:
    """Create an API token for ``user`` with ``scopes`` (permission names); return ``(row, secret)``.

    The secret is returned once and stored only as SHA-256. ``limit`` is the creating caller's own
    permissions (a token can only mint tokens within its own scopes).

    Raises:
        InvalidInput: empty or unknown scope, or ``days`` not in 1..366.
        PermissionDenied: a scope the user's roles (or ``limit``) do not grant.
    """
    if not scopes:
        raise InvalidInput("a token needs at least one scope")
    unknown = [s for s in scopes if s not in Permission._value2member_map_]
    if unknown:
        raise InvalidInput(f"unknown scope {unknown[0]!r}")
    held = permissions_for(roles_of(db, user.id))
    if limit is not None:
        held &= limit
    missing = [s for s in scopes if Permission(s) not in held]
    if missing:
        raise PermissionDenied(f"scope {missing[0]!r} is not granted by your roles")
    if days is not None and not 1 <= days <= 366:
        raise InvalidInput("token lifetime must be 1 to 366 days")
    secret = "rvt_" + secrets.token_urlsafe(32)
    now = _now()
    row = ApiToken(id="t_" + secrets.token_hex(8), user_id=user.id, name=name[:100], token_sha256=_sha(secret),
                   scopes=sorted(set(scopes)), created_ms=now,
                   expires_ms=None if days is None else now + days * 86_400_000, revoked=False)
    db.add(row)
    db.flush()
    return row, secret


def principal_for_token(db: Session, secret: str) -> Principal:
    """The principal of an API token (``Authorization: Bearer rvt_…``); digests compared in constant time.

    Raises:
        NotAuthenticated: unknown, revoked or expired token, or its user is disabled.
    """
    digest = _sha(secret)
    row = db.scalars(select(ApiToken).where(ApiToken.token_sha256 == digest)).first()
    if row is None or not hmac.compare_digest(row.token_sha256, digest) or row.revoked:
        raise NotAuthenticated("invalid API token")
    now = _now()
    if row.expires_ms is not None and now > row.expires_ms:
        raise NotAuthenticated("API token expired")
    user = db.get(User, row.user_id)
    if user is None or user.disabled:
        raise NotAuthenticated("invalid API token")
    if row.last_used_ms is None or now - row.last_used_ms > _TOUCH_MS:
        row.last_used_ms = now
    return _principal(db, user, "token", frozenset(Permission(s) for s in row.scopes), token_id=row.id)


def revoke_token(db: Session, user_id: str, token_id: str) -> None:
    """Revoke one of the user's own tokens. Raises NotFound."""
    row = db.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFound("no such token")
    row.revoked = True
