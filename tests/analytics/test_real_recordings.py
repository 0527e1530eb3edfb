"""Facts of the four real posthog.com recordings against numbers read from the raw JSON in the test."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analytics_fixtures import FILES, need_recordings
from replayvault.analytics.facts import FactState, extract_facts
from replayvault.analytics.heatmap import click_grid, hottest_cell
from replayvault.rrweb import load_recording


def _raw(name: str) -> list[dict]:
    return json.loads((need_recordings() / name).read_text())["result"]


def _extract_in_batches(events: list[dict], size: int = 97):
    """Facts of ``events`` fed in batches, the state going through JSON in between."""
    state, out = FactState(), []
    for i in range(0, len(events), size):
        state = FactState.from_dict(json.loads(json.dumps(state.to_dict())))
        out.append(extract_facts(events[i:i + size], state))
    return out


def _bare(url: str) -> str:
    return url.split("?")[0].split("#")[0]


def _raw_views(raw: list[dict]) -> list[dict]:
    """Page views read straight from the raw events (which are in time order): one per Meta (PostHog's
    ``$pageview`` Custom events are not route changes for replayvault). For each: its URL (without query
    and fragment), its clicks, and its deepest document scroll y + viewport height, sampled at the Meta,
    the full snapshot and every document scroll and resize."""
    views: list[dict] = []
    roots: set[int] = set()
    vh = y = 0

    def sample() -> None:
        views[-1]["depth"] = max(views[-1]["depth"] or 0, y + vh)

    for e in raw:
        d = e.get("data", {})
        if e["type"] == 4:
            vh, y = d["height"], 0
            views.append({"url": _bare(d["href"]), "clicks": 0, "depth": None})
            sample()
        elif e["type"] == 2:
            doc = d["node"]
            html = [c for c in doc["childNodes"] if c.get("tagName") == "html"]
            body = [c for h in html for c in h["childNodes"] if c.get("tagName") == "body"]
            roots = {doc["id"], *(n["id"] for n in html + body)}
            y = d["initialOffset"]["top"]
            sample()
        elif e["type"] == 3 and d["source"] == 3 and d["id"] in roots:
            y = d["y"]
            sample()
        elif e["type"] == 3 and d["source"] == 4:
            vh = d["height"]
            sample()
        elif e["type"] == 3 and d["source"] == 2 and d["type"] == 2 and views:
            views[-1]["clicks"] += 1
    return views


@pytest.mark.parametrize("name", FILES)
def test_counts_match_raw_json(name):
    raw = _raw(name)
    stamps = [e["timestamp"] for e in raw]
    raw_clicks = sum(1 for e in raw if e["type"] == 3 and e["data"].get("source") == 2 and e["data"].get("type") == 2)
    expected = _raw_views(raw)
    batches = _extract_in_batches(load_recording(need_recordings() / name)[""])
    page_views = [p for f in batches for p in f.page_views]
    clicks = [c for f in batches for c in f.clicks]
    first = min(f.session.first_ms for f in batches if f.session.first_ms is not None)
    last = max(f.session.last_ms for f in batches if f.session.last_ms is not None)
    assert [p.url for p in page_views] == [v["url"] for v in expected]
    assert [p.index for p in page_views] == list(range(len(expected)))
    assert last - first == max(stamps) - min(stamps)
    assert len(clicks) == raw_clicks
    assert all(c.selector and c.selector.startswith("body") for c in clicks)


@pytest.mark.parametrize("name", FILES)
def test_clicks_and_scroll_depth_per_page_view_match_raw_json(name):
    expected = _raw_views(_raw(name))
    batches = _extract_in_batches(load_recording(need_recordings() / name)[""])
    clicks: dict[int, int] = {}
    for c in (c for f in batches for c in f.clicks):
        clicks[c.page_view] = clicks.get(c.page_view, 0) + 1
    depths: dict[int, int] = {}
    for d in (d for f in batches for d in f.scroll_depths):  # one row per batch that touched it: keep the max
        depths[d.page_view] = max(depths.get(d.page_view, 0), d.max_depth_px)
    assert clicks == {i: v["clicks"] for i, v in enumerate(expected) if v["clicks"]}
    assert depths == {i: round(v["depth"]) for i, v in enumerate(expected) if v["depth"] is not None}


def _raw_page_clicks(raw: list[dict], url: str) -> np.ndarray:
    """Page coordinates of clicks on ``url`` computed straight from the raw events (independent of the code)."""
    doc_id, scroll_y, scroll_x, current, out = None, 0, 0, None, []
    for e in raw:
        if e["type"] == 4:
            current, scroll_x, scroll_y = e["data"]["href"].split("?")[0].split("#")[0], 0, 0
        elif e["type"] == 2:
            doc_id = e["data"]["node"]["id"]
            scroll_x, scroll_y = e["data"]["initialOffset"]["left"], e["data"]["initialOffset"]["top"]
        elif e["type"] == 3 and e["data"]["source"] == 3 and e["data"]["id"] == doc_id:
            scroll_x, scroll_y = e["data"]["x"], e["data"]["y"]
        elif e["type"] == 3 and e["data"]["source"] == 2 and e["data"]["type"] == 2 and current == url:
            out.append((e["data"]["x"] + scroll_x, e["data"]["y"] + scroll_y))
    return np.array(out, dtype=np.float64)


def test_homepage_hottest_cell_is_where_raw_clicks_are_densest():
    raw = _raw("homepage.json")
    url = "https://posthog.com/"
    xy = _raw_page_clicks(raw, url)
    assert len(xy) == 6
    # densest coarse bin (256 px) of the raw clicks
    bins = 256
    hist, xe, ye = np.histogram2d(xy[:, 0], xy[:, 1], bins=[np.arange(0, 1920 + bins, bins), np.arange(0, 9000 + bins, bins)])
    bx, by = np.unravel_index(np.argmax(hist), hist.shape)
    assert hist[bx, by] >= 2
    # facts -> grid; few clicks, so a wide kernel (sigma 64 px) lets neighbours add up
    facts = [f for f in _extract_in_batches(load_recording(need_recordings() / "homepage.json")[""])]
    clicks = [c for f in facts for c in f.clicks if c.url == url]
    sigma = 64
    grid = click_grid(np.array([c.page_x for c in clicks]), np.array([c.page_y for c in clicks]), 1920, 9000,
                      sigma_px=sigma)
    hot = hottest_cell(grid)
    assert hot is not None
    inside = xe[bx] - sigma <= hot.x_px < xe[bx + 1] + sigma and ye[by] - sigma <= hot.y_px < ye[by + 1] + sigma
    assert inside, (hot, (xe[bx], ye[by]))
