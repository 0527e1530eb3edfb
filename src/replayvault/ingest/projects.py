"""Projects and their write keys.

A write key is 32 random bytes, URL-safe base64, prefixed ``rvw_``; only its SHA-256 is stored.
It can only ingest. Lookup hashes the presented key and compares digests in constant time.
"""

from __future__ import annotations

import hashlib
import re
import hmac
import secrets
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Project
from ..errors import InvalidInput, InvalidWriteKey, NotFound

__all__ = ["PROJECT_ID", "check_project_id", "create_project", "rotate_write_key", "project_for_key", "get_project", "origin_allowed"]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return "rvw_" + secrets.token_urlsafe(32)


PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_project_id(project_id: str) -> str:
    """``project_id`` if it is 1-63 lower-case letters, digits, '-' or '_' (starting with a letter or digit).

    Project ids name key-file entries and blob folders, so nothing else is allowed.

    Raises:
        InvalidInput: any other value.
    """
    if not isinstance(project_id, str) or not PROJECT_ID.match(project_id):
        raise InvalidInput("project id must be 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit")
    return project_id


def create_project(db: Session, project_id: str, name: str, allowed_origins: list[str]) -> str:
    """Create a project and return its new write key (shown once; only its digest is kept).

    Raises:
        InvalidInput: the project id is not valid (see :func:`check_project_id`).
    """
    check_project_id(project_id)
    key = _new_key()
    db.add(Project(id=project_id, name=name, write_key_sha256=_digest(key),
                   allowed_origins=[o.rstrip("/") for o in allowed_origins], created_ms=int(time.time() * 1000)))
    db.flush()
    return key


def rotate_write_key(db: Session, project_id: str) -> str:
    """Give an existing project a new write key and return it; the old key stops working.

    Raises:
        NotFound: no such project.
    """
    project = get_project(db, project_id)
    key = _new_key()
    project.write_key_sha256 = _digest(key)
    db.flush()
    return key


def get_project(db: Session, project_id: str) -> Project:
    """The project with id ``project_id``.

    Raises:
        NotFound: no such project.
    """
    project = db.get(Project, project_id)
    if project is None:
        raise NotFound("no such project")
    return project


def project_for_key(db: Session, key: str | None) -> Project:
    """The project a write key belongs to, compared in constant time.

    Raises:
        InvalidWriteKey: no key, or it matches no project.
    """
    if not key or len(key) > 200:
        raise InvalidWriteKey()
    digest = _digest(key)
    found = None
    for project in db.scalars(select(Project)):
        if hmac.compare_digest(project.write_key_sha256, digest):
            found = project
    if found is None:
        raise InvalidWriteKey()
    return found


def origin_allowed(project: Project, origin: str | None) -> bool:
    """True when a browser ``Origin`` is one of the project's allowed origins.

    Requests without an Origin header (server-to-server, CLI import) are allowed: CORS protects
    browsers, the write key authenticates the sender.
    """
    if origin is None:
        return True
    return origin.rstrip("/") in project.allowed_origins
