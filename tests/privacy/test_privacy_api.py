from __future__ import annotations

import importlib
import pkgutil

import pytest

import replayvault.privacy as privacy
import replayvault.privacy.detectors as detectors

MODULES = [privacy, detectors] + [importlib.import_module(f"replayvault.privacy.{m.name}")
                                  for m in pkgutil.iter_modules(privacy.__path__) if not m.ispkg]


@pytest.mark.parametrize("mod", MODULES, ids=lambda m: m.__name__)
def test_all_matches_exports(mod):
    assert sorted(mod.__all__) == sorted(set(mod.__all__))
    for name in mod.__all__:
        assert hasattr(mod, name), f"{mod.__name__}.{name} missing"


def test_public_api_is_unchanged_by_the_split():
    assert sorted(privacy.__all__) == ["DETECTORS", "Detector", "Finding", "KINDS", "MalformedState", "MaskRecord",
                                       "MaskResult", "MaskState", "UnknownDetector", "Validation", "mask_events",
                                       "scrub_url"]
