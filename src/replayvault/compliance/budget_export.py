"""Budget plan exports: the JSON document, CSV, the stacked bar chart (PNG), and the example scenarios.

Every export rounds money to cents, GB (10^9 bytes) to 3 decimals and the cost per recorded session
to 4 decimals; amounts are in each scenario's own currency (the ``currency`` column or key).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .budget_scenario import CATEGORIES

if TYPE_CHECKING:  # pragma: no cover
    from .budget import BudgetPlan

__all__ = ["plan_dict", "to_csv", "chart_png", "EXAMPLES_DIR", "example_files", "CATEGORY_LABELS", "COLUMNS"]

#: ``examples/budget`` of the source checkout (not shipped inside a wheel: then there are no examples).
EXAMPLES_DIR: Final = Path(__file__).resolve().parents[3] / "examples" / "budget"
CATEGORY_LABELS: Final = {"storage": "Storage", "compute": "Compute", "licences": "Licences", "staff": "Staff",
                          "training": "Training", "audits": "Audits", "legal": "Legal", "integration": "Integration",
                          "contingency": "Contingency"}
#: Colours of the categories in the chart (matplotlib "tab10", one per category).
_COLOURS: Final = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


def _money(x: float) -> float:
    return round(x + 0.0, 2)


def _per(total: float, sessions: float) -> float | None:
    return round(total / sessions, 4) if sessions else None


def plan_dict(p: BudgetPlan) -> dict[str, Any]:
    """The full plan as a JSON-ready dict (see :meth:`BudgetPlan.as_dict`)."""
    years = p.years
    steady_recorded = p.recorded_per_month[0] if p.recorded_per_month else 0.0
    return {
        "scenario": p.scenario.name,
        "currency": p.scenario.currency,
        "units": p.units.as_dict(),
        "categories": list(CATEGORIES),
        "monthly": {
            "year1_average": {c: _money(v) for c, v in p.year1_monthly_average.items()}
            | {"total": _money(years[0].total / 12)},
            "steady_state": {c: _money(v) for c, v in p.steady_month.items()}
            | {"total": _money(sum(p.steady_month.values()))},
            "steady_state_recorded_sessions": round(steady_recorded, 3),
            "steady_state_cost_per_recorded_session": _per(sum(p.steady_month.values()), steady_recorded),
        },
        "years": [{"year": y.year, "lines": {c: _money(v) for c, v in y.lines.items()}, "total": _money(y.total),
                   "recorded_sessions": round(y.recorded_sessions, 3), "stored_gb_end": round(y.stored_gb_end, 3),
                   "cost_per_recorded_session": _per(y.total, y.recorded_sessions)} for y in years],
        "total": {"years": p.scenario.years, "lines": {c: _money(v) for c, v in p.total_lines.items()},
                  "total": _money(p.total), "recorded_sessions": round(p.recorded_sessions, 3),
                  "cost_per_recorded_session": _per(p.total, p.recorded_sessions)},
        "storage": {"steady_state_gb": {k: round(v, 3) for k, v in p.steady_gb.items()},
                    "retention": {k: {"share": c.share, "days": c.days} for k, c in p.scenario.retention.items()}},
        "months": [{"month": i + 1, "lines": {c: _money(v) for c, v in m.items()}, "total": _money(sum(m.values())),
                    "recorded_sessions": round(p.recorded_per_month[i], 3),
                    "stored_gb": round(sum(p.stored_gb_per_month[i].values()), 3)} for i, m in enumerate(p.months)],
        "notes": list(p.notes),
        "input": p.scenario.model_dump(mode="json"),
    }


#: CSV columns after scenario, currency and category.
COLUMNS: Final = ("monthly_year1_average", "monthly_steady_state")


def to_csv(plans: list[BudgetPlan]) -> str:
    """One row per scenario and category (then ``total`` and ``cost_per_recorded_session``), columns:
    ``scenario, currency, category, monthly_year1_average, monthly_steady_state, year_1 … year_N,
    total_N_years`` (N = the most years planned; a shorter plan leaves its extra years empty)."""
    n = max(p.scenario.years for p in plans)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["scenario", "currency", "category", *COLUMNS, *(f"year_{i}" for i in range(1, n + 1)),
                f"total_{n}_years"])
    for p in plans:
        d = plan_dict(p)
        pad = [""] * (n - p.scenario.years)
        for cat in (*CATEGORIES, "total"):
            yearly = [y["total"] if cat == "total" else y["lines"][cat] for y in d["years"]]
            whole = d["total"]["total"] if cat == "total" else d["total"]["lines"][cat]
            w.writerow([p.scenario.name, p.scenario.currency, cat, f"{d['monthly']['year1_average'][cat]:.2f}",
                        f"{d['monthly']['steady_state'][cat]:.2f}", *(f"{v:.2f}" for v in yearly), *pad,
                        f"{whole:.2f}"])
        per = [y["cost_per_recorded_session"] for y in d["years"]]
        w.writerow([p.scenario.name, p.scenario.currency, "cost_per_recorded_session",
                    _fmt4(per[0]),  # the year-1 average month: year-1 cost / year-1 sessions
                    _fmt4(d["monthly"]["steady_state_cost_per_recorded_session"]), *map(_fmt4, per), *pad,
                    _fmt4(d["total"]["cost_per_recorded_session"])])
    return buf.getvalue()


def _fmt4(x: float | None) -> str:
    return "" if x is None else f"{x:.4f}"


def chart_png(plans: list[BudgetPlan], *, width_in: float = 9.0, height_in: float = 4.8) -> bytes:
    """A stacked bar chart per planned year by category (one panel per scenario, same money axis
    only when the currencies agree), as PNG bytes (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    same = len({p.scenario.currency for p in plans}) == 1
    fig = Figure(figsize=(max(width_in, 4.2 * len(plans) + 2.0), height_in), dpi=110, layout="constrained")
    axes = fig.subplots(1, len(plans), sharey=same, squeeze=False)[0]
    for ax, p in zip(axes, plans, strict=True):
        years = p.years
        xs = list(range(len(years)))
        bottom = [0.0] * len(years)
        for cat, colour in zip(CATEGORIES, _COLOURS, strict=True):
            vals = [y.lines[cat] for y in years]
            ax.bar(xs, vals, bottom=bottom, color=colour, width=0.62, label=CATEGORY_LABELS[cat])
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        for x, total in zip(xs, bottom, strict=True):
            ax.annotate(_short(total), (x, total), ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                        textcoords="offset points")
        ax.set_xticks(xs, [f"Year {y.year}" for y in years])
        ax.set_title(p.scenario.name, fontsize=10, wrap=True)
        if ax is axes[0] or not same:
            ax.set_ylabel(f"{p.scenario.currency} per year")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _short(v)))
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.margins(y=0.1)
    for ax in axes:  # after every panel is drawn: shared axes scale to the tallest bar
        ax.set_ylim(bottom=0)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="outside right center", fontsize=8, frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _short(v: float) -> str:
    """``1.78M``, ``350k``, ``900`` — an axis or bar label (three significant digits at most)."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e3:
        return f"{v / 1e3:.3g}k"
    return f"{v:.3g}"


def example_files(directory: Path = EXAMPLES_DIR) -> dict[str, Path]:
    """The example scenarios ``{file stem: path}``, sorted; empty when the folder is not there."""
    if not directory.is_dir():
        return {}
    return {p.stem: p for p in sorted(directory.glob("*.yaml"))}
