"""The README documents every CLI command, setting and API route (datasette-style documentation tests)."""

from __future__ import annotations

import importlib
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


def test_every_api_route_is_documented() -> None:
    from replayvault.web import api

    for route in api.router.routes:
        path = route.path.split("{")[0].rstrip("/")
        assert path in README, path


@pytest.mark.parametrize("module", ["replayvault.rrweb", "replayvault.vault", "replayvault.ingest",
                                    "replayvault.db", "replayvault.pipeline", "replayvault.config",
                                    "replayvault.recordings", "replayvault.heatmaps", "replayvault.display"])
def test_dunder_all_matches_real_exports(module: str) -> None:
    mod = importlib.import_module(module)
    assert mod.__all__, module
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert missing == []
    public = {n for n, v in vars(mod).items() if not n.startswith("_") and getattr(v, "__module__", "").startswith(mod.__name__)}
    assert public <= set(mod.__all__) | {"log", "router"}, public - set(mod.__all__)
