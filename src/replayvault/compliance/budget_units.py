"""Unit figures of the budget planner: stored bytes per session-minute, CPU seconds per session-minute.

Where each figure comes from, in order of preference:

1. ``scenario``: the scenario's ``units`` section sets it (a what-if, or a figure from elsewhere);
2. ``installation``: measured on this installation's own recordings, when at least
   :data:`MIN_SESSIONS` sessions have a measured duration;
3. ``benchmark``: the constants below, measured on the development machine.

Measured on the installation:

* **bytes per session-minute** = sum of ``sessions.stored_bytes`` (the compressed, encrypted chunks
  as stored, SQL table ``sessions``) / sum of session minutes. A session's minutes are its
  ``duration_ms`` in the analytics store (last event time − first event time, the time the visitor
  was recorded); ``updated_ms − created_ms`` of the SQL row (server clock, first to last batch) only
  when the analytics store has no duration for it. Imported recordings arrive in one burst, so their
  server-clock span says nothing about their length: the event times are the better measure.
  Sessions without a positive duration are left out of both sums. Analytics facts (DuckDB), SQL rows
  and indexes are not counted.
* **CPU seconds per session-minute**: no CPU time is stored per session, so it is derived:
  raw (uncompressed JSON) bytes per session-minute on this installation / the ingest benchmark's
  throughput (:data:`INGEST_BYTES_PER_S`, one core, every detector on).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Final, Literal

from .budget_scenario import Scenario

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime import Runtime

__all__ = ["UnitFigures", "Measurement", "MIN_SESSIONS", "INGEST_BYTES_PER_S", "BENCHMARK_BYTES_PER_SESSION_MINUTE",
           "BENCHMARK_RAW_BYTES_PER_SESSION_MINUTE", "BENCHMARK_NOTE", "benchmark_measurement", "measure_installation",
           "unit_figures"]

Source = Literal["scenario", "installation", "benchmark"]

#: Fewest sessions with a measured duration for the installation's own figures to be used.
MIN_SESSIONS: Final = 20
#: ``benchmarks/ingest.py`` ("all" row), 2026-11-29 on the development machine (2 cores), every detector
#: on: 4.4 MB/s of raw rrweb JSON (10^6 bytes/s) through mask -> compress -> encrypt -> store -> facts,
#: one core. Bytes per second.
INGEST_BYTES_PER_S: Final = 4.4e6
#: The four posthog.com recordings of ``../shared/data/recordings`` imported with ``replayvault import``
#: on 2026-11-29: 886,820 stored bytes over 2,968,259 ms (49.471 session-minutes). Bytes per minute.
BENCHMARK_BYTES_PER_SESSION_MINUTE: Final = 17_926.06
#: The same import: 9,320,714 raw bytes over 49.471 session-minutes. Bytes per minute.
BENCHMARK_RAW_BYTES_PER_SESSION_MINUTE: Final = 188_407.7
BENCHMARK_NOTE: Final = ("benchmark figures of 2026-11-29: 4 posthog.com recordings (49.5 session-minutes) imported "
                         "with `replayvault import`; ingest 4.4 MB/s per core with every detector (benchmarks/ingest.py)")


@dataclass(frozen=True)
class Measurement:
    """Unit figures measured on (or assumed for) an installation.

    Attributes:
        bytes_per_session_minute: stored bytes per recorded session-minute.
        raw_bytes_per_session_minute: uncompressed rrweb JSON bytes per session-minute.
        sessions: sessions measured (0 for the benchmark figures).
        minutes: session-minutes measured.
        source: ``installation`` or ``benchmark``.
        note: where the figures come from, for people.
    """

    bytes_per_session_minute: float
    raw_bytes_per_session_minute: float
    sessions: int
    minutes: float
    source: Source
    note: str

    @property
    def cpu_seconds_per_session_minute(self) -> float:
        """CPU seconds per session-minute: raw bytes per minute / :data:`INGEST_BYTES_PER_S`."""
        return self.raw_bytes_per_session_minute / INGEST_BYTES_PER_S


@dataclass(frozen=True)
class UnitFigures:
    """The two figures a plan uses and where each came from (``scenario``, ``installation``, ``benchmark``)."""

    bytes_per_session_minute: float
    bytes_source: Source
    cpu_seconds_per_session_minute: float
    cpu_source: Source
    note: str

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)


def benchmark_measurement(reason: str = "") -> Measurement:
    """The benchmark figures (:data:`BENCHMARK_BYTES_PER_SESSION_MINUTE` and friends); ``reason`` says why."""
    note = BENCHMARK_NOTE + (f" ({reason})" if reason else "")
    return Measurement(BENCHMARK_BYTES_PER_SESSION_MINUTE, BENCHMARK_RAW_BYTES_PER_SESSION_MINUTE, 0, 0.0,
                       "benchmark", note)


def measure_installation(rt: Runtime, min_sessions: int = MIN_SESSIONS) -> Measurement:
    """This installation's bytes per session-minute (see the module docstring), or the benchmark
    figures when fewer than ``min_sessions`` sessions have a measured duration."""
    from sqlalchemy import select

    from ..db.models import RecordingSession

    import duckdb

    try:
        durations = {row["session_id"]: row.get("duration_ms") for row in rt.analytics.sessions()}
    except duckdb.Error as exc:  # e.g. another process held the write lock too long
        return benchmark_measurement(f"this installation's analytics store could not be read ({type(exc).__name__})")
    stored = raw = 0
    ms = 0.0
    count = 0
    with rt.sessions() as db:
        rows = db.execute(select(RecordingSession.id, RecordingSession.stored_bytes, RecordingSession.raw_bytes,
                                 RecordingSession.created_ms, RecordingSession.updated_ms)
                          .where(RecordingSession.chunk_count > 0))
        for sid, s_bytes, r_bytes, created, updated in rows:
            length = durations.get(sid) or (updated - created)
            if not length or length <= 0:
                continue
            stored, raw, ms, count = stored + s_bytes, raw + r_bytes, ms + length, count + 1
    if count < min_sessions:
        return benchmark_measurement(f"this installation has {count} session{'s' * (count != 1)} with a measured "
                                     f"duration, fewer than {min_sessions}")
    minutes = ms / 60_000
    note = (f"measured on this installation: {count:,} sessions, {minutes:,.1f} session-minutes, "
            f"{stored:,} stored bytes; CPU from raw bytes / {INGEST_BYTES_PER_S / 1e6:g} MB/s (benchmarks/ingest.py)")
    return Measurement(stored / minutes, raw / minutes, count, minutes, "installation", note)


def unit_figures(scenario: Scenario, measured: Measurement) -> UnitFigures:
    """The figures for ``scenario``: its own ``units`` where given, else ``measured``."""
    u = scenario.units
    b_src: Source = "scenario" if u.bytes_per_session_minute is not None else measured.source
    c_src: Source = "scenario" if u.cpu_seconds_per_session_minute is not None else measured.source
    bpm = u.bytes_per_session_minute if u.bytes_per_session_minute is not None else measured.bytes_per_session_minute
    cpu = (u.cpu_seconds_per_session_minute if u.cpu_seconds_per_session_minute is not None
           else measured.cpu_seconds_per_session_minute)
    note = "both figures set by the scenario" if b_src == c_src == "scenario" else measured.note
    return UnitFigures(bpm, b_src, cpu, c_src, note)
