from __future__ import annotations

import replayvault.privacy as privacy
import replayvault.privacy.detectors as detectors


def test_all_matches_exports():
    for mod in (privacy, detectors):
        assert sorted(mod.__all__) == sorted(set(mod.__all__))
        for name in mod.__all__:
            assert hasattr(mod, name), f"{mod.__name__}.{name} missing"
