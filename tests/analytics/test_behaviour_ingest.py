"""Behaviour analytics end to end: batches through the real collector and pipeline land in the store,
carry their state between batches, and come back through the JSON API (with named 400s)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from consentkit import post_batch
from staff import add_staff

from replayvault.analytics.behaviour import BehaviourState
from replayvault.pipeline import Batch, SessionState, process_batch
from replayvault.projects_setup import ensure_project
from replayvault.web.app import create_app

ORIGIN = "http://127.0.0.1:8001"
T = 1_700_000_000_000
PAY = "https://bank.example/pay"


def _el(i: int, tag: str, attrs: dict | None = None, kids: list | None = None) -> dict[str, Any]:
    return {"type": 2, "id": i, "tagName": tag, "attributes": attrs or {}, "childNodes": kids or []}


def _page(ts: int) -> list[dict[str, Any]]:
    """body 3 > form#f 4 > input#iban 10, button#go 11; p 12."""
    body = _el(3, "body", {}, [_el(4, "form", {"id": "f"}, [_el(10, "input", {"type": "text", "id": "iban"}),
                                                            _el(11, "button", {"id": "go"})]),
                               _el(12, "p", {}, [{"type": 3, "id": 13, "textContent": "Terms"}])])
    doc = {"type": 0, "id": 1, "childNodes": [_el(2, "html", {}, [body])]}
    return [{"type": 4, "data": {"href": PAY + "?acct=1", "width": 1280, "height": 800}, "timestamp": ts},
            {"type": 2, "data": {"node": doc, "initialOffset": {"top": 0, "left": 0}}, "timestamp": ts + 1}]


def _mi(ts: int, kind: int, nid: int, x: int = 40, y: int = 60) -> dict[str, Any]:
    return {"type": 3, "data": {"source": 2, "type": kind, "id": nid, "x": x, "y": y}, "timestamp": ts}


BATCHES = [
    [*_page(T), _mi(T + 1000, 2, 11), _mi(T + 1200, 2, 11), _mi(T + 1400, 2, 11),     # rage: 3 clicks in 400 ms
     _mi(T + 1500, 5, 10), {"type": 3, "data": {"source": 5, "id": 10, "text": "****", "isChecked": False},
                            "timestamp": T + 1700}, _mi(T + 1900, 6, 10),              # iban: 400 ms, hesitation 200
     {"type": 5, "data": {"tag": "rv.event", "payload": {"name": "transfer_started"}}, "timestamp": T + 2000}],
    [_mi(T + 3000, 2, 12, 300, 500)],                                                   # undecided at the batch end
    [{"type": 3, "data": {"source": 1, "positions": [{"x": 1, "y": 1, "id": 3, "timeOffset": 0}]},
      "timestamp": T + 4500}],                                                          # ... dead: nothing in 1 s
]


@pytest.fixture
def world(rt):
    project = ensure_project(rt, "p1", "Project 1", [ORIGIN])
    client = TestClient(create_app(rt))
    client.headers.update(add_staff(rt, "lead", ["compliance_lead"]).headers)
    sid = str(uuid.uuid4())
    for seq, events in enumerate(BATCHES):
        r = post_batch(client, {"session_id": sid, "seq": seq, "events": events},
                       {"X-Replayvault-Key": project.write_key, "Content-Type": "application/json", "Origin": ORIGIN})
        assert r.status_code == 200, r.text
        if seq == 1:
            assert [s["kind"] for s in rt.analytics.behaviour_rows("signals", session_id=sid)] == ["rage_click"]
    return rt, client, sid


def test_signals_forms_and_events_land_in_the_store(world) -> None:
    rt, _, sid = world
    sigs = rt.analytics.behaviour_rows("signals", session_id=sid)
    assert [(s["kind"], s["ts_ms"] - T, s["count"], s["url"], s["x"], s["y"], s["selector"]) for s in sigs] == [
        ("rage_click", 1000, 3, PAY, 40.0, 60.0, "body > form#f > button#go"),
        ("dead_click", 3000, 1, PAY, 300.0, 500.0, "body > p")]
    (visit,) = rt.analytics.behaviour_rows("form_visits", session_id=sid)
    assert (visit["form"], visit["field"], visit["start_ms"] - T, visit["end_ms"] - T, visit["first_input_ms"] - T,
            visit["inputs"], visit["refill"]) == ("body > form#f", "body > form#f > input#iban", 1500, 1900, 1700, 1, False)
    (event,) = rt.analytics.behaviour_rows("track_events", session_id=sid)
    assert (event["name"], event["ts_ms"] - T, event["page_view"], event["url"]) == ("transfer_started", 2000, 0, PAY)
    import duckdb

    from replayvault.analytics.store import _TABLES

    con = duckdb.connect(str(rt.settings.analytics_path), read_only=True)
    stored = {t: con.execute(f"SELECT count(*) FROM {t} WHERE session_id = ?", [sid]).fetchone()[0] for t in _TABLES}
    con.close()
    assert (stored["signals"], stored["form_visits"], stored["track_events"]) == (2, 1, 1)  # the rows read above
    assert rt.analytics.delete_session(sid) == sum(stored.values())
    for table in ("signals", "form_visits", "form_errors", "form_submits", "track_events"):
        assert rt.analytics.behaviour_rows(table, session_id=sid) == []


def test_the_api_serves_markers_counts_search_funnels_and_forms(world) -> None:
    _, client, sid = world
    marks = client.get(f"/api/v1/sessions/{sid}/signals").json()
    assert [(m["kind"], m["offset_ms"], m["count"]) for m in marks["signals"]] == [("rage_click", 1000, 3),
                                                                                   ("dead_click", 3000, 1)]
    counts = client.get("/api/v1/signals", params={"url": PAY + "?x=1"}).json()
    assert counts["total"] == 2
    assert [(c["kind"], c["signals"], c["sessions"], c["clicks"]) for c in counts["by_url_kind"]] == [
        ("rage_click", 1, 1, 3), ("dead_click", 1, 1, 1)]
    found = client.get("/api/v1/sessions/search", params={"signal": "rage_click", "url": "/pay"}).json()
    assert (found["total"], [s["session_id"] for s in found["sessions"]]) == (1, [sid])
    assert found["sessions"][0]["signals_by_kind"] == {"rage_click": 1, "dead_click": 1}
    assert client.get("/api/v1/sessions/search", params={"incident": "true"}).json()["total"] == 0
    assert client.get("/api/v1/sessions/search", params={"incident": "false"}).json()["total"] == 1
    f = client.get("/api/v1/funnels", params=[("step", "/pay"), ("step", "event:transfer_started")]).json()
    assert (f["entered"], f["completed"], f["steps"][1]["median_ms_from_previous"]) == (1, 1, 2000.0)
    (form,) = client.get("/api/v1/forms", params={"url": PAY}).json()
    assert (form["form"], form["abandoned_sessions"], form["fields"][0]["median_time_ms"],
            form["fields"][0]["median_hesitation_ms"]) == ("body > form#f", 1, 400.0, 200.0)


@pytest.mark.parametrize("path,params,message", [
    ("/api/v1/sessions/search", {"sort": "size"}, "sort must be one of start, duration, clicks, signals, not 'size'"),
    ("/api/v1/sessions/search", {"viewport": "watch"}, "viewport must be one of mobile, tablet, desktop, not 'watch'"),
    ("/api/v1/sessions/search", {"min_duration_ms": "-1"}, "invalid request parameters: query.min_duration_ms"),
    ("/api/v1/signals", {"kind": "angry"}, "unknown signal kind 'angry'; known kinds: rage_click, dead_click, "
                                           "error_click, u_turn, thrashed_cursor"),
    ("/api/v1/signals", {"since_ms": "5", "until_ms": "4"}, "since_ms (5) is greater than until_ms (4)"),
    ("/api/v1/funnels", {"step": "/pay"}, "a funnel needs 2 to 20 steps, got 1"),
    ("/api/v1/funnels", [("step", "/pay"), ("step", "event:")],
     "step 2: an event step needs a name of 1 to 200 characters after 'event:'"),
    ("/api/v1/funnels", {}, "invalid request parameters: query.step"),
])
def test_bad_parameters_get_a_400_naming_them(world, path, params, message) -> None:
    r = world[1].get(path, params=params)
    assert (r.status_code, r.json()) == (400, {"error": message, "status": 400})


def test_unknown_session_markers_are_404(world) -> None:
    r = world[1].get("/api/v1/sessions/nope/signals")
    assert (r.status_code, r.json()["error"]) == (404, "no such session")


def test_a_state_stored_before_behaviour_existed_still_loads() -> None:
    first = process_batch(Batch("p", "s", 0, BATCHES[0]), SessionState())
    old = SessionState(first.state.mask, first.state.facts, first.state.page)  # no behaviour: {}
    later = [*_page(T + 10_000), _mi(T + 11_000, 2, 12), _mi(T + 11_100, 2, 12), _mi(T + 11_200, 2, 12)]
    out = process_batch(Batch("p", "s", 1, later), old)
    assert [(s.kind, s.page_view, s.count) for s in out.behaviour.signals] == [("rage_click", 1, 3)]
    assert BehaviourState.from_dict(json.loads(json.dumps(out.state.behaviour))).page_view == 1


def test_analytics_routes_are_in_the_readme_and_modules_export_what_they_list() -> None:
    import importlib
    from pathlib import Path

    from replayvault.web import api_analytics

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for route in api_analytics.router.routes:
        assert f"GET {route.path.replace('{session_id}', '{id}')}" in readme, route.path
    for name in ("behaviour", "signals", "funnels", "forms", "search"):
        mod = importlib.import_module(f"replayvault.analytics.{name}")
        assert [n for n in mod.__all__ if not hasattr(mod, n)] == [], name
