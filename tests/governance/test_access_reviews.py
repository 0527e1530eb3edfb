"""Access reviews (governance.reviews): snapshot, attest/revoke effects, four-eyes, closing rules, and the
schedule's overdue rule on a frozen clock. Expected values are worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from govkit import Clock, audit_rows, last_idx
from staff import Staff, add_staff

from replayvault.db.models import User
from replayvault.errors import InvalidInput, NotFound, PermissionDenied
from replayvault.governance import accounts, reviews
from replayvault.governance.reviews import DAY_MS, review_status

#: 2026-09-01 00:00:00 UTC: 20,697 days after 1970-01-01 (56 years with 14 leap days = 20,454 days to
#: 2026-01-01, plus 243 days of January-August) × 86,400,000 ms.
SEPT_1 = 1_788_220_800_000


def ms(iso: str) -> int:
    """``YYYY-MM-DDTHH:MM[:SS]`` (UTC) in epoch ms."""
    return int(dt.datetime.fromisoformat(iso).replace(tzinfo=dt.UTC).timestamp() * 1000)


@pytest.fixture
def clock(monkeypatch) -> Clock:  # type: ignore[no-untyped-def]
    c = Clock(ms("2026-09-01T09:00"))
    monkeypatch.setattr(reviews, "_now", c)
    return c


@pytest.fixture
def team(rt) -> dict[str, Staff]:  # type: ignore[no-untyped-def]
    """3 active users holding 5 roles, plus a disabled admin (not reviewed); accounts created 2026-06-01."""
    people = {"hana": ["hr_liaison"], "cleo": ["compliance_lead", "ux_analyst"],
              "uma": ["security_specialist", "ux_analyst"], "dave": ["admin"]}
    team = {name: add_staff(rt, name, roles) for name, roles in people.items()}
    with rt.sessions() as db:
        accounts.set_disabled(db, accounts.get_user(db, team["dave"].user_id))
        db.execute(update(User).values(created_ms=ms("2026-06-01T00:00")))
        db.commit()
    return team


def actor(s: Staff) -> str:
    return f"user:{s.user_id}"


def items(rt, review_id: str) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    """(user name, role) -> item id."""
    return {(i["username"], i["role"]): i["id"] for i in reviews.get_review(rt, review_id)["items"]}


def test_opening_snapshots_every_active_users_roles(rt, team, clock) -> None:
    r = reviews.open_review(rt, actor(team["hana"]))
    assert (r["status"], r["total"], r["undecided"], r["attested"], r["revoked"]) == ("open", 5, 5, 0, 0)
    assert r["due_ms"] == ms("2026-09-15T09:00") == clock.now + 14 * DAY_MS
    full = reviews.get_review(rt, r["id"])
    assert [(i["username"], i["role"], i["decision"]) for i in full["items"]] == [
        ("cleo", "compliance_lead", None), ("cleo", "ux_analyst", None), ("hana", "hr_liaison", None),
        ("uma", "security_specialist", None), ("uma", "ux_analyst", None)]  # dave is disabled: not reviewed
    opened = audit_rows(rt)[-1]
    assert (opened["action"], opened["actor"], opened["resource"]) == (
        "access_review.opened", actor(team["hana"]), f"access_review:{r['id']}")
    assert opened["details"] == {"items": 5, "users": 3, "due_ms": ms("2026-09-15T09:00")}
    with pytest.raises(InvalidInput, match=f"access review {r['id']} is still open"):
        reviews.open_review(rt, actor(team["cleo"]))


@pytest.mark.parametrize("days", [0, 91, -1, "14", 1.5, True, None])
def test_due_days_must_be_1_to_90(rt, team, clock, days) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="due_days must be a whole number of days from 1 to 90"):
        reviews.open_review(rt, actor(team["hana"]), due_days=days)


def test_attest_keeps_and_revoke_removes_the_role_with_exact_audit_entries(rt, team, clock) -> None:
    r = reviews.open_review(rt, actor(team["hana"]))
    ids, before = items(rt, r["id"]), last_idx(rt)
    clock.now = ms("2026-09-02T10:00")
    out = reviews.decide_item(rt, r["id"], ids[("cleo", "compliance_lead")], "attest", actor(team["hana"]))
    assert (out["item"]["decision"], out["item"]["decided_by"], out["item"]["decided_ms"]) == (
        "attest", actor(team["hana"]), ms("2026-09-02T10:00"))
    out = reviews.decide_item(rt, r["id"], ids[("uma", "ux_analyst")], "revoke", actor(team["hana"]))
    assert (out["review"]["attested"], out["review"]["revoked"], out["review"]["undecided"]) == (1, 1, 3)
    with rt.sessions() as db:
        assert accounts.roles_of(db, team["uma"].user_id) == {"security_specialist"}
        assert accounts.roles_of(db, team["cleo"].user_id) == {"compliance_lead", "ux_analyst"}
    new = [e for e in audit_rows(rt) if e["idx"] > before]
    assert [(e["action"], e["resource"], e["outcome"]) for e in new] == [
        ("access_review.attested", f"access_review:{r['id']}", "ok"),
        ("access_review.revoked", f"access_review:{r['id']}", "ok"),
        ("role.revoked", f"user:{team['uma'].user_id}", "ok")]
    assert new[1]["details"] == {"item": ids[("uma", "ux_analyst")], "user": actor(team["uma"]), "role": "ux_analyst",
                                 "removed": True}
    assert new[2]["details"] == {"role": "ux_analyst", "access_review": r["id"]}
    with pytest.raises(InvalidInput, match=r"already decided \(revoke\); decisions are final"):
        reviews.decide_item(rt, r["id"], ids[("uma", "ux_analyst")], "attest", actor(team["cleo"]))


def test_nobody_reviews_their_own_roles(rt, team, clock) -> None:
    r = reviews.open_review(rt, actor(team["hana"]))
    own = items(rt, r["id"])[("hana", "hr_liaison")]
    before = last_idx(rt)
    with pytest.raises(PermissionDenied, match=r"nobody reviews their own roles \(four-eyes\)"):
        reviews.decide_item(rt, r["id"], own, "revoke", actor(team["hana"]))
    denied = [e for e in audit_rows(rt) if e["idx"] > before]
    assert [(e["action"], e["outcome"], e["details"]["item"]) for e in denied] == [
        ("access_review.revoked", "denied", own)]
    with rt.sessions() as db:
        assert accounts.roles_of(db, team["hana"].user_id) == {"hr_liaison"}
    assert reviews.get_review(rt, r["id"])["undecided"] == 5
    reviews.decide_item(rt, r["id"], own, "attest", actor(team["cleo"]))  # another reviewer may
    assert reviews.get_review(rt, r["id"])["attested"] == 1


@pytest.mark.parametrize("who", ["uma", "dave", "cli"])
def test_only_an_active_reviewer_decides(rt, team, clock, who) -> None:  # type: ignore[no-untyped-def]
    r = reviews.open_review(rt, "cli")  # the operator may open one from the command line
    item = items(rt, r["id"])[("cleo", "ux_analyst")]
    name = "cli" if who == "cli" else actor(team[who])
    message = "a decision needs a named reviewer" if who in ("dave", "cli") else "only an hr_liaison or compliance_lead"
    with pytest.raises(PermissionDenied, match=message):
        reviews.decide_item(rt, r["id"], item, "attest", name)
    assert audit_rows(rt)[-1]["outcome"] == "denied"
    with pytest.raises(PermissionDenied):
        reviews.open_review(rt, actor(team["uma"])) if who == "uma" else reviews.close_review(rt, r["id"], actor(team["dave"]))


def test_bad_decisions_and_ids(rt, team, clock) -> None:
    r = reviews.open_review(rt, actor(team["hana"]))
    ids = items(rt, r["id"])
    with pytest.raises(InvalidInput, match="decision must be 'attest' or 'revoke'"):
        reviews.decide_item(rt, r["id"], ids[("uma", "ux_analyst")], "keep", actor(team["hana"]))
    with pytest.raises(NotFound, match="no such access review"):
        reviews.decide_item(rt, "ar_0000000000000000", 1, "attest", actor(team["hana"]))
    with pytest.raises(NotFound, match="no such item in this access review"):
        reviews.decide_item(rt, r["id"], 999, "attest", actor(team["hana"]))
    with rt.sessions() as db:  # removed outside the review after it opened
        accounts.revoke_role(db, accounts.get_user(db, team["uma"].user_id), "ux_analyst", "cli")
        db.commit()
    with pytest.raises(InvalidInput, match="no longer holds ux_analyst"):
        reviews.decide_item(rt, r["id"], ids[("uma", "ux_analyst")], "attest", actor(team["hana"]))
    before = last_idx(rt)
    reviews.decide_item(rt, r["id"], ids[("uma", "ux_analyst")], "revoke", actor(team["hana"]))
    new = [e for e in audit_rows(rt) if e["idx"] > before]  # nothing left to remove: no role.revoked
    assert [(e["action"], e["details"]["removed"]) for e in new] == [("access_review.revoked", False)]


def test_the_last_decision_completes_the_review(rt, team, clock) -> None:
    r = reviews.open_review(rt, actor(team["hana"]))
    ids = items(rt, r["id"])
    for key in [("cleo", "compliance_lead"), ("cleo", "ux_analyst"), ("uma", "security_specialist")]:
        reviews.decide_item(rt, r["id"], ids[key], "attest", actor(team["hana"]))
    reviews.decide_item(rt, r["id"], ids[("uma", "ux_analyst")], "revoke", actor(team["hana"]))
    assert reviews.get_review(rt, r["id"])["status"] == "open"
    clock.now = ms("2026-09-10T12:00")
    before = last_idx(rt)
    out = reviews.decide_item(rt, r["id"], ids[("hana", "hr_liaison")], "attest", actor(team["cleo"]))
    assert {k: out["review"][k] for k in ("status", "closed_by", "closed_ms", "attested", "revoked", "undecided")} == {
        "status": "completed", "closed_by": actor(team["cleo"]), "closed_ms": ms("2026-09-10T12:00"),
        "attested": 4, "revoked": 1, "undecided": 0}
    new = [e for e in audit_rows(rt) if e["idx"] > before]
    assert [e["action"] for e in new] == ["access_review.attested", "access_review.closed"]
    assert new[1]["details"] == {"status": "completed", "attested": 4, "revoked": 1, "undecided": 0}
    with pytest.raises(InvalidInput, match=f"access review {r['id']} is completed"):
        reviews.close_review(rt, r["id"], actor(team["hana"]))
    # the whole review wrote: opened, 5 decisions, 1 role.revoked, closed
    mine = [e["action"] for e in audit_rows(rt) if e["action"].startswith("access_review.") or e["action"] == "role.revoked"]
    assert mine == ["access_review.opened"] + ["access_review.attested"] * 3 + [
        "access_review.revoked", "role.revoked", "access_review.attested", "access_review.closed"]


def test_closing_early_leaves_undecided_items_and_does_not_count(rt, team, clock) -> None:
    r = reviews.open_review(rt, actor(team["hana"]))
    ids = items(rt, r["id"])
    reviews.decide_item(rt, r["id"], ids[("cleo", "ux_analyst")], "attest", actor(team["hana"]))
    clock.now = ms("2026-09-20T08:00")
    out = reviews.close_review(rt, r["id"], actor(team["cleo"]), "  superseded by the Q4 review ")
    assert {k: out[k] for k in ("status", "closed_ms", "close_reason", "attested", "undecided")} == {
        "status": "closed", "closed_ms": ms("2026-09-20T08:00"), "close_reason": "superseded by the Q4 review",
        "attested": 1, "undecided": 4}
    closed = audit_rows(rt)[-1]
    assert (closed["action"], closed["justification"], closed["details"]) == (
        "access_review.closed", "superseded by the Q4 review",
        {"status": "closed", "attested": 1, "revoked": 0, "undecided": 4})
    assert [i["decision"] for i in reviews.get_review(rt, r["id"])["items"]].count(None) == 4
    with pytest.raises(InvalidInput, match="is closed; nothing can be decided"):
        reviews.decide_item(rt, r["id"], ids[("uma", "ux_analyst")], "attest", actor(team["hana"]))
    with rt.sessions() as db:
        assert review_status(db, clock.now).last_completed_ms is None
    with pytest.raises(InvalidInput, match="reason is longer than 200 characters"):
        reviews.close_review(rt, reviews.open_review(rt, "cli")["id"], "cli", "x" * 201)


def test_overdue_rules_on_a_frozen_clock(rt, team, clock) -> None:
    def status(at: str, extra_ms: int = 0):  # type: ignore[no-untyped-def]
        with rt.sessions() as db:
            return review_status(db, ms(at) + extra_ms)

    # 1. No review yet: baseline = first account 2026-06-01; + 90 days = 2026-08-30 (June 30 days, July 31,
    #    August 29 more); + 14 days' grace = 2026-09-13. Amber from 1 ms after it.
    s = status("2026-09-13T00:00")
    assert (s.last_completed_ms, s.next_due_ms, s.deadline_ms, s.overdue) == (
        None, ms("2026-08-30T00:00"), ms("2026-09-13T00:00"), False)
    assert s.deadline_ms == SEPT_1 + 12 * DAY_MS
    s = status("2026-09-13T00:00", 1)
    assert (s.overdue, s.reason) == (True, "no access review completed within 90 days (+14 days' grace); none completed yet")
    # 2. A review opened 2026-09-01 09:00 and completed 2026-09-10 12:00: next due 90 days later =
    #    2026-12-09 12:00 (20 days left in September + 31 + 30 + 9), amber after 2026-12-23 12:00.
    r = reviews.open_review(rt, actor(team["hana"]))
    assert status("2026-09-05T00:00").open_review_id == r["id"] and status("2026-09-05T00:00").undecided == 5
    ids = items(rt, r["id"])
    clock.now = ms("2026-09-10T12:00")
    for (name, role), item in ids.items():
        reviews.decide_item(rt, r["id"], item, "attest", actor(team["cleo" if name == "hana" else "hana"]))
    s = status("2026-12-23T12:00")
    assert (s.last_completed_ms, s.next_due_ms, s.deadline_ms, s.overdue, s.open_review_id) == (
        ms("2026-09-10T12:00"), ms("2026-12-09T12:00"), 1_798_027_200_000, False, None)
    assert status("2026-12-23T12:00", 1).overdue is True
    # 3. An open review past its own due date is overdue even though the schedule is fine: opened
    #    2026-10-01 00:00 with 7 days -> due 2026-10-08 00:00.
    clock.now = ms("2026-10-01T00:00")
    late = reviews.open_review(rt, actor(team["hana"]), due_days=7)
    assert late["due_ms"] == ms("2026-10-08T00:00")
    assert status("2026-10-08T00:00").overdue is False
    s = status("2026-10-08T00:00", 1)
    assert (s.overdue, s.open_due_ms, s.reason) == (
        True, ms("2026-10-08T00:00"), f"review {late['id']} is past its due date with 5 undecided items")
    # 4. Closing it early ends that, but does not move the baseline.
    clock.now = ms("2026-10-09T00:00")
    reviews.close_review(rt, late["id"], actor(team["cleo"]))
    s = status("2026-10-09T00:00")
    assert (s.overdue, s.last_completed_ms, s.open_review_id, s.reason) == (
        False, ms("2026-09-10T12:00"), None, "within schedule")


def test_schedule_uses_the_configured_period(tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    from replayvault.config import Settings
    from replayvault.runtime import Runtime

    rt = Runtime(Settings(home=tmp_path / "h", access_review_days=30))
    assert reviews.schedule(rt, ms("2026-09-01T00:00")).as_dict() == {
        "last_completed_ms": None, "next_due_ms": None, "deadline_ms": None, "overdue": False, "open_review_id": None,
        "open_due_ms": None, "undecided": 0, "period_days": 30, "grace_days": 14, "reason": "no accounts yet: nothing to review"}
    add_staff(rt, "hana", ["hr_liaison"])
    with rt.sessions() as db:
        db.execute(update(User).values(created_ms=ms("2026-09-01T00:00")))
        db.commit()
    s = reviews.schedule(rt, ms("2026-10-15T00:00"))  # 2026-09-01 + 30 days = 2026-10-01; + 14 = 2026-10-15
    assert (s.next_due_ms, s.deadline_ms, s.overdue) == (ms("2026-10-01T00:00"), ms("2026-10-15T00:00"), False)
