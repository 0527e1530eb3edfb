"""Retention: periods per page category, expiry, absence from every API before and after the sweep,
crypto-shredding (copies of chunk files become undecryptable), legal holds, audit entries, certificates."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select

from consentkit import post_batch
from govkit import ORIGIN, World, audit_rows, world  # noqa: F401  (fixture)
from retention_kit import (DAY_MS, NOW, OLD_URL, SHARED_URL, clock, copy_chunks, database_bytes, opens,  # noqa: F401
                           page_events, record, stored_data_keys)
from staff import add_staff, grant

from replayvault.audit.verify import verify_bundle
from replayvault.db.models import Chunk, DeletionCertificate, Masking, PageSnapshot, RecordingSession
from replayvault.errors import NotFound
from replayvault.governance.policies import set_policy
from replayvault.governance.retention import period_for
from replayvault.governance.shredding import sweep
from replayvault.privacy.policy import Retention, RetentionCategory
from replayvault.recordings import session_events, snapshots_for_url

OLD, FRESH, OTHER = "old-session-31d", "fresh-session-0d", "other-session-31d"

POLICY = """
retention:
  default_days: 30
  jurisdiction: "EU — GDPR Art. 5(1)(e)"
  categories:
    - {name: ux, days: 30, urls: ["/ux/*"], note: "UX research pages"}
    - {name: complaint_evidence, days: 365, urls: ["/complaints/*"], note: "complaint handling, 1 year"}
    - {name: kyc, days: 90, urls: ["https://bank.example/kyc*"]}
"""


@pytest.fixture
def po(world: World):  # type: ignore[no-untyped-def]
    return add_staff(world.rt, "olga", ["privacy_officer"])


def _row(rt, sid: str) -> RecordingSession:  # type: ignore[no-untyped-def]
    with rt.sessions() as db:
        return db.get(RecordingSession, sid)


# -- periods -----------------------------------------------------------------------------------
SECTION = Retention(default_days=30, categories=[
    RetentionCategory(name="ux", days=30, urls=["/ux/*"]),
    RetentionCategory(name="complaint_evidence", days=365, urls=["/complaints/*"]),
    RetentionCategory(name="kyc", days=90, urls=["https://bank.example/kyc*"])])


@pytest.mark.parametrize("urls,days,category", [
    ([], 30, None),                                                                     # no page: the default
    (["https://bank.example/home"], 30, None),                                          # no category
    (["https://bank.example/ux/a"], 30, "ux"),                                          # equal days: the category names it
    (["https://bank.example/ux/a", "https://bank.example/complaints/42"], 365, "complaint_evidence"),
    (["https://other.example/complaints/1"], 365, "complaint_evidence"),                # /path: any host
    (["https://bank.example/kyc/step-1", "https://bank.example/home"], 90, "kyc"),
    (["https://evil.example/kyc/step-1"], 30, None),                                    # full-URL pattern: that host only
    (["https://bank.example/complaints"], 30, None),                                    # /complaints/* needs a segment
])
def test_session_period_is_the_longest_among_its_pages(urls, days, category) -> None:
    p = period_for(SECTION, urls)
    assert (p.days, p.category) == (days, category)


LONG_DEFAULT = Retention(default_days=90, categories=[
    RetentionCategory(name="ux", days=30, urls=["/ux/*"]),
    RetentionCategory(name="marketing", days=30, urls=["/ux/landing"]),
    RetentionCategory(name="complaint_evidence", days=365, urls=["/complaints/*"])])


@pytest.mark.parametrize("urls,days,category", [
    (["https://bank.example/ux/a", "https://bank.example/ux/b"], 30, "ux"),  # UX pages only: the UX period
    (["https://bank.example/ux/landing"], 30, "ux"),                         # two equal categories: the first
    (["https://bank.example/ux/a", "https://bank.example/home"], 90, None),   # an uncategorised page: 90 days
    (["https://bank.example/ux/a", "https://bank.example/complaints/3"], 365, "complaint_evidence"),
])
def test_a_category_can_be_shorter_than_the_default(urls, days, category) -> None:
    p = period_for(LONG_DEFAULT, urls)
    assert (p.days, p.category) == (days, category)


def test_expiry_is_stamped_at_ingest_from_the_receipt_time(clock, world: World) -> None:
    set_policy(world.rt, "p1", POLICY, "cli")
    record(world.client, world.write_key, "plain-session-1", clock, age_days=2)
    record(world.client, world.write_key, "complaint-session", clock, age_days=2,
           href="https://bank.example/complaints/77")
    received = NOW - 2 * DAY_MS
    plain, complaint = _row(world.rt, "plain-session-1"), _row(world.rt, "complaint-session")
    assert (plain.created_ms, plain.retention_days, plain.retention_category, plain.expires_ms) == (
        received, 30, None, received + 30 * DAY_MS)
    assert (complaint.retention_days, complaint.retention_category, complaint.expires_ms) == (
        365, "complaint_evidence", received + 365 * DAY_MS)
    # a later batch on a longer-kept page raises the period; it never lowers it
    record(world.client, world.write_key, "plain-session-1", clock, href="https://bank.example/kyc/id", seq=1)
    record(world.client, world.write_key, "plain-session-1", clock, href="https://bank.example/home", seq=2)
    assert (_row(world.rt, "plain-session-1").retention_days, _row(world.rt, "plain-session-1").expires_ms) == (
        90, received + 90 * DAY_MS)


def test_policy_change_recomputes_live_sessions_but_never_revives_expired_ones(clock, world: World, po) -> None:
    rt = world.rt
    record(world.client, world.write_key, "complaint-10d", clock, age_days=10, href="https://bank.example/complaints/1")
    record(world.client, world.write_key, "complaint-31d", clock, age_days=31, href="https://bank.example/complaints/2")
    record(world.client, world.write_key, "plain-10d-xx", clock, age_days=10)
    assert _row(rt, "complaint-10d").expires_ms == NOW - 10 * DAY_MS + 30 * DAY_MS  # the default: 30 days
    set_policy(rt, "p1", POLICY, "cli")
    ids = [s["id"] for s in world.client.get("/api/v1/sessions", headers=po.headers).json()]
    assert sorted(ids) == sorted(["complaint-10d", "plain-10d-xx", world.sid])  # the 31-day one stays expired
    assert (_row(rt, "complaint-10d").retention_days, _row(rt, "complaint-10d").expires_ms) == (
        365, NOW - 10 * DAY_MS + 365 * DAY_MS)
    assert _row(rt, "complaint-31d").expires_ms == NOW - 31 * DAY_MS + 30 * DAY_MS
    # a shorter default expires the plain 10-day-old session at once
    set_policy(rt, "p1", POLICY.replace("default_days: 30", "default_days: 7"), "cli")
    ids = [s["id"] for s in world.client.get("/api/v1/sessions", headers=po.headers).json()]
    assert sorted(ids) == sorted(["complaint-10d", world.sid])
    assert _row(rt, "plain-10d-xx").expires_ms == NOW - 10 * DAY_MS + 7 * DAY_MS


def test_a_batch_after_a_policy_change_recomputes_its_session_from_all_its_pages(clock, world: World) -> None:
    record(world.client, world.write_key, "complaint-3d-x", clock, age_days=3, href="https://bank.example/complaints/9")
    set_policy(world.rt, "p1", POLICY, "cli")
    record(world.client, world.write_key, "complaint-3d-x", clock, href="https://bank.example/home", seq=1)
    row = _row(world.rt, "complaint-3d-x")
    assert (row.retention_days, row.retention_category, row.expires_ms) == (
        365, "complaint_evidence", NOW - 3 * DAY_MS + 365 * DAY_MS)  # the complaint page of the first batch counts


# -- done when: absent from every API before and after the sweep ---------------------------------
def _api_views(client, headers, old: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What each API says that could reveal ``old``; the checks below work out what each must be."""
    get = lambda path, **params: client.get(path, params=params, headers=headers)  # noqa: E731
    out: dict[str, object] = {
        "sessions": [s["id"] for s in get("/api/v1/sessions").json()],
        "session": get(f"/api/v1/sessions/{old}").status_code,
        "signals_of_session": get(f"/api/v1/sessions/{old}/signals").status_code,
        "access": client.post(f"/api/v1/sessions/{old}/access", headers=headers,
                              json={"purpose": "compliance_audit", "justification": "CASE-9"}).status_code,
        "export_request": client.post(f"/api/v1/sessions/{old}/exports", headers=headers,
                                      json={"purpose": "compliance_audit", "justification": "CASE-9"}).status_code,
        "hold": client.post(f"/api/v1/sessions/{old}/legal-hold", headers=headers, json={"reason": "CASE-9"}).status_code,
        "search": [s["session_id"] for s in get("/api/v1/sessions/search").json()["sessions"]],
        "pages": {p["url"]: (p["page_views"], p["clicks"]) for p in get("/api/v1/pages").json()},
        "old_page_heatmap": get("/api/v1/heatmaps", url=OLD_URL).status_code,
        "shared_heatmap_clicks": get("/api/v1/heatmaps", url=SHARED_URL).json()["fallback_clicks"],
        "funnel": get("/api/v1/funnels", step=["/statements/*", "event:x"]).json()["steps"][0]["dropped_sessions"],
        "capture": get("/api/v1/privacy/capture-compliance").json()["sessions"],
    }
    texts = [get(p).text for p in ("/api/v1/sessions", "/api/v1/sessions/search", "/api/v1/pages",
                                   "/api/v1/signals", "/api/v1/forms", "/")]
    texts.append(get("/api/v1/funnels", step=["/statements/*", "event:x"]).text)
    out["mentions"] = sum(t.count(old) for t in texts)
    return out


def test_a_31_day_old_session_under_a_30_day_policy_is_absent_from_every_api_before_and_after_the_sweep(
        clock, world: World, po) -> None:
    rt, client = world.rt, world.client
    record(client, world.write_key, OLD, clock, age_days=31, href=OLD_URL)
    record(client, world.write_key, FRESH, clock, age_days=0, href=SHARED_URL)
    live = sorted([FRESH, world.sid])  # world.sid: the fixture's session, recorded now
    for phase in ("before", "after"):
        seen = _api_views(client, po.headers, OLD)
        for key in ("sessions", "search", "funnel"):  # the funnel's first step is /statements/*: every session
            assert sorted(seen.pop(key)) == live, (phase, key)  # type: ignore[call-overload]
        assert seen == {"session": 404, "signals_of_session": 404, "access": 404, "export_request": 404, "hold": 404,
                        "pages": {SHARED_URL: (1, 1), "https://bank.example/statements/overview-7f3a": (1, 1)},
                        "old_page_heatmap": 404, "shared_heatmap_clicks": 1, "capture": 2, "mentions": 0}, phase
        assert [sid for _, sid, _ in snapshots_for_url(rt, OLD_URL, limit=5)] == [], phase
        with pytest.raises(NotFound):
            session_events(rt, OLD)
        if phase == "before":
            assert _row(rt, OLD).shredded_ms is None  # still on disk: hidden, not yet deleted
            result = sweep(rt, actor="cli")
            assert [s.session_id for s in result.shredded] == [OLD]
    assert client.get(f"/sessions/{OLD}", headers=po.headers).status_code == 404
    r = post_batch(client, {"session_id": OLD, "seq": 5, "events": page_events(OLD_URL)},
                   {"X-Replayvault-Key": world.write_key, "Origin": ORIGIN})
    assert (r.status_code, r.json()["error"]) == (
        410, "this session was deleted (retention period ended or erasure); batch not accepted")


def test_an_expired_session_is_refused_by_the_collector_before_the_sweep(clock, world: World) -> None:
    record(world.client, world.write_key, OLD, clock, age_days=31, href=OLD_URL)
    r = post_batch(world.client, {"session_id": OLD, "seq": 1, "events": page_events(OLD_URL)},
                   {"X-Replayvault-Key": world.write_key, "Origin": ORIGIN})
    assert r.status_code == 410
    assert _row(world.rt, OLD).chunk_count == 1


def test_a_grant_taken_before_expiry_opens_nothing_after_it(clock, world: World, po) -> None:
    record(world.client, world.write_key, OLD, clock, age_days=29)
    g = grant(world.client, po, OLD)
    clock.now += 2 * DAY_MS  # now 31 days old
    r = world.client.get(f"/api/v1/sessions/{OLD}/events", params={"grant": g}, headers=po.headers)
    assert (r.status_code, r.json()) == (404, {"error": "no such session", "status": 404})
    assert [e["action"] for e in audit_rows(world.rt)].count("recording.view") == 0


# -- done when: copies of the chunk files cannot be decrypted after the sweep ----------------------
def test_chunk_copies_taken_before_the_sweep_cannot_be_decrypted_after_it(clock, world: World, tmp_path) -> None:
    rt = world.rt
    record(world.client, world.write_key, OLD, clock, age_days=31, href=OLD_URL)
    copies = copy_chunks(rt, OLD, tmp_path / "backup")
    wrapped = bytes(_row(rt, OLD).wrapped_dek)
    assert len(wrapped) == 40  # RFC 3394 wrap of a 32-byte key
    keys = stored_data_keys(rt)
    assert len(keys) == 2 and [any(opens(c, OLD, k) for k in keys) for c in copies] == [True]  # readable before

    result = sweep(rt, actor="cli")

    assert [s.session_id for s in result.shredded] == [OLD]
    row = _row(rt, OLD)
    assert (row.wrapped_dek, row.mask_state, row.fact_state, row.chunk_count, row.shredded_ms) == (
        None, "{}", "{}", 0, NOW)
    assert stored_data_keys(rt) != [] and not any(opens(c, OLD, k) for c in copies for k in stored_data_keys(rt))
    assert wrapped not in database_bytes(rt)  # the wrapped key left no copy in the database file or its log
    assert not list((rt.settings.chunks_dir / "p1" / OLD).glob("*.rvc"))  # the files themselves are gone
    assert [hashlib.sha256(c.path.read_bytes()).hexdigest() for c in copies] == [c.sha256 for c in copies]
    with rt.sessions() as db:
        assert db.scalars(select(Chunk).where(Chunk.session_id == OLD)).all() == []
        assert db.scalars(select(PageSnapshot.url).where(PageSnapshot.url == OLD_URL)).all() == []
        assert db.scalars(select(Masking).where(Masking.session_id == OLD)).all() == []
    assert rt.analytics.session(OLD) is None  # facts deleted (read without any hiding)
    assert rt.analytics.behaviour_rows("page_views", session_id=OLD) == []
    assert result.shredded[0].as_dict() == {
        "session_id": OLD, "project_id": "p1", "created_ms": NOW - 31 * DAY_MS,
        "expires_ms": NOW - 31 * DAY_MS + 30 * DAY_MS, "retention_days": 30, "category": None,
        "key_destroyed_ms": NOW, "chunks": 1, "stored_bytes": sum(c.path.stat().st_size for c in copies),
        "events": 3,  # Meta, FullSnapshot, click
        "analytics_rows": 4,  # one row each in sessions, page_views, clicks, scroll_depths
        "page_snapshots": 1, "audit_idx": len(audit_rows(rt)) - 2}  # then the certificate's entry


# -- done when: a held session survives the sweep ----------------------------------------------
def test_a_held_session_survives_the_sweep_until_released(clock, world: World, po, tmp_path) -> None:
    rt, client = world.rt, world.client
    record(client, world.write_key, OLD, clock, age_days=29)
    r = client.post(f"/api/v1/sessions/{OLD}/legal-hold", json={"reason": "Case 2026-114"}, headers=po.headers)
    assert r.status_code == 200 and r.json()["reason"] == "Case 2026-114"
    clock.now += 2 * DAY_MS  # 31 days old: past its period, but held
    copies = copy_chunks(rt, OLD, tmp_path / "c")

    result = sweep(rt, actor="cli")

    assert (result.held, result.shredded, result.certificate) == ([OLD], [], None)
    assert OLD in [s["id"] for s in client.get("/api/v1/sessions", headers=po.headers).json()]  # held: still visible
    assert any(opens(c, OLD, k) for c in copies for k in stored_data_keys(rt))
    assert len(session_events(rt, OLD)) == 3
    r = client.post(f"/api/v1/sessions/{OLD}/legal-hold/release", json={"reason": "Case closed"}, headers=po.headers)
    assert r.status_code == 200 and r.json()["release_reason"] == "Case closed"
    assert OLD not in [s["id"] for s in client.get("/api/v1/sessions", headers=po.headers).json()]  # absent at once
    assert [s.session_id for s in sweep(rt, actor="cli").shredded] == [OLD]
    assert not any(opens(c, OLD, k) for c in copies for k in stored_data_keys(rt))


# -- done when: every deletion has its audit entry ------------------------------------------------
def test_every_deletion_has_its_audit_entry_and_the_certificate_proves_them(clock, world: World) -> None:
    rt, client = world.rt, world.client
    record(client, world.write_key, OLD, clock, age_days=31, href=OLD_URL)
    record(client, world.write_key, OTHER, clock, age_days=40)
    record(client, world.write_key, "held-session-31d", clock, age_days=29)
    from replayvault.governance.retention import place_hold

    place_hold(rt, "held-session-31d", "Case 7", "cli")
    clock.now += 2 * DAY_MS
    sizes = {sid: _row(rt, sid).stored_bytes for sid in (OLD, OTHER)}
    first = len(audit_rows(rt))

    result = sweep(rt, actor="cli")

    new = audit_rows(rt)[first:]
    assert [(e["action"], e["resource"]) for e in new] == [
        ("retention.deleted", f"session:{OTHER}"),  # expired first (40 days ago + 30)
        ("retention.deleted", f"session:{OLD}"),
        ("deletion.certificate", f"certificate:{result.certificate['certificate']}")]
    for e, sid, age in zip(new[:2], (OTHER, OLD), (40, 31)):
        assert (e["actor"], e["outcome"], e["details"]) == ("cli", "ok", {
            "reason": "retention", "project": "p1", "chunks": 1, "stored_bytes": sizes[sid], "events": 3,
            "retention_days": 30, "category": None, "key_destroyed": True,
            "expires_ms": NOW - age * DAY_MS + 30 * DAY_MS})
    with rt.sessions() as db:
        row = db.get(DeletionCertificate, result.certificate["certificate"])
    doc = json.loads(row.document)
    assert hashlib.sha256(row.document.encode()).hexdigest() == row.sha256 == new[2]["details"]["sha256"]
    assert new[2]["details"] == {"sha256": row.sha256, "reason": "retention", "sessions": 2,
                                 "checkpoint_size": new[1]["idx"] + 1, "dsar_request": None}
    assert [s["session_id"] for s in doc["sessions"]] == [OTHER, OLD]
    assert [s["audit_idx"] for s in doc["sessions"]] == [new[0]["idx"], new[1]["idx"]]
    assert doc["kept_under_legal_hold"] == ["held-session-31d"]
    assert doc["totals"] == {"sessions": 2, "chunks": 2, "stored_bytes": sizes[OLD] + sizes[OTHER], "events": 6,
                             "analytics_rows": 8, "page_snapshots": 2}  # 4 facts and 1 snapshot per session
    assert (doc["reason"], doc["actor"], doc["dsar_request"]) == ("retention", "cli", None)
    assert doc["checkpoint"]["tree_size"] == new[1]["idx"] + 1  # signed right after the deletion entries
    for item in doc["sessions"]:  # each deletion is provably in the signed tree
        bundle = rt.audit.inclusion_bundle(item["audit_idx"], doc["checkpoint"]["tree_size"])
        assert verify_bundle(bundle, rt.audit.verifier_key)["entry"]["action"] == "retention.deleted"
    rt.audit.verify()


def test_a_dry_run_changes_nothing_and_logs_nothing(clock, world: World) -> None:
    record(world.client, world.write_key, OLD, clock, age_days=31)
    before = audit_rows(world.rt)
    result = sweep(world.rt, actor="cli", dry_run=True)
    assert [(x["session_id"], x["retention_days"], x["expires_ms"]) for x in result.expired] == [
        (OLD, 30, NOW - DAY_MS)]
    assert (result.shredded, result.certificate) == ([], None)
    assert audit_rows(world.rt) == before and _row(world.rt, OLD).wrapped_dek is not None


def test_a_sweep_with_nothing_due_writes_nothing(world: World) -> None:
    before = audit_rows(world.rt)
    assert sweep(world.rt).as_dict()["shredded"] == []
    assert audit_rows(world.rt) == before
