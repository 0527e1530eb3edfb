"""Budget scenarios: the YAML a compliance or HR lead writes to plan the cost of session recording.

A scenario is validated strictly (pydantic, unknown keys and a key given twice are errors) and an
invalid one raises :class:`~replayvault.errors.InvalidInput` whose message names the field, e.g.
``scenario field traffic.sampling_rate: Input should be less than or equal to 1``.

Units, everywhere in a scenario:

* money in the scenario's ``currency`` (an ISO 4217 code, default EUR), without cents rounding;
* storage in GB = 10^9 bytes (decimal gigabytes, as storage is billed per GB-month);
* time in months, years, days, minutes, hours and CPU seconds as named by each field;
* staff in FTE (full-time equivalent: 1.0 = one person's whole working time).

See ``examples/budget/*.yaml`` for commented scenarios and :mod:`.budget` for how each line is
computed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..strict_yaml import StrictLoader
from ..errors import InvalidInput

__all__ = ["CATEGORIES", "COST_LINES", "Category", "Scenario", "Traffic", "RetentionCategory", "Storage", "Compute",
           "Licence", "StaffLine", "Training", "Audits", "Contingency", "Growth", "Units", "parse_scenario",
           "load_scenario", "MAX_SCENARIO_BYTES"]

Category = Literal["storage", "compute", "licences", "staff", "training", "audits", "legal", "integration",
                   "contingency"]
#: The budget categories, in the order of every table, export and chart.
CATEGORIES: Final[tuple[Category, ...]] = ("storage", "compute", "licences", "staff", "training", "audits", "legal",
                                           "integration", "contingency")
#: The categories the contingency reserve can apply to (all but itself).
COST_LINES: Final[tuple[Category, ...]] = CATEGORIES[:-1]
#: Largest scenario file accepted (bytes).
MAX_SCENARIO_BYTES: Final = 64_000

Money = float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Traffic(_Strict):
    """Sessions of the web app and how many of them are recorded."""

    monthly_sessions: int = Field(ge=0, description="Sessions per month that may be recorded (consent given).")
    sampling_rate: float = Field(ge=0, le=1, description="Share of those sessions recorded, 0–1 (0.1 = 10 %).")
    avg_session_minutes: float = Field(gt=0, le=24 * 60, description="Average length of a recorded session, minutes.")


class RetentionCategory(_Strict):
    """One retention category: which share of recorded sessions is kept, and for how long."""

    share: float = Field(ge=0, le=1, description="Share of recorded sessions in this category, 0–1.")
    days: int = Field(ge=1, le=36_500, description="Retention period, days (a month is 30.4375 days).")


class Storage(_Strict):
    """Storage of the encrypted recordings."""

    price_per_gb_month: Money = Field(ge=0, description="Price of one GB (10^9 bytes) stored for one month.")
    copies: int = Field(1, ge=1, le=10, description="Copies kept (replicas, backups); multiplies the stored bytes.")


class Compute(_Strict):
    """Processing of recorded sessions (masking, sealing, analytics facts)."""

    price_per_cpu_hour: Money = Field(ge=0, description="Price of one CPU core for one hour.")


class Licence(_Strict):
    """A licence or subscription the recording programme needs."""

    name: str = Field(min_length=1, max_length=80)
    annual_cost: Money = Field(ge=0, description="Cost per year.")


class StaffLine(_Strict):
    """One line of the team structure: people in a role and the share of their time spent on this."""

    role: str = Field(min_length=1, max_length=80, description="e.g. compliance lead, data privacy officer.")
    people: int = Field(1, ge=0, le=10_000, description="Head count in this role.")
    fte_share: float = Field(ge=0, le=1, description="Share of each person's working time spent on this, FTE 0–1.")
    loaded_annual_cost: Money = Field(ge=0, description="Full cost of one full-time person per year (salary, "
                                                        "employer charges, overhead).")


class Training(_Strict):
    """Compliance training of everyone who works with recordings."""

    hours_per_person: float = Field(ge=0, le=2000, description="Hours of one training round per person.")
    refreshers_per_year: float = Field(ge=0, le=52, description="Training rounds per year (1 = yearly, 2 = "
                                                                "every six months, 0.5 = every two years).")
    cost_per_hour: Money = Field(ge=0, description="Cost of one person-hour of training (trainer, platform).")
    people: int | None = Field(None, ge=0, le=100_000, description="People trained; default: the head count of "
                                                                  "the staff lines.")


class Audits(_Strict):
    """Periodic audits of the recording programme."""

    internal_per_year: float = Field(0, ge=0, le=365)
    internal_cost: Money = Field(0, ge=0, description="Cost of one internal audit.")
    third_party_per_year: float = Field(0, ge=0, le=365)
    third_party_cost: Money = Field(0, ge=0, description="Cost of one third-party audit.")


class Contingency(_Strict):
    """Reserve for regulatory change, a percentage of the lines it applies to."""

    percent: float = Field(ge=0, le=100, description="Reserve, % of the lines in applies_to.")
    applies_to: tuple[Category, ...] = Field(COST_LINES, min_length=1, description="Lines the reserve is "
                                             "computed on; default: every other line.")

    @field_validator("applies_to")
    @classmethod
    def _not_itself(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "contingency" in value:
            raise ValueError("the contingency reserve cannot apply to itself")
        if len(set(value)) != len(value):
            raise ValueError("a line is named twice")
        return value


class Growth(_Strict):
    """Changes from one year to the next (the 3-year view), % per year; year 1 uses the base values."""

    sessions_pct: float = Field(0, ge=-100, le=1000, description="Growth of monthly sessions, % per year.")
    storage_price_pct: float = Field(0, ge=-100, le=1000, description="Change of the storage price, % per year.")
    compute_price_pct: float = Field(0, ge=-100, le=1000, description="Change of the CPU-hour price, % per year.")
    staff_cost_pct: float = Field(0, ge=-100, le=1000, description="Change of loaded staff costs, % per year.")
    other_costs_pct: float = Field(0, ge=-100, le=1000, description="Change of licences, training, audits and "
                                                                    "legal costs, % per year.")


class Units(_Strict):
    """Unit figures that override the installation's measurements (leave out to use them)."""

    bytes_per_session_minute: float | None = Field(None, gt=0, description="Stored (compressed, encrypted) "
                                                                           "bytes per recorded session-minute.")
    cpu_seconds_per_session_minute: float | None = Field(None, ge=0, description="CPU seconds to process one "
                                                                                 "recorded session-minute.")


class Scenario(_Strict):
    """A budget scenario (see the module docstring for units)."""

    name: str = Field(min_length=1, max_length=120)
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 code of every amount.")
    years: int = Field(3, ge=1, le=10, description="Years planned (the multi-year view).")
    traffic: Traffic
    retention: dict[str, RetentionCategory] = Field(min_length=1, max_length=20)
    storage: Storage
    compute: Compute
    licences: tuple[Licence, ...] = ()
    staff: tuple[StaffLine, ...] = ()
    training: Training | None = None
    audits: Audits | None = None
    legal_per_year: Money = Field(0, ge=0, description="Legal consultation, cost per year.")
    integration_one_off: Money = Field(0, ge=0, description="One-off integration cost, in year 1 only.")
    contingency: Contingency = Contingency(percent=0)
    growth: Growth = Growth()
    units: Units = Units()

    @field_validator("retention")
    @classmethod
    def _category_names(cls, value: dict[str, RetentionCategory]) -> dict[str, RetentionCategory]:
        for key in value:
            if not key.replace("_", "").replace("-", "").isalnum() or len(key) > 40:
                raise ValueError(f"category name {key[:40]!r}: use letters, digits, '_' or '-' (at most 40)")
        total = sum(c.share for c in value.values())
        if abs(total - 1) > 1e-9:
            raise ValueError(f"the shares of the categories add up to {total:g}, not 1")
        return value

    @property
    def headcount(self) -> int:
        """People on the staff lines."""
        return sum(s.people for s in self.staff)


def _field_error(exc: ValidationError) -> str:
    """``scenario field traffic.sampling_rate: ...`` for the first three errors (unknown keys first)."""
    errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
    parts = []
    for e in errors[:3]:
        where = ".".join(str(p) for p in e.get("loc", ())) or "(top level)"
        parts.append(f"scenario field {where}: {str(e.get('msg', 'invalid')).removeprefix('Value error, ')}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def parse_scenario(text: str | bytes | dict[str, Any]) -> Scenario:
    """Validate a scenario given as YAML or JSON text (or an already decoded mapping).

    Raises:
        InvalidInput: not YAML/JSON, not a mapping, larger than 64 KB, or a field is invalid — the
            message names the field (``scenario field staff.1.fte_share: ...``).
    """
    data: Any = text
    if isinstance(text, (str, bytes)):
        if len(text) > MAX_SCENARIO_BYTES:
            raise InvalidInput("scenario is larger than 64 KB")
        try:
            data = yaml.load(text, Loader=StrictLoader) if text.strip() else None  # JSON is YAML 1.2
        except RecursionError:
            raise InvalidInput("scenario is nested too deeply") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            what = getattr(exc, "problem", None) or "syntax error"
            line = getattr(mark, "line", -1) + 1
            raise InvalidInput(f"scenario is not valid YAML or JSON: {what} (line {line})") from None
    if not isinstance(data, dict):
        raise InvalidInput("a scenario is a mapping (YAML) or an object (JSON) with at least name, traffic, "
                           "retention, storage and compute")
    try:
        return Scenario.model_validate_json(json.dumps(data, default=str))  # JSON mode: lists for tuples
    except ValidationError as exc:
        raise InvalidInput(_field_error(exc)) from None


def load_scenario(path: Path) -> Scenario:
    """Read and validate the scenario file ``path``.

    Raises:
        InvalidInput: unreadable or invalid; the message starts with the file name.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return parse_scenario(raw)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from None
