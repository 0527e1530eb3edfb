"""Budget planner: what recording sessions and analysing them costs, per month, per year and per session.

``plan(scenario, units)`` models every month of the planned years (default 3) in the scenario's
currency. Month ``m`` = 1, 2, … belongs to year ``y`` = 1 + (m − 1) // 12; "% per year" changes of
the scenario's ``growth`` section step once a year (year 1 uses the base values, year ``y`` the base
× (1 + pct/100)^(y − 1)).

Lines (each per month; the annual figure is the sum of its months):

* **storage**: recorded sessions per month = monthly sessions × sampling rate. Each session stores
  ``avg_session_minutes × bytes per session-minute × copies`` bytes, and a session of retention
  category ``c`` is kept ``R_c = days_c / 30.4375`` months (30.4375 = 365.25 / 12 days). The GB
  (10^9 bytes) held at the **end** of month ``m`` are what was recorded in the window
  ``(m − R_c, m]`` — months recorded wholly or partly inside the window, pro rata — and each month is
  billed on that end-of-month volume × the GB-month price (conservative: a growing store is billed as
  if the month's new sessions had been there all month). So storage grows month by month in year 1
  until each category's retention is reached, then holds at the steady state
  ``sessions/month × share × bytes per session × days / 30.4375``.
* **compute**: recorded sessions × minutes × CPU seconds per session-minute / 3600 × CPU-hour price.
* **licences**, **staff** (people × FTE share × loaded annual cost), **training** (people × hours ×
  refreshers per year × cost per hour), **audits** (internal count × cost + third-party count ×
  cost), **legal** (consultation per year): each annual amount / 12 per month.
* **integration**: the one-off cost, in month 1 only.
* **contingency**: ``percent`` of the lines named in the scenario's ``contingency.applies_to``
  (default: all the lines above), month by month.

The **steady state** month uses year-1 volumes and prices with every retention period reached and
no integration. Cost per recorded session = cost / sessions recorded in the same period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

from .budget_scenario import CATEGORIES, COST_LINES, Scenario, load_scenario, parse_scenario
from .budget_units import Measurement, UnitFigures, benchmark_measurement, measure_installation, unit_figures

__all__ = ["plan", "BudgetPlan", "YearTotals", "DAYS_PER_MONTH", "GB", "CATEGORIES", "COST_LINES", "Scenario",
           "parse_scenario", "load_scenario", "Measurement", "UnitFigures", "measure_installation",
           "benchmark_measurement", "unit_figures"]

#: Days in an average month (365.25 / 12).
DAYS_PER_MONTH: Final = 30.4375
#: Bytes in a GB (decimal gigabyte, as storage is billed).
GB: Final = 1e9

Lines = dict[str, float]


@dataclass(frozen=True)
class YearTotals:
    """One planned year: cost per category, recorded sessions, GB stored at its end (all categories)."""

    year: int
    lines: Lines
    recorded_sessions: float
    stored_gb_end: float

    @property
    def total(self) -> float:
        """Sum of every category, in the scenario's currency."""
        return sum(self.lines.values())

    @property
    def cost_per_session(self) -> float | None:
        """Total / recorded sessions (None when nothing is recorded)."""
        return self.total / self.recorded_sessions if self.recorded_sessions else None


@dataclass(frozen=True)
class BudgetPlan:
    """The costed plan of one scenario. Money in ``scenario.currency``; storage in GB (10^9 bytes)."""

    scenario: Scenario
    units: UnitFigures
    months: list[Lines]                       # cost per category, month 1 … 12 × years
    recorded_per_month: list[float]           # sessions recorded in each month
    stored_gb_per_month: list[dict[str, float]]  # GB held at each month's end, per retention category
    steady_month: Lines                       # year-1 volumes and prices, retention reached, no integration
    steady_gb: dict[str, float]               # GB held at steady state, per retention category
    notes: list[str] = field(default_factory=list)

    @property
    def years(self) -> list[YearTotals]:
        """Per planned year: the sum of its twelve months."""
        out = []
        for y in range(self.scenario.years):
            months = self.months[12 * y:12 * y + 12]
            lines = {c: sum(m[c] for m in months) for c in CATEGORIES}
            out.append(YearTotals(y + 1, lines, sum(self.recorded_per_month[12 * y:12 * y + 12]),
                                  sum(self.stored_gb_per_month[12 * y + 11].values())))
        return out

    @property
    def total_lines(self) -> Lines:
        """Cost per category over all planned years."""
        return {c: sum(m[c] for m in self.months) for c in CATEGORIES}

    @property
    def total(self) -> float:
        """Cost over all planned years."""
        return sum(self.total_lines.values())

    @property
    def recorded_sessions(self) -> float:
        """Sessions recorded over all planned years."""
        return sum(self.recorded_per_month)

    @property
    def year1_monthly_average(self) -> Lines:
        """Year 1 per category / 12 (includes the one-off integration)."""
        return {c: v / 12 for c, v in self.years[0].lines.items()}

    def as_dict(self) -> dict[str, Any]:
        """The full plan, JSON-ready; money rounded to cents, GB to 3 decimals, per-session cost to 4."""
        from .budget_export import plan_dict

        return plan_dict(self)


def _growth(pct: float, year_index: int) -> float:
    """Factor of a % per year change in year ``year_index + 1``."""
    return (1 + pct / 100) ** year_index


def _window_sum(per_month: list[float], end: int, length: float) -> float:
    """Sum of ``per_month`` (month k covers ``(k − 1, k]``) over the window ``(end − length, end]``, pro rata."""
    start = end - length
    total = 0.0
    for k in range(max(1, math.floor(start) + 1), end + 1):
        overlap = min(k, end) - max(k - 1, start)
        if overlap > 0:
            total += per_month[k - 1] * overlap
    return total


def _fixed_annual(s: Scenario) -> Lines:
    """Year-1 annual amounts of the lines that do not depend on volumes."""
    training = 0.0
    if s.training:
        people = s.training.people if s.training.people is not None else s.headcount
        training = people * s.training.hours_per_person * s.training.refreshers_per_year * s.training.cost_per_hour
    audits = 0.0
    if s.audits:
        a = s.audits
        audits = a.internal_per_year * a.internal_cost + a.third_party_per_year * a.third_party_cost
    return {"licences": sum(x.annual_cost for x in s.licences),
            "staff": sum(x.people * x.fte_share * x.loaded_annual_cost for x in s.staff),
            "training": training, "audits": audits, "legal": s.legal_per_year}


def _with_contingency(s: Scenario, lines: Lines) -> Lines:
    lines["contingency"] = s.contingency.percent / 100 * sum(lines[c] for c in s.contingency.applies_to)
    return {c: lines.get(c, 0.0) for c in CATEGORIES}


def plan(scenario: Scenario, units: UnitFigures) -> BudgetPlan:
    """Cost ``scenario`` month by month with ``units`` (see the module docstring for every formula)."""
    s, g = scenario, scenario.growth
    n_months = 12 * s.years
    bytes_per_session = s.traffic.avg_session_minutes * units.bytes_per_session_minute * s.storage.copies
    cpu_hours_per_session = s.traffic.avg_session_minutes * units.cpu_seconds_per_session_minute / 3600
    base_recorded = s.traffic.monthly_sessions * s.traffic.sampling_rate
    recorded = [base_recorded * _growth(g.sessions_pct, (m - 1) // 12) for m in range(1, n_months + 1)]
    fixed = _fixed_annual(s)
    retention_months = {name: c.days / DAYS_PER_MONTH for name, c in s.retention.items()}
    months: list[Lines] = []
    stored: list[dict[str, float]] = []
    for m in range(1, n_months + 1):
        y = (m - 1) // 12
        gb = {name: _window_sum(recorded, m, retention_months[name]) * c.share * bytes_per_session / GB
              for name, c in s.retention.items()}
        stored.append(gb)
        other = _growth(g.other_costs_pct, y)
        lines: Lines = {
            "storage": sum(gb.values()) * s.storage.price_per_gb_month * _growth(g.storage_price_pct, y),
            "compute": recorded[m - 1] * cpu_hours_per_session * s.compute.price_per_cpu_hour
            * _growth(g.compute_price_pct, y),
            "licences": fixed["licences"] / 12 * other,
            "staff": fixed["staff"] / 12 * _growth(g.staff_cost_pct, y),
            "training": fixed["training"] / 12 * other,
            "audits": fixed["audits"] / 12 * other,
            "legal": fixed["legal"] / 12 * other,
            "integration": s.integration_one_off if m == 1 else 0.0,
        }
        months.append(_with_contingency(s, lines))
    steady_gb = {name: base_recorded * c.share * bytes_per_session / GB * retention_months[name]
                 for name, c in s.retention.items()}
    steady = {"storage": sum(steady_gb.values()) * s.storage.price_per_gb_month,
              "compute": base_recorded * cpu_hours_per_session * s.compute.price_per_cpu_hour,
              **{k: v / 12 for k, v in fixed.items()}, "integration": 0.0}
    return BudgetPlan(s, units, months, recorded, stored, _with_contingency(s, steady), steady_gb,
                      _notes(s, units, retention_months))


def _notes(s: Scenario, units: UnitFigures, retention_months: dict[str, float]) -> list[str]:
    """What a reader of the plan needs to know about its assumptions."""
    applied = ", ".join(s.contingency.applies_to)
    notes = [
        f"unit figures: {units.bytes_per_session_minute:,.0f} stored bytes per session-minute "
        f"({units.bytes_source}), {units.cpu_seconds_per_session_minute:.4f} CPU s per session-minute "
        f"({units.cpu_source}); {units.note}",
        "storage is billed monthly on the GB (10^9 bytes) held at each month's end; it grows month by month "
        "until each retention period is reached",
        f"contingency reserve {s.contingency.percent:g} % of: {applied}",
        "one-off integration is in month 1 of year 1 only; the steady-state month leaves it out",
    ]
    longest = max(retention_months.values())
    if longest > 12 * s.years:
        notes.append(f"the longest retention ({longest:.1f} months) is longer than the {s.years} planned years: "
                     "storage still grows in the last year")
    elif longest > 12:
        notes.append(f"the longest retention ({longest:.1f} months) is reached after year 1: storage grows into "
                     f"year {math.ceil(longest / 12)}")
    return notes
