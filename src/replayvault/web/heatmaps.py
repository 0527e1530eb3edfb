"""HTTP glue for ``GET /api/v1/heatmaps``: JSON grid or PNG."""

from __future__ import annotations

from fastapi.responses import JSONResponse, Response

from ..heatmaps import heatmap_json, heatmap_png
from ..runtime import Runtime

__all__ = ["respond"]


def respond(rt: Runtime, *, url: str, kind: str, viewport: str | None, fmt: str, project: str | None) -> Response:
    """The heatmap of ``url`` as ``application/json`` or ``image/png``. Raises NotFound (404) without page views."""
    if fmt == "png":
        return Response(heatmap_png(rt, url=url, kind=kind, viewport=viewport, project=project),
                        media_type="image/png", headers={"Cache-Control": "no-store"})
    return JSONResponse(heatmap_json(rt, url=url, kind=kind, viewport=viewport, project=project))
