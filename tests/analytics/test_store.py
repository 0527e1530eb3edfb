"""AnalyticsStore round trips in a temporary DuckDB file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analytics_fixtures import click, full, meta, rv_click, scroll, session_events
from replayvault.analytics.facts import FactState, extract_facts
from replayvault.analytics.store import AnalyticsStore

URL = "https://bank.example/pay"


def _batches(events, split):
    state = FactState()
    f1 = extract_facts(events[:split], state)
    state = FactState.from_dict(json.loads(json.dumps(state.to_dict())))
    return f1, extract_facts(events[split:], state)


def test_round_trip_with_two_instances_used_alternately(tmp_path):
    path = tmp_path / "a" / "analytics.duckdb"
    one, two = AnalyticsStore(path), AnalyticsStore(path)
    f1, f2 = _batches(session_events(), 4)  # click on node 10 in batch 1, its rv.click in batch 2
    one.write("proj", "s1", f1)
    assert two.session("s1")["clicks"] == 1
    two.write("proj", "s1", f2)
    row = one.session("s1")
    assert row == {"project_id": "proj", "session_id": "s1", "start_ms": 1000, "end_ms": 1900, "duration_ms": 900,
                   "page_views": 1, "clicks": 2, "viewport_w": 1280, "viewport_h": 900, "device_class": "desktop"}
    assert two.pages() == [{"url": URL, "page_views": 1, "clicks": 2}]
    clicks = one.clicks(URL)
    order = np.argsort(clicks["ts_ms"])
    assert clicks["page_x"][order].tolist() == [50, 10] and clicks["page_y"][order].tolist() == [360, 320]
    # the late rv.click of batch 2 updated the click stored with batch 1
    assert clicks["offset_x"][order][0] == 5 and clicks["target_w"][order][0] == 80
    assert np.isnan(clicks["offset_x"][order][1])
    assert clicks["selector"][order][0] == "body > div.main > form#transfer > button.primary:nth-of-type(2)"
    depths = two.scroll_depths(URL)
    assert depths["max_depth_px"].tolist() == [2000] and depths["page_height_px"].tolist() == [3000]


def test_write_is_idempotent_and_depth_keeps_max(tmp_path):
    store = AnalyticsStore(tmp_path / "x.duckdb")
    f1, f2 = _batches(session_events(), 10)
    for facts in (f1, f1, f2, f2):
        store.write("proj", "s1", facts)
    assert store.session("s1")["clicks"] == 2 and store.session("s1")["page_views"] == 1
    assert store.scroll_depths(URL)["max_depth_px"].tolist() == [2000]
    # a later batch with a shallower depth does not lower the stored maximum
    store.write("proj", "s1", extract_facts([scroll(5000, 1, 0)], FactState.from_dict(
        {"page_view": 0, "page_view_count": 1, "url": URL, "viewport_w": 1280, "viewport_h": 800,
         "nodes": {"root_ids": [1]}})))
    assert store.scroll_depths(URL)["max_depth_px"].tolist() == [2000]
    assert store.session("s1")["end_ms"] == 5000


def test_filters_listing_and_delete(tmp_path):
    store = AnalyticsStore(tmp_path / "x.duckdb")
    phone = extract_facts([meta(10, w=390, h=700), full(11), click(12, 10, 5, 5), rv_click(13, 10, 1, 2, 3, 4)],
                          FactState())
    desk = extract_facts(session_events(), FactState())
    store.write("p1", "phone", phone)
    store.write("p2", "desk", desk)
    assert [s["session_id"] for s in store.sessions()] == ["desk", "phone"]  # newest first
    assert [s["session_id"] for s in store.sessions("p1")] == ["phone"]
    assert store.pages("p2") == [{"url": URL, "page_views": 1, "clicks": 2}]
    assert store.pages() == [{"url": URL, "page_views": 2, "clicks": 3}]
    assert store.clicks(URL, "mobile")["page_y"].tolist() == [5]
    assert store.clicks(URL, "desktop", project_id="p1")["page_y"].size == 0
    assert store.clicks(URL + "?q=1")["page_x"].size == 3  # URLs are compared without query
    assert store.scroll_depths(URL, "mobile")["max_depth_px"].tolist() == [700]
    assert store.moves(URL)["page_x"].size == 0
    with pytest.raises(ValueError, match="viewport_class"):
        store.clicks(URL, "phablet")
    assert store.delete_session("desk") > 0
    assert store.session("desk") is None and store.clicks(URL, "desktop")["page_x"].size == 0
    assert store.session("phone")["clicks"] == 1
    assert store.delete_session("nope") == 0


def test_waits_while_another_process_holds_the_file(tmp_path):
    import subprocess
    import sys
    import time

    path = tmp_path / "locked.duckdb"
    store = AnalyticsStore(path)
    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
                               "time.sleep(1.0); c.close()", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        store.write("p", "s", extract_facts(session_events(), FactState()))
        assert time.monotonic() - t0 > 0.3  # it had to wait for the lock
    finally:
        holder.wait(timeout=10)
    assert store.session("s")["clicks"] == 2
