"""Capture scope: the policy section, the pure filter, the pipeline step and the ingest drop with its incidents."""

from __future__ import annotations

import copy
import json
import uuid

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from replayvault.audit.query import search_entries
from replayvault.db.models import Chunk, IngestIncident, Project, RecordingSession
from replayvault.errors import InvalidInput
from replayvault.governance.policies import set_policy
from replayvault.governance.scope import OUT_OF_SCOPE, filter_scope
from replayvault.ingest.service import _open_state, _seal_json, accept_batch
from replayvault.ingest.validate import IngestRequest
from replayvault.pipeline import Batch, SessionState, process_batch
from replayvault.privacy import policy as policy_module
from replayvault.privacy.policy import STRICT, CaptureScope, parse_policy, scope_url
from replayvault.projects_setup import ensure_project
from replayvault.recordings import session_events

T = 1_700_000_000_000
SITE = "https://bank.example"
PCI = "PCI DSS v4.0 6.4.3: payment pages are never recorded"
SCOPE = CaptureScope(deny=["/payments/*"], note=PCI)
SCOPE_YAML = 'capture_scope:\n  deny: ["/payments/*"]\n  note: "' + PCI + '"\n'
CARD_HOLDER = "JANE Q CARDHOLDER"


# -- hand-built rrweb events ----------------------------------------------------------------------

def meta(ts: int, path: str) -> dict:
    return {"type": 4, "timestamp": ts, "data": {"href": SITE + path, "width": 1280, "height": 800}}


def full(ts: int, body_id: int = 3, text: str = "Accounts") -> dict:
    body = {"type": 2, "id": body_id, "tagName": "body", "attributes": {},
            "childNodes": [{"type": 3, "id": body_id + 1, "textContent": text}]}
    doc = {"type": 0, "id": 1, "childNodes": [{"type": 2, "id": 2, "tagName": "html", "attributes": {},
                                                 "childNodes": [body]}]}
    return {"type": 2, "timestamp": ts, "data": {"node": doc, "initialOffset": {"left": 0, "top": 0}}}


def route(ts: int, path: str) -> dict:
    return {"type": 5, "timestamp": ts, "data": {"tag": "rv.route", "payload": {"href": SITE + path}}}


def click(ts: int, node: int = 3) -> dict:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": 2, "id": node, "x": 10, "y": 20}}


def add_text(ts: int, nid: int, text: str) -> dict:
    """A mutation adding a text node under the body (node 3)."""
    return {"type": 3, "timestamp": ts, "data": {"source": 0, "texts": [], "attributes": [], "removes": [],
                                                 "adds": [{"parentId": 3, "nextId": None,
                                                           "node": {"type": 3, "id": nid, "textContent": text}}]}}


def stamps(events: list[dict]) -> list[int]:
    return [e["timestamp"] for e in events]


def spa_visit(ts: int = T) -> list[dict]:
    """/accounts, then the SPA routes to /payments/card (a card form appears), then back to /accounts,
    where the tracker takes a new FullSnapshot."""
    return [
        meta(ts, "/accounts"), full(ts + 1), click(ts + 10),
        route(ts + 20, "/payments/card"), add_text(ts + 21, 50, CARD_HOLDER), click(ts + 22, 50),
        route(ts + 30, "/accounts?tab=2"), add_text(ts + 31, 51, "leftover"),
        full(ts + 32), click(ts + 40),
    ]


# -- the policy section ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ('capture_scope: {deny: [""]}', "policy field capture_scope.deny: URL pattern is empty"),
    ('capture_scope: {allow: ["?only=query"]}', "policy field capture_scope.allow: URL pattern is empty"),
    ("capture_scope: {allow: ['/" + "a" * 2048 + "']}",
     "policy field capture_scope.allow: URL pattern is longer than 2048 characters"),
    ('capture_scope: {deny: "/payments/*"}', "policy field capture_scope.deny: Input should be a valid list"),
    ("capture_scope: {deny: [42]}", "policy field capture_scope.deny.0: Input should be a valid string"),
    ("capture_scope: {paths: []}", "policy field capture_scope.paths: Extra inputs are not permitted"),
    ("capture_scope: {note: '" + "n" * 201 + "'}",
     "policy field capture_scope.note: String should have at most 200 characters"),
    ("capture_scope: {deny: [" + ", ".join(["'/p'"] * 101) + "]}",
     "policy field capture_scope.deny: List should have at most 100 items after validation, not 101"),
    ('capture_scope: {deny: ["transfer.html"]}',  # could never match a page URL (fresh-user review)
     "policy field capture_scope.deny: pattern 'transfer.html' must start with '/', '*' or a scheme such as https://"),
    ("capture_scope: [/payments/*]",
     "policy field capture_scope: Input should be a valid dictionary or instance of CaptureScope"),
])
def test_invalid_capture_scope_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_policy(text)
    assert str(err.value) == message


def test_capture_scope_defaults_parses_and_exports() -> None:
    assert STRICT.capture_scope == CaptureScope() and STRICT.capture_scope.to_tracker() == {"allow": [], "deny": []}
    pol = parse_policy(SCOPE_YAML)
    assert pol.capture_scope == SCOPE and pol.capture_scope.note == PCI
    assert parse_policy(json.dumps(pol.model_dump())) == pol and pol.digest() != STRICT.digest()
    assert CaptureScope(allow=["/a*"], deny=["/b"]).to_tracker() == {"allow": ["/a*"], "deny": ["/b"]}
    assert "CaptureScope" in policy_module.__all__
    with pytest.raises(ValidationError):
        SCOPE.deny = []  # type: ignore[misc]  # frozen


def test_the_module_docstring_example_is_a_valid_policy() -> None:
    doc = policy_module.__doc__ or ""
    example = doc.split("Example::", 1)[1].split("\n\n", 2)[1]
    pol = parse_policy(example)
    assert pol.capture_scope.deny == ["/payments/*", "/cards/*/pin"] and pol.capture_scope.note == PCI


@pytest.mark.parametrize(("allow", "deny", "url", "expected"), [
    ([], [], SITE + "/payments/card", (True, "")),
    ([], ["/payments/*"], SITE + "/payments/card", (False, "/payments/*")),
    ([], ["/payments/*"], SITE + "/payments/card?amount=5#top", (False, "/payments/*")),
    ([], ["/payments/*"], "http://other.example/payments/x", (False, "/payments/*")),
    ([], ["/payments/*"], SITE + "/payments", (False, "/payments/*")),  # the directory itself (attack review)
    ([], ["/payments/*"], SITE + "/accounts?next=/payments/x", (True, "")),
    ([], ["/payments/*"], SITE + "/accounts#/payments/x", (True, "")),  # fragment ignored (documented)
    ([], ["/payments/*"], "/payments/card", (False, "/payments/*")),     # a bare path still matches
    ([], [SITE + "/pay*"], SITE + "/payments/card", (False, SITE + "/pay*")),
    ([], [SITE + "/pay*"], "https://evil.example/payments/card", (True, "")),
    (["/accounts*"], [], SITE + "/accounts/42", (True, "/accounts*")),
    (["/accounts*"], [], SITE + "/loans", (False, "")),
    (["/accounts*", "/payments/*"], ["/payments/*"], SITE + "/payments/card", (False, "/payments/*")),  # deny wins
    (["/*"], ["/a/*", "/payments/*"], SITE + "/payments/x", (False, "/payments/*")),
])
def test_decide(allow: list[str], deny: list[str], url: str, expected: tuple[bool, str]) -> None:
    assert CaptureScope(allow=allow, deny=deny).decide(url) == expected


def test_decide_is_linear_on_hostile_patterns() -> None:
    scope = CaptureScope(deny=["*a*a*a*a*a*a*a*a*a*a*a*a*b"])
    assert scope.decide(SITE + "/" + "a" * 50_000) == (True, "")


# -- the pure filter ------------------------------------------------------------------------------

def test_spa_visit_drops_the_payment_page_until_the_next_full_snapshot() -> None:
    events = spa_visit()
    frozen = copy.deepcopy(events)
    out = filter_scope(events, {}, SCOPE)
    assert events == frozen
    assert stamps(out.events) == [T, T + 1, T + 10, T + 30, T + 32, T + 40]
    assert out.dropped == 4 and out.rules == {"/payments/*": 4}
    assert out.state == {"out": False, "resync": False, "rule": ""}
    assert CARD_HOLDER not in json.dumps(out.events) and "/payments" not in json.dumps(out.events)


def test_state_carries_an_out_of_scope_page_into_the_next_batch() -> None:
    first = filter_scope([meta(T, "/accounts"), full(T + 1), route(T + 5, "/payments/card"), click(T + 6)], {}, SCOPE)
    assert stamps(first.events) == [T, T + 1] and first.rules == {"/payments/*": 2}
    assert first.state == {"out": True, "resync": False, "rule": "/payments/*"}
    json.dumps(first.state)  # JSON-safe, and no URL in it
    assert "bank.example" not in json.dumps(first.state)
    second = filter_scope([add_text(T + 10, 60, CARD_HOLDER), full(T + 11),   # a snapshot of the payment page
                           meta(T + 20, "/accounts"), click(T + 21), full(T + 22), click(T + 23)],
                          first.state, SCOPE)
    assert stamps(second.events) == [T + 20, T + 22, T + 23]
    assert second.dropped == 3 and second.rules == {"/payments/*": 3}
    assert second.state == {"out": False, "resync": False, "rule": ""}


def test_resync_waits_across_batches_and_keeps_in_scope_metas() -> None:
    a = filter_scope([route(T, "/accounts")], {"out": True, "resync": False, "rule": "/payments/*"}, SCOPE)
    assert stamps(a.events) == [T] and a.dropped == 0 and a.state == {"out": False, "resync": True, "rule": "/payments/*"}
    b = filter_scope([click(T + 1), meta(T + 2, "/home"), click(T + 3), full(T + 4), click(T + 5)], a.state, SCOPE)
    assert stamps(b.events) == [T + 2, T + 4, T + 5] and b.rules == {"/payments/*": 2}


def test_allow_list_miss_is_counted_under_the_empty_pattern_and_rules_keep_the_latest_last() -> None:
    scope = CaptureScope(allow=["/accounts*", "/payments/*"], deny=["/payments/*", "/cards/*"])
    events = [meta(T, "/loans"), full(T + 1), meta(T + 2, "/cards/1"), full(T + 3), click(T + 4),
              meta(T + 5, "/payments/x"), full(T + 6), meta(T + 7, "/accounts"), full(T + 8)]
    out = filter_scope(events, {}, scope)
    assert stamps(out.events) == [T + 7, T + 8]
    assert out.rules == {"": 2, "/cards/*": 3, "/payments/*": 2} and list(out.rules)[-1] == "/payments/*"
    back = filter_scope([meta(T + 9, "/loans"), click(T + 10), meta(T + 11, "/cards/2")], {}, scope)
    assert list(back.rules) == ["", "/cards/*"] and back.state["rule"] == "/cards/*"


def test_events_before_any_url_follow_the_carried_state() -> None:
    early = [click(T), add_text(T + 1, 9, "x")]
    new = filter_scope(early, {}, SCOPE)
    assert stamps(new.events) == [T, T + 1] and new.dropped == 0 and new.state["out"] is False
    unknown = filter_scope(early + [full(T + 2), meta(T + 3, "/home"), full(T + 4)], dict(OUT_OF_SCOPE), SCOPE)
    assert stamps(unknown.events) == [T + 3, T + 4] and unknown.rules == {"": 3}


def test_no_patterns_keeps_everything_and_the_state_as_it_was() -> None:
    state = {"out": True, "resync": False, "rule": "/old/*"}
    out = filter_scope(spa_visit(), state, CaptureScope())
    assert stamps(out.events) == stamps(spa_visit()) and out.dropped == 0 and out.rules == {} and out.state == state


def test_odd_urls_are_ignored_not_fatal() -> None:
    events = [{"type": 4, "timestamp": T, "data": {"href": None}}, {"type": 4, "timestamp": T + 1, "data": "x"},
              {"type": 5, "timestamp": T + 2, "data": {"tag": "rv.route", "payload": "/payments/x"}},
              {"type": 5, "timestamp": T + 3, "data": {"tag": "other", "payload": {"href": SITE + "/payments/x"}}},
              {"type": 3, "timestamp": T + 4}]
    out = filter_scope(events, {}, SCOPE)
    assert stamps(out.events) == [T, T + 1, T + 2, T + 3, T + 4] and out.dropped == 0


# -- the pipeline step ----------------------------------------------------------------------------

def test_process_batch_masks_only_the_kept_events_and_counts_the_rest() -> None:
    policy = parse_policy(SCOPE_YAML)
    out = process_batch(Batch("p", "s", 0, spa_visit(), "", policy), SessionState())
    assert stamps(out.events) == [T, T + 1, T + 10, T + 30, T + 32, T + 40]
    assert out.scope_dropped == 4 and out.scope_rules == {"/payments/*": 4}
    assert CARD_HOLDER not in out.payload.decode() and "/payments" not in out.payload.decode()
    assert {pv.url for pv in out.facts.page_views} == {SITE + "/accounts"}
    assert out.state.scope == {"windows": {"": {"out": False, "resync": False, "rule": ""}}, "unknown": OUT_OF_SCOPE}


def test_scope_state_is_per_window_and_unknown_windows_are_not_trusted() -> None:
    policy = parse_policy(SCOPE_YAML)
    a = process_batch(Batch("p", "s", 0, [meta(T, "/payments/card"), full(T + 1)], "A", policy), SessionState())
    assert a.events == [] and a.payload == b"[]" and a.scope_dropped == 2 and a.first_ts is None
    b = process_batch(Batch("p", "s", 1, [meta(T + 5, "/accounts"), full(T + 6), click(T + 7)], "B", policy), a.state)
    assert stamps(b.events) == [T + 5, T + 6, T + 7] and b.scope_dropped == 0  # B starts with Meta + snapshot
    a2 = process_batch(Batch("p", "s", 2, [click(T + 8, 50)], "A", policy), b.state)
    assert a2.events == [] and a2.scope_rules == {"/payments/*": 1}            # A is still on the payment page
    c = process_batch(Batch("p", "s", 3, [click(T + 9)], "C", policy), a2.state)
    assert c.events == [] and c.scope_rules == {"": 1}                         # a window never seen
    assert list(c.state.scope["windows"]) == ["B", "A", "C"]


def test_without_patterns_the_pipeline_leaves_the_scope_state_alone() -> None:
    out = process_batch(Batch("p", "s", 0, spa_visit(), ""), SessionState(scope={"x": 1}))
    assert len(out.events) == 10 and out.scope_dropped == 0 and out.scope_rules == {} and out.state.scope == {"x": 1}
    fresh = process_batch(Batch("p", "s", 0, spa_visit(), ""), SessionState())
    assert fresh.state.scope == {}


# -- ingest ---------------------------------------------------------------------------------------

def with_policy(rt, text: str) -> Project:  # type: ignore[no-untyped-def]
    """Project "bank" (created when missing) with policy ``text``, loaded afresh as a request would."""
    ensure_project(rt, "bank", "Bank", [])
    set_policy(rt, "bank", text, actor="cli")
    with rt.sessions() as db:
        return db.get(Project, "bank")


@pytest.fixture
def project(rt) -> Project:  # type: ignore[no-untyped-def]
    return with_policy(rt, SCOPE_YAML)


def send(rt, project, sid: str, seq: int, events: list[dict], window: str = ""):  # type: ignore[no-untyped-def]
    return accept_batch(rt, project, IngestRequest(sid, seq, events, window))


def incidents(rt, sid: str) -> list[tuple[str, str, str, int]]:  # type: ignore[no-untyped-def]
    with rt.sessions() as db:
        rows = db.scalars(select(IngestIncident).where(IngestIncident.session_id == sid).order_by(IngestIncident.id))
        return [(r.kind, r.reason, r.rule, r.events) for r in rows]


def audit(rt, sid: str, action: str) -> list[dict]:  # type: ignore[no-untyped-def]
    entries = search_entries(rt, resource=f"session:{sid}", action=action, limit=1000)
    return [e["details"] if isinstance(e["details"], dict) else json.loads(e["details"]) for e in reversed(entries)]


def test_ingest_stores_only_in_scope_events_and_records_incidents(rt, project) -> None:
    sid = str(uuid.uuid4())
    res = send(rt, project, sid, 0, spa_visit())
    assert (res.events, res.dropped, res.duplicate) == (10, 4, False)
    stored = session_events(rt, sid)
    assert stamps(stored) == [T, T + 1, T + 10, T + 30, T + 32, T + 40]
    assert CARD_HOLDER not in json.dumps(stored) and "/payments" not in json.dumps(stored)
    assert incidents(rt, sid) == [("scope", "out_of_scope", "/payments/*", 4)]
    (details,) = audit(rt, sid, "chunk.ingested")
    assert details["scope_dropped"] == 4 and details["events"] == 6
    with rt.sessions() as db:
        assert db.scalar(select(Chunk.event_count).where(Chunk.session_id == sid)) == 6
        assert db.get(RecordingSession, sid).event_count == 6
    again = send(rt, project, sid, 0, spa_visit())
    assert again.duplicate and again.dropped == 0 and len(incidents(rt, sid)) == 1


def test_a_fully_dropped_batch_mid_session_keeps_the_session_out_until_a_snapshot(rt, project) -> None:
    sid = str(uuid.uuid4())
    send(rt, project, sid, 0, [meta(T, "/accounts"), full(T + 1), click(T + 10)])
    gone = send(rt, project, sid, 1, [route(T + 20, "/payments/card"), add_text(T + 21, 50, CARD_HOLDER),
                                      click(T + 22, 50)])
    assert (gone.events, gone.dropped, gone.duplicate, gone.maskings) == (3, 3, False, {})
    back = send(rt, project, sid, 2, [click(T + 23, 50), route(T + 30, "/accounts"), add_text(T + 31, 51, "x"),
                                      full(T + 32), click(T + 40)])
    assert back.dropped == 2
    assert stamps(session_events(rt, sid)) == [T, T + 1, T + 10, T + 30, T + 32, T + 40]
    assert CARD_HOLDER not in json.dumps(session_events(rt, sid))
    assert incidents(rt, sid) == [("scope", "out_of_scope", "/payments/*", 3), ("scope", "out_of_scope", "/payments/*", 2)]
    assert audit(rt, sid, "scope.dropped") == [{"seq": 1, "events": 3, "rules": {"/payments/*": 3}}]
    with rt.sessions() as db:
        assert sorted(db.scalars(select(Chunk.seq).where(Chunk.session_id == sid))) == [0, 2]
        assert db.get(RecordingSession, sid).chunk_count == 2
    retry = send(rt, project, sid, 1, [route(T + 20, "/payments/card")])
    assert retry.duplicate and retry.dropped == 0 and len(incidents(rt, sid)) == 2
    assert len(audit(rt, sid, "scope.dropped")) == 1


def test_a_fully_out_of_scope_first_batch_creates_no_session(rt, project) -> None:
    sid = str(uuid.uuid4())
    res = send(rt, project, sid, 0, [meta(T, "/payments/card"), full(T + 1, text=CARD_HOLDER), click(T + 2)])
    assert (res.events, res.dropped, res.duplicate) == (3, 3, False)
    with rt.sessions() as db:
        assert db.get(RecordingSession, sid) is None
        assert db.scalar(select(Chunk.id).where(Chunk.session_id == sid)) is None
    assert incidents(rt, sid) == [("scope", "out_of_scope", "/payments/*", 3)]
    (entry,) = search_entries(rt, resource=f"session:{sid}", action="scope.dropped")
    assert entry["actor"] == "project:bank"
    # the next batch has no Meta (still the payment page): the incident carries "out of scope"
    more = send(rt, project, sid, 1, [add_text(T + 3, 60, CARD_HOLDER), click(T + 4)])
    assert more.dropped == 2
    with rt.sessions() as db:
        assert db.get(RecordingSession, sid) is None
    assert send(rt, project, sid, 0, [meta(T, "/payments/card")]).duplicate
    ok = send(rt, project, sid, 2, [meta(T + 10, "/accounts"), full(T + 11), click(T + 12)])
    assert ok.dropped == 0 and stamps(session_events(rt, sid)) == [T + 10, T + 11, T + 12]
    assert [i[3] for i in incidents(rt, sid)] == [3, 2]
    text = json.dumps(audit(rt, sid, "scope.dropped")) + json.dumps(incidents(rt, sid))
    assert "bank.example" not in text and CARD_HOLDER not in text


def test_incident_rule_is_truncated_to_200_characters(rt) -> None:
    pattern = "/payments/" + "x" * 300 + "*"
    project = with_policy(rt, json.dumps({"capture_scope": {"deny": [pattern]}}))
    sid = str(uuid.uuid4())
    send(rt, project, sid, 0, [meta(T, "/accounts"), full(T + 1), route(T + 2, pattern.rstrip("*") + "1")])
    assert incidents(rt, sid) == [("scope", "out_of_scope", pattern[:200], 1)]


def test_a_stored_state_without_scope_still_loads(rt) -> None:
    project = ensure_project(rt, "bank", "Bank", [])
    sid = str(uuid.uuid4())
    send(rt, project, sid, 0, [meta(T, "/accounts"), full(T + 1)])  # strict default policy: no patterns
    with rt.sessions() as db:
        sess = db.get(RecordingSession, sid)
        dek = rt.keys.unwrap(project.id, sess.wrapped_dek)
        state = _open_state(sess, dek)
        assert state.scope == {}
        # what a session stored before capture scope existed looks like: facts, page, behaviour only
        sess.fact_state = _seal_json({"facts": state.facts, "page": state.page, "behaviour": state.behaviour},
                                     dek, sid, "facts")
        db.commit()
        assert _open_state(db.get(RecordingSession, sid), dek).scope == {}
    project = with_policy(rt, SCOPE_YAML)
    kept = send(rt, project, sid, 1, [click(T + 2)])  # no URL yet: an old session starts in scope
    assert kept.dropped == 0
    out = send(rt, project, sid, 2, [route(T + 3, "/payments/card"), click(T + 4)])
    assert out.dropped == 2
    assert stamps(session_events(rt, sid)) == [T, T + 1, T + 2]


@pytest.mark.parametrize("href", [
    "https://bank.example//payments/card", "https://bank.example/a/../payments/card",
    "https://bank.example/%70ayments/card", "https://BANK.example/./payments/card?x=1#y",
    "https://bank.example/payments", "https://bank.example/payments/"])
def test_spellings_of_a_denied_path_are_all_out_of_scope(href) -> None:
    """Found by the attack review: servers serve these spellings as one page (RFC 3986 §6.2.2 normalisation)."""
    assert CaptureScope(deny=["/payments/*"]).decide(href) == (False, "/payments/*")


def test_normalisation_keeps_other_pages_and_reserved_escapes() -> None:
    scope = CaptureScope(deny=["/payments/*"])
    assert scope.decide("https://bank.example/payment") == (True, "")
    assert scope.decide("https://bank.example/paymentsx/card") == (True, "")
    assert scope_url("https://bank.example/a%2Fb/%7Eme//x/./y/../z") == "https://bank.example/a%2Fb/~me/x/z"


def test_a_new_windows_dom_content_loaded_is_not_a_scope_incident() -> None:
    """Found by the fresh-user review: every new page load of a scoped project counted its first event
    (DomContentLoaded, before the Meta event) as an out-of-scope incident."""
    from replayvault.governance.scope import OUT_OF_SCOPE, filter_scope

    scope = CaptureScope(deny=["/payments/*"])
    batch = [{"type": 0, "data": {}, "timestamp": 1},
             {"type": 4, "data": {"href": "https://bank.example/accounts", "width": 1280, "height": 800}, "timestamp": 2},
             {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": []}, "initialOffset": {}}, "timestamp": 3},
             {"type": 1, "data": {}, "timestamp": 4}]
    res = filter_scope(batch, dict(OUT_OF_SCOPE), scope)
    assert ([e["timestamp"] for e in res.events], res.dropped, res.silent, res.rules) == ([2, 3, 4], 0, 1, {})
    # A window in scope so far keeps its DomContentLoaded; on the denied page the Meta counts and the
    # Load event is dropped silently.
    res = filter_scope([dict(batch[0]), {**batch[1], "data": {**batch[1]["data"], "href": "https://bank.example/payments/x"}},
                        dict(batch[3])], {}, scope)
    assert ([e["timestamp"] for e in res.events], res.dropped, res.silent, res.rules) == ([1], 1, 1, {"/payments/*": 1})
