"""Budget planner: a small scenario whose every total is worked out by hand, growth, the contingency
base, pro-rata retention windows, and scenario validation (errors name the field)."""

from __future__ import annotations

from pathlib import Path

import pytest

from replayvault.errors import InvalidInput
from replayvault.compliance.budget import (DAYS_PER_MONTH, benchmark_measurement, load_scenario, parse_scenario,
                                           plan, unit_figures)
from replayvault.compliance.budget import _window_sum
from replayvault.compliance.budget_export import example_files

#: Hand-checkable: 487 days = 16 months and 974 days = 32 months exactly (30.4375 × 16 = 487).
HAND = """
name: Hand-checked
currency: EUR
traffic: {monthly_sessions: 10000, sampling_rate: 0.5, avg_session_minutes: 2}
retention:
  ux: {share: 0.5, days: 487}
  fraud: {share: 0.5, days: 974}
storage: {price_per_gb_month: 0.10}
compute: {price_per_cpu_hour: 2.00}
units: {bytes_per_session_minute: 1000000, cpu_seconds_per_session_minute: 0.9}
licences: [{name: Support, annual_cost: 1200}]
staff:
  - {role: compliance lead, people: 1, fte_share: 0.5, loaded_annual_cost: 120000}
  - {role: UX analyst, people: 2, fte_share: 0.25, loaded_annual_cost: 80000}
training: {hours_per_person: 4, refreshers_per_year: 2, cost_per_hour: 50}
audits: {internal_per_year: 2, internal_cost: 3000, third_party_per_year: 1, third_party_cost: 10000}
legal_per_year: 5000
integration_one_off: 20000
contingency: {percent: 10}
"""


def _plan(text: str = HAND):  # type: ignore[no-untyped-def]
    s = parse_scenario(text)
    return plan(s, unit_figures(s, benchmark_measurement()))


def test_hand_checked_scenario_totals() -> None:
    d = _plan().as_dict()
    # Recorded sessions: 10,000 × 0.5 = 5,000 per month; 60,000 per year; 180,000 in 3 years.
    # Each session stores 2 min × 1,000,000 B = 2 MB, so a month of sessions is 5,000 × 2 MB = 10 GB,
    # 5 GB into "ux" (kept 16 months) and 5 GB into "fraud" (kept 32 months).
    assert d["units"]["bytes_source"] == d["units"]["cpu_source"] == "scenario"
    assert [y["recorded_sessions"] for y in d["years"]] == [60_000, 60_000, 60_000]

    # Storage, GB held at the end of month m: ux 5 × min(m, 16), fraud 5 × min(m, 32); 0.10 EUR per GB-month.
    #   year 1: (5 + 5) × (1 + 2 + … + 12) = 10 × 78 = 780 GB-months                   -> 78.00
    #   year 2: ux 5 × (13 + 14 + 15 + 16 × 9) = 5 × 186 = 930; fraud 5 × (13 + … + 24) = 5 × 222 = 1,110
    #           = 2,040 GB-months                                                      -> 204.00
    #   year 3: ux 5 × 16 × 12 = 960; fraud 5 × (25 + … + 32 + 32 × 4) = 5 × (228 + 128) = 1,780
    #           = 2,740 GB-months                                                      -> 274.00
    # Compute: 5,000 sessions × 2 min × 0.9 CPU s = 9,000 CPU s = 2.5 CPU-hours × 2.00 = 5.00 a month, 60.00 a year.
    # Licences 1,200. Staff: 1 × 0.5 × 120,000 + 2 × 0.25 × 80,000 = 60,000 + 40,000 = 100,000.
    # Training: people = staff head count 1 + 2 = 3; 3 × 4 h × 2 rounds × 50 = 1,200.
    # Audits: 2 × 3,000 + 1 × 10,000 = 16,000. Legal 5,000. Integration 20,000 in year 1 only.
    y1, y2, y3 = (y["lines"] for y in d["years"])
    assert y1 == {"storage": 78.0, "compute": 60.0, "licences": 1200.0, "staff": 100_000.0, "training": 1200.0,
                  "audits": 16_000.0, "legal": 5000.0, "integration": 20_000.0,
                  # 10 % of 78 + 60 + 1,200 + 100,000 + 1,200 + 16,000 + 5,000 + 20,000 = 10 % of 143,538
                  "contingency": 14_353.8}
    assert (y2["storage"], y2["integration"], y2["contingency"]) == (204.0, 0.0, 12_366.4)  # 10 % of 123,664
    assert (y3["storage"], y3["integration"], y3["contingency"]) == (274.0, 0.0, 12_373.4)  # 10 % of 123,734
    # Totals: 143,538 + 14,353.80 = 157,891.80; 123,664 + 12,366.40 = 136,030.40; 123,734 + 12,373.40 = 136,107.40
    assert [y["total"] for y in d["years"]] == [157_891.8, 136_030.4, 136_107.4]
    # 3 years: 157,891.80 + 136,030.40 + 136,107.40 = 430,029.60
    assert d["total"]["total"] == 430_029.6
    assert d["total"]["lines"]["storage"] == 556.0  # 78 + 204 + 274
    # Cost per recorded session: 157,891.80 / 60,000 = 2.63153; 430,029.60 / 180,000 = 2.389053
    assert d["years"][0]["cost_per_recorded_session"] == 2.6315
    assert d["total"]["cost_per_recorded_session"] == 2.3891
    # Year-1 average month: 157,891.80 / 12 = 13,157.65
    assert d["monthly"]["year1_average"]["total"] == 13_157.65
    # Steady state: ux 5 GB × 16 = 80 GB, fraud 5 × 32 = 160 GB; 240 GB × 0.10 = 24.00; compute 5.00;
    # fixed lines (1,200 + 100,000 + 1,200 + 16,000 + 5,000) / 12 = 10,283.333; subtotal 10,312.333;
    # contingency 1,031.233; total 11,343.567 -> 11,343.57, / 5,000 sessions = 2.2687
    assert d["storage"]["steady_state_gb"] == {"ux": 80.0, "fraud": 160.0}
    steady = d["monthly"]["steady_state"]
    assert (steady["storage"], steady["compute"], steady["integration"]) == (24.0, 5.0, 0.0)
    assert (steady["contingency"], steady["total"]) == (1031.23, 11_343.57)
    assert d["monthly"]["steady_state_cost_per_recorded_session"] == 2.2687
    # GB held at each year's end: 10 × 12 = 120; 5 × 16 + 5 × 24 = 200; 5 × 16 + 5 × 32 = 240
    assert [y["stored_gb_end"] for y in d["years"]] == [120.0, 200.0, 240.0]


def test_storage_grows_month_by_month_in_year_one() -> None:
    d = _plan().as_dict()
    # 10 GB recorded a month, nothing deleted before month 17: m × 10 GB at the end of month m.
    assert [m["stored_gb"] for m in d["months"][:3]] == [10.0, 20.0, 30.0]
    assert [m["lines"]["storage"] for m in d["months"][:3]] == [1.0, 2.0, 3.0]
    assert d["months"][0]["lines"]["integration"] == 20_000.0
    assert {m["lines"]["integration"] for m in d["months"][1:]} == {0.0}


def test_growth_steps_once_a_year() -> None:
    text = HAND.replace("retention:\n  ux: {share: 0.5, days: 487}\n  fraud: {share: 0.5, days: 974}",
                        "retention:\n  all: {share: 1, days: 487}")
    text += "growth: {sessions_pct: 100, storage_price_pct: 50, staff_cost_pct: 10, other_costs_pct: 25}\n"
    d = _plan(text).as_dict()
    # Sessions double in year 2: 10,000 recorded a month (20 GB) instead of 5,000 (10 GB).
    assert [y["recorded_sessions"] for y in d["years"]] == [60_000, 120_000, 240_000]
    # GB at the end of month 13…24, window of 16 months: month 13 = 12 × 10 + 20 = 140, 14 -> 160,
    # 15 -> 180, 16 -> 200, then one 10-GB month leaves and one 20-GB month joins: 210, 220, …, 280.
    # Sum = 140 + 160 + 180 + 200 + (210 + 280) × 8 / 2 = 680 + 1,960 = 2,640 GB-months
    # at 0.10 × 1.5 = 0.15 EUR -> 396.00
    assert d["years"][1]["lines"]["storage"] == 396.0
    # Compute doubles with the sessions (price unchanged): 120.00. Staff × 1.1 = 110,000.
    # Licences, training, audits, legal × 1.25: 1,500; 1,500; 20,000; 6,250.
    y2 = d["years"][1]["lines"]
    assert (y2["compute"], y2["staff"], y2["licences"], y2["training"], y2["audits"], y2["legal"]) == (
        120.0, 110_000.0, 1500.0, 1500.0, 20_000.0, 6250.0)
    # Year 3: staff 100,000 × 1.1² = 121,000; licences 1,200 × 1.25² = 1,875
    assert (d["years"][2]["lines"]["staff"], d["years"][2]["lines"]["licences"]) == (121_000.0, 1875.0)


def test_contingency_applies_only_to_the_named_lines() -> None:
    d = _plan(HAND.replace("contingency: {percent: 10}", "contingency: {percent: 20, applies_to: [staff, legal]}"))
    # 20 % of (100,000 + 5,000) = 21,000 a year
    assert [y["lines"]["contingency"] for y in d.as_dict()["years"]] == [21_000.0] * 3
    assert "contingency reserve 20 % of: staff, legal" in d.notes


def test_training_people_can_be_set() -> None:
    d = _plan(HAND.replace("cost_per_hour: 50}", "cost_per_hour: 50, people: 10}")).as_dict()
    assert d["years"][0]["lines"]["training"] == 4000.0  # 10 people × 4 h × 2 × 50


def test_window_sum_takes_partial_months_pro_rata() -> None:
    # 45 days = r = 1.47844 months. Month k covers (k − 1, k]. At the end of month 3 the window is
    # (3 − r, 3] = (1.52156, 3]: all of month 3, and of month 2 = (1, 2] the part (1.52156, 2], i.e. r − 1.
    r = 45 / DAYS_PER_MONTH
    assert _window_sum([10.0, 20.0, 40.0], 3, r) == pytest.approx(40 + 20 * (r - 1))
    assert _window_sum([10.0, 20.0, 40.0], 1, r) == 10.0  # not yet 45 days of data
    assert _window_sum([10.0, 20.0, 40.0], 3, 12.0) == 70.0


@pytest.mark.parametrize("patch,field", [
    ("sampling_rate: 0.5", "sampling_rate: 1.5"),
    ("fte_share: 0.5", "fte_share: half"),
    ("legal_per_year: 5000", "legal_per_yer: 5000"),
    ("people: 2,", "people: 2.5,"),
    ("days: 974", "days: 0"),
])
def test_invalid_fields_are_named(patch: str, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_scenario(HAND.replace(patch, field, 1))
    where = {"sampling_rate: 1.5": "traffic.sampling_rate", "fte_share: half": "staff.0.fte_share",
             "legal_per_yer: 5000": "legal_per_yer", "people: 2.5,": "staff.1.people",
             "days: 0": "retention.fraud.days"}[field]
    assert f"scenario field {where}:" in str(exc.value)


@pytest.mark.parametrize("text,message", [
    (HAND.replace("ux: {share: 0.5", "ux: {share: 0.4"), "scenario field retention: the shares of the categories "
                                                          "add up to 0.9, not 1"),
    (HAND.replace("contingency: {percent: 10}", "contingency: {percent: 10, applies_to: [contingency]}"),
     "scenario field contingency.applies_to: the contingency reserve cannot apply to itself"),
    (HAND + "legal_per_year: 1\n", "key 'legal_per_year' appears twice"),
    ("- just a list", "a scenario is a mapping"),
    ("name: [unclosed", "scenario is not valid YAML or JSON"),
    ("x" * 64_001, "scenario is larger than 64 KB"),
])
def test_malformed_scenarios(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_scenario(text)


def test_load_scenario_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(HAND.replace("price_per_gb_month: 0.10", "price_per_gb_month: -1"))
    with pytest.raises(InvalidInput, match=r"bad\.yaml: scenario field storage\.price_per_gb_month"):
        load_scenario(path)


def test_the_shipped_examples_validate_and_plan() -> None:
    files = example_files()
    assert {"crypto-bank-mid-size", "large-bank"} <= set(files)
    for path in files.values():
        s = load_scenario(path)
        p = plan(s, unit_figures(s, benchmark_measurement()))
        assert p.total > 0 and len(p.years) == s.years
