"""Tampering with the stored audit log is detected by ``replayvault audit verify``.

Each test builds a log of 12 entries with signed checkpoints at sizes 4 and 12, then changes the
database directly (as someone with write access to the SQLite file would) and checks that
verification fails, exits non-zero and names the first bad index.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from replayvault.audit.entries import Entry
from replayvault.cli import app
from replayvault.errors import AuditTampered

N = 12


@pytest.fixture
def log(rt):
    for i in range(N):
        rt.audit.record(actor=f"user:u_{i:016x}", action="recording.view", resource=f"session:s{i}",
                        purpose="ux_research", justification=f"UX-{i}", origin_ip="127.0.0.1", details={"n": i})
        if i == 3:
            rt.audit.checkpoint()
    rt.audit.checkpoint()
    return rt


def _sql(rt, stmt: str, **params) -> None:  # type: ignore[no-untyped-def]
    with rt.sessions() as db:
        db.execute(text(stmt), params)
        db.commit()


def _verify(rt) -> AuditTampered:  # type: ignore[no-untyped-def]
    with pytest.raises(AuditTampered) as info:
        rt.audit.verify()
    return info.value


def _cli(rt) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    res = CliRunner().invoke(app, ["audit", "verify"], env={"REPLAYVAULT_HOME": str(rt.settings.home)})
    return res.exit_code, res.output


def test_untouched_log_verifies(log) -> None:
    report = log.audit.verify()
    assert (report.entries, report.checkpoints, report.latest_size) == (N, 2, N)
    code, out = _cli(log)
    assert code == 0 and f"{N} entries, 2 signed checkpoints" in out


def test_edited_entry_is_named(log) -> None:
    _sql(log, "UPDATE audit_entries SET purpose = 'fraud_investigation' WHERE idx = 7")
    assert _verify(log).index == 7
    code, out = _cli(log)
    assert code == 1 and "first bad index: 7" in out


def test_deleted_entry_is_named(log) -> None:
    _sql(log, "DELETE FROM audit_entries WHERE idx = 5")
    assert _verify(log).index == 5


def test_deleted_tail_is_caught_by_the_checkpoint(log) -> None:
    _sql(log, "DELETE FROM audit_entries WHERE idx >= 10")
    exc = _verify(log)
    assert exc.index == 10 and "covers entries that are gone" in str(exc)


def test_reordered_entries_are_named(log) -> None:
    # Swap the contents (and leaf hashes) of rows 2 and 3, keeping the index column in place.
    cols = "time_ms, actor, action, resource, purpose, justification, outcome, origin_ip, details, leaf_hash"
    with log.sessions() as db:
        a = db.execute(text(f"SELECT {cols} FROM audit_entries WHERE idx = 2")).one()
        b = db.execute(text(f"SELECT {cols} FROM audit_entries WHERE idx = 3")).one()
        sets = ", ".join(f"{c.strip()} = :{c.strip()}" for c in cols.split(","))
        db.execute(text(f"UPDATE audit_entries SET {sets} WHERE idx = 2"), dict(b._mapping))
        db.execute(text(f"UPDATE audit_entries SET {sets} WHERE idx = 3"), dict(a._mapping))
        db.commit()
    assert _verify(log).index == 2


def test_inserted_entry_is_named(log) -> None:
    # Make room at index 6 and insert a forged entry that reuses a real leaf hash.
    _sql(log, "UPDATE audit_entries SET idx = idx + 100 WHERE idx >= 6")
    _sql(log, "UPDATE audit_entries SET idx = idx - 99 WHERE idx >= 106")
    _sql(log, "INSERT INTO audit_entries (idx, time_ms, actor, action, resource, outcome, details, leaf_hash) "
              "SELECT 6, time_ms, 'user:u_forged', 'login', 'dashboard', 'ok', '{}', leaf_hash FROM audit_entries WHERE idx = 7")
    assert _verify(log).index == 6


def test_rewrite_with_recomputed_leaf_hashes_is_caught_by_the_signed_checkpoint(log) -> None:
    # A careful forger recomputes the leaf hash too; only the signed root can tell.
    e = log.audit.entry(8)
    forged = Entry(**{**e.as_dict(), "purpose": "dsar"})
    _sql(log, "UPDATE audit_entries SET purpose = 'dsar', leaf_hash = :h WHERE idx = 8", h=forged.leaf_hash())
    exc = _verify(log)
    assert exc.index == 4  # the checkpoint of size 4 still holds; the bad entry is at 4 or later
    assert "does not match its signed checkpoint" in str(exc)


@pytest.mark.parametrize("change", ["note", "root", "size"])
def test_changed_checkpoint_is_caught(log, change) -> None:
    if change == "note":
        _sql(log, "UPDATE audit_checkpoints SET note = replace(note, '\n12\n', '\n13\n') WHERE tree_size = 12")
    elif change == "root":
        _sql(log, "UPDATE audit_checkpoints SET root_hash = :r WHERE tree_size = 12", r=b"\x00" * 32)
    else:
        _sql(log, "UPDATE audit_checkpoints SET tree_size = 11 WHERE tree_size = 12")
    exc = _verify(log)
    assert "checkpoint" in str(exc)
    assert _cli(log)[0] == 1


def test_checkpoint_refuses_to_sign_over_a_rewritten_log(log) -> None:
    e = log.audit.entry(1)
    forged = Entry(**{**e.as_dict(), "outcome": "denied"})
    _sql(log, "UPDATE audit_entries SET outcome = 'denied', leaf_hash = :h WHERE idx = 1", h=forged.leaf_hash())
    log.audit.record(actor="cli", action="noop", resource="x")
    fresh = type(log)(log.settings)  # a restarted server: no cached tree
    with pytest.raises(AuditTampered):
        fresh.audit.checkpoint()


def test_proof_bundle_verifies_offline_and_detects_a_changed_entry(log, tmp_path) -> None:
    env = {"REPLAYVAULT_HOME": str(log.settings.home)}
    runner = CliRunner()
    key = runner.invoke(app, ["audit", "public-key"], env=env).output.strip()
    bundle_path = tmp_path / "b.json"
    assert runner.invoke(app, ["audit", "proof", "9", "-o", str(bundle_path)], env=env).exit_code == 0
    # No data directory at all for the offline check.
    offline = {"REPLAYVAULT_HOME": str(tmp_path / "nowhere")}
    ok = runner.invoke(app, ["audit", "verify-proof", str(bundle_path), "--key", key], env=offline)
    assert ok.exit_code == 0 and "entry 9" in ok.output and f"tree of {N} entries" in ok.output
    assert not (tmp_path / "nowhere").exists()
    bundle = json.loads(bundle_path.read_text())
    bundle["entry"] = bundle["entry"].replace("UX-9", "UX-0")
    bundle_path.write_text(json.dumps(bundle))
    bad = runner.invoke(app, ["audit", "verify-proof", str(bundle_path), "--key", key], env=offline)
    assert bad.exit_code == 1 and "does NOT verify" in bad.output


def test_recording_is_checked_against_the_digests_in_the_audit_log(rt, tmp_path) -> None:
    from replayvault.ingest.importer import import_file
    from replayvault.projects_setup import ensure_project
    from conftest import need_shared

    path = need_shared() / "with-pageviews.json"
    import_file(rt, ensure_project(rt, "p", "P", []), path)
    from replayvault.recordings import list_sessions

    sid = list_sessions(rt)[0].id
    env = {"REPLAYVAULT_HOME": str(rt.settings.home)}
    ok = CliRunner().invoke(app, ["audit", "verify-session", sid], env=env)
    assert ok.exit_code == 0 and "recording matches its audit log" in ok.output
    blob = next(rt.settings.chunks_dir.rglob("*.rvc"))
    blob.write_bytes(blob.read_bytes() + b"\0")
    bad = CliRunner().invoke(app, ["audit", "verify-session", sid], env=env)
    assert bad.exit_code == 1 and "does NOT match" in bad.output


def _forge_entry(rt, idx: int) -> None:  # type: ignore[no-untyped-def]
    e = rt.audit.entry(idx)
    forged = Entry(**{**e.as_dict(), "purpose": "dsar"})
    _sql(rt, "UPDATE audit_entries SET purpose = 'dsar', leaf_hash = :h WHERE idx = :i", h=forged.leaf_hash(), i=idx)


def test_deleting_the_checkpoints_from_the_database_hides_nothing(log) -> None:
    _forge_entry(log, 3)
    _sql(log, "DELETE FROM audit_checkpoints")
    exc = _verify(log)
    assert "missing from or differs in the database" in str(exc)
    fresh = type(log)(log.settings)  # a restarted server must not sign the forged history either
    with pytest.raises(AuditTampered):
        fresh.audit.checkpoint()


def test_a_checkpoint_the_auditor_kept_catches_a_rewrite_even_without_the_mirror(log, tmp_path) -> None:
    kept = tmp_path / "cp.txt"
    kept.write_text(log.audit.latest_checkpoint().note)
    _forge_entry(log, 3)
    _sql(log, "DELETE FROM audit_checkpoints")
    log.settings.data_dir.joinpath("audit-checkpoints.jsonl").unlink()
    assert log.audit.verify().checkpoints == 0  # nothing left inside the data directory to compare with
    res = CliRunner().invoke(app, ["audit", "verify", "--checkpoint", str(kept)],
                             env={"REPLAYVAULT_HOME": str(log.settings.home)})
    assert res.exit_code == 1 and "missing from or differs in the database" in res.output


def test_entries_after_the_last_checkpoint_are_reported_as_not_yet_signed(log) -> None:
    log.audit.record(actor="cli", action="noop", resource="x")
    report = log.audit.verify()
    assert (report.entries, report.latest_size, report.uncovered) == (N + 1, N, 1)
    out = CliRunner().invoke(app, ["audit", "verify"], env={"REPLAYVAULT_HOME": str(log.settings.home)})
    assert out.exit_code == 0 and "newest 1 entries are not yet under a signed checkpoint" in out.output
