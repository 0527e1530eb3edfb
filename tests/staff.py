"""Test helpers: staff accounts with roles, training and an API token; purpose-bound reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from replayvault.governance import accounts
from replayvault.governance.access import record_training
from replayvault.governance.permissions import permissions_for
from replayvault.runtime import Runtime

PASSWORD = "correct horse battery staple"


@dataclass
class Staff:
    user_id: str
    username: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def add_staff(rt: Runtime, username: str, roles: list[str], *, trained: str | None = "today") -> Staff:
    """A user with ``roles``, a training attestation (``trained``: "today", an ISO date, or None) and a
    token carrying every permission of the roles."""
    with rt.sessions() as db:
        user = accounts.create_user(db, username, PASSWORD, roles, "test", must_change=False)
        if trained:
            day = dt.datetime.now(dt.UTC).date().isoformat() if trained == "today" else trained
            record_training(db, user, "Data protection", day, "test")
        token = ""
        scopes = sorted(p.value for p in permissions_for(roles))
        if scopes:
            _, token = accounts.create_token(db, user, "tests", scopes)
        db.commit()
        return Staff(user.id, username, PASSWORD, token)


def grant(client, staff: Staff, sid: str, purpose: str = "compliance_audit", why: str = "CASE-1") -> str:  # type: ignore[no-untyped-def]
    """Declare a purpose for reading ``sid``; return the grant id (asserts 200)."""
    r = client.post(f"/api/v1/sessions/{sid}/access", json={"purpose": purpose, "justification": why},
                    headers=staff.headers)
    assert r.status_code == 200, r.text
    return r.json()["grant"]


def read_events(client, staff: Staff, sid: str, purpose: str = "compliance_audit"):  # type: ignore[no-untyped-def]
    """GET the events of ``sid`` under a fresh grant; returns the response."""
    g = grant(client, staff, sid, purpose)
    return client.get(f"/api/v1/sessions/{sid}/events", params={"grant": g}, headers=staff.headers)


def browser_login(page, base: str, staff: Staff) -> None:  # type: ignore[no-untyped-def]
    """Log ``staff`` in through the dashboard's login form (Playwright page)."""
    page.goto(f"{base}/login", wait_until="domcontentloaded")
    page.fill("input[name=username]", staff.username)
    page.fill("input[name=password]", staff.password)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click("form.login button")
    assert "/login" not in page.url, f"login failed: {page.locator('main').inner_text()[:300]}"


def browser_open_replay(page, base: str, sid: str, purpose: str = "compliance_audit", why: str = "CASE-1") -> None:  # type: ignore[no-untyped-def]
    """Open a session page, declare a purpose and justification, and wait for the player."""
    page.goto(f"{base}/sessions/{sid}", wait_until="domcontentloaded")
    form = "form[action$='/access']"
    page.select_option(f"{form} select[name=purpose]", purpose)
    page.fill(f"{form} input[name=justification]", why)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.click(f"{form} button")
    page.wait_for_selector("#player[data-ready='1']", timeout=20_000)
