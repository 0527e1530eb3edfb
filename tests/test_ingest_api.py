"""Collector endpoint: acceptance, idempotency, every rejection, and that rejections leave data intact."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import uuid

import pytest
from fastapi.testclient import TestClient

from consentkit import grant, post_batch
from staff import add_staff, read_events

from sqlalchemy import select

from replayvault.db.models import Chunk, ConsentReceipt, IngestIncident, RecordingSession
from replayvault.projects_setup import ensure_project
from replayvault.recordings import session_events
from replayvault.web.app import create_app

ORIGIN = "http://127.0.0.1:8001"


def _snapshot_events(ts: int = 1_700_000_000_000) -> list[dict]:
    """A Meta + FullSnapshot with an input holding an email, and a click."""
    node = {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "id": 2, "tagName": "html", "attributes": {}, "childNodes": [
            {"type": 2, "id": 3, "tagName": "body", "attributes": {}, "childNodes": [
                {"type": 2, "id": 4, "tagName": "input", "attributes": {"type": "email", "value": "jane.doe@example.com"}, "childNodes": []},
                {"type": 2, "id": 5, "tagName": "button", "attributes": {}, "childNodes": [{"type": 3, "id": 6, "textContent": "Send"}]},
            ]}]}]}
    return [
        {"type": 4, "data": {"href": "https://bank.example/transfer?iban=DE89370400440532013000", "width": 1280, "height": 800}, "timestamp": ts},
        {"type": 2, "data": {"node": node, "initialOffset": {"top": 0, "left": 0}}, "timestamp": ts + 1},
        {"type": 3, "data": {"source": 2, "type": 2, "id": 5, "x": 100, "y": 200}, "timestamp": ts + 500},
    ]


@pytest.fixture
def client(rt):
    project = ensure_project(rt, "p1", "Project 1", [ORIGIN])
    c = TestClient(create_app(rt))
    c.write_key = project.write_key
    c.rt = rt
    c.lead = add_staff(rt, "lead", ["compliance_lead"])
    c.headers.update(c.lead.headers)
    return c


def _post(client, body, *, key=None, origin=ORIGIN, headers=None, raw=None):
    h = {"X-Replayvault-Key": client.write_key if key is None else key, "Content-Type": "application/json"}
    if origin:
        h["Origin"] = origin
    h.update(headers or {})
    if raw is not None:
        return client.post("/api/v1/ingest", content=raw, headers=h)
    return post_batch(client, body, h)  # with the session's consent token (granted from ts 0 on first use)


def _batch(sid: str, seq: int, events=None) -> dict:
    return {"session_id": sid, "seq": seq, "events": events or _snapshot_events()}


def test_accepts_masks_and_is_idempotent(client) -> None:
    sid = str(uuid.uuid4())
    r = _post(client, _batch(sid, 0))
    assert r.status_code == 200, r.text
    assert r.json()["duplicate"] is False
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.json()["maskings"].get("input_value", 0) + r.json()["maskings"].get("email", 0) >= 1
    again = _post(client, _batch(sid, 0))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    stored = session_events(client.rt, sid)
    assert len(stored) == 3  # stored once
    text = json.dumps(stored)
    assert "jane.doe@example.com" not in text
    assert "DE89370400440532013000" not in text


def test_gzip_body_and_beacon_key_in_query(client) -> None:
    sid = str(uuid.uuid4())
    token = grant(client, client.write_key, sid, origin=ORIGIN)
    body = gzip.compress(json.dumps({**_batch(sid, 0), "consent_token": token}).encode())
    r = client.post(f"/api/v1/ingest?key={client.write_key}", content=body,
                    headers={"Content-Encoding": "gzip", "Content-Type": "text/plain", "Origin": ORIGIN})
    assert r.status_code == 200, r.text


REJECTIONS = [
    ("bad key", dict(key="rvw_wrong"), 401, "write key"),
    ("no key", dict(key=""), 401, "write key"),
    ("foreign origin", dict(origin="https://evil.example"), 403, "origin"),
    ("not json", dict(raw=b"{nope"), 400, "not valid JSON"),
    ("not an object", dict(raw=b"[1,2]"), 400, "JSON object"),
    ("bad seq", dict(body_patch={"seq": -1}), 400, "'seq'"),
    ("bad session id", dict(body_patch={"session_id": "x"}), 400, "'session_id'"),
    ("event without type", dict(body_patch={"events": [{"timestamp": 1}]}), 400, "events[0]"),
    ("too many events", dict(body_patch={"events": [{"type": 3, "data": {"source": 1, "positions": []}, "timestamp": 1}] * 10_001}), 413, "limit is 10000"),
    ("too many bytes", dict(raw=b'{"pad":"' + b"a" * (5 * 1024 * 1024) + b'"}'), 413, "larger than"),
    ("gzip bomb", dict(raw=gzip.compress(b" " * (6 * 1024 * 1024)), headers={"Content-Encoding": "gzip"}), 413, "decompression"),
    ("corrupt gzip", dict(raw=b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"}), 400, "gzip"),
]


@pytest.mark.parametrize("name,kw,status,needle", REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_rejections_are_clear_json_and_leave_accepted_data_intact(client, name, kw, status, needle) -> None:
    sid = str(uuid.uuid4())
    assert _post(client, _batch(sid, 0)).status_code == 200
    before = session_events(client.rt, sid)
    body = _batch(sid, 1)
    body.update(kw.pop("body_patch", {}))
    r = _post(client, body, **kw)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert needle in r.json()["error"]
    assert session_events(client.rt, sid) == before
    with client.rt.sessions() as db:
        from replayvault.db.models import RecordingSession
        assert db.get(RecordingSession, sid).chunk_count == 1


def test_revoked_consent_gives_409_and_keeps_earlier_chunks(client) -> None:
    sid = str(uuid.uuid4())
    assert _post(client, _batch(sid, 0)).status_code == 200  # events 1_700_000_000_000 .. +500
    r = client.post("/api/v1/consent", json={"session_id": sid, "decision": "withdrawn", "ts": 1_700_000_000_600},
                    headers={"X-Replayvault-Key": client.write_key, "Origin": ORIGIN})
    assert r.status_code == 200
    assert r.json() == {"receipt": r.json()["receipt"], "session_id": sid, "decision": "withdrawn"}
    assert re.fullmatch(r"[0-9a-f]{32}", r.json()["receipt"])
    r = _post(client, _batch(sid, 1, _snapshot_events(1_700_000_001_000)))  # after the withdrawal
    assert r.status_code == 409 and "withdrawn" in r.json()["error"]
    assert len(session_events(client.rt, sid)) == 3


def test_error_messages_never_echo_personal_data(client) -> None:
    r = _post(client, None, raw=json.dumps({"session_id": "jane.doe@example.com", "seq": 0, "events": []}).encode())
    assert r.status_code == 400
    assert "jane" not in r.text


def test_preflight_only_for_allowed_origins(client) -> None:
    ok = client.options("/api/v1/ingest", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == ORIGIN
    bad = client.options("/api/v1/ingest", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert bad.status_code == 403 and "access-control-allow-origin" not in bad.headers


def test_session_listed_with_counts(client) -> None:
    sid = str(uuid.uuid4())
    _post(client, _batch(sid, 0))
    rows = client.get("/api/v1/sessions").json()
    row = next(r for r in rows if r["id"] == sid)
    assert row["page_views"] == 1 and row["clicks"] == 1 and row["masked_items"] >= 2
    assert row["duration_ms"] == 500
    detail = client.get(f"/api/v1/sessions/{sid}").json()
    assert sum(detail["maskings"].values()) == row["masked_items"]
    assert client.get("/api/v1/sessions/nope").status_code == 404


def test_stored_chunk_tamper_and_missing_key_file_are_clear_errors(client) -> None:
    sid = str(uuid.uuid4())
    assert _post(client, _batch(sid, 0)).status_code == 200
    chunk = next(client.rt.settings.chunks_dir.rglob("*.rvc"))
    original = chunk.read_bytes()
    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 0x80
    chunk.write_bytes(bytes(tampered))
    r = read_events(client, client.lead, sid)
    assert r.status_code == 500 and "differs from the SHA-256 recorded at ingest" in r.json()["error"]
    # Someone who also rewrites the stored digest still meets the AES-GCM tag.
    with client.rt.sessions() as db:
        row = db.scalars(select(Chunk).where(Chunk.session_id == sid)).one()
        row.sha256 = hashlib.sha256(bytes(tampered)).hexdigest()
        db.commit()
    r = read_events(client, client.lead, sid)
    assert r.status_code == 500 and "AES-GCM authentication" in r.json()["error"]
    with client.rt.sessions() as db:
        db.scalars(select(Chunk).where(Chunk.session_id == sid)).one().sha256 = hashlib.sha256(original).hexdigest()
        db.commit()
    chunk.write_bytes(original)
    assert read_events(client, client.lead, sid).status_code == 200

    client.rt.settings.key_file.rename(client.rt.settings.key_file.with_suffix(".moved"))
    from replayvault.runtime import Runtime

    fresh = Runtime(client.rt.settings)  # a server started without the key file
    from replayvault.errors import KeyFileError

    with pytest.raises(KeyFileError, match="no key for project"):
        session_events(fresh, sid)
    # New sessions are refused too (no silent new project or consent-token key), and nothing is half-stored:
    # the grant cannot get a token, so no receipt is stored and no batch can be accepted.
    fresh_client = TestClient(create_app(fresh))
    sid = str(uuid.uuid4())
    r = fresh_client.post("/api/v1/consent", json={"session_id": sid, "decision": "granted", "ts": 0},
                          headers={"X-Replayvault-Key": client.write_key})
    assert r.status_code == 500 and r.json()["error"].startswith("no key for project '_consent'")
    r = fresh_client.post("/api/v1/ingest", json=_batch(sid, 0), headers={"X-Replayvault-Key": client.write_key})
    assert (r.status_code, r.json()["error"]) == (403, "the batch has no consent token: send a consent receipt first")
    with fresh.sessions() as db:
        assert db.scalars(select(ConsentReceipt.id).where(ConsentReceipt.session_id == sid)).all() == []
    assert not fresh.settings.key_file.exists()


HOSTILE_BODIES = [
    ("NaN in a payload", b'{"session_id":"abcdefgh-1","seq":0,"events":[{"type":5,"timestamp":1,"data":{"tag":"x","payload":{"v":NaN}}}]}', "finite"),
    ("Infinity timestamp", b'{"session_id":"abcdefgh-1","seq":0,"events":[{"type":5,"timestamp":Infinity,"data":{}}]}', "finite"),
    ("1e400 timestamp", b'{"session_id":"abcdefgh-1","seq":0,"events":[{"type":5,"timestamp":1e400,"data":{}}]}', "finite"),
    ("30-digit timestamp", b'{"session_id":"abcdefgh-1","seq":0,"events":[{"type":5,"timestamp":123456789012345678901234567890,"data":{}}]}', "2^53"),
    ("5000-digit number", b'{"session_id":"abcdefgh-1","seq":0,"events":[{"type":5,"timestamp":1,"data":{"n":' + b"9" * 5000 + b"}}]}", "finite"),
    ("deep nesting", b'{"session_id":"abcdefgh-1","seq":0,"events":[{"type":5,"timestamp":1,"data":{"p":' + b"[" * 50_000 + b"]" * 50_000 + b"}}]}", "nested too deeply"),
    ("lone surrogate", b'{"session_id":"abcdefgh-1","seq":0,"events":[{"type":5,"timestamp":1,"data":{"p":"\\ud800"}}]}', "surrogate"),
    ("Meta width NaN-like string", b'{"session_id":"abcdefgh-1","seq":0,"events":[{"type":4,"timestamp":1,"data":{"href":"https://a/","width":"wide","height":1}}]}', "width"),
    ("childNodes not a list", b'{"session_id":"abcdefgh-1","seq":0,"events":[{"type":2,"timestamp":1,"data":{"node":{"type":0,"id":1,"childNodes":"abc"}}}]}', None),
    ("adds with nulls", b'{"session_id":"abcdefgh-1","seq":0,"events":[{"type":3,"timestamp":1,"data":{"source":0,"adds":[null,"x",{"parentId":1,"node":{"type":2,"id":3,"tagName":"p","attributes":[1],"childNodes":[]}}],"removes":[{"id":{}}],"texts":[],"attributes":[]}}]}', None),
]


@pytest.mark.parametrize("name,raw,needle", HOSTILE_BODIES, ids=[h[0] for h in HOSTILE_BODIES])
def test_hostile_bodies_never_500_and_never_poison_a_session(client, name, raw, needle) -> None:
    sid = "abcdefgh-1"
    token = grant(client, client.write_key, sid, origin=ORIGIN)
    good = _post(client, _batch(sid, 5))
    assert good.status_code == 200
    # The hostile body carries the session's valid token, so it meets the parser, masking and storage.
    assert raw.startswith(b'{"session_id":"abcdefgh-1",')
    r = _post(client, None, raw=b'{"consent_token":"' + token.encode() + b'",' + raw[1:])
    assert r.status_code in (200, 400), (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    if needle is not None:
        assert r.status_code == 400 and needle in r.json()["error"], r.text
    events = read_events(client, client.lead, sid)
    assert events.status_code == 200  # the session stays readable
    assert client.get("/api/v1/sessions").status_code == 200


def test_unknown_host_header_is_refused_and_responses_are_not_cached(client) -> None:
    evil = client.get("/api/v1/sessions", headers={"Host": "attacker.example"})
    assert evil.status_code == 400  # DNS rebinding: a foreign name pointed at 127.0.0.1
    ok = client.get("/api/v1/sessions")
    assert ok.status_code == 200 and ok.headers["cache-control"] == "no-store"


def test_concurrent_batches_all_keep_their_analytics_facts(client) -> None:
    import concurrent.futures

    sids = [str(uuid.uuid4()) for _ in range(24)]
    for sid in sids:  # consent first (one by one): the batches are what runs concurrently here
        grant(client, client.write_key, sid, origin=ORIGIN)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda sid: _post(client, _batch(sid, 0)).status_code, sids))
    assert codes == [200] * len(sids)
    facts = {row["session_id"]: row for row in client.rt.analytics.sessions()}
    assert all(facts[sid]["clicks"] == 1 and facts[sid]["page_views"] == 1 for sid in sids)


def test_concurrent_receipts_and_first_batches_do_not_block_each_other(client) -> None:
    """Each visitor's grant and first batch, 8 at a time: the receipt (audit lock, then the database's write
    lock) and a new session's first batch keep the same lock order, so none waits out the database's
    busy timeout (which answered 503 while a first batch flushed its session row before the audit lock)."""
    import concurrent.futures

    def visit(sid: str) -> int:
        grant(client, client.write_key, sid, origin=ORIGIN)
        return _post(client, _batch(sid, 0)).status_code

    sids = [str(uuid.uuid4()) for _ in range(24)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(visit, sids))
    assert codes == [200] * len(sids)
    with client.rt.sessions() as db:
        assert sorted(db.scalars(select(ConsentReceipt.session_id))) == sorted(sids)


def test_backdrop_snapshot_is_chosen_by_viewport_class_in_the_query(client) -> None:
    from replayvault.recordings import snapshot_for_url

    def page(ts: int, width: int) -> list[dict]:
        events = _snapshot_events(ts)[:2]
        events[0] = dict(events[0], data={"href": "https://bank.example/transfer", "width": width, "height": 800})
        return events

    tablet_sid = str(uuid.uuid4())
    assert _post(client, _batch(tablet_sid, 0, page(1_700_000_000_000, 820))).status_code == 200
    for i in range(3):  # newer desktop snapshots of the same page
        assert _post(client, _batch(str(uuid.uuid4()), 0, page(1_700_000_100_000 + i, 1280))).status_code == 200
    _sid, (meta, full) = snapshot_for_url(client.rt, "https://bank.example/transfer?x=1", viewport_class="tablet")
    assert meta["data"]["width"] == 820 and full["timestamp"] == 1_700_000_000_001
    _sid, (meta, _full) = snapshot_for_url(client.rt, "https://bank.example/transfer")
    assert meta["data"]["width"] == 1280
    assert snapshot_for_url(client.rt, "https://bank.example/transfer", viewport_class="mobile") is None


# -- the consent gate (governance.consent) through HTTP ------------------------------------------------
T0 = 1_700_000_000_000


def _consent_incidents(rt, sid: str) -> list[tuple[str, int]]:
    with rt.sessions() as db:
        rows = db.scalars(select(IngestIncident).where(IngestIncident.session_id == sid, IngestIncident.kind == "consent")
                          .order_by(IngestIncident.id))
        return [(row.reason, row.events) for row in rows]


def _nothing_stored(rt, sid: str) -> bool:
    with rt.sessions() as db:
        return db.get(RecordingSession, sid) is None and not db.scalars(select(Chunk).where(Chunk.session_id == sid)).all()


def _forge(token: str) -> str:
    """The token with one character of its signature changed (the first: never a padding-only character)."""
    body, sig = token.split(".")
    return f"{body}.{('B' if sig[0] != 'B' else 'C') + sig[1:]}"


def _renew(client, sid: str, token: str):
    return client.post("/api/v1/consent/renew", json={"session_id": sid, "consent_token": token},
                       headers={"X-Replayvault-Key": client.write_key, "Origin": ORIGIN})


def _withdraw(client, sid: str, ts: int):
    r = client.post("/api/v1/consent", json={"session_id": sid, "decision": "withdrawn", "ts": ts},
                    headers={"X-Replayvault-Key": client.write_key, "Origin": ORIGIN})
    assert r.status_code == 200, r.text
    return r


def test_grant_answers_a_receipt_and_a_token(client) -> None:
    sid = str(uuid.uuid4())
    r = client.post("/api/v1/consent", json={"session_id": sid, "decision": "granted", "method": "banner", "ts": T0},
                    headers={"X-Replayvault-Key": client.write_key, "Origin": ORIGIN})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"receipt", "session_id", "decision", "consent_token", "token_ttl_ms", "scope"}
    assert re.fullmatch(r"[0-9a-f]{32}", body["receipt"])
    assert (body["session_id"], body["decision"], body["token_ttl_ms"]) == (sid, "granted", 900_000)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}", body["consent_token"])
    assert r.headers["access-control-allow-origin"] == ORIGIN


def test_batch_without_a_consent_token_is_403_and_nothing_is_stored(client) -> None:
    sid = str(uuid.uuid4())
    r = client.post("/api/v1/ingest", json=_batch(sid, 0),
                    headers={"X-Replayvault-Key": client.write_key, "Origin": ORIGIN})
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "the batch has no consent token: send a consent receipt first"
    assert r.headers["access-control-allow-origin"] == ORIGIN  # the tracker can read why
    assert _nothing_stored(client.rt, sid)
    assert _consent_incidents(client.rt, sid) == [("no_token", 3)]
    assert all(row["id"] != sid for row in client.get("/api/v1/sessions").json())


def test_a_token_of_another_session_is_403(client) -> None:
    sid, other = str(uuid.uuid4()), str(uuid.uuid4())
    token = grant(client, client.write_key, other, origin=ORIGIN)
    r = _post(client, {**_batch(sid, 0), "consent_token": token})
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "the consent token is not valid for this session"
    assert _nothing_stored(client.rt, sid)
    assert _consent_incidents(client.rt, sid) == [("invalid_token", 3)]
    assert _post(client, {**_batch(other, 0), "consent_token": token}).status_code == 200  # its own session


def test_a_forged_token_is_403(client) -> None:
    sid = str(uuid.uuid4())
    token = grant(client, client.write_key, sid, origin=ORIGIN)
    r = _post(client, {**_batch(sid, 0), "consent_token": _forge(token)})
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "the consent token is not valid for this session"
    assert _nothing_stored(client.rt, sid)
    assert _consent_incidents(client.rt, sid) == [("invalid_token", 3)]
    assert _post(client, {**_batch(sid, 0), "consent_token": token}).status_code == 200  # the real one works


def test_a_withdrawn_session_is_409_and_keeps_what_came_before(client) -> None:
    sid = str(uuid.uuid4())
    token = grant(client, client.write_key, sid, origin=ORIGIN, ts=T0)
    assert _post(client, {**_batch(sid, 0, _snapshot_events(T0)), "consent_token": token}).status_code == 200
    _withdraw(client, sid, T0 + 1_000)
    r = _post(client, {**_batch(sid, 1, _snapshot_events(T0 + 2_000)), "consent_token": token})
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "consent was withdrawn or refused for this session; batch not accepted"
    assert [e["timestamp"] for e in session_events(client.rt, sid)] == [T0, T0 + 1, T0 + 500]
    assert _consent_incidents(client.rt, sid) == [("after_withdrawal", 3)]
    with client.rt.sessions() as db:
        assert db.get(RecordingSession, sid).chunk_count == 1


def test_events_before_the_grant_are_dropped(client) -> None:
    sid = str(uuid.uuid4())
    token = grant(client, client.write_key, sid, origin=ORIGIN, ts=T0 + 1_000)
    # Meta + FullSnapshot from before the banner was answered, then a fresh Meta + FullSnapshot and a click.
    events = _snapshot_events(T0)[:2] + _snapshot_events(T0 + 1_000)
    r = _post(client, {**_batch(sid, 0, events), "consent_token": token})
    assert r.status_code == 200, r.text
    assert r.json()["dropped"] == 2 and r.json()["events"] == 3
    stored = session_events(client.rt, sid)
    assert [(e["type"], e["timestamp"]) for e in stored] == [(4, T0 + 1_000), (2, T0 + 1_001), (3, T0 + 1_500)]
    assert _consent_incidents(client.rt, sid) == [("outside_consent", 2)]


def test_renew_gives_a_new_working_token_until_withdrawal(client) -> None:
    sid = str(uuid.uuid4())
    token = grant(client, client.write_key, sid, origin=ORIGIN)
    r = _renew(client, sid, token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"session_id", "consent_token", "token_ttl_ms", "scope"}
    assert body["scope"] == {"allow": [], "deny": []}  # the capture scope as it is now
    assert (body["session_id"], body["token_ttl_ms"]) == (sid, 900_000)
    renewed = body["consent_token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}", renewed)
    assert _post(client, {**_batch(sid, 0), "consent_token": renewed}).status_code == 200
    assert len(session_events(client.rt, sid)) == 3
    assert _renew(client, sid, _forge(renewed)).status_code == 403
    assert _renew(client, str(uuid.uuid4()), renewed).status_code == 403  # bound to its session

    _withdraw(client, sid, T0 + 1_000)
    r = _renew(client, sid, renewed)
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "consent was withdrawn or refused for this session; batch not accepted"
    assert _post(client, {**_batch(sid, 1, _snapshot_events(T0 + 2_000)), "consent_token": renewed}).status_code == 409
    assert len(session_events(client.rt, sid)) == 3
