"""replayvault: privacy-first session recording and heatmap analytics for banks.

The data flow (see ``docs/contracts.md``): tracker -> :mod:`replayvault.ingest` (validate, consent)
-> :func:`replayvault.pipeline.process_batch` (:mod:`replayvault.privacy` masking, then
:mod:`replayvault.analytics` facts) -> :mod:`replayvault.vault` (zstd + AES-256-GCM) -> storage,
served by :mod:`replayvault.web`.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
