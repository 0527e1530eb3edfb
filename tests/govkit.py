"""Shared setup of the governance tests: an app with one project and one ingested session, logins, audit reads.

Imported by the test modules (``from govkit import ...``); fixtures defined here are imported into
each module that uses them. Not a conftest.py: tests elsewhere import the top-level ``conftest``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from consentkit import post_batch
from staff import PASSWORD, Staff, add_staff

from replayvault.audit.log import row_entry
from replayvault.db.models import AuditEntry
from replayvault.projects_setup import ensure_project
from replayvault.web.app import create_app

ORIGIN = "http://127.0.0.1:8001"
#: The recorded page's URL: a value of the session's events that must never leak on refusal.
HREF = "https://bank.example/statements/overview-7f3a"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def events(ts: int = 1_700_000_000_000, href: str = HREF) -> list[dict]:
    """Meta + FullSnapshot + one click on ``href``."""
    node = {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "id": 2, "tagName": "html", "attributes": {}, "childNodes": [
            {"type": 2, "id": 3, "tagName": "body", "attributes": {}, "childNodes": [
                {"type": 2, "id": 4, "tagName": "button", "attributes": {}, "childNodes": [
                    {"type": 3, "id": 5, "textContent": "Download statement"}]}]}]}]}
    return [
        {"type": 4, "data": {"href": href, "width": 1280, "height": 800}, "timestamp": ts},
        {"type": 2, "data": {"node": node, "initialOffset": {"top": 0, "left": 0}}, "timestamp": ts + 1},
        {"type": 3, "data": {"source": 2, "type": 2, "id": 4, "x": 10, "y": 20}, "timestamp": ts + 400},
    ]


class Clock:
    """A settable clock for tests (ms since the epoch): ``clock()`` returns ``clock.now``."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@dataclass
class World:
    client: TestClient
    rt: object
    write_key: str
    sid: str


def ingest(client: TestClient, write_key: str) -> str:
    """Ingest one session through the collector; return its id."""
    sid = str(uuid.uuid4())
    r = post_batch(client, {"session_id": sid, "seq": 0, "events": events()},
                   {"X-Replayvault-Key": write_key, "Origin": ORIGIN})
    assert r.status_code == 200, r.text
    return sid


@pytest.fixture
def world(rt) -> World:
    project = ensure_project(rt, "p1", "Project 1", [ORIGIN])
    client = TestClient(create_app(rt))
    return World(client, rt, project.write_key, ingest(client, project.write_key))


def days_ago(n: int) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=n)).isoformat()


def staff(rt, name: str, roles: list[str], trained: str | None = "today") -> Staff:  # type: ignore[no-untyped-def]
    return add_staff(rt, name, roles, trained=trained)


def login(client: TestClient, username: str, password: str = PASSWORD, *, next: str = "/", code: str = ""):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": username, "password": password, "code": code, "next": next},
                       follow_redirects=False)


def csrf_of(client: TestClient) -> str:
    """The CSRF token of the client's login session, read from a dashboard page."""
    r = client.get("/account")
    assert r.status_code == 200, r.text
    found = set(CSRF_FIELD.findall(r.text))
    assert len(found) == 1, found
    return found.pop()


def audit_rows(rt) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every stored audit entry, oldest first, decoded as the product decodes it (``row_entry``)."""
    with rt.sessions() as db:
        return [row_entry(r).as_dict() for r in db.scalars(select(AuditEntry).order_by(AuditEntry.idx))]


def audit_text(rt) -> str:  # type: ignore[no-untyped-def]
    """Every column of every stored audit entry as raw text (for "appears nowhere" checks)."""
    with rt.sessions() as db:
        rows = db.execute(select(AuditEntry.__table__)).all()
    return "\n".join(repr(tuple(row)) for row in rows) + "\n" + json.dumps(audit_rows(rt), ensure_ascii=False)


def last_idx(rt) -> int:  # type: ignore[no-untyped-def]
    rows = audit_rows(rt)
    return rows[-1]["idx"] if rows else -1
