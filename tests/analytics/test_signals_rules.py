"""Frustration signals from hand-made rrweb events: each rule, and the near-miss that must not fire.

Timestamps are ``T + offset``; the page is analytics_fixtures.snapshot_tree() (buttons 8 and 10 in
form#transfer, span 9), not scrolled, so page px = viewport px.
"""

from __future__ import annotations

import json
from typing import Any

from analytics_fixtures import click, full, meta, mutation
from replayvault.analytics.behaviour import BehaviourState, Signal, extract_behaviour
from replayvault.analytics.facts import FactState, extract_facts

T = 1_700_000_000_000
PAGE = "https://bank.example/pay"
BUTTON = "body > div.main > form#transfer > button.primary:nth-of-type(1)"


def page(ts: int = T, href: str = PAGE) -> list[dict[str, Any]]:
    return [meta(ts, href), full(ts + 1)]


def move(ts: int, x: float, y: float, nid: int = 9) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 1, "positions": [{"x": x, "y": y, "id": nid, "timeOffset": 0}]}}


def plugin(ts: int, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": 6, "timestamp": ts, "data": {"plugin": name, "payload": payload}}


def tick(ts: int) -> dict[str, Any]:
    """An event that is no reaction (a mouse move), to let time pass."""
    return move(ts, 1, 1)


def signals(*batches: list[dict[str, Any]]) -> list[Signal]:
    """Signals of the batches, state through JSON in between, merged by key as the store upserts them."""
    facts, state, out = FactState(), BehaviourState(), {}
    for events in batches:
        facts = FactState.from_dict(json.loads(json.dumps(facts.to_dict())))
        state = BehaviourState.from_dict(json.loads(json.dumps(state.to_dict())))
        for s in extract_behaviour(events, state, extract_facts(events, facts).page_views).signals:
            old = out.get((s.page_view, s.kind, s.ts_ms))
            if old is None or s.count >= old.count:
                out[(s.page_view, s.kind, s.ts_ms)] = s
    return sorted(out.values(), key=lambda s: (s.ts_ms, s.kind))


def kinds(sigs: list[Signal], kind: str) -> list[Signal]:
    return [s for s in sigs if s.kind == kind]


def react(ts: int) -> dict[str, Any]:
    return mutation(ts, attributes=[{"id": 9, "attributes": {"class": "on"}}])


# -- rage clicks --------------------------------------------------------------------------------------
def test_three_clicks_within_a_second_inside_30px_are_one_rage_click() -> None:
    events = [*page(), click(T + 1000, 8, 100, 100), click(T + 1400, 8, 110, 100), click(T + 1900, 8, 100, 120)]
    # distances from the first click: 10 px and 20 px; gaps 400 and 500 ms; 1900 - 1000 = 900 <= 1000
    rage = kinds(signals(events), "rage_click")
    assert [(s.ts_ms, s.count, s.duration_ms, s.x, s.y, s.selector, s.url) for s in rage] == [
        (T + 1000, 3, 900, 100.0, 100.0, BUTTON, PAGE)]


def test_the_clicks_of_a_rage_burst_are_not_also_dead_clicks() -> None:
    # a burst of 3 with no reaction, then a lone 4th click 2 s later; a tick at +5 s decides them all:
    # the burst is one rage click; only the lone click (no reaction within 1 s) is a dead click
    events = [*page(), click(T + 1000, 8, 100, 100), click(T + 1300, 8, 100, 100), click(T + 1600, 8, 100, 100),
              click(T + 3600, 8, 400, 400), tick(T + 6000)]
    sigs = signals(events)
    assert [(s.ts_ms, s.count) for s in kinds(sigs, "rage_click")] == [(T + 1000, 3)]
    assert [s.ts_ms for s in kinds(sigs, "dead_click")] == [T + 3600]


def test_two_clicks_are_not_a_rage_click() -> None:
    assert kinds(signals([*page(), click(T + 1000, 8, 100, 100), click(T + 1100, 8, 100, 100)]), "rage_click") == []


def test_a_click_31px_away_breaks_the_burst_but_30px_does_not() -> None:
    near = [*page(), click(T + 1000, 8, 100, 100), click(T + 1100, 8, 100, 100), click(T + 1200, 8, 130, 100)]
    far = [*page(), click(T + 1000, 8, 100, 100), click(T + 1100, 8, 100, 100), click(T + 1200, 8, 131, 100)]
    assert [s.count for s in kinds(signals(near), "rage_click")] == [3]  # 30 px: inside
    assert kinds(signals(far), "rage_click") == []                      # 31 px: a new burst of 1


def test_three_clicks_spanning_1001_ms_are_not_a_rage_click() -> None:
    # gaps 500 and 501 ms keep one burst, but its 3 clicks span 1001 ms > 1000
    events = [*page(), click(T + 1000, 8, 100, 100), click(T + 1500, 8, 100, 100), click(T + 2001, 8, 100, 100)]
    assert kinds(signals(events), "rage_click") == []


def test_a_burst_split_across_batches_is_one_signal_with_its_full_count() -> None:
    first = [*page(), click(T + 1000, 8, 50, 50), click(T + 1200, 8, 52, 50), click(T + 1400, 8, 54, 50)]
    second = [click(T + 1600, 8, 56, 50), click(T + 1800, 8, 58, 50)]
    rage = kinds(signals(first, second), "rage_click")
    # 5 clicks 200 ms apart, last one 8 px from the first: one burst of 5, 800 ms long
    assert [(s.ts_ms, s.count, s.duration_ms) for s in rage] == [(T + 1000, 5, 800)]


# -- dead clicks --------------------------------------------------------------------------------------
def test_a_mutation_999_ms_after_a_click_is_a_reaction() -> None:
    events = [*page(), click(T + 1000, 8, 10, 10), react(T + 1999), tick(T + 5000)]
    assert kinds(signals(events), "dead_click") == []


def test_a_mutation_exactly_1000_ms_after_is_still_a_reaction() -> None:
    events = [*page(), click(T + 1000, 8, 10, 10), react(T + 2000), tick(T + 5000)]
    assert kinds(signals(events), "dead_click") == []


def test_a_mutation_1001_ms_after_a_click_is_too_late() -> None:
    events = [*page(), click(T + 1000, 8, 10, 20), react(T + 2001)]
    dead = kinds(signals(events), "dead_click")
    assert [(s.ts_ms, s.x, s.y, s.selector, s.page_view) for s in dead] == [(T + 1000, 10.0, 20.0, BUTTON, 0)]


def test_a_click_at_the_end_of_a_batch_is_decided_by_the_next_batch() -> None:
    first = [*page(), click(T + 1000, 10, 10, 10)]
    assert kinds(signals(first), "dead_click") == []  # undecided: nothing after it yet
    late = kinds(signals(first, [tick(T + 2500)]), "dead_click")
    assert [(s.ts_ms, s.selector) for s in late] == [
        (T + 1000, "body > div.main > form#transfer > button.primary:nth-of-type(2)")]
    saved = kinds(signals(first, [react(T + 1500), tick(T + 2500)]), "dead_click")
    assert saved == []


def test_a_navigation_within_a_second_is_a_reaction() -> None:
    events = [*page(), click(T + 1000, 8, 10, 10), *page(T + 1800, "https://bank.example/done"), tick(T + 5000)]
    assert kinds(signals(events), "dead_click") == []


def test_a_click_on_a_form_field_is_never_dead() -> None:
    field = mutation(T + 500, adds=[{"parentId": 7, "nextId": None, "node": {
        "type": 2, "id": 30, "tagName": "input", "attributes": {"type": "text"}, "childNodes": []}}])
    events = [*page(), field, click(T + 1000, 30, 10, 10), tick(T + 5000)]
    assert kinds(signals(events), "dead_click") == []


# -- error clicks -------------------------------------------------------------------------------------
def test_a_console_error_within_a_second_makes_an_error_click() -> None:
    events = [*page(), click(T + 1000, 8, 10, 10), react(T + 1100),
              plugin(T + 1800, "rrweb/console@1", {"level": "error", "payload": ["boom"]})]
    assert [(s.kind, s.ts_ms) for s in signals(events)] == [("error_click", T + 1000)]


def test_failed_requests_make_error_clicks_and_successful_ones_do_not() -> None:
    def net(status_key: str, status: int) -> list[dict[str, Any]]:
        return [*page(), click(T + 1000, 8, 10, 10), react(T + 1100),
                plugin(T + 1900, "rrweb/network@1", {"requests": [{"name": "https://bank.example/api", status_key: status}]})]

    assert [s.kind for s in signals(net("status", 500))] == ["error_click"]
    assert [s.kind for s in signals(net("responseStatus", 404))] == ["error_click"]
    assert [s.kind for s in signals(net("status", 0))] == ["error_click"]  # network failure
    assert signals(net("status", 200)) == []
    assert signals(net("status", 399)) == []


def test_an_error_1001_ms_after_the_click_is_not_an_error_click() -> None:
    events = [*page(), click(T + 1000, 8, 10, 10), react(T + 1100),
              plugin(T + 2001, "rrweb/console@1", {"level": "error"})]
    assert signals(events) == []


def test_an_error_goes_to_the_latest_click_before_it() -> None:
    events = [*page(), click(T + 1000, 8, 10, 10), react(T + 1100), click(T + 1500, 10, 300, 10), react(T + 1550),
              plugin(T + 1600, "rrweb/console@1", {"level": "error"}),
              plugin(T + 1700, "rrweb/console@1", {"level": "error"})]  # the second error finds T+1000
    assert [(s.kind, s.ts_ms) for s in signals(events)] == [("error_click", T + 1000), ("error_click", T + 1500)]


# -- u-turns ----------------------------------------------------------------------------------------
A, B, C = "https://bank.example/a", "https://bank.example/b", "https://bank.example/c"


def test_back_to_the_previous_page_within_7s_is_a_u_turn() -> None:
    events = [*page(T, A), *page(T + 1000, B), *page(T + 7999, A)]  # 7999 - 1000 = 6999 ms on B
    u = kinds(signals(events), "u_turn")
    assert [(s.page_view, s.url, s.ts_ms, s.duration_ms, s.x, s.selector) for s in u] == [
        (1, B, T + 1000, 6999, None, None)]


def test_back_after_7001_ms_is_not_a_u_turn() -> None:
    assert kinds(signals([*page(T, A), *page(T + 1000, B), *page(T + 8001, A)]), "u_turn") == []


def test_a_third_page_is_not_a_u_turn_and_reloads_count_once() -> None:
    assert kinds(signals([*page(T, A), *page(T + 1000, B), *page(T + 2000, C)]), "u_turn") == []
    reload = [*page(T, A), *page(T + 500, A), *page(T + 1000, B), *page(T + 3000, A)]
    assert [(s.page_view, s.duration_ms) for s in kinds(signals(reload), "u_turn")] == [(2, 2000)]


def test_a_spa_route_change_counts_as_a_page_for_u_turns() -> None:
    def route(ts: int, href: str) -> dict[str, Any]:
        return {"type": 5, "timestamp": ts, "data": {"tag": "rv.route", "payload": {"href": href}}}

    u = kinds(signals([*page(T, A), route(T + 1000, B), route(T + 3000, A)]), "u_turn")
    assert [(s.page_view, s.url, s.duration_ms) for s in u] == [(1, B, 2000)]


# -- thrashed cursor ----------------------------------------------------------------------------------
def test_four_reversals_of_100px_within_a_second_are_a_thrashed_cursor() -> None:
    xs = [0, 120, 0, 120, 0, 120]  # every 100 ms; reversals complete at the 3rd..6th position
    events = [*page(), *(move(T + 1000 + 100 * i, x, 50) for i, x in enumerate(xs))]
    th = kinds(signals(events), "thrashed_cursor")
    # reversals at T+1200, 1300, 1400, 1500: 4 within 300 ms; first one at position (0, 50)
    assert [(s.ts_ms, s.count, s.duration_ms, s.x, s.y, s.selector) for s in th] == [
        (T + 1200, 4, 300, 0.0, 50.0, "body > div.main > form#transfer > span")]


def test_legs_of_99px_are_not_reversals() -> None:
    events = [*page(), *(move(T + 1000 + 100 * i, x, 50) for i, x in enumerate([0, 99, 0, 99, 0, 99, 0]))]
    assert kinds(signals(events), "thrashed_cursor") == []


def test_four_reversals_spanning_1001_ms_are_not_a_thrash_until_a_fifth_comes() -> None:
    stamps = [0, 100, 400, 700, 1000, 1401]  # reversals at 400, 700, 1000, 1401: 1401 - 400 = 1001
    xs = [0, 120, 0, 120, 0, 120]
    events = [*page(), *(move(T + 1000 + t, x, 50) for t, x in zip(stamps, xs))]
    assert kinds(signals(events), "thrashed_cursor") == []
    fifth = [*events, move(T + 2500, 0, 50)]  # reversal at 1500: 1500 - 700 = 800 -> episode of 5 from 400
    assert [(s.ts_ms, s.count, s.duration_ms) for s in kinds(signals(fifth), "thrashed_cursor")] == [
        (T + 1400, 5, 1100)]


def test_positions_inside_one_event_use_their_time_offsets() -> None:
    positions = [{"x": x, "y": 50, "id": 9, "timeOffset": -500 + 100 * i} for i, x in enumerate([0, 120, 0, 120, 0, 120])]
    events = [*page(), {"type": 3, "timestamp": T + 1500, "data": {"source": 1, "positions": positions}}]
    # positions at T+1000..T+1500 as in the first thrash test
    assert [(s.ts_ms, s.count) for s in kinds(signals(events), "thrashed_cursor")] == [(T + 1200, 4)]
