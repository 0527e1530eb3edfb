"""The auditor report on the seeded set of :mod:`test_metrics`, plus a DSAR request, an access review and a
signed checkpoint, over 2026-10-01 to 2026-11-30 (clock NOW = 2026-11-30 00:00 UTC, a Monday).

ISO weeks of the period (``to`` day included, so the period ends 2026-12-01 00:00):

======  ===============  ====  =========================================================================
week    days             age   sessions of the week (see test_metrics) and what happened in it
======  ===============  ====  =========================================================================
W40     Oct 1-4 partial        nothing
W41     Oct 5-11         50    S: two e-mails in clear, crypto-shredded since
W42     Oct 12-18        45    E: clean, expired, under a legal hold
W43     Oct 19-25        40    D: two e-mails in clear, expired, not swept
W44-47                         nothing
W48     Nov 23-29        1-3   A B C F K recorded (B leaky; F revoked after recording), G revoked and
                               H granted with nothing recorded
W49     Nov 30 partial   0     every read (grants on A and K, g_missing, the export of B), the two
                               refusals, the bogus view, the shredding of S, the DSAR request, the review
======  ===============  ====  =========================================================================
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path

import pytest
from conftest import ARTIFACTS
from test_metrics import DAY_MS, NOW, clock, seeded  # noqa: F401  (fixtures)
from typer.testing import CliRunner

from replayvault.cli import app
from replayvault.compliance import metrics as M
from replayvault.compliance import report as R
from replayvault.compliance.report_charts import iso_weeks
from replayvault.errors import InvalidInput
from replayvault.governance import dsar, reviews

PERIOD = M.parse_period("2026-10-01", "2026-11-30")
SUBJECT = "cust-4711"


@pytest.fixture
def world(seeded):  # type: ignore[no-untyped-def]  # noqa: F811
    """The seeded set plus an open DSAR export, an open access review and a checkpoint signed at NOW."""
    dsar.open_request(seeded.rt, "export", SUBJECT, "user:test", now_ms=NOW)
    reviews.open_review(seeded.rt, f"user:{seeded.lead.user_id}", now_ms=NOW)
    seeded.rt.audit.checkpoint()
    return seeded


@pytest.fixture
def built(world):  # type: ignore[no-untyped-def]
    return R.build_report(world.rt, PERIOD, NOW)


def _week(rep: R.Report, label: str) -> dict:
    return next(w for w in rep.data["weeks"] if w["label"] == label)


def _vnd(rep: R.Report, label: str) -> dict[str, tuple]:
    w = _week(rep, label)["metrics"]
    return {name: (v["value"], v["numerator"], v["denominator"]) for name, v in w.items()}


# -- data ---------------------------------------------------------------------------------------------
def test_weeks_of_the_period(built) -> None:
    weeks = built.data["weeks"]
    assert [w["label"] for w in weeks] == [f"2026-W{n}" for n in range(40, 50)]
    assert [(w["first_day"], w["last_day"], w["days"], w["partial"]) for w in (weeks[0], weeks[1], weeks[-1])] == [
        ("2026-10-01", "2026-10-04", 4, True), ("2026-10-05", "2026-10-11", 7, False),
        ("2026-11-30", "2026-11-30", 1, True)]
    assert sum(w["partial"] for w in weeks) == 2


def test_weekly_values_worked_out_by_hand(built) -> None:
    empty = {"data_capture": (None, 0, 0), "consent": (None, 0, 0), "access_log": (None, 0, 0),
             "incident_rate": (None, 0, 0), "retention": (None, 0, 0)}
    for label in ("2026-W40", "2026-W44", "2026-W45", "2026-W46", "2026-W47"):
        assert _vnd(built, label) == empty, label
    # W41: S recorded (2 incidents from its chunk.ingested entry), shredded since: not stored
    # (each recorded session's grant receipt arrived with its batch: consent 1/1 in W41-W43)
    assert _vnd(built, "2026-W41") == {"data_capture": (0.0, 0, 1), "consent": (1.0, 1, 1),
                                                "access_log": (None, 0, 0), "incident_rate": (2000.0, 2, 1),
                                       "retention": (None, 0, 0)}
    # W42: E clean; past expiry but held -> inside its retention
    assert _vnd(built, "2026-W42") == {"data_capture": (1.0, 1, 1), "consent": (1.0, 1, 1),
                                       "access_log": (None, 0, 0), "incident_rate": (0.0, 0, 1),
                                       "retention": (1.0, 1, 1)}
    # W43: D leaky (2 incidents) and expired without a hold
    assert _vnd(built, "2026-W43") == {"data_capture": (0.0, 0, 1), "consent": (1.0, 1, 1),
                                       "access_log": (None, 0, 0), "incident_rate": (2000.0, 2, 1),
                                       "retention": (0.0, 0, 1)}
    # W48: recorded A B C F K = 5, B leaky -> 4/5; the tracker ran for A B C F K G H R Q = 9, recorded under a
    # grant A B C F K = 5; masking 2 + X's batch without a token 1 = 3 in 5 sessions -> 600 per 1,000 (the
    # access refusals are on Nov 30); all 5 inside retention
    assert _vnd(built, "2026-W48") == {"data_capture": (0.8, 4, 5), "consent": (5 / 9, 5, 9),
                                       "access_log": (None, 0, 0), "incident_rate": (600.0, 3, 5),
                                       "retention": (1.0, 5, 5)}
    assert _week(built, "2026-W48")["incidents"]["counts"] == {"masking": 2, "scope": 0, "consent": 1,
                                                               "access_policy": 0}
    # W49 (Nov 30 only): no session; the reads: grants A, K, g_missing, export of B -> 3 of 4 logged;
    # two refusals but no recorded session -> no rate
    assert _vnd(built, "2026-W49") == {"data_capture": (None, 0, 0), "consent": (None, 0, 0),
                                                "access_log": (0.75, 3, 4), "incident_rate": (None, 2, 0),
                                                "retention": (None, 0, 0)}


def test_weekly_values_are_the_metrics_of_each_week(world, built) -> None:
    for w in built.data["weeks"]:
        got = {m.name: (m.value, m.numerator, m.denominator)
               for m in M.compute_metrics(world.rt, M.Period(w["from_ms"], w["to_ms"]), NOW)}
        assert _vnd(built, w["label"]) == got, w["label"]


def test_overall_metrics_and_sections(world, built) -> None:
    d = built.data
    got = {m["name"]: (m["value"], m["numerator"], m["denominator"]) for m in d["metrics"]}
    assert got == {"data_capture": (0.625, 5, 8), "consent": (8 / 12, 8, 12), "access_log": (0.75, 3, 4),
                   "incident_rate": (1125.0, 9, 8), "retention": (6 / 7, 6, 7)}
    assert d["period"] == {"from_ms": PERIOD.from_ms, "to_ms": NOW + DAY_MS, "project": None,
                           "first_day": "2026-10-01", "last_day": "2026-11-30"}
    assert d["projects"] == ["p1", "p2"] and d["generated_ms"] == NOW
    assert d["incidents"]["counts"] == {"masking": 6, "scope": 0, "consent": 1, "access_policy": 2}
    assert [i["key"] for i in d["checklist"]][:2] == ["masking_encryption", "consent"]
    # reads by purpose: every grant, view and export in the seed declared compliance_audit
    assert d["use"]["by_purpose"] == {"compliance_audit": {"access_declared": 2, "view": 2, "export_requested": 1,
                                                           "export_decided": 1, "exported": 1}}
    assert d["use"]["denied_by_purpose"] == {"compliance_audit": 1, "fraud_investigation": 1}
    assert d["use"]["heatmaps"]["recorded"] is False
    cp = world.rt.audit.latest_checkpoint()
    assert d["audit"]["checkpoint"]["tree_size"] == cp.size and d["audit"]["checkpoint"]["signature_verified"]
    assert d["audit"]["checkpoint"]["root_hash_hex"] == cp.root.hex()
    assert d["retention"]["sessions_deleted"] == 1 and len(d["retention"]["active_holds"]) == 1
    assert (d["dsar"]["opened"], d["dsar"]["open"], d["dsar"]["overdue"]) == (1, 1, 0)
    assert d["reviews"]["reviews"][0]["status"] == "open"
    status = {u["username"]: u["status"] for u in d["training"]["users"]}
    assert status["lazy"] == "missing" and status["lead"] == "current"
    assert (d["training"]["current"], d["training"]["missing"]) == (3, 1)  # lead, dpo, ux; lazy (hr cannot read)
    json.dumps(d)  # JSON-safe


def test_project_filter(world) -> None:
    d = R.build_report(world.rt, M.parse_period("2026-10-01", "2026-11-30", "p2"), NOW).data
    assert d["projects"] == ["p2"]
    got = {m["name"]: (m["numerator"], m["denominator"]) for m in d["metrics"]}
    assert got["data_capture"] == (1, 1) and got["access_log"] == (1, 1)
    assert [p["project_id"] for p in d["retention"]["projects"]] == ["p2"]
    assert d["use"]["by_purpose"] == {"compliance_audit": {"access_declared": 1}}


def test_periods_refused(rt) -> None:
    with pytest.raises(InvalidInput, match="both"):
        R.build_report(rt, M.Period(None, NOW), NOW)
    with pytest.raises(InvalidInput, match="106 weeks"):
        R.build_report(rt, M.parse_period("2020-01-01", "2026-11-30"), NOW)
    assert iso_weeks(NOW, NOW + DAY_MS)[0].label == "2026-W49"
    with pytest.raises(InvalidInput, match="empty"):
        iso_weeks(NOW, NOW)


# -- HTML ---------------------------------------------------------------------------------------------
def test_html_has_every_section_and_the_exact_values(world, built) -> None:
    html = R.render_html(built)
    for section in ("cover", "metrics", "trends", "weekly", "incidents", "checklist", "retention", "dsar", "training",
                    "reviews", "use", "heatmap-use", "audit"):
        assert f'id="{section}"' in html, section
    card = lambda name: html.split(f'id="m-{name}"')[1].split('class="metric"')[0]
    for name, value, ratio in (("data_capture", "62.5 %", "5 / 8"), ("consent", "66.7 %", "8 / 12"),
                               ("access_log", "75.0 %", "3 / 4"), ("incident_rate", "1,125.0", "9 / 8"),
                               ("retention", "85.7 %", "6 / 7")):
        assert f'class="value">{value}</div>' in card(name) and ratio in card(name), name
    assert html.count("<svg") == 5 and "W49*" in html and "(partial)" in html
    # the weekly table: W48 capture 80.0 % (4/5), consent 55.6 % (5/9), incident rate 600.0 (3/5), retention 100.0 % (5/5)
    w48 = html.split("2026-W48")[1].split("</tr>")[0]
    assert "80.0 %" in w48 and "4/5" in w48 and "55.6 %" in w48 and "5/9" in w48 and "600.0" in w48 and "3/5" in w48
    assert "5/5" in w48
    cp = world.rt.audit.latest_checkpoint()
    assert str(cp.size) in html and cp.root.hex() in html and world.rt.audit.verifier_key in html
    assert "heatmap use is not recorded" in html.lower()
    # self-contained, no personal data
    assert "<script" not in html.lower() and not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "default-src 'none'" in html
    for sid in world.ids.values():
        assert sid not in html
    assert SUBJECT not in html and "CASE-7" not in html and dsar.subject_digest(world.rt, SUBJECT) not in html


def test_unknown_detail_keys_render_as_a_table(built) -> None:
    consent = next(m for m in built.data["metrics"] if m["name"] == "consent")
    consent["detail"].update(refusals=3, skipped=None, by_method={"banner": 5, "gpc_signal": 2}, new_key_x=1.25)
    html = R.render_html(built)
    card = html.split('id="m-consent"')[1].split('class="metric"')[0]
    assert "<th>by method</th>" in card and "<th>gpc signal</th><td>2</td>" in card
    assert "<th>new key x</th><td>1.2</td>" in card or "<th>new key x</th><td>1.3</td>" in card
    assert "<th>refusals</th><td>3</td>" in card and "<th>skipped</th><td><span class=\"dim\">not recorded" in card


# -- PDF (headless Chromium) --------------------------------------------------------------------------
#: Pages: 1 cover; 2 metrics; 3 charts; 4 weekly table, incidents; 5 checklist, retention, DSAR; 6 training,
#: reviews, use by purpose, audit log.
EXPECTED_PAGES = 6


def _pages_png(pdf: bytes, out: Path, prefix: str) -> list[Path]:
    pdfium = pytest.importorskip("pypdfium2")
    doc = pdfium.PdfDocument(pdf)
    paths = []
    for i in range(len(doc)):
        path = out / f"{prefix}-{i + 1}.png"
        doc[i].render(scale=1.4).to_pil().save(path)
        paths.append(path)
    return paths


@pytest.mark.browser
def test_pdf_renders_and_its_pages_are_not_blank(world, built, tmp_path) -> None:
    from PIL import Image, ImageStat

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed")
    pdf = R.render_pdf(R.render_html(built), tmp_path / "r.pdf", footer_data=built.data)
    assert pdf.startswith(b"%PDF-") and (tmp_path / "r.pdf").read_bytes() == pdf
    out = Path(os.environ.get("SHOTS_DIR") or ARTIFACTS)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_text(R.render_html(built), encoding="utf-8")
    pages = _pages_png(pdf, out, "report-page")  # saved first: to look at even when a check fails
    doc = pytest.importorskip("pypdfium2").PdfDocument(pdf)
    assert len(doc) == len(pages) == EXPECTED_PAGES
    cover = doc[0].get_textpage().get_text_range()
    assert "Compliance report" in cover and f"page 1 of {EXPECTED_PAGES}" in cover
    for path in pages:
        img = Image.open(path).convert("L")
        dark = sum(img.histogram()[:200]) / (img.width * img.height)  # share of ink pixels
        assert ImageStat.Stat(img).stddev[0] > 10 and dark > 0.005, path.name
        assert img.width < img.height  # portrait A4


# -- CLI ----------------------------------------------------------------------------------------------
@pytest.fixture
def cli_env(world, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REPLAYVAULT_HOME", str(world.rt.settings.home))
    return world


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["report", *args])


def test_cli_refuses_bad_options(cli_env, tmp_path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    r = _run("--from", "2026-10-01", "--to", "2026-11-30", "-o", str(tmp_path / "r.docx"))
    assert r.exit_code == 2 and ".pdf or .html" in r.output and "Traceback" not in r.output
    r = _run("--from", "2026-11-30", "--to", "2026-10-01", "-o", str(tmp_path / "r.html"))
    assert r.exit_code == 2 and "--from is after --to" in r.output
    r = _run("--from", "30/11/2026", "--to", "2026-12-01", "-o", str(tmp_path / "r.html"))
    assert r.exit_code == 2 and "--from must be a date" in r.output
    r = _run("--from", "2026-10-01", "--to", "2026-11-30", "-o", str(tmp_path / "missing" / "r.html"))
    assert r.exit_code == 2 and "no writable folder" in r.output and "Traceback" not in r.output
    r = _run("--from", "2026-10-01", "--to", "2026-11-30", "--project", "nope", "-o", str(tmp_path / "r.html"))
    assert r.exit_code != 0 and "no project 'nope'" in r.output and "Traceback" not in r.output
    assert not list(tmp_path.iterdir())


def test_cli_writes_the_report_and_audits_its_digest(cli_env, tmp_path) -> None:
    from govkit import audit_rows

    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "report.html"
    r = _run("--from", "2026-10-01", "--to", "2026-11-30", "-o", str(out))
    assert r.exit_code == 0, r.output
    body = out.read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and body.startswith(b"<!doctype html>")
    assert digest in r.output
    entry = [e for e in audit_rows(cli_env.rt) if e["action"] == "report.generated"][-1]
    assert entry["actor"] == "cli" and entry["details"]["sha256"] == digest
    assert entry["details"] | {} == {"sha256": digest, "bytes": len(body), "format": "html",
                                     "from_ms": PERIOD.from_ms, "to_ms": PERIOD.to_ms, "project": None}
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary file left


@pytest.mark.browser
def test_cli_writes_a_pdf(cli_env, tmp_path) -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed")
    out = tmp_path / "report.pdf"
    r = _run("--from", "2026-10-01", "--to", "2026-11-30", "--project", "p1", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(b"%PDF-") and hashlib.sha256(out.read_bytes()).hexdigest() in r.output
