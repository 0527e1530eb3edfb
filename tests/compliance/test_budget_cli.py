"""``replayvault budget plan``: tables, JSON, CSV, chart, several scenarios, and bad files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replayvault.cli import app
from replayvault.compliance.budget_export import EXAMPLES_DIR
from test_budget import HAND


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty REPLAYVAULT_HOME (no installation data: the benchmark figures) and the hand-checked scenario."""
    monkeypatch.setenv("REPLAYVAULT_HOME", str(tmp_path / "home"))
    (tmp_path / "hand.yaml").write_text(HAND)
    return tmp_path


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["budget", "plan", *args], env={"COLUMNS": "160"})


def test_tables_show_the_hand_checked_totals_and_the_figures_source(env: Path) -> None:
    r = run(str(env / "hand.yaml"))
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "Hand-checked — per year, EUR" in out and "Hand-checked — per month, EUR" in out
    for text in ("157,892", "136,030", "136,107", "430,030", "13,158", "11,344", "2.63", "2.39"):
        assert text in out, text
    assert "(scenario)" in out
    assert not (env / "home").exists()  # planning creates no data directory


def test_without_scenario_units_the_output_names_the_benchmark(env: Path) -> None:
    text = HAND.replace("units: {bytes_per_session_minute: 1000000, cpu_seconds_per_session_minute: 0.9}\n", "")
    (env / "plain.yaml").write_text(text)
    r = run(str(env / "plain.yaml"))
    assert r.exit_code == 0, r.output
    assert "(benchmark)" in r.stdout and "no installation data in" in r.stdout
    r = run(str(env / "plain.yaml"), "--benchmark-figures")
    assert "asked for with --benchmark-figures" in r.stdout


def test_json_is_the_full_plan(env: Path) -> None:
    r = run(str(env / "hand.yaml"), "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["total"]["total"] == 430_029.6 and len(d["months"]) == 36
    assert d["input"]["traffic"]["monthly_sessions"] == 10_000


def test_several_scenarios_side_by_side(env: Path) -> None:
    mid = EXAMPLES_DIR / "crypto-bank-mid-size.yaml"
    r = run(str(env / "hand.yaml"), str(mid))
    assert r.exit_code == 0, r.output
    assert "Scenarios side by side" in r.stdout and "Mid-size EU crypto-bank" in r.stdout
    docs = json.loads(run(str(env / "hand.yaml"), str(mid), "--json").stdout)
    assert [d["scenario"] for d in docs] == ["Hand-checked", "Mid-size EU crypto-bank"]


def test_csv_and_chart_files(env: Path) -> None:
    out_csv, out_png = env / "plan.csv", env / "plan.png"
    r = run(str(env / "hand.yaml"), "--csv", str(out_csv), "--chart", str(out_png))
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    total = next(row for row in rows if row["category"] == "total")
    assert (total["year_1"], total["year_2"], total["year_3"], total["total_3_years"]) == (
        "157891.80", "136030.40", "136107.40", "430029.60")
    assert total["monthly_year1_average"] == "13157.65" and total["monthly_steady_state"] == "11343.57"
    per = next(row for row in rows if row["category"] == "cost_per_recorded_session")
    assert per["total_3_years"] == "2.3891"
    assert [row["category"] for row in rows][:9] == ["storage", "compute", "licences", "staff", "training", "audits",
                                                     "legal", "integration", "contingency"]
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bad_scenario_file_names_the_field_and_fails(env: Path) -> None:
    (env / "bad.yaml").write_text(HAND.replace("sampling_rate: 0.5", "sampling_rate: 5"))
    r = run(str(env / "hand.yaml"), str(env / "bad.yaml"))
    assert r.exit_code == 2
    assert "bad.yaml: scenario field traffic.sampling_rate: Input should be less than or equal to 1" in r.stderr


def test_a_missing_file_fails(env: Path) -> None:
    r = run(str(env / "nope.yaml"))
    assert r.exit_code == 2 and "nope.yaml: cannot read" in r.stderr
