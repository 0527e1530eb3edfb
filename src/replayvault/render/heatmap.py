"""PNG images of click maps and scroll maps, composited over a page backdrop.

The colours come from matplotlib's ``turbo`` colormap (blue = few, dark red = most), with opacity
rising with density so the page stays readable where nobody clicked. Without a backdrop the map
is drawn over a neutral light-grey canvas of the page size. The output image always has exactly
the page size (``width`` x ``height`` px); the legend is drawn as a small card in the top-right
corner, over the map.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib import colormaps
from PIL import Image, ImageDraw, ImageFont

from ..analytics.heatmap import ClickGrid, ScrollMap

__all__ = ["CANVAS_RGB", "COLORMAP", "render_click_map", "render_scroll_map"]

COLORMAP = "turbo"
#: Background when no backdrop is given: neutral light grey.
CANVAS_RGB = (236, 236, 238)
#: Backdrops are faded this much toward white so the colours stand out (0 = untouched).
BACKDROP_FADE = 0.35
#: Density below MIN_DENSITY (0..1) is not drawn; alpha rises smoothly to MAX_ALPHA at FULL_DENSITY.
MIN_DENSITY = 0.01
FULL_DENSITY = 0.35
MAX_ALPHA = 0.85
#: Parts of the colormap used: the click map keeps the dark-red top for the hottest spots, the
#: scroll map stops at red so large fully-reached areas do not turn muddy.
CLICK_SPAN = (0.08, 1.0)
SCROLL_SPAN = (0.1, 0.9)
SCROLL_ALPHA = 0.42
_INK = (34, 34, 40, 255)
_CARD = (255, 255, 255, 225)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: bitmap font, fixed size
        return ImageFont.load_default()


def _base(backdrop: Image.Image | None, width: int, height: int) -> Image.Image:
    """RGBA page-size canvas: the backdrop (top-left aligned, faded) or light grey."""
    base = Image.new("RGBA", (width, height), (*CANVAS_RGB, 255))
    if backdrop is not None:
        page = backdrop.convert("RGBA")
        if page.width != width:  # screenshot at another width: scale to the page width
            page = page.resize((width, max(1, round(page.height * width / page.width))), Image.Resampling.BILINEAR)
        page = page.crop((0, 0, width, min(height, page.height)))
        base.paste(Image.blend(page, Image.new("RGBA", page.size, (255, 255, 255, 255)), BACKDROP_FADE), (0, 0))
    return base


def _rgba(values: np.ndarray, alpha: np.ndarray, span: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """uint8 RGBA of ``values`` (0..1) through the colormap restricted to ``span``."""
    lo, hi = span
    rgba = colormaps[COLORMAP](lo + (hi - lo) * np.clip(values, 0.0, 1.0), bytes=True)
    rgba[..., 3] = np.clip(alpha * 255.0, 0, 255).astype(np.uint8)
    return rgba


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "PNG", compress_level=3)
    return buf.getvalue()


def _colorbar(draw: ImageDraw.ImageDraw, img: Image.Image, box: tuple[int, int, int, int],
              span: tuple[float, float]) -> None:
    x0, y0, x1, y1 = box
    ramp = np.linspace(0.0, 1.0, max(2, x1 - x0))[None, :].repeat(y1 - y0, axis=0)
    bar = Image.fromarray(_rgba(ramp, np.ones_like(ramp), span), "RGBA")
    img.alpha_composite(bar, (x0, y0))
    draw.rectangle(box, outline=_INK, width=1)


def _legend(img: Image.Image, title: str, left: str, right: str, span: tuple[float, float]) -> None:
    """Legend card (title, colour bar, end labels) in the top-right corner."""
    font, small = _font(15), _font(12)
    card_w, card_h, margin = min(300, img.width - 8), 74, 12
    x0 = max(0, img.width - card_w - margin)
    y0 = min(margin, max(0, img.height - card_h))
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle((x0, y0, x0 + card_w, y0 + card_h), radius=8, fill=_CARD, outline=(190, 190, 196, 255))
    draw.text((x0 + 12, y0 + 8), title, fill=_INK, font=font)
    _colorbar(draw, layer, (x0 + 12, y0 + 32, x0 + card_w - 12, y0 + 46), span)
    draw.text((x0 + 12, y0 + 52), left, fill=_INK, font=small)
    draw.text((x0 + card_w - 12, y0 + 52), right, fill=_INK, font=small, anchor="ra")
    img.alpha_composite(layer)


def render_click_map(grid: ClickGrid | dict[str, Any], backdrop: Image.Image | None,
                     width: int, height: int) -> bytes:
    """PNG (bytes) of a click map over ``backdrop`` (or grey), exactly ``width`` x ``height`` px.

    ``grid`` is a :class:`~replayvault.analytics.heatmap.ClickGrid` or its ``to_dict()``; its cells
    are scaled by ``cell_px`` so grid and page coordinates line up.
    """
    if isinstance(grid, dict):
        grid = ClickGrid.from_dict(grid)
    width, height = int(width), int(height)
    img = _base(backdrop, width, height)
    values = np.asarray(grid.values, dtype=np.float32)
    if grid.max > 0 and values.size:
        # smoothstep from MIN_DENSITY to FULL_DENSITY: soft edges, opaque-ish core
        ramp = np.clip((values - MIN_DENSITY) / (FULL_DENSITY - MIN_DENSITY), 0.0, 1.0)
        alpha = MAX_ALPHA * ramp * ramp * (3.0 - 2.0 * ramp)
        heat = Image.fromarray(_rgba(values, alpha, CLICK_SPAN), "RGBA").convert("RGBa")  # premultiplied for resizing
        size = (grid.cols * grid.cell_px, grid.rows * grid.cell_px)
        heat = heat.resize(size, Image.Resampling.BILINEAR).convert("RGBA").crop((0, 0, width, height))
        img.alpha_composite(heat)
    _legend(img, f"Click map · {grid.clicks:,} clicks", "fewer", "more", CLICK_SPAN)
    return _png(img)


def render_scroll_map(smap: ScrollMap | dict[str, Any], backdrop: Image.Image | None,
                      width: int, height: int | None = None) -> bytes:
    """PNG (bytes) of a scroll map: each band of ``step_px`` coloured by the share of page views
    that reached it (dark red 100 % ... blue 0 %), with lines and labels where 75, 50 and 25 % of
    page views stopped. ``height`` defaults to the scroll map's page height (px).
    """
    if isinstance(smap, dict):
        smap = ScrollMap(int(smap["step_px"]), int(smap["page_height_px"]), np.asarray(smap["depth_px"]),
                         np.asarray(smap["share"], dtype=np.float64), int(smap["page_views"]))
    width = int(width)
    height = int(height if height is not None else smap.page_height_px)
    img = _base(backdrop, width, height)
    rows = np.minimum(np.arange(height) // smap.step_px, len(smap.share) - 1)
    share = smap.share[rows] if smap.page_views else np.zeros(height)
    column = _rgba(share[:, None], np.full((height, 1), SCROLL_ALPHA), SCROLL_SPAN)
    img.alpha_composite(Image.fromarray(column, "RGBA").resize((width, height), Image.Resampling.NEAREST))
    if smap.page_views:
        _marks(img, smap)
    _legend(img, f"Scroll map · {smap.page_views:,} page views", "0 % reached", "100 %", SCROLL_SPAN)
    return _png(img)


def _marks(img: Image.Image, smap: ScrollMap) -> None:
    """Dashed line and label at the depth reached by 75 %, 50 % and 25 % of page views."""
    draw = ImageDraw.Draw(img)
    font = _font(14)
    for pct in (75, 50, 25):
        y = smap.depth_reached_by(pct / 100)
        if not 0 < y < img.height:
            continue
        for x in range(0, img.width, 16):
            draw.line((x, y, min(x + 9, img.width), y), fill=_INK, width=2)
        label = f"{pct} % of page views reached this line"
        box = draw.textbbox((14, y - 26), label, font=font)
        draw.rounded_rectangle((box[0] - 6, box[1] - 4, box[2] + 6, box[3] + 4), radius=5, fill=_CARD)
        draw.text((14, y - 26), label, fill=_INK, font=font)
