"""Fact extraction on hand-made rrweb events; expected numbers worked out by hand in comments."""

from __future__ import annotations

import copy
import json

import pytest

from analytics_fixtures import (click, full, meta, mutation, resize, rv_click, rv_page, scroll,
                                session_events)
from replayvault.analytics.facts import FactState, device_class, extract_facts, strip_url

SELECTOR_10 = "body > div.main > form#transfer > button.primary:nth-of-type(2)"
SELECTOR_8 = "body > div.main > form#transfer > button.primary:nth-of-type(1)"


def test_page_view_and_session_summary():
    facts = extract_facts(session_events(), FactState())
    assert [(p.index, p.url, p.ts_ms, p.viewport_w, p.viewport_h, p.device_class) for p in facts.page_views] == [
        (0, "https://bank.example/pay", 1000, 1280, 800, "desktop")]
    s = facts.session
    assert (s.first_ms, s.last_ms, s.viewport_w, s.viewport_h, s.device_class) == (1000, 1900, 1280, 900, "desktop")


def test_click_page_coordinates_add_document_scroll():
    facts = extract_facts(session_events(), FactState())
    c10, c8 = facts.clicks
    # initialOffset top 100, then document scroll to y=300: page y = 60 + 300
    assert (c10.x, c10.y, c10.page_x, c10.page_y) == (50, 60, 50, 360)
    # the element scroll (node 6, y=5000) in between does not move the document
    assert (c8.x, c8.y, c8.page_x, c8.page_y) == (10, 20, 10, 320)
    assert (c10.viewport_w, c10.viewport_h, c10.device_class, c10.url) == (1280, 800, "desktop", "https://bank.example/pay")


def test_initial_offset_counts_before_any_scroll_event():
    facts = extract_facts([meta(0), full(1, top=250), click(2, 10, 5, 5)], FactState())
    assert facts.clicks[0].page_y == 255


def test_selector_path():
    facts = extract_facts(session_events(), FactState())
    assert facts.clicks[0].target_id == 10 and facts.clicks[0].selector == SELECTOR_10
    assert facts.clicks[1].selector == SELECTOR_8


def test_selector_follows_mutations():
    events = [
        meta(0), full(1),
        # a new button before button 8: buttons are now 11, 8, 10
        mutation(2, adds=[{"parentId": 7, "nextId": 8, "node": {"type": 2, "id": 11, "tagName": "button",
                                                                  "attributes": {"class": "ghost"}, "childNodes": []}}]),
        mutation(3, attributes=[{"id": 6, "attributes": {"class": "main wide"}}], removes=[{"parentId": 7, "id": 9}]),
        click(4, 10, 1, 1),
        click(5, 11, 1, 1),
        mutation(6, removes=[{"parentId": 7, "id": 11}]),
        click(7, 10, 1, 1),
        click(8, 99, 1, 1),  # unknown node
    ]
    sel = [c.selector for c in extract_facts(events, FactState()).clicks]
    assert sel == [
        "body > div.main.wide > form#transfer > button.primary:nth-of-type(3)",
        "body > div.main.wide > form#transfer > button.ghost:nth-of-type(1)",
        "body > div.main.wide > form#transfer > button.primary:nth-of-type(2)",
        None,
    ]


def test_rv_click_offset_join_within_100_ms():
    c10, c8 = extract_facts(session_events(), FactState()).clicks
    assert (c10.offset_x, c10.offset_y, c10.target_w, c10.target_h) == (5, 6, 80, 30)
    # rv.click for node 8 came 150 ms later, the one at +20 ms was for another node
    assert (c8.offset_x, c8.offset_y, c8.target_w, c8.target_h) == (None, None, None, None)


def test_rv_click_before_the_click_is_joined():
    events = [meta(0), full(1), rv_click(100, 10, 7, 8, 90, 40), click(199, 10, 3, 3)]
    c = extract_facts(events, FactState()).clicks[0]
    assert (c.offset_x, c.offset_y, c.target_w, c.target_h) == (7, 8, 90, 40)


def test_scroll_depth_max_over_page_view():
    facts = extract_facts(session_events(), FactState())
    (d,) = facts.scroll_depths
    # max(100+800, 300+800, 1200+800, 500+800, 500+900) = 2000; rv.page says 3000
    assert (d.page_view, d.url, d.max_depth_px, d.page_height_px) == (0, "https://bank.example/pay", 2000, 3000)


def test_scroll_depth_without_page_height_and_second_page_view():
    events = [meta(0, h=600), full(1), scroll(2, 3, 900),  # html element counts as document: 1500
              meta(10, href="https://bank.example/done", h=600), full(11), scroll(12, 6, 4000)]
    depths = extract_facts(events, FactState()).scroll_depths
    assert [(d.page_view, d.url, d.max_depth_px, d.page_height_px) for d in depths] == [
        (0, "https://bank.example/pay", 1500, None), (1, "https://bank.example/done", 600, None)]


@pytest.mark.parametrize(("width", "expected"), [(767, "mobile"), (768, "tablet"), (1023, "tablet"),
                                                 (1024, "desktop"), (None, None)])
def test_device_classes(width, expected):
    assert device_class(width) == expected
    if width is not None:
        facts = extract_facts([meta(0, w=width), full(1), click(2, 10, 1, 1)], FactState())
        assert facts.page_views[0].device_class == expected == facts.clicks[0].device_class
        resized = extract_facts([meta(0, w=2000), full(1), resize(2, width, 700), click(3, 10, 1, 1)], FactState())
        assert resized.clicks[0].device_class == expected and resized.clicks[0].viewport_w == width


def test_events_before_any_meta():
    events = [click(500, 10, 1, 1), scroll(600, 1, 100), meta(1000), full(1001), click(1100, 10, 2, 2)]
    facts = extract_facts(events, FactState())
    assert facts.session.first_ms == 500 and facts.session.last_ms == 1100
    assert [c.ts_ms for c in facts.clicks] == [1100]
    assert [p.index for p in facts.page_views] == [0]


def test_state_round_trip_across_two_batches():
    events = session_events()
    single = extract_facts(copy.deepcopy(events), FactState())
    first, second = events[:4], events[4:]  # split between the click on 10 and its rv.click
    state = FactState()
    f1 = extract_facts(first, state)
    text = json.dumps(state.to_dict())
    state2 = FactState.from_dict(json.loads(text))
    assert state2.to_dict() == state.to_dict()
    f2 = extract_facts(second, state2)
    assert [c.ts_ms for c in f1.clicks + f2.clicks] == [1200, 1400]
    assert f1.clicks[0].offset_x is None  # its rv.click is in batch 2 ...
    (late,) = f2.click_offsets            # ... and comes back as a late join
    assert (late.page_view, late.ts_ms, late.target_id, late.offset_x, late.offset_y, late.target_w, late.target_h) == (
        0, 1200, 10, 5, 6, 80, 30)
    assert f2.clicks[0].selector == SELECTOR_8 and f2.clicks[0].page_y == 320  # node map and scroll carried over
    assert f2.scroll_depths[-1].max_depth_px == single.scroll_depths[-1].max_depth_px == 2000
    assert f1.session.first_ms == 1000 and f2.session.last_ms == 1900
    assert f2.page_views == []  # the page view is not repeated


def test_input_events_are_not_mutated():
    events = session_events()
    before = json.dumps(events, sort_keys=True)
    extract_facts(events, FactState())
    assert json.dumps(events, sort_keys=True) == before


def test_facts_to_dict_is_json_safe():
    json.dumps(extract_facts(session_events(), FactState()).to_dict())


@pytest.mark.parametrize(("url", "expected"), [
    ("https://a.example/x/y?token=1#frag", "https://a.example/x/y"),
    ("https://a.example/", "https://a.example/"),
    ("http://localhost:8001/docs#top", "http://localhost:8001/docs"),
])
def test_strip_url(url, expected):
    assert strip_url(url) == expected


def test_moves_are_coarse_page_coordinates():
    mm = {"type": 3, "timestamp": 2000, "data": {"source": 1, "positions": [
        {"x": 10, "y": 10, "id": 5, "timeOffset": -50}, {"x": 12, "y": 11, "id": 5, "timeOffset": -40},
        {"x": 40, "y": 10, "id": 5, "timeOffset": 0}]}}
    moves = extract_facts([meta(0), full(1, top=100), mm], FactState()).moves
    # the second position stays in the same 8 px cell as the first
    assert [(m.ts_ms, m.page_x, m.page_y) for m in moves] == [(1950, 10, 110), (2000, 40, 110)]


def test_rv_page_keeps_largest_height():
    events = [meta(0), full(1), rv_page(2, 2500), rv_page(3, 2400)]
    (d,) = extract_facts(events, FactState()).scroll_depths
    assert d.page_height_px == 2500 and d.max_depth_px == 800


def test_click_on_text_node_uses_its_element():
    text = {"type": 3, "id": 12, "textContent": "*****"}
    events = [meta(0), full(1), mutation(2, adds=[{"parentId": 10, "nextId": None, "node": text}]), click(3, 12, 1, 1)]
    assert extract_facts(events, FactState()).clicks[0].selector == SELECTOR_10


# -- fixed targets, scrolled containers, SPA route changes ------------------------------------------

def rv_route(ts: int, href: str, tag: str = "rv.route") -> dict:
    return {"type": 5, "timestamp": ts, "data": {"tag": tag, "payload": {"href": href}}}


def moves_at(ts: int, *points: tuple[int, int, int]) -> dict:
    """One rrweb MouseMove event at ``ts`` with (x, y, timeOffset) positions."""
    return {"type": 3, "timestamp": ts, "data": {"source": 1, "positions": [
        {"x": x, "y": y, "id": 5, "timeOffset": off} for x, y, off in points]}}


def test_rv_click_fraction_and_fixed_flag():
    fixed = rv_click(1300, 8, 30, 5, 120, 20)
    fixed["data"]["payload"]["fixed"] = 1
    events = [meta(1000), full(1001), scroll(1100, 1, 500),
              rv_click(1150, 10, 20, 10, 80, 40), click(1200, 10, 70, 80),
              fixed, click(1301, 8, 40, 15)]
    c10, c8 = extract_facts(events, FactState()).clicks
    # 20 / 80 = 0.25, 10 / 40 = 0.25; no "fixed" in the payload: False
    assert (c10.frac_x, c10.frac_y, c10.fixed) == (0.25, 0.25, False)
    # 30 / 120 = 0.25, 5 / 20 = 0.25; page y = 15 + 500 (what the visitor's document showed)
    assert (c8.frac_x, c8.frac_y, c8.fixed, c8.page_y) == (0.25, 0.25, True, 515)
    # no element scroll: content coordinates are the page coordinates
    assert (c8.content_x, c8.content_y) == (c8.page_x, c8.page_y) == (40, 515)


def test_fraction_is_clamped_and_empty_box_has_none():
    events = [meta(0), full(1), rv_click(10, 10, 81, -1, 80, 30), click(11, 10, 1, 1),
              rv_click(20, 8, 0, 0, 0, 30), click(21, 8, 1, 1)]
    c10, c8 = extract_facts(events, FactState()).clicks
    assert (c10.frac_x, c10.frac_y) == (1.0, 0.0)  # rounding in the tracker can step 1 px outside
    assert (c8.frac_x, c8.frac_y) == (None, 0.0)   # a 0 px wide box has no x fraction


def test_late_rv_click_carries_fraction_and_fixed():
    late = rv_click(1250, 10, 40, 10, 80, 40)
    late["data"]["payload"]["fixed"] = 1
    state = FactState()
    extract_facts([meta(1000), full(1001), click(1200, 10, 50, 60)], state)
    (off,) = extract_facts([late], FactState.from_dict(json.loads(json.dumps(state.to_dict())))).click_offsets
    assert (off.offset_x, off.frac_x, off.frac_y, off.fixed) == (40, 0.5, 0.25, True)


def test_click_in_scrolled_containers_gets_content_coordinates():
    events = [meta(0), full(1), scroll(2, 1, 300),   # document: page y = y + 300
              scroll(3, 6, 250, x=0),                # div.main scrolled 250 down
              scroll(4, 7, 40, x=5),                 # form#transfer scrolled 40 down, 5 right
              click(5, 10, 50, 60),                  # button 10 is inside both
              click(6, 7, 50, 60)]                   # the form itself: its own scroll does not count
    c10, c7 = extract_facts(events, FactState()).clicks
    # page (50, 60 + 300) = (50, 360); content adds 0 + 5 and 250 + 40: (55, 650)
    assert (c10.page_x, c10.page_y, c10.content_x, c10.content_y) == (50, 360, 55, 650)
    # only div.main above the form: (50, 360 + 250)
    assert (c7.content_x, c7.content_y) == (50, 610)


def test_element_scroll_is_dropped_with_its_node_and_on_a_new_snapshot():
    events = [meta(0), full(1), scroll(2, 6, 250), scroll(3, 7, 40),
              mutation(4, removes=[{"parentId": 6, "id": 7}]),  # the form (and its buttons) go
              mutation(5, adds=[{"parentId": 6, "nextId": None, "node": {
                  "type": 2, "id": 7, "tagName": "form", "attributes": {"id": "transfer"}, "childNodes": [
                      {"type": 2, "id": 10, "tagName": "button", "attributes": {}, "childNodes": []}]}}]),
              click(6, 10, 0, 0),                   # a new form 7: only div.main's 250 is left
              scroll(7, 6, 0),                      # scrolled back to 0: forgotten
              click(8, 10, 0, 0),
              scroll(9, 6, 100), full(10), click(11, 10, 0, 0)]  # a new snapshot forgets element scroll
    state = FactState()
    clicks = extract_facts(events, state).clicks
    assert [c.content_y for c in clicks] == [250, 0, 0]
    assert state.element_scroll == {}


def test_route_change_starts_a_page_view_and_late_events_keep_their_url():
    events = [
        meta(1000), full(1001), scroll(1100, 1, 300),
        click(1500, 8, 10, 20),
        rv_route(2000, "https://bank.example/pay/confirm?iban=DE00#x"),
        click(1990, 10, 5, 5),           # processed after the route, but earlier: stays on /pay
        click(2100, 10, 5, 5),
        moves_at(2100, (10, 10, -150), (40, 10, -50)),  # 1950 on /pay, 2050 on /pay/confirm
        scroll(2200, 1, 0),              # the SPA scrolls to the top after the route
        rv_route(2500, "https://bank.example/pay/confirm?step=2"),  # same URL without query: no new view
        rv_route(3000, "https://bank.example/done"),
        rv_route(3050, "https://bank.example/elsewhere", tag="$pageview"),  # PostHog's: not read
        click(3100, 8, 1, 1),
    ]
    facts = extract_facts(events, FactState())
    assert [(p.index, p.url, p.ts_ms, p.viewport_w) for p in facts.page_views] == [
        (0, "https://bank.example/pay", 1000, 1280),
        (1, "https://bank.example/pay/confirm", 2000, 1280),
        (2, "https://bank.example/done", 3000, 1280)]
    assert [(c.page_view, c.url, c.ts_ms) for c in facts.clicks] == [
        (0, "https://bank.example/pay", 1500), (0, "https://bank.example/pay", 1990),
        (1, "https://bank.example/pay/confirm", 2100), (2, "https://bank.example/done", 3100)]
    # same document: the node mirror and the document scroll carry over
    assert facts.clicks[2].selector == SELECTOR_10 and facts.clicks[1].page_y == 305
    assert [(m.page_view, m.ts_ms, m.page_y) for m in facts.moves] == [(0, 1950, 310), (1, 2050, 310)]
    # depth: /pay 300 + 800 = 1100; /pay/confirm first sampled after the route, at scroll 0: 800;
    # /done had no scroll, resize or rv.page yet: no sample, no row
    assert [(d.page_view, d.max_depth_px) for d in facts.scroll_depths] == [(0, 1100), (1, 800)]


def test_route_view_without_a_sample_is_sampled_when_it_ends():
    events = [meta(1000), full(1001), scroll(1100, 1, 300), rv_route(2000, "https://bank.example/a"),
              rv_route(3000, "https://bank.example/b"), scroll(3100, 1, 0)]
    depths = extract_facts(events, FactState()).scroll_depths
    # /a ended at the second route with the document still at 300: 300 + 800
    assert [(d.url, d.max_depth_px) for d in depths] == [
        ("https://bank.example/pay", 1100), ("https://bank.example/a", 1100), ("https://bank.example/b", 800)]


def test_route_events_before_any_meta_and_in_a_later_batch():
    state = FactState()
    early = extract_facts([rv_route(10, "https://bank.example/x"), meta(1000), full(1001)], state)
    assert [p.url for p in early.page_views] == ["https://bank.example/pay"]
    state = FactState.from_dict(json.loads(json.dumps(state.to_dict())))
    late = extract_facts([rv_route(2000, "https://bank.example/next"), click(1999, 8, 1, 1), click(900, 8, 1, 1)],
                         state)
    assert [(p.index, p.url) for p in late.page_views] == [(1, "https://bank.example/next")]
    # 1999 < 2000: the first page view (kept in the state); 900 is before the session's first Meta
    assert [(c.page_view, c.url) for c in late.clicks] == [(0, "https://bank.example/pay")]


def test_selectors_leave_out_ids_and_classes_that_may_hold_personal_data() -> None:
    from replayvault.analytics._nodes import NodeMirror

    def el(nid, tag, children=(), **attrs):  # type: ignore[no-untyped-def]
        return {"type": 2, "id": nid, "tagName": tag, "attributes": attrs, "childNodes": list(children)}

    doc = {"type": 0, "id": 1, "childNodes": [el(2, "html", [el(3, "body", [
        el(4, "div", [el(5, "button")], id="owner-jane.doe@bank.com", **{"class": "card iban-DE89370400440532013000"}),
        el(6, "section", [el(7, "div", [el(8, "a", id="customer-jane-doe", **{"class": "link"})], **{"class": "box"})],
           **{"class": "rr-mask panel"}),
    ])])]}
    m = NodeMirror()
    m.full_snapshot(doc)
    # the e-mail id and the IBAN class are dropped, "card" stays
    assert m.selector(5) == "body > div.card > button"
    # everything on and under the rr-mask element: tags only (the name in the id never appears)
    assert m.selector(8) == "body > section > div > a"


def test_form_and_field_names_inside_rr_mask_carry_no_ids() -> None:
    from replayvault.analytics._dom import FormDom

    def el(nid, tag, children=(), **attrs):  # type: ignore[no-untyped-def]
        return {"type": 2, "id": nid, "tagName": tag, "attributes": attrs, "childNodes": list(children)}

    doc = {"type": 0, "id": 1, "childNodes": [el(2, "html", [el(3, "body", [
        el(4, "div", [el(5, "form", [el(6, "input", id="iban-of-jane-doe")], id="payee-form-jane-doe")],
           id="customer-jane-doe", **{"class": "rr-mask"}),
        el(7, "form", [el(8, "input", id="amount")], id="pay"),
    ])])]}
    dom = FormDom()
    dom.nodes.full_snapshot(doc)
    assert dom.name(6) == "body > div > form > input"  # marked: tags (and positions where needed) only
    assert dom.name(8) == "body > form#pay > input#amount"
