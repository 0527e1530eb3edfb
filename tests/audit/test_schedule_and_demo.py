"""`serve` signs checkpoints on a schedule; the demo creates one trained account per role."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from replayvault.config import Settings
from replayvault.demo_runner import DEMO_STAFF, ensure_demo_staff
from replayvault.governance import accounts
from replayvault.governance.access import training_status
from replayvault.governance.permissions import Role
from replayvault.runtime import Runtime
from replayvault.web.app import create_app


def test_serve_signs_a_checkpoint_when_the_log_grew(tmp_path) -> None:
    rt = Runtime(Settings(home=tmp_path / "h", checkpoint_interval_s=1, allowed_hosts="testserver"))
    rt.audit.record(actor="cli", action="noop", resource="x")
    assert rt.audit.latest_checkpoint() is None
    with TestClient(create_app(rt)):  # runs the app's lifespan, as uvicorn does
        deadline = time.monotonic() + 10
        while rt.audit.latest_checkpoint() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    cp = rt.audit.latest_checkpoint()
    assert cp is not None and cp.size == 1


def test_demo_staff_cover_every_role_and_can_log_in(rt) -> None:
    first = ensure_demo_staff(rt)
    assert sorted(r for _, roles, _ in first for r in roles) == sorted(r.value for r in Role)
    second = ensure_demo_staff(rt)  # a later `make demo` prints new passwords
    with rt.sessions() as db:
        for (name, roles, old), (_, _, new) in zip(first, second):
            assert old != new and DEMO_STAFF[name] == roles
            user = accounts.authenticate(db, name, new)
            assert training_status(db, user.id, 365)[0]
            assert sorted(accounts.roles_of(db, user.id)) == sorted(roles)
