"""HTTP glue for ``GET /api/v1/heatmaps``: JSON grid or PNG."""

from __future__ import annotations

from fastapi.responses import JSONResponse, Response

from ..errors import InvalidInput
from ..heatmaps import heatmap_json, heatmap_png
from ..runtime import Runtime

__all__ = ["respond"]


def respond(rt: Runtime, *, url: str, kind: str, viewport: str | None, fmt: str, project: str | None,
            since_ms: int | None = None, until_ms: int | None = None) -> Response:
    """The heatmap of ``url`` as ``application/json`` or ``image/png``.

    Raises:
        NotFound: no page views (404).
        InvalidInput: ``until_ms`` not after ``since_ms`` (400).
    """
    if since_ms is not None and until_ms is not None and until_ms <= since_ms:
        raise InvalidInput("until_ms must be after since_ms")
    args = {"url": url, "kind": kind, "viewport": viewport, "project": project, "since_ms": since_ms,
            "until_ms": until_ms}
    if fmt == "png":
        return Response(heatmap_png(rt, **args), media_type="image/png", headers={"Cache-Control": "no-store"})
    return JSONResponse(heatmap_json(rt, **args))
