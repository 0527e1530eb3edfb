"""Dashboard pages of behaviour analytics: funnels, forms, the session list's search, signal lists.

Three sessions go through the real collector and pipeline (numbers worked out by hand below):

* ``s1`` desktop: /login (T), /accounts (+2 s), /pay (+5 s): IBAN field 500 ms (300 ms hesitation),
  amount 500 ms (300 ms), ``rv.submit``; ends at +8 s. Completes the funnel, submits the form.
* ``s2`` desktop: /login (T+60 s), /accounts (+4 s), three clicks within 400 ms on a paragraph
  (rage click, and an attribute change: no dead click); ends at +4.6 s. A text with an IBAN the
  browser left in clear: a masking incident.
* ``s3`` mobile (390 px): /login (T+120 s), /pay (+1 s): IBAN field 1500 ms (1000 ms hesitation),
  leaves it for good (abandoned); a click on the paragraph that nothing answers (dead click);
  ends at +5.5 s.
"""

from __future__ import annotations

import html
import uuid
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from consentkit import post_batch
from replayvault.projects_setup import ensure_project
from replayvault.web.app import create_app
from staff import add_staff

ORIGIN = "http://127.0.0.1:8001"
BANK = "https://bank.example"
T = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC
DAY = "2023-11-14"


def _el(i: int, tag: str, attrs: dict | None = None, kids: list | None = None) -> dict[str, Any]:
    return {"type": 2, "id": i, "tagName": tag, "attributes": attrs or {}, "childNodes": kids or []}


def _page(ts: int, path: str, width: int = 1280, text: str = "Terms") -> list[dict[str, Any]]:
    """body 3 > form#f 4 > (input#iban 10, input#amount 14, button#go 11); p 12 > text 13."""
    form = _el(4, "form", {"id": "f"}, [_el(10, "input", {"type": "text", "id": "iban"}),
                                        _el(14, "input", {"type": "text", "id": "amount"}),
                                        _el(11, "button", {"id": "go", "type": "submit"})])
    body = _el(3, "body", {}, [form, _el(12, "p", {}, [{"type": 3, "id": 13, "textContent": text}])])
    doc = {"type": 0, "id": 1, "childNodes": [_el(2, "html", {}, [body])]}
    return [{"type": 4, "data": {"href": BANK + path, "width": width, "height": 800}, "timestamp": ts},
            {"type": 2, "data": {"node": doc, "initialOffset": {"top": 0, "left": 0}}, "timestamp": ts + 1}]


def _mi(ts: int, kind: int, nid: int, x: int = 40, y: int = 60) -> dict[str, Any]:
    """Mouse interaction: 2 click, 5 focus, 6 blur."""
    return {"type": 3, "data": {"source": 2, "type": kind, "id": nid, "x": x, "y": y}, "timestamp": ts}


def _input(ts: int, nid: int) -> dict[str, Any]:
    return {"type": 3, "data": {"source": 5, "id": nid, "text": "****", "isChecked": False}, "timestamp": ts}


def _move(ts: int) -> dict[str, Any]:
    return {"type": 3, "data": {"source": 1, "positions": [{"x": 5, "y": 5, "id": 3, "timeOffset": 0}]}, "timestamp": ts}


def _field(start: int, nid: int, hesitation: int, spent: int) -> list[dict[str, Any]]:
    return [_mi(start, 5, nid), _input(start + hesitation, nid), _mi(start + spent, 6, nid)]


def _s1() -> list[dict[str, Any]]:
    return [*_page(T, "/login"), *_page(T + 2000, "/accounts"), *_page(T + 5000, "/pay?step=1"),
            *_field(T + 5500, 10, 300, 500), *_field(T + 6100, 14, 300, 500),
            {"type": 5, "data": {"tag": "rv.submit", "payload": {"id": 4}}, "timestamp": T + 6700}, _move(T + 8000)]


def _s2() -> list[dict[str, Any]]:
    t = T + 60_000
    change = {"type": 3, "timestamp": t + 4500, "data": {"source": 0, "texts": [], "removes": [], "adds": [],
                                                         "attributes": [{"id": 12, "attributes": {"class": "open"}}]}}
    return [*_page(t, "/login"), *_page(t + 4000, "/accounts", text="Pay to DE89 3704 0044 0532 0130 00"),
            _mi(t + 4100, 2, 12, 300, 500), _mi(t + 4250, 2, 12, 302, 501), _mi(t + 4400, 2, 12, 301, 499),
            change, _move(t + 4600)]


def _s3() -> list[dict[str, Any]]:
    t = T + 120_000
    return [*_page(t, "/login", width=390), *_page(t + 1000, "/pay", width=390), *_field(t + 1500, 10, 1000, 1500),
            _mi(t + 4000, 2, 12, 100, 700), _move(t + 5500)]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from replayvault.config import Settings
    from replayvault.runtime import Runtime

    rt = Runtime(Settings(home=tmp_path_factory.mktemp("behaviour-pages") / "home", allowed_hosts="testserver"))
    project = ensure_project(rt, "p1", "Project 1", [ORIGIN])
    client = TestClient(create_app(rt))
    ids = {}
    for name, events in (("s1", _s1()), ("s2", _s2()), ("s3", _s3())):
        sid = ids[name] = str(uuid.uuid4())
        r = post_batch(client, {"session_id": sid, "seq": 0, "events": events},
                       {"X-Replayvault-Key": project.write_key, "Content-Type": "application/json", "Origin": ORIGIN})
        assert r.status_code == 200, r.text
    staff = {role: add_staff(rt, f"b-{role.replace('_', '-')}", [role])
             for role in ("ux_analyst", "compliance_lead", "hr_liaison", "admin")}
    return rt, client, ids, staff


class _Tables(HTMLParser):
    """Rows (lists of cell texts) of the tables whose class contains a given name."""

    def __init__(self, cls: str) -> None:
        super().__init__()
        self.cls, self.depth, self.rows, self.cell = cls, 0, [], None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "table" and (self.depth or self.cls in (a.get("class") or "").split()):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag == "td":
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def rows(page: str, cls: str) -> list[list[str]]:
    parser = _Tables(cls)
    parser.feed(page)
    return [r for r in parser.rows if r]  # header rows have th cells only


def _get(world, path: str, role: str = "ux_analyst", **params: Any):  # type: ignore[no-untyped-def]
    _, client, _, staff = world
    return client.get(path, params=params, headers=staff[role].headers, follow_redirects=False)


# -- funnels ---------------------------------------------------------------------------------
def test_funnel_page_shows_reached_drop_off_time_and_dropped_sessions(world) -> None:
    ids = world[2]
    r = _get(world, "/funnels", steps="/login\n/accounts\n\n/pay", since=DAY, until=DAY)
    assert r.status_code == 200, r.text
    assert rows(r.text, "funnel-steps") == [
        ["1", "/login", "3", "100 %", "–", "–", "1", "33 %", ids["s3"][:8]],
        ["2", "/accounts", "2", "67 %", "67 %", "3.0 s", "1", "50 %", ids["s2"][:8]],   # +2 s and +4 s
        ["3", "/pay", "1", "33 %", "50 %", "3.0 s", "0", "–", "completed"]]             # +3 s
    assert f'href="/sessions/{ids["s3"]}"' in r.text and f'href="/sessions/{ids["s2"]}"' in r.text
    chart = r.text[r.text.index("<svg"):r.text.index("</svg>")]
    for text in ("3 · 100 %", "2 · 67 %", "1 · 33 %", "1. /login", "1 dropped here (33 %)",
                 "median 3.0 s after step 1"):
        assert text in chart, text
    # splits: desktop s1 s2; mobile s3. Entry page /login for all three
    assert rows(r.text, "split") == [
        ["desktop", "2", "2 100 %", "1 50 %", "50 %"], ["mobile", "1", "0 0 %", "0 0 %", "0 %"],
        ["/login bank.example", "3", "2 67 %", "1 33 %", "33 %"]]
    assert 'class="on">Funnels' in r.text


def test_funnel_page_prefills_the_most_frequent_path_between_pages(world) -> None:
    r = _get(world, "/funnels")
    assert r.status_code == 200
    assert ">/login\n/accounts\n/pay</textarea>" in r.text  # s1 s2: /login to /accounts; then s1: /pay
    assert rows(r.text, "funnel-steps")[1][:3] == ["2", "/accounts", "2"]


@pytest.mark.parametrize("params,message", [
    ({"steps": "/login"}, "a funnel needs 2 to 20 steps, got 1"),
    ({"steps": ""}, "a funnel needs 2 to 20 steps, got 0"),
    ({"steps": "/login\nevent:"}, "step 2: an event step needs a name of 1 to 200 characters after 'event:'"),
    ({"steps": "/login\n/pay", "since": "14.11.2023"}, "From date must be YYYY-MM-DD, not '14.11.2023'"),
    ({"steps": "/login\n/pay", "since": "2023-11-15", "until": DAY},
     "the From date (2023-11-15) is after the To date (2023-11-14)"),
])
def test_bad_funnel_input_is_a_400_page_with_the_message(world, params, message) -> None:
    r = _get(world, "/funnels", **params)
    assert r.status_code == 400
    assert f'<p class="error" role="alert">{message}</p>' in html.unescape(r.text)
    assert "<textarea" in r.text  # the form stays, with what was typed


def test_funnel_date_range_excludes_other_days(world) -> None:
    r = _get(world, "/funnels", steps="/login\n/accounts", since="2023-11-15")
    assert rows(r.text, "funnel-steps")[0][:3] == ["1", "/login", "0"]
    assert "No session in this range reached step 1" in r.text


# -- forms -----------------------------------------------------------------------------------
def test_forms_page_shows_exact_field_numbers(world) -> None:
    r = _get(world, "/forms", url=BANK + "/pay?x=1")
    assert r.status_code == 200, r.text
    page = html.unescape(r.text)
    assert '<code title="body &gt; form#f">body &gt; form#f</code>' in r.text and f"on {BANK}/pay" in page
    for card in ("<span>Sessions</span><b>2</b>", "<span>Submitted</span><b>1</b>", "<span>Abandoned</span><b>1</b>",
                 "<span>Abandonment rate</span><b>50 %</b>"):
        assert card in r.text, card
    # iban: s1 500 ms (300 ms hesitation), s3 1500 ms (1000 ms): medians 1.0 s and 650 ms; s3 abandoned there
    assert rows(r.text, "fields") == [
        ["input#iban", "2", "2", "2", "1.0 s", "650 ms", "0", "1", "0"],
        ["input#amount", "1", "1", "1", "500 ms", "300 ms", "0", "0", "0"]]
    charts = r.text.split("<svg")[1:]
    assert len(charts) == 2
    assert ">1 · 100 %</text>" in charts[0] and ">0</text>" in charts[0]  # where sessions abandon
    assert ">650 ms</text>" in charts[1] and ">300 ms</text>" in charts[1]  # hesitation
    assert f'<option value="{BANK}/pay" selected>' in r.text


def test_forms_page_filters_by_date_and_explains_an_empty_result(world) -> None:
    r = _get(world, "/forms", since="2023-11-15")
    assert r.status_code == 200 and "No form interaction in this range" in r.text
    assert _get(world, "/forms", until="someday").status_code == 400


# -- session list ----------------------------------------------------------------------------
def _ids(page: str) -> list[str]:
    body = page[page.index('<table class="grid sessions">'):]
    return [line.split('href="/sessions/')[1].split('"')[0] for line in body.splitlines() if 'href="/sessions/' in line]


@pytest.mark.parametrize("params,expected", [
    ({}, ["s3", "s2", "s1"]),                                     # newest first
    ({"url": "/accounts"}, ["s2", "s1"]),
    ({"url": "/pay", "viewport": "mobile"}, ["s3"]),
    ({"signal": "rage_click"}, ["s2"]),
    ({"signal": "dead_click"}, ["s3"]),
    ({"min_s": "5"}, ["s3", "s1"]),                               # 5.5 s and 8 s
    ({"max_s": "4.6"}, ["s2"]),
    ({"min_clicks": "2"}, ["s2"]),
    ({"incident": "yes"}, ["s2"]),
    ({"incident": "no"}, ["s3", "s1"]),
    ({"since": DAY, "until": DAY}, ["s3", "s2", "s1"]),
    ({"since": "2023-11-15"}, []),
    ({"sort": "duration", "order": "asc"}, ["s2", "s3", "s1"]),
    ({"sort": "signals", "order": "desc"}, ["s2", "s3", "s1"]),  # 1, 1, 0: ties by session id
])
def test_session_search_filters_give_the_exact_rows(world, params, expected) -> None:
    ids = world[2]
    r = _get(world, "/", role="compliance_lead", **params)
    assert r.status_code == 200, r.text
    want = [ids[n] for n in expected]
    if params.get("sort") == "signals":  # s2 and s3 both have one signal: session id decides
        want = sorted(want[:2]) + want[2:]
    if not want:
        assert "No session matches these filters" in r.text
    else:
        assert _ids(r.text) == want
    assert f"Sessions <small>{len(want)}" in r.text


def test_session_rows_keep_masking_numbers_and_show_signal_pills(world) -> None:
    ids = world[2]
    r = _get(world, "/", role="compliance_lead")
    table = {row[-1]: row for row in rows(r.text, "sessions")}
    s2, s3, s1 = table[ids["s2"][:8]], table[ids["s3"][:8]], table[ids["s1"][:8]]
    assert s2[4] == "rage 1" and s3[4] == "dead 1" and s1[4] == ""
    assert s2[6] == "1" and s1[6] == "0"                                  # incidents
    assert int(s2[5]) >= 1                                                # the IBAN was masked
    assert (s3[7], s3[8]) == ("mobile 390x800", "/login")
    assert "Data capture compliance: <b>66.7 %</b>" in r.text


def test_session_list_pages_through_the_result(world, monkeypatch) -> None:
    from replayvault.web import dashboard_behaviour

    monkeypatch.setattr(dashboard_behaviour, "PAGE_SIZE", 2)
    ids = world[2]
    first = _get(world, "/", role="compliance_lead", sort="start", order="asc")
    assert _ids(first.text) == [ids["s1"], ids["s2"]]
    assert "Sessions 1–2 of 3" in first.text and 'href="/?sort=start&amp;order=asc&amp;page=2" rel="next"' in first.text
    second = _get(world, "/", role="compliance_lead", sort="start", order="asc", page="2")
    assert _ids(second.text) == [ids["s3"]]
    assert "Sessions 3–3 of 3" in second.text and 'rel="next"' not in second.text
    assert 'href="/?sort=start&amp;order=asc" rel="prev"' in second.text


@pytest.mark.parametrize("params,message", [
    ({"min_clicks": "lots"}, "min. clicks must be a number of at least 0, not 'lots'"),
    ({"min_s": "-1"}, "min. duration (s) must be a number of at least 0, not '-1'"),
    ({"min_s": "9", "max_s": "2"}, "min_duration_ms (9000) is greater than max_duration_ms (2000)"),
    ({"sort": "size"}, "sort must be one of start, duration, clicks, signals, not 'size'"),
    ({"signal": "angry"}, "unknown signal kind 'angry'; known kinds: rage_click, dead_click, error_click, u_turn, "
                          "thrashed_cursor"),
    ({"incident": "maybe"}, "masking incident must be yes, no or empty, not 'maybe'"),
])
def test_bad_session_filters_are_a_400_with_the_message(world, params, message) -> None:
    r = _get(world, "/", role="compliance_lead", **params)
    assert r.status_code == 400
    assert f'<p class="error" role="alert">{message}</p>' in html.unescape(r.text)


# -- session page ----------------------------------------------------------------------------
def test_session_page_lists_signals_without_a_grant(world) -> None:
    ids = world[2]
    r = _get(world, f"/sessions/{ids['s2']}")
    assert r.status_code == 200
    assert rows(r.text, "signal-list") == [["rage", "0:04", "/accounts", "body > p", "3 clicks in 300 ms"]]
    assert 'id="signal-strip"' not in r.text  # the timeline strip comes with the replay (a grant)
    quiet = _get(world, f"/sessions/{ids['s1']}")
    assert "No rage, dead or error click" in quiet.text


def test_session_page_with_a_grant_has_the_marker_strip_and_seek_buttons(world) -> None:
    rt, client, ids, staff = world
    lead = staff["ux_analyst"]
    r = client.post(f"/api/v1/sessions/{ids['s3']}/access", json={"purpose": "ux_research",
                                                                    "justification": "UX-7"}, headers=lead.headers)
    assert r.status_code == 200, r.text
    page = _get(world, f"/sessions/{ids['s3']}", grant=r.json()["grant"])
    assert f'data-signals="/api/v1/sessions/{ids["s3"]}/signals"' in page.text
    assert f'data-ts="{T + 124_000}"' in page.text and ">0:04</button>" in page.text
    assert '<script src="/static/replay.js"></script>' in page.text


# -- permissions -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/funnels", "/forms"])
def test_only_heatmap_readers_open_the_pages(world, path) -> None:
    assert _get(world, path, role="ux_analyst").status_code == 200
    assert _get(world, path, role="admin").status_code == 200     # admins hold heatmaps:read (README matrix)
    denied = _get(world, path, role="hr_liaison")
    assert denied.status_code == 403 and "your roles do not grant heatmaps:read" in denied.text
    assert 'href="/funnels"' not in denied.text                   # no menu entry either


def test_a_token_without_heatmaps_read_is_refused(world) -> None:
    from replayvault.governance import accounts

    rt, client, _, staff = world
    with rt.sessions() as db:
        user = accounts.get_user(db, staff["ux_analyst"].user_id)
        _, token = accounts.create_token(db, user, "sessions only", ["sessions:list"])
        db.commit()
    for path in ("/funnels", "/forms"):
        r = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403, path
    ok = client.get("/", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and 'href="/funnels"' not in ok.text
