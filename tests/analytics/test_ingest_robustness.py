"""Analytics never block or reject ingest: chained Mutation adds are O(n), odd shapes and boolean ids
do not poison a session, and absurd pixel values are clamped before they reach the store."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from consentkit import post_batch
from replayvault.analytics import _nodes
from replayvault.analytics._dom import FormDom
from replayvault.analytics._nodes import NodeMirror
from replayvault.analytics.facts import MAX_PX
from replayvault.pipeline import Batch, SessionState, process_batch
from replayvault.projects_setup import ensure_project
from replayvault.web.app import create_app

ORIGIN = "http://127.0.0.1:8001"
URL = "https://bank.example/list"
T = 1_700_000_000_000


def _el(nid, tag, children=None, **attrs):
    return {"type": 2, "id": nid, "tagName": tag, "attributes": attrs, "childNodes": children or []}


def _page(body_children, ts=T):
    node = {"type": 0, "id": 1, "childNodes": [_el(2, "html", [_el(3, "head"), _el(4, "body", body_children)])]}
    return [{"type": 4, "timestamp": ts, "data": {"href": URL, "width": 1280, "height": 800}},
            {"type": 2, "timestamp": ts + 1, "data": {"node": node, "initialOffset": {"left": 0, "top": 0}}}]


def _chained_adds(n, first=1000):
    """Siblings listed first-to-last, each naming the following one as nextId (the quadratic case)."""
    return [{"parentId": 10, "nextId": first + i + 1 if i + 1 < n else None, "node": _el(first + i, "li")}
            for i in range(n)]


def _counting(monkeypatch, name):
    calls = {"n": 0}
    orig = getattr(NodeMirror, name)

    def wrapper(self, *a, **kw):
        calls["n"] += 1
        return orig(self, *a, **kw)

    monkeypatch.setattr(NodeMirror, name, wrapper)
    return calls


def test_20000_chained_adds_each_visited_a_bounded_number_of_times(monkeypatch):
    n = 20_000
    m = NodeMirror()
    m.full_snapshot(_page([_el(10, "ul")])[1]["data"]["node"])
    assert len(m.info) == 5
    checks, applies = _counting(monkeypatch, "_missing"), _counting(monkeypatch, "_apply")
    m.mutation({"source": 0, "texts": [], "attributes": [], "removes": [], "adds": _chained_adds(n)})
    assert len(m.info) == 5 + n
    assert m.children[10] == list(range(1000, 1000 + n))  # document order restored from nextId
    assert applies["n"] == n  # each add applied exactly once
    assert checks["n"] <= (_nodes._MAX_WAITS + 1) * n  # each add looked at a bounded number of times
    assert m.dropped_adds == 0


def test_whole_pipeline_with_20000_chained_adds(monkeypatch):
    n = 20_000
    ev = _page([_el(10, "ul")])
    ev.append({"type": 3, "timestamp": T + 5, "data": {"source": 0, "texts": [], "attributes": [], "removes": [],
                                                       "adds": _chained_adds(n)}})
    checks = _counting(monkeypatch, "_missing")
    out = process_batch(Batch("p", "s" * 8, 0, ev), SessionState())
    assert len(out.state.facts["nodes"]["info"]) == 5 + n
    assert len(out.state.behaviour["dom"]["nodes"]["info"]) == 5 + n
    assert checks["n"] <= 2 * (_nodes._MAX_WAITS + 1) * n  # facts' mirror + behaviour's mirror


def test_adds_beyond_the_cap_are_dropped_and_counted(monkeypatch):
    monkeypatch.setattr(_nodes, "MAX_ADDS_PER_EVENT", 100)
    m = NodeMirror()
    m.full_snapshot(_page([_el(10, "ul")])[1]["data"]["node"])
    m.mutation({"adds": [{"parentId": 10, "nextId": None, "node": _el(1000 + i, "li")} for i in range(150)]})
    assert len(m.info) == 5 + 100 and m.dropped_adds == 50


def test_malformed_nodes_are_skipped_not_raised():
    dom = FormDom()
    dom.full_snapshot({"type": 0, "id": 1, "childNodes": [
        _el(2, "html", [_el(4, "body", [{"type": 2, "id": True, "tagName": "span", "attributes": {}, "childNodes": []},
                                        {"type": 2, "id": [7], "tagName": "b", "attributes": [], "childNodes": 5},
                                        {"type": 2, "id": 8, "tagName": "i", "attributes": "x", "childNodes": {"a": 1}}])])]})
    dom.mutation({"adds": [{"parentId": [4], "nextId": {"x": 1}, "node": _el(20, "div")},
                           {"parentId": 4, "nextId": None, "node": {"type": 2, "id": False, "childNodes": 3}}],
                  "attributes": [{"id": [1], "attributes": {}}, {"id": 8, "attributes": [1]}], "texts": 7}, [])
    assert sorted(dom.nodes.info) == [1, 2, 4, 8, 20]
    again = FormDom.from_dict(json.loads(json.dumps(dom.to_dict())))
    assert sorted(again.nodes.info) == [1, 2, 4, 8, 20]
    bad = FormDom.from_dict({"nodes": {"info": {"True": ["p", None, None], "5": "x", "6": ["p", None, None]},
                                       "children": {"6": ["7", 6]}, "root_ids": [True, 1]},
                             "flags": {"True": 1, "6": "2"}, "errors": []})
    assert list(bad.nodes.info) == [6] and bad.nodes.root_ids == [1] and bad.flags == {}


@pytest.fixture
def client(rt):
    project = ensure_project(rt, "p1", "Project 1", [ORIGIN])
    c = TestClient(create_app(rt))
    c.write_key = project.write_key
    c.rt = rt
    return c


def _post(client, sid, seq, events):
    return post_batch(client, {"session_id": sid, "seq": seq, "events": events},
                      {"X-Replayvault-Key": client.write_key, "Content-Type": "application/json", "Origin": ORIGIN})


def _click(ts, nid):
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": 2, "id": nid, "x": 50, "y": 50}}


def test_boolean_node_id_does_not_poison_the_session(client):
    sid = str(uuid.uuid4())
    odd = {"type": 2, "id": True, "tagName": "span", "attributes": {}, "childNodes": []}
    r0 = _post(client, sid, 0, _page([_el(10, "button"), odd]))
    r1 = _post(client, sid, 1, [_click(T + 1000, 10), _click(T + 2000, 10)])
    r2 = _post(client, sid, 2, [  # shapes masking accepts that the extractors used to reject
        {"type": 3, "timestamp": T + 3000, "data": {"source": 0, "texts": [], "attributes": [], "removes": [],
                                                    "adds": [{"parentId": [4], "nextId": None, "node": _el(20, "div")}]}}])
    assert [r.status_code for r in (r0, r1, r2)] == [200, 200, 200]
    assert [r.json()["events"] for r in (r0, r1, r2)] == [2, 2, 1]
    row = client.rt.analytics.session(sid)
    assert row["page_views"] == 1 and row["clicks"] == 2


def test_huge_pixel_values_are_clamped_and_stored(client):
    sid = str(uuid.uuid4())
    ev = _page([_el(10, "button")]) + [
        {"type": 3, "timestamp": T + 10, "data": {"source": 3, "id": 1, "x": 0, "y": 3e9}},
        {"type": 5, "timestamp": T + 20, "data": {"tag": "rv.page", "payload": {"scrollHeight": 3_000_000_000}}},
        _click(T + 30, 10)]
    assert _post(client, sid, 0, ev).status_code == 200
    assert client.rt.analytics.session(sid)["clicks"] == 1
    depths = client.rt.analytics.scroll_depths(URL)
    assert depths["max_depth_px"].tolist() == [int(MAX_PX) + 800]
    assert depths["page_height_px"].tolist() == [MAX_PX]
    assert client.rt.analytics.clicks(URL)["page_y"].tolist() == [MAX_PX + 50]
