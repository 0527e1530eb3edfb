"""Session search over a small store: each filter, sorting, paging, and named validation errors."""

from __future__ import annotations

import pytest

from replayvault.analytics.behaviour import Behaviour, Signal
from replayvault.analytics.facts import Click, Facts, PageView, SessionDelta, device_class
from replayvault.analytics.search import SessionSearch, search_sessions
from replayvault.analytics.store import AnalyticsStore
from replayvault.errors import InvalidInput

T = 1_700_000_000_000
BANK = "https://bank.example"


def _session(store: AnalyticsStore, sid: str, start: int, duration: int, width: int, paths: list[str], clicks: int,
             kinds: list[str], project: str = "p") -> None:
    cls = device_class(width)
    pvs = [PageView(i, BANK + p, start + i, width, 800, cls) for i, p in enumerate(paths)]
    cl = [Click(page_view=0, url=BANK + paths[0], ts_ms=start + 10 + i, x=1.0, y=1.0, page_x=1.0, page_y=1.0,
                viewport_w=width, viewport_h=800, device_class=cls, target_id=None, selector=None) for i in range(clicks)]
    store.write(project, sid, Facts(session=SessionDelta(start, start + duration, width, 800, cls), page_views=pvs,
                                    clicks=cl))
    sigs = [Signal(0, BANK + paths[0], start + 100 + i, k, None, None, None) for i, k in enumerate(kinds)]
    store.write_behaviour(project, sid, Behaviour(signals=sigs))


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> AnalyticsStore:
    s = AnalyticsStore(tmp_path_factory.mktemp("search") / "a.duckdb")
    _session(s, "a", T, 10_000, 1280, ["/login", "/accounts"], 3, ["rage_click", "dead_click"])
    _session(s, "b", T + 1000, 60_000, 390, ["/login"], 0, [])
    _session(s, "c", T + 2000, 5_000, 800, ["/accounts/checking"], 5, ["u_turn"])
    _session(s, "d", T + 3000, 30_000, 1280, ["/transfer"], 1, ["dead_click", "dead_click"])
    _session(s, "o", T + 4000, 1_000, 1280, ["/login"], 9, ["rage_click"], project="other")
    return s


def ids(store: AnalyticsStore, incident_ids=None, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["session_id"] for r in search_sessions(store, SessionSearch(project_id="p", **kw), incident_ids)["sessions"]]


def test_no_filter_lists_the_project_newest_first(store) -> None:
    assert ids(store) == ["d", "c", "b", "a"]


def test_url_patterns_each_must_be_visited(store) -> None:
    assert ids(store, urls=["/accounts*"]) == ["c", "a"]
    assert ids(store, urls=["/login", "/accounts*"]) == ["a"]
    assert ids(store, urls=[BANK + "/log*"]) == ["b", "a"]
    assert ids(store, urls=["/accounts"]) == ["a"]  # whole path: /accounts/checking does not match


def test_duration_and_click_ranges_are_inclusive(store) -> None:
    assert ids(store, min_duration_ms=10_000, max_duration_ms=30_000) == ["d", "a"]
    assert ids(store, min_clicks=1, max_clicks=3) == ["d", "a"]
    assert ids(store, min_clicks=5) == ["c"]


def test_signal_kinds_viewport_and_dates(store) -> None:
    assert ids(store, signals=["dead_click"]) == ["d", "a"]
    assert ids(store, signals=["u_turn", "rage_click"]) == ["c", "a"]
    assert ids(store, viewport="mobile") == ["b"]
    assert ids(store, viewport="tablet") == ["c"]
    assert ids(store, since_ms=T + 1000, until_ms=T + 3000) == ["c", "b"]  # start in [T+1000, T+3000)


def test_masking_incident_filter_uses_the_given_ids(store) -> None:
    assert ids(store, {"c", "d", "o"}, incident=True) == ["d", "c"]
    assert ids(store, {"c", "d", "o"}, incident=False) == ["b", "a"]
    assert ids(store, set(), incident=True) == []
    with pytest.raises(InvalidInput, match="incident filter needs"):
        ids(store, None, incident=True)


def test_sorting_and_paging(store) -> None:
    # signals: a 2, d 2 (tie: by id), c 1, b 0
    assert ids(store, sort="signals") == ["a", "d", "c", "b"]
    assert ids(store, sort="duration", order="asc") == ["c", "a", "d", "b"]
    assert ids(store, sort="clicks") == ["c", "a", "d", "b"]
    page = search_sessions(store, SessionSearch(project_id="p", limit=2, offset=1))
    assert (page["total"], page["limit"], page["offset"], [r["session_id"] for r in page["sessions"]]) == (4, 2, 1, ["c", "b"])


def test_rows_carry_counts_and_entry_page(store) -> None:
    (a,) = search_sessions(store, SessionSearch(project_id="p", urls=["/login", "/accounts"]))["sessions"]
    assert (a["start_ms"], a["duration_ms"], a["clicks"], a["page_views"], a["device_class"], a["signals"],
            a["signals_by_kind"], a["entry_url"]) == (T, 10_000, 3, 2, "desktop", 2,
                                                      {"rage_click": 1, "dead_click": 1}, BANK + "/login")


@pytest.mark.parametrize("kw,message", [
    ({"sort": "size"}, "sort must be one of start, duration, clicks, signals, not 'size'"),
    ({"order": "up"}, "order must be asc or desc, not 'up'"),
    ({"viewport": "watch"}, "viewport must be one of mobile, tablet, desktop, not 'watch'"),
    ({"signals": ["angry_click"]}, "unknown signal kind 'angry_click'; known kinds: rage_click, dead_click, "
                                   "error_click, u_turn, thrashed_cursor"),
    ({"min_clicks": 5, "max_clicks": 2}, "min_clicks (5) is greater than max_clicks (2)"),
    ({"limit": 0}, "limit must be between 1 and 500"),
    ({"urls": [""]}, "url 1: URL pattern is empty"),
])
def test_bad_parameters_are_named(store, kw, message) -> None:
    with pytest.raises(InvalidInput) as err:
        search_sessions(store, SessionSearch(**kw))
    assert str(err.value) == message
