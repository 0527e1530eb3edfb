"""The compliance checklist: each item's colour for a few configurations, with the evidence that decided it.

Seeds reuse :mod:`test_metrics` (clock NOW, sessions A-S, staff lead/dpo/ux/lazy); thresholds from
``compliance.checklist``: masking green >= 99 %, amber >= 95 %; training amber >= 80 %.
"""

from __future__ import annotations

import hashlib
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import update

from replayvault.compliance import checklist as C
from replayvault.compliance.webhook import PushState, _save_state, state_path
from replayvault.config import Settings
from replayvault.db.models import AuditEntry
from replayvault.projects_setup import ensure_project
from replayvault.runtime import Runtime
from replayvault.web.app import create_app
from staff import add_staff
from test_metrics import DAY_MS, NOW, _ingest, clock, seeded  # noqa: F401  (fixtures)

URL = "https://siem.example/hook"


def _items(rt, now: int = NOW) -> dict[str, C.Item]:  # type: ignore[no-untyped-def]
    return {i.key: i for i in C.checklist(rt, None, now)}


def test_seeded_set_colours(seeded, clock) -> None:  # noqa: F811
    items = _items(seeded.rt)
    assert list(items) == ["masking_encryption", "consent", "audit_trails", "retention", "training", "reviews",
                           "integration"]
    # capture 5/8 = 62.5 % < 95 %
    assert items["masking_encryption"].status == C.RED and "62.5 %" in items["masking_encryption"].evidence
    # every recorded session has its grant receipt, but X's batch came without a consent token: amber
    assert items["consent"].status == C.AMBER and items["consent"].facts["consent_incidents"] == 1
    assert items["consent"].evidence == (
        "consent rate 66.7 % (8/12); 1 refusals (1 by GPC, 0 by DNT, 0 by TCF), 1 skipped, 2 withdrawn; 1 batches "
        "refused or trimmed by the consent check: batches without valid consent reached the collector (check the "
        "site's tracker integration)")
    # verifies, but no checkpoint was signed yet
    assert items["audit_trails"].status == C.AMBER and "no signed checkpoint" in items["audit_trails"].evidence
    # D is past its period and present
    assert items["retention"].status == C.RED and items["retention"].facts["expired_sessions"] == [seeded.ids["D"]]
    # staff who may read recordings: lead, dpo, ux (trained), lazy (not): 3/4 = 75 % < 80 %
    assert items["training"].status == C.RED and items["training"].facts["current"] == 3
    assert items["training"].facts["staff"] == 4 and "3/4" in items["training"].evidence
    assert items["reviews"].status == C.GREEN
    assert items["integration"].status == C.AMBER and "no SIEM/GRC webhook" in items["integration"].evidence
    # a checkpoint now: 300 s later it is under 2 x 300 s (green); 600 s later it is not (amber)
    seeded.rt.audit.checkpoint()
    clock.ms = NOW + 300_000
    assert _items(seeded.rt, NOW + 300_000)["audit_trails"].status == C.GREEN
    clock.ms = NOW + 600_000
    assert _items(seeded.rt, NOW + 600_000)["audit_trails"].status == C.AMBER


def _clean_world(tmp_path, clock, *, webhook: bool, trained: int, untrained: int):  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path / "clean", allowed_hosts="testserver", webhook_url=URL if webhook else None)
    rt = Runtime(settings)
    p = ensure_project(rt, "p1", "P1", [])
    client = TestClient(create_app(rt))
    lead = add_staff(rt, "lead", ["compliance_lead"])
    r = client.put("/api/v1/projects/p1/policy", content="retention:\n  default_days: 60\n",
                   headers={**lead.headers, "Content-Type": "application/yaml"})
    assert r.status_code == 200, r.text
    for _ in range(3):
        _ingest(client, p.write_key, clock, 1)
    for i in range(trained - 1):
        add_staff(rt, f"t{i}", ["ux_analyst"])
    for i in range(untrained):
        add_staff(rt, f"u{i}", ["ux_analyst"], trained=None)
    rt.audit.checkpoint()
    return rt


def test_clean_installation_is_green(tmp_path, clock) -> None:  # noqa: F811
    rt = _clean_world(tmp_path, clock, webhook=True, trained=4, untrained=1)
    _save_state(state_path(rt.settings), PushState(next_index=9, url_sha256=hashlib.sha256(URL.encode()).hexdigest(),
                                                   last_success_ms=NOW - 60_000))
    items = _items(rt)
    assert {k: i.status for k, i in items.items()} == {
        "masking_encryption": C.GREEN, "consent": C.GREEN, "audit_trails": C.GREEN, "retention": C.GREEN,
        "training": C.AMBER,  # 4 of 5 = 80 %: amber
        "reviews": C.GREEN, "integration": C.GREEN}
    assert "3/3" in items["masking_encryption"].evidence
    assert items["consent"].evidence.startswith("every recorded session has a grant receipt; consent rate 100.0 % (3/3)")
    assert "every project (1) sets its retention policy" in items["retention"].evidence
    # the push failing since: amber
    _save_state(state_path(rt.settings), PushState(next_index=9, url_sha256=hashlib.sha256(URL.encode()).hexdigest(),
                                                   last_success_ms=NOW - 60_000, consecutive_failures=2,
                                                   last_error="HTTP 503 (batch from index 9)"))
    assert _items(rt)["integration"].status == C.AMBER


def test_training_all_current_is_green_and_review_overdue_is_amber(tmp_path, clock) -> None:  # noqa: F811
    rt = _clean_world(tmp_path, clock, webhook=False, trained=2, untrained=0)
    items = _items(rt)
    assert items["training"].status == C.GREEN and items["integration"].status == C.AMBER
    # no access review completed 90 + 14 days after the first account: overdue
    later = NOW + 105 * DAY_MS
    clock.ms = later
    assert _items(rt, later)["reviews"].status == C.AMBER


def test_tampered_log_and_unencrypted_session_are_red(tmp_path, clock) -> None:  # noqa: F811
    rt = _clean_world(tmp_path, clock, webhook=False, trained=1, untrained=0)
    with rt.sessions() as db:
        db.execute(update(AuditEntry).where(AuditEntry.idx == 1).values(details='{"forged":true}'))
        from replayvault.db.models import RecordingSession
        sid = db.scalars(RecordingSession.__table__.select().with_only_columns(RecordingSession.id)).first()
        db.execute(update(RecordingSession).where(RecordingSession.id == sid).values(wrapped_dek=None))
        db.commit()
    items = _items(rt)
    assert items["audit_trails"].status == C.RED and "audit verify failed" in items["audit_trails"].evidence
    assert items["masking_encryption"].status == C.RED and "1 stored session(s) without a wrapped data key" in \
        items["masking_encryption"].evidence


def test_api_checklist(seeded) -> None:  # noqa: F811
    r = seeded.client.get("/api/v1/compliance/checklist", params={"from": "2026-11-20"}, headers=seeded.lead.headers)
    assert r.status_code == 200, r.text
    items = {i["key"]: i for i in r.json()["items"]}
    # last 10 days: capture 4/5 = 80 % -> red; retention is judged over all time: D -> red
    assert items["masking_encryption"]["status"] == "red" and "80.0 %" in items["masking_encryption"]["evidence"]
    assert items["retention"]["status"] == "red"
    assert uuid.UUID(items["retention"]["facts"]["expired_sessions"][0])


def test_consent_is_red_for_a_recording_without_receipt_and_amber_without_receipts(tmp_path, clock) -> None:  # noqa: F811
    from replayvault.ingest.service import accept_batch
    from replayvault.ingest.validate import IngestRequest
    from test_metrics import _events

    rt = Runtime(Settings(home=tmp_path / "c", allowed_hosts="testserver"))
    p = ensure_project(rt, "p1", "P1", [])
    assert _items(rt)["consent"].status == C.AMBER  # nothing yet: the mechanism is not shown to work
    assert _items(rt)["consent"].evidence == "no consent receipts in the period: the mechanism is not shown to work"
    # A session stored without going through the collector's consent check (as before the ledger existed).
    sid = str(uuid.uuid4())
    accept_batch(rt, p, IngestRequest(session_id=sid, seq=0, events=_events(False)))
    item = _items(rt)["consent"]
    assert item.status == C.RED and item.facts["recorded_without_receipt"] == 1
    assert item.evidence.startswith("1 recorded sessions have no consent receipt, so their consent cannot be shown")


def test_a_policy_without_a_retention_section_leaves_the_project_on_the_default(tmp_path, clock) -> None:  # noqa: F811
    """Found by the fresh-user review: setting only a capture scope used to count as setting retention."""
    from replayvault.governance.policies import set_policy

    rt = Runtime(Settings(home=tmp_path / "r", allowed_hosts="testserver"))
    ensure_project(rt, "p1", "P1", [])
    set_policy(rt, "p1", 'capture_scope: {deny: ["/payments/*"]}\n', "test")
    item = _items(rt)["retention"]
    assert (item.status, item.facts["projects_on_default"]) == (C.AMBER, ["p1"])
    set_policy(rt, "p1", 'capture_scope: {deny: ["/payments/*"]}\nretention: {default_days: 30}\n', "test")
    assert _items(rt)["retention"].status == C.GREEN


def test_the_retention_item_looks_only_at_the_chosen_project(tmp_path, clock) -> None:  # noqa: F811
    from replayvault.compliance.checklist import checklist
    from replayvault.compliance.metrics import Period
    from replayvault.governance.policies import set_policy

    rt = Runtime(Settings(home=tmp_path / "r2", allowed_hosts="testserver"))
    ensure_project(rt, "p1", "P1", [])
    ensure_project(rt, "p2", "P2", [])
    set_policy(rt, "p1", "retention: {default_days: 30}\n", "test")
    by = {i.key: i for i in checklist(rt, Period(project="p1"), NOW)}
    assert (by["retention"].status, by["retention"].facts["projects"]) == (C.GREEN, 1)
    by = {i.key: i for i in checklist(rt, Period(), NOW)}
    assert (by["retention"].status, by["retention"].facts["projects_on_default"]) == (C.AMBER, ["p2"])
