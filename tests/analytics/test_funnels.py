"""Funnels over a few stored sessions, with a drop at every step; numbers worked out by hand."""

from __future__ import annotations

import pytest

from replayvault.analytics.behaviour import Behaviour, TrackEvent
from replayvault.analytics.facts import Facts, PageView, SessionDelta, device_class
from replayvault.analytics.funnels import funnel, parse_steps
from replayvault.analytics.store import AnalyticsStore
from replayvault.errors import InvalidInput

T = 1_700_000_000_000
BANK = "https://bank.example"
STEPS = ["/login", "/accounts*", "event:transfer_done"]


def _session(store: AnalyticsStore, sid: str, items: list[tuple[int, str]], width: int = 1280, project: str = "p") -> None:
    """Store page views (``/path``) and named events (``event:name``) at ``T + offset``."""
    views = [(off, v) for off, v in items if not v.startswith("event:")]
    pvs = [PageView(i, BANK + path, T + off, width, 800, device_class(width)) for i, (off, path) in enumerate(views)]
    stamps = [T + off for off, _ in items]
    store.write(project, sid, Facts(session=SessionDelta(min(stamps), max(stamps), width, 800, device_class(width)),
                                    page_views=pvs))
    events = [TrackEvent(0, "", T + off, v[len("event:"):]) for off, v in items if v.startswith("event:")]
    store.write_behaviour(project, sid, Behaviour(events=events))


@pytest.fixture
def store(tmp_path) -> AnalyticsStore:
    s = AnalyticsStore(tmp_path / "a.duckdb")
    _session(s, "s1", [(0, "/login"), (2000, "/accounts"), (5000, "event:transfer_done")])            # completes
    _session(s, "s2", [(0, "/login"), (4000, "/accounts/checking")])                                   # drops at 2
    _session(s, "s3", [(0, "/login")])                                                                 # drops at 1
    _session(s, "s4", [(0, "/home"), (1000, "/login"), (2000, "/accounts"), (2500, "event:transfer_done")],
             width=390)                                                                                # completes
    _session(s, "s5", [(0, "/accounts"), (500, "/login")])                         # accounts before login: drops at 1
    _session(s, "s6", [(0, "/home"), (100, "event:transfer_done")])                 # never enters
    _session(s, "o1", [(0, "/login"), (10, "/accounts")], project="other")
    return s


def test_three_step_funnel_with_a_drop_at_each_step(store: AnalyticsStore) -> None:
    f = funnel(store, STEPS, project_id="p")
    assert (f["sessions"], f["entered"], f["completed"]) == (6, 5, 2)
    one, two, three = f["steps"]
    # step 1: s1 s2 s3 s4 s5 reach /login; s3 and s5 go no further: dropped 2 of 5
    assert one == {"step": "/login", "kind": "url", "reached": 5, "conversion_from_first": 1.0,
                   "conversion_from_previous": None, "dropped": 2, "drop_off": 0.4, "median_ms_from_previous": None,
                   "dropped_sessions": ["s3", "s5"]}
    # step 2: s1 (+2000 ms), s2 (+4000), s4 (+1000): median 2000; 3/5 of the entrants; s2 drops
    assert two == {"step": "/accounts*", "kind": "url", "reached": 3, "conversion_from_first": 0.6,
                   "conversion_from_previous": 0.6, "dropped": 1, "drop_off": 1 / 3, "median_ms_from_previous": 2000.0,
                   "dropped_sessions": ["s2"]}
    # step 3: s1 (+3000 ms), s4 (+500): median (3000 + 500) / 2 = 1750; 2/5 and 2/3
    assert three == {"step": "event:transfer_done", "kind": "event", "reached": 2, "conversion_from_first": 0.4,
                     "conversion_from_previous": 2 / 3, "dropped": 0, "drop_off": 0.0,
                     "median_ms_from_previous": 1750.0, "dropped_sessions": []}


def test_splits_by_viewport_class_and_entry_page(store: AnalyticsStore) -> None:
    f = funnel(store, STEPS, project_id="p")
    # s4 is the only mobile session (390 px); desktop: s1 s2 s3 s5 enter, s1 s2 reach step 2, s1 completes
    assert [s["reached"] for s in f["by_viewport"]["desktop"]["steps"]] == [4, 2, 1]
    assert [s["reached"] for s in f["by_viewport"]["mobile"]["steps"]] == [1, 1, 1]
    assert set(f["by_viewport"]) == {"desktop", "mobile"}
    assert "dropped_sessions" not in f["by_viewport"]["mobile"]["steps"][0]
    # entry pages of the entrants: /login (s1 s2 s3), /home (s4), /accounts (s5)
    assert [(e["entry_url"], e["entered"], e["completed"]) for e in f["by_entry_page"]] == [
        (BANK + "/login", 3, 1), (BANK + "/accounts", 1, 0), (BANK + "/home", 1, 1)]


def test_date_range_and_project_choose_the_sessions(tmp_path) -> None:
    s = AnalyticsStore(tmp_path / "a.duckdb")
    _session(s, "early", [(0, "/login"), (100, "/accounts")])
    _session(s, "late", [(60_000, "/login")])
    assert funnel(s, STEPS[:2], project_id="p", since_ms=T + 1)["entered"] == 1          # only "late" starts after T
    assert funnel(s, STEPS[:2], project_id="p", until_ms=T + 60_000)["completed"] == 1   # only "early" before T+60 s
    assert funnel(s, STEPS[:2], project_id="nobody")["sessions"] == 0


def test_one_page_view_never_counts_for_two_steps(store: AnalyticsStore) -> None:
    # /login then /login needs two page views of /login: nobody in the fixture has them
    f = funnel(store, ["/login", "/login"], project_id="p")
    assert [s["reached"] for s in f["steps"]] == [5, 0]


@pytest.mark.parametrize("steps,message", [
    (["/login"], "a funnel needs 2 to 20 steps, got 1"),
    (["/login"] * 21, "a funnel needs 2 to 20 steps, got 21"),
    (["/login", "  "], "step 2: URL pattern is empty"),
    (["/login", "event:"], "step 2: an event step needs a name of 1 to 200 characters after 'event:'"),
    (["/login", "x" * 2049], "step 2: URL pattern is longer than 2048 characters"),
])
def test_bad_steps_are_named(steps, message) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_steps(steps)
    assert str(err.value) == message


def test_patterns_match_the_whole_url_or_the_path() -> None:
    login, accounts, done = parse_steps(["/login", f"{BANK}/accounts*", "event:done"])
    assert login.matches("url", BANK + "/login") and not login.matches("url", BANK + "/login/2fa")
    assert accounts.matches("url", BANK + "/accounts/checking") and not accounts.matches("url", "https://evil.example/accounts")
    assert done.matches("event", "done") and not done.matches("event", "done2") and not done.matches("url", "done")
