"""The README documents every CLI command, setting and API route (datasette-style documentation tests)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from replayvault.cli import app
from replayvault.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_has_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


@pytest.mark.parametrize("name", [c.name or c.callback.__name__ for c in app.registered_commands])
def test_every_cli_command_is_documented(name: str) -> None:
    assert f"`replayvault {name}" in README


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    assert f"`REPLAYVAULT_{field.upper()}`" in README


@pytest.mark.parametrize("group", [g.name for g in app.registered_groups])
def test_every_cli_subcommand_is_documented(group: str) -> None:
    sub = next(g for g in app.registered_groups if g.name == group).typer_instance
    for cmd in sub.registered_commands:
        assert f"`replayvault {group} {cmd.name}" in README, cmd.name


def test_every_api_route_is_documented() -> None:
    from replayvault.web import (api, api_analytics, api_audit, api_compliance, api_governance, api_people, api_reviews,
                                 dashboard_analytics)

    for router in (api.router, api_audit.router, api_people.router, api_analytics.router, dashboard_analytics.api_router,
                   api_governance.router, api_reviews.router, api_compliance.router):
        for route in router.routes:
            if not route.include_in_schema:  # CORS preflights
                continue
            path = re.sub(r"\{(session|export|token|user|project)_id\}", "{id}", route.path)
            assert f"{sorted(route.methods)[0]} {path}" in README, route.path


def test_permission_matrix_in_readme_matches_the_code() -> None:
    from replayvault.governance.permissions import PURPOSE_ROLES, ROLE_PERMISSIONS, Permission, Purpose, Role

    for perm in Permission:
        row = next(line for line in README.splitlines() if line.startswith(f"| `{perm.value}` |"))
        cells = [c.strip() for c in row.strip("|").split("|")[1:]]
        assert cells == ["✓" if perm in ROLE_PERMISSIONS[r] else "" for r in Role], perm
    for purpose in Purpose:
        row = next(line for line in README.splitlines() if line.startswith(f"| `{purpose.value}` |"))
        cells = [c.strip() for c in row.strip("|").split("|")[1:]]
        assert cells == ["✓" if r in PURPOSE_ROLES[purpose] else "" for r in Role], purpose


@pytest.mark.parametrize("module", ["replayvault.rrweb", "replayvault.vault", "replayvault.ingest",
                                    "replayvault.db", "replayvault.pipeline", "replayvault.config",
                                    "replayvault.recordings", "replayvault.heatmaps", "replayvault.display",
                                    "replayvault.audit", "replayvault.governance"])
def test_dunder_all_matches_real_exports(module: str) -> None:
    mod = importlib.import_module(module)
    assert mod.__all__, module
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert missing == []
    public = {n for n, v in vars(mod).items() if not n.startswith("_") and getattr(v, "__module__", "").startswith(mod.__name__)}
    assert public <= set(mod.__all__) | {"log", "router"}, public - set(mod.__all__)
