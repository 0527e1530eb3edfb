"""Command line of the budget planner: ``replayvault budget plan`` (attached in :mod:`.cli`).

A thin layer over :mod:`replayvault.compliance.budget`: read the scenario files, take the unit
figures from this installation (or the benchmark), cost each scenario, print Rich tables or JSON and
write the CSV and chart files asked for. An invalid scenario file is an error naming the file and the
field (exit 2).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import ReplayVaultError
from .compliance.budget import BudgetPlan, Measurement, benchmark_measurement, load_scenario, plan, unit_figures
from .compliance.budget_export import CATEGORY_LABELS, chart_png, to_csv
from .compliance.budget_scenario import CATEGORIES

__all__ = ["budget_app", "installation_measurement", "plan_files"]

budget_app = typer.Typer(help="Budget planner: what recording and analysing sessions costs.", no_args_is_help=True)


def installation_measurement(use_benchmark: bool = False) -> Measurement:
    """Unit figures of the installation in ``REPLAYVAULT_HOME`` (the benchmark's when it has no data
    directory yet, fewer than 20 measured sessions, or ``use_benchmark``). Creates nothing."""
    from . import cli
    from .config import get_settings
    from .compliance.budget import measure_installation

    if use_benchmark:
        return benchmark_measurement("asked for with --benchmark-figures")
    settings = get_settings()
    if settings.database_url is None and not (settings.data_dir / "replayvault.sqlite3").exists():
        return benchmark_measurement(f"no installation data in {settings.data_dir}")
    return measure_installation(cli._runtime())


def plan_files(paths: list[Path], measured: Measurement) -> list[BudgetPlan]:
    """Load and cost every scenario file.

    Raises:
        InvalidInput: a file is unreadable or invalid (the message names the file and the field).
    """
    scenarios = [load_scenario(p) for p in paths]
    return [plan(s, unit_figures(s, measured)) for s in scenarios]


def _m(x: float) -> str:
    """Money: whole units, cents below 100 (storage and compute are often a few cents)."""
    return f"{x:,.2f}" if 0 < abs(x) < 100 else f"{x:,.0f}"


def _per(total: float, sessions: float) -> str:
    return f"{total / sessions:,.2f}" if sessions else "–"


def _lines_table(title: str, heads: list[str], cols: list[dict[str, float]], sessions: list[float],
                 caption: str) -> Table:
    """Categories down, one column per period; then total, recorded sessions and cost per session."""
    t = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    t.add_column("category", no_wrap=True)
    for head in heads:
        t.add_column(head, justify="right", no_wrap=True)
    for c in CATEGORIES:
        t.add_row(CATEGORY_LABELS[c], *(_m(col[c]) for col in cols))
    t.add_section()
    totals = [sum(col.values()) for col in cols]
    t.add_row("Total", *map(_m, totals), style="bold")
    t.add_row("Sessions", *map(_m, sessions), style="dim")
    t.add_row("Per session", *(_per(a, n) for a, n in zip(totals, sessions, strict=True)))
    return t


def _plan_tables(p: BudgetPlan) -> list[Table]:
    s, years, rec = p.scenario, p.years, p.recorded_per_month[0]
    monthly = _lines_table(f"{escape(s.name)} — per month, {s.currency}", ["year-1 average", "steady state"],
                           [p.year1_monthly_average, p.steady_month], [rec, rec],
                           "year-1 average includes the one-off integration / 12; steady state: every retention "
                           "reached, year-1 volumes and prices. Sessions: recorded per month")
    annual = _lines_table(f"{escape(s.name)} — per year, {s.currency}",
                          [*(f"year {y.year}" for y in years), f"{s.years} years"],
                          [*(y.lines for y in years), p.total_lines],
                          [*(y.recorded_sessions for y in years), p.recorded_sessions],
                          "Sessions: recorded in the period; per session: cost per recorded session")
    return [monthly, annual]


def _storage_table(p: BudgetPlan) -> Table:
    t = Table("retention", "share", "days", "steady", *(f"end Y{y.year}" for y in p.years),
              title="Stored recordings, GB (10^9 bytes, all copies)", title_justify="left")
    for name, c in p.scenario.retention.items():
        ends = [p.stored_gb_per_month[12 * y.year - 1][name] for y in p.years]
        t.add_row(escape(name), f"{c.share:.0%}" if c.share * 100 == round(c.share * 100) else f"{c.share:.2%}",
                  str(c.days), f"{p.steady_gb[name]:,.1f}", *(f"{v:,.1f}" for v in ends))
    return t


def _comparison(plans: list[BudgetPlan]) -> Table:
    t = Table(title="Scenarios side by side", title_justify="left")
    t.add_column("category")
    for p in plans:
        t.add_column(f"{escape(p.scenario.name)}\nyear 1, {p.scenario.currency}", justify="right")
        t.add_column(f"{escape(p.scenario.name)}\n{p.scenario.years} years, {p.scenario.currency}", justify="right")
    for c in CATEGORIES:
        t.add_row(CATEGORY_LABELS[c], *(v for p in plans for v in (_m(p.years[0].lines[c]), _m(p.total_lines[c]))))
    t.add_section()
    t.add_row("Total", *(v for p in plans for v in (_m(p.years[0].total), _m(p.total))), style="bold")
    t.add_row("Sessions", *(v for p in plans for v in (_m(p.years[0].recorded_sessions),
                                                                 _m(p.recorded_sessions))), style="dim")
    t.add_row("Per session", *(v for p in plans for v in (
        _per(p.years[0].total, p.years[0].recorded_sessions), _per(p.total, p.recorded_sessions))))
    return t


@budget_app.command("plan")
def plan_cmd(scenarios: list[Path] = typer.Argument(..., help="Scenario YAML files; several are compared side by side."),
             as_json: bool = typer.Option(False, "--json", help="Print the full plan as JSON (an array for several)."),
             csv_file: Optional[Path] = typer.Option(None, "--csv", help="Write the plan as CSV to this file."),
             chart_file: Optional[Path] = typer.Option(None, "--chart", help="Write a stacked bar chart (PNG)."),
             benchmark: bool = typer.Option(False, "--benchmark-figures",
                                            help="Use the benchmark's unit figures, not this installation's.")) -> None:
    """Cost one or more budget scenarios: monthly, annual and multi-year tables by category, cost per recorded session.

    Storage and compute use the stored bytes and CPU seconds per session-minute measured on this
    installation (REPLAYVAULT_HOME), or the benchmark's figures when it has fewer than 20 sessions;
    the output says which.

    Example: replayvault budget plan examples/budget/crypto-bank-mid-size.yaml --chart budget.png
    """
    from . import cli

    try:
        plans = plan_files(scenarios, installation_measurement(benchmark))
    except ReplayVaultError as exc:
        cli._fail(exc)
    say = cli.err if as_json else cli.out
    if as_json:
        docs = [p.as_dict() for p in plans]
        sys.stdout.write(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2) + "\n")
    else:
        _print(cli.out, plans)
    for target, make in ((csv_file, lambda: to_csv(plans).encode()), (chart_file, lambda: chart_png(plans))):
        if target is None:
            continue
        try:
            target.write_bytes(make())
        except OSError as exc:
            cli._fail(ReplayVaultError(f"{target}: cannot write ({exc.strerror})"))
        say.print(f"wrote {escape(str(target))}")


def _print(out: Console, plans: list[BudgetPlan]) -> None:
    shown = None
    for p in plans:
        u = p.units
        figures = (f"[bold]Unit figures[/]: {u.bytes_per_session_minute:,.0f} stored bytes per session-minute "
                   f"([bold]{u.bytes_source}[/]), {u.cpu_seconds_per_session_minute:.4f} CPU seconds per "
                   f"session-minute ([bold]{u.cpu_source}[/]) — {escape(u.note)}")
        if figures != shown:
            out.print(figures, soft_wrap=True)
            shown = figures
        for table in (*_plan_tables(p), _storage_table(p)):
            out.print(table)
        for note in p.notes[1:]:
            out.print(f"[dim]· {escape(note)}[/]", soft_wrap=True)
        out.print()
    if len(plans) > 1:
        out.print(_comparison(plans))
