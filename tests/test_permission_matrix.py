"""Every role against every route gets exactly what the permission matrix allows.

The expectations are computed from ``governance.permissions`` itself and the app's real routes, so a
new route without a rule (or a rule without a route) fails here.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from replayvault.governance.permissions import ROLE_PERMISSIONS, ROUTE_RULES, Permission, Role, Rule
from replayvault.web.app import create_app
from staff import add_staff


def _routes(routes) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path) of every route, descending into included routers (no prefixes are added on include)."""
    out = []
    for r in routes:
        if hasattr(r, "original_router"):
            out += _routes(r.original_router.routes)
        elif isinstance(r, (APIRoute, Route)):
            out += [(m, r.path) for m in sorted(r.methods - {"HEAD"})]
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from replayvault.config import Settings
    from replayvault.runtime import Runtime

    rt = Runtime(Settings(home=tmp_path_factory.mktemp("matrix") / "home", allowed_hosts="testserver"))
    app = create_app(rt)
    staff = {role: add_staff(rt, f"m-{role.value.replace('_', '-')}", [role.value]) for role in Role}
    return rt, app, TestClient(app), staff


def test_every_route_has_exactly_one_rule_and_every_rule_a_route(world) -> None:
    _, app, _, _ = world
    routes = set(_routes(app.routes))
    assert len(routes) > 50
    assert routes - set(ROUTE_RULES) == set(), "routes without an access rule"
    assert set(ROUTE_RULES) - routes == set(), "rules for routes that do not exist"


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "0" if m.group(0) == "{idx}" else "zz-none", path)


CASES = [(m, p, role) for (m, p), rule in ROUTE_RULES.items() if isinstance(rule, Permission) for role in Role]


@pytest.mark.parametrize("method,path,role", CASES, ids=[f"{m} {p} {r.value}" for m, p, r in CASES])
def test_role_gets_what_the_matrix_allows(world, method, path, role) -> None:
    _, _, client, staff = world
    rule = ROUTE_RULES[(method, path)]
    r = client.request(method, _fill(path), headers=staff[role].headers, follow_redirects=False)
    denied = r.status_code == 403 and "your roles do not grant" in r.text
    if path == "/" and r.status_code == 303:  # the home page sends a refused user to their own start page
        denied = r.headers["location"] in ("/audit", "/training", "/users", "/account")
    assert denied == (rule not in ROLE_PERMISSIONS[role]), (r.status_code, r.text[:200])
    assert r.status_code != 401


NON_PUBLIC = [(m, p) for (m, p), rule in ROUTE_RULES.items() if rule not in (Rule.PUBLIC, Rule.WRITE_KEY)]


@pytest.mark.parametrize("method,path", NON_PUBLIC, ids=[f"{m} {p}" for m, p in NON_PUBLIC])
def test_anonymous_callers_are_refused(world, method, path) -> None:
    client = world[2]
    r = client.request(method, _fill(path), follow_redirects=False)
    if method == "GET" and not path.startswith("/api/") and path != "/metrics":  # a scraper gets JSON 401
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    else:
        assert r.status_code == 401 and r.json()["error"]


@pytest.mark.parametrize("method,path", [k for k, v in ROUTE_RULES.items() if v is Rule.AUTHENTICATED])
def test_authenticated_routes_open_to_every_role(world, method, path) -> None:
    _, _, client, staff = world
    for role in Role:
        r = client.request(method, _fill(path), headers=staff[role].headers, follow_redirects=False)
        assert r.status_code not in (401, 403) or "CSRF" in r.text, (role, r.status_code, r.text[:200])


def test_admin_cannot_read_recording_content(world) -> None:
    assert Permission.RECORDINGS_READ not in ROLE_PERMISSIONS[Role.ADMIN]
    assert Permission.EXPORTS_REQUEST not in ROLE_PERMISSIONS[Role.ADMIN]


def test_write_key_can_only_ingest(world) -> None:
    from replayvault.projects_setup import ensure_project

    rt, _, client, _ = world
    key = ensure_project(rt, "matrix", "M", []).write_key  # type: ignore[attr-defined]
    for path in ("/api/v1/sessions", "/api/v1/audit/entries", "/api/v1/pages"):
        assert client.get(path, headers={"X-Replayvault-Key": key}).status_code == 401
        assert client.get(path, headers={"Authorization": f"Bearer {key}"}).status_code == 401
