"""The tracker sends identify(id) with every batch as `subject`, checks it like the collector does, and starts a
new session when the subject changes (a session belongs to one data subject). Stub collector of test_tracker."""

from __future__ import annotations

from typing import Any

import pytest

from test_tracker import Stub, browser, interact, page, stats, stub, tracker_js, wait_for  # noqa: F401  (fixtures)


def _sid(page: Any) -> str:
    return page.evaluate("() => replayvault.sessionId()")


@pytest.mark.browser
def test_subject_goes_with_batches_and_a_new_subject_starts_a_new_session(page: Any, stub: Stub) -> None:
    assert page.evaluate("() => replayvault.identify('jane doe@bank.example')") is False  # not a pseudonymous id
    assert stats(page)["identified"] is False
    assert page.evaluate("() => replayvault.identify('cust-4242')") is True
    page.evaluate("() => replayvault.consent.grant()")
    page.wait_for_function("() => replayvault.stats().recording && !replayvault.stats().paused")
    interact(page)
    page.evaluate("() => replayvault.flush()")
    first = _sid(page)
    wait_for(page, lambda: stub.ingest(), what="a batch of the first session")

    assert page.evaluate("() => replayvault.identify('cust-9999')") is True  # another customer logs in
    second = _sid(page)
    assert second != first
    page.locator("#btn").click(position={"x": 20, "y": 10})
    page.evaluate("() => replayvault.flush()")
    wait_for(page, lambda: [b for b in stub.ingest() if b.json["session_id"] == second], what="a second-session batch")

    assert page.evaluate("() => replayvault.identify(null)") is True  # logged out: a third, anonymous session
    third = _sid(page)
    page.locator("#btn").click(position={"x": 40, "y": 10})
    page.evaluate("() => replayvault.flush()")
    wait_for(page, lambda: [b for b in stub.ingest() if b.json["session_id"] == third], what="a third-session batch")

    by_session: dict[str, set] = {}
    for b in stub.ingest():
        by_session.setdefault(b.json["session_id"], set()).add(b.json.get("subject"))
    assert by_session == {first: {"cust-4242"}, second: {"cust-9999"}, third: {None}}
    assert [c.json["session_id"] for c in stub.consent()] == [first, second, third]  # one receipt per session
    # Every batch carries its own session's token, also the last batch of a session cut by the rotation.
    assert {(b.json["session_id"], b.json["consent_token"]) for b in stub.ingest()} == {
        (sid, f"tok-{sid}") for sid in (first, second, third)}
    for sid in (second, third):  # each new session starts with a full snapshot, so it replays on its own
        batches = sorted((b.json for b in stub.ingest() if b.json["session_id"] == sid), key=lambda j: j["seq"])
        assert batches[0]["seq"] == 0 and 2 in {e["type"] for e in batches[0]["events"]}
    assert "jane" not in stub.all_bodies()
