"""Consent receipts for tests that post batches through the collector: every batch needs the consent
token of its session (``governance.consent``). ``grant`` sends a receipt through ``POST /api/v1/consent``
exactly as the tracker does and returns the token; ``post_batch`` adds the session's token to a body
(granting from ``ts`` 0, before every test event, unless the body already holds a token)."""

from __future__ import annotations

import weakref
from typing import Any

from fastapi.testclient import TestClient

#: Tokens per client and session id. Keyed by the client object itself, not ``id(client)``: a later
#: test's client may reuse a freed client's id, and tests with fixed session ids would then get a stale
#: token of another runtime (403).
_TOKENS: "weakref.WeakKeyDictionary[TestClient, dict[str, str]]" = weakref.WeakKeyDictionary()


def grant(client: TestClient, write_key: str, session_id: str, *, origin: str | None = None, ts: int = 0,
          **fields: Any) -> str:
    """Send a ``granted`` receipt (browser time ``ts``, ms) for the session; return its consent token."""
    headers = {"X-Replayvault-Key": write_key, **({"Origin": origin} if origin else {})}
    r = client.post("/api/v1/consent", json={"session_id": session_id, "decision": "granted", "ts": ts, **fields},
                    headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "granted", r.json()
    _TOKENS.setdefault(client, {})[session_id] = r.json()["consent_token"]
    return r.json()["consent_token"]


def post_batch(client: TestClient, body: dict, headers: dict[str, str], **kwargs: Any):  # type: ignore[no-untyped-def]
    """``POST /api/v1/ingest`` with the session's consent token added (granted on first use)."""
    sid = body.get("session_id")
    if "consent_token" not in body and isinstance(sid, str) and len(sid) >= 8:
        key = headers.get("X-Replayvault-Key", "")
        token = _TOKENS.get(client, {}).get(sid) or grant(client, key, sid, origin=headers.get("Origin"))
        body = {**body, "consent_token": token}
    return client.post("/api/v1/ingest", json=body, headers=headers, **kwargs)


def stub_answer(path: str, doc: dict, *, scope: dict | None = None, ttl_ms: int = 900_000) -> dict:
    """What the collector answers a consent receipt (``/api/v1/consent``) or a renewal (``.../renew``), for
    stub collectors in tracker tests: a grant (or renewal) gets the token ``tok-<session id>``; GPC refuses."""
    decision = "renewed" if path.endswith("renew") else doc.get("decision", "refused")
    if doc.get("gpc"):
        decision = "refused"
    answer: dict = {"session_id": doc["session_id"], "decision": decision}
    if decision in ("granted", "renewed"):
        answer.update(consent_token=f"tok-{doc['session_id']}", token_ttl_ms=ttl_ms,
                      scope=scope if scope is not None else {"allow": [], "deny": []})
    return answer
