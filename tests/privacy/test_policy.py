"""Privacy policy per project: strict validation, and what each rule does to recorded events."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from consentkit import post_batch
from ._rr import el, full, meta, tx
from replayvault.audit.query import search_entries
from replayvault.cli import app
from replayvault.errors import InvalidInput
from replayvault.pipeline import Batch, SessionState, process_batch
from replayvault.privacy.policy import STRICT, Selector, parse_policy
from replayvault.projects_setup import ensure_project
from replayvault.recordings import session_events
from replayvault.web.app import create_app
from staff import add_staff


@pytest.mark.parametrize("text,needle", [
    ("colour: red", "policy field colour: Extra inputs are not permitted"),
    ("detectors: [email, nosuch]", "unknown detector 'nosuch'"),
    ("mask_selectors: ['div > p']", "policy field mask_selectors: unsupported selector 'div > p'"),
    ("urls: {mask_path_patterns: [accounts]}", "must start with / and contain a * segment"),
    ("canvas: maybe", "policy field canvas"),
    ("[1, 2]", "a policy is a mapping"),
    ("a: [", "not valid YAML or JSON"),
    ("detectors: [email]\ndetectors: []", "appears twice"),
    ('canvas: "true"', "policy field canvas"),
    ("canvas: 1", "policy field canvas"),
    ("detectors: " + "[" * 5000 + "]" * 5000, "policy"),
])
def test_invalid_policies_are_clear_errors(text, needle) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_policy(text)
    assert needle in str(info.value)


def test_json_and_yaml_give_the_same_policy_and_default_is_strict() -> None:
    y = parse_policy("mask_selectors: ['.balance']\ncanvas: true\n")
    j = parse_policy(json.dumps({"mask_selectors": [".balance"], "canvas": True}))
    assert y == j and y.digest() == j.digest() != STRICT.digest()
    assert parse_policy(None) is STRICT and STRICT.canvas is False and STRICT.detectors is None


@pytest.mark.parametrize("sel,tag,attrs,hit", [
    (".balance", "span", {"class": "amount balance"}, True),
    (".balance", "span", {"class": "balances"}, False),
    ("#customer-name", "h1", {"id": "customer-name"}, True),
    ("td[data-col=amount]", "td", {"data-col": "amount"}, True),
    ("td[data-col=amount]", "td", {"data-col": "date"}, False),
    ("input[autocomplete]", "input", {"autocomplete": "cc-name"}, True),
    ("p.note#x[title]", "p", {"class": "note", "id": "x", "title": "t"}, True),
    ("p.note#x[title]", "div", {"class": "note", "id": "x", "title": "t"}, False),
])
def test_selector_matching(sel, tag, attrs, hit) -> None:
    assert Selector.parse(sel).matches(tag, attrs) is hit


def _run(policy_text: str, events: list) -> tuple[str, dict]:
    out = process_batch(Batch("p", "s", 0, events, "", parse_policy(policy_text)), SessionState())
    return json.dumps(out.events), out.maskings


def test_mask_and_block_selectors_apply_whatever_the_browser_did() -> None:
    events = [meta("https://bank.example/home"),
              full(el(10, "span", {"class": "balance"}, tx(11, "EUR 48,213.07")),
                   el(12, "div", {"class": "chat-widget"}, el(13, "p", {}, tx(14, "Hi Jonas"))),
                   el(15, "p", {}, tx(16, "Welcome"))), ]
    text, counts = _run("mask_selectors: ['.balance']\nblock_selectors: ['.chat-widget']", events)
    assert "48,213" not in text and "Hi Jonas" not in text and "Welcome" in text
    assert counts == {"text_mask": 1, "blocked": 1}
    strict_text, _ = _run("", events)
    assert "48,213" in strict_text  # without the policy nothing marks it


def test_canvas_is_dropped_unless_allowed() -> None:
    canvas = {"type": 3, "timestamp": 3000, "data": {"source": 9, "id": 10, "type": 0, "commands": []}}
    events = [full(el(10, "canvas", {"rr_dataurl": "data:image/png;base64,AAAA"})), canvas]
    out = process_batch(Batch("p", "s", 0, events, ""), SessionState())
    assert [e["type"] for e in out.events] == [2] and "rr_dataurl" not in json.dumps(out.events)
    assert out.maskings == {"canvas": 2}
    allowed = process_batch(Batch("p", "s", 0, events, "", parse_policy("canvas: true")), SessionState())
    assert len(allowed.events) == 2 and "rr_dataurl" in json.dumps(allowed.events)


def test_url_rules_keep_params_and_mask_path_segments() -> None:
    events = [meta("https://bank.example/accounts/DE-4471-22/overview?page=2&name=jonas")]
    text, counts = _run("urls: {keep_query_params: [page], mask_path_patterns: ['/accounts/*/overview']}", events)
    href = json.loads(text)[0]["data"]["href"]
    assert href == "https://bank.example/accounts/**********/overview?page=2&name=*****"
    assert counts == {"url_query": 1, "url_path": 1}


def test_disabled_detector_stops_masking_that_kind() -> None:
    events = [full(el(10, "p", {}, tx(11, "write to jane@example.com")))]
    text, _ = _run("disabled_detectors: [email]", events)
    assert "jane@example.com" in text


def test_policy_via_cli_and_api_is_audited_and_applied_to_ingest(rt, tmp_path) -> None:
    project = ensure_project(rt, "bank", "Bank", [])
    env = {"REPLAYVAULT_HOME": str(rt.settings.home)}
    path = tmp_path / "p.yaml"
    path.write_text("mask_selectors: ['.balance']\n")
    res = CliRunner().invoke(app, ["policy", "set", "bank", str(path)], env=env)
    assert res.exit_code == 0, res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("mask_selectors: ['a b']\n")
    res = CliRunner().invoke(app, ["policy", "set", "bank", str(bad)], env=env)
    assert res.exit_code == 2 and "unsupported selector" in res.output
    client = TestClient(create_app(rt))
    po, ux = add_staff(rt, "po", ["privacy_officer"]), add_staff(rt, "ux", ["ux_analyst"])
    assert client.get("/api/v1/projects/bank/policy", headers=ux.headers).status_code == 403
    got = client.get("/api/v1/projects/bank/policy", headers=po.headers).json()
    assert got["mask_selectors"] == [".balance"] and got["canvas"] is False
    put = client.put("/api/v1/projects/bank/policy", content=b"block_selectors: ['.chat']\nmask_selectors: ['.balance']",
                     headers={**po.headers, "Content-Type": "application/yaml"})
    assert put.status_code == 200 and put.json()["block_selectors"] == [".chat"]
    bad_put = client.put("/api/v1/projects/bank/policy", content=b"canvas: [1]", headers=po.headers)
    assert bad_put.status_code == 400 and "policy field canvas" in bad_put.json()["error"]
    assert rt.audit.verify().entries > 0
    changes = search_entries(rt, action="policy.changed")
    assert [e["actor"] for e in changes] == [f"user:{po.user_id}", "cli"]
    assert changes[0]["details"]["previous_sha256"] == changes[1]["details"]["sha256"]
    sid = str(uuid.uuid4())
    r = post_batch(client, {"session_id": sid, "seq": 0, "events": [
        full(el(10, "span", {"class": "balance"}, tx(11, "EUR 48,213.07")))]}, {"X-Replayvault-Key": project.write_key})
    assert r.status_code == 200, r.text
    assert "48,213" not in json.dumps(session_events(rt, sid))
