"""Unit figures of the budget planner: measured on the installation, or the benchmark's, and which one."""

from __future__ import annotations

import pytest

from conftest import need_shared
from replayvault.db.models import RecordingSession
from replayvault.compliance.budget import parse_scenario, unit_figures
from replayvault.compliance.budget_units import (BENCHMARK_BYTES_PER_SESSION_MINUTE, INGEST_BYTES_PER_S,
                                                 MIN_SESSIONS, measure_installation)
from replayvault.projects_setup import ensure_project


def _add_sessions(rt, n: int) -> None:  # type: ignore[no-untyped-def]
    """``n`` sessions of 2 minutes by the server clock (no analytics facts), 36,000 stored and 880,000 raw bytes."""
    ensure_project(rt, "p", "p", [])
    with rt.sessions() as db:
        for i in range(n):
            db.add(RecordingSession(id=f"s{i:03d}", project_id="p", created_ms=1_000_000, updated_ms=1_120_000,
                                    chunk_count=1, stored_bytes=36_000, raw_bytes=880_000))
        db.commit()


def test_too_few_sessions_fall_back_to_the_benchmark_and_say_so(rt) -> None:
    _add_sessions(rt, MIN_SESSIONS - 1)
    m = measure_installation(rt)
    assert m.source == "benchmark"
    assert m.bytes_per_session_minute == BENCHMARK_BYTES_PER_SESSION_MINUTE
    assert "this installation has 19 sessions with a measured duration, fewer than 20" in m.note


def test_enough_sessions_are_measured_on_the_installation(rt) -> None:
    _add_sessions(rt, MIN_SESSIONS)
    m = measure_installation(rt)
    # 20 × 36,000 B over 20 × 2 min: 720,000 / 40 = 18,000 B per session-minute;
    # raw 20 × 880,000 / 40 = 440,000 B per minute / 4,400,000 B/s = 0.1 CPU s per session-minute.
    assert (m.source, m.sessions, m.minutes) == ("installation", 20, 40.0)
    assert m.bytes_per_session_minute == 18_000.0
    assert m.cpu_seconds_per_session_minute == pytest.approx(0.1)
    assert INGEST_BYTES_PER_S == 4.4e6


def test_sessions_without_a_duration_are_left_out(rt) -> None:
    _add_sessions(rt, MIN_SESSIONS)
    with rt.sessions() as db:
        db.add(RecordingSession(id="zero", project_id="p", created_ms=5, updated_ms=5, chunk_count=1,
                                stored_bytes=10**9, raw_bytes=10**9))
        db.commit()
    assert measure_installation(rt).bytes_per_session_minute == 18_000.0


def test_the_scenario_can_override_one_figure(rt) -> None:
    _add_sessions(rt, MIN_SESSIONS)
    s = parse_scenario("""
name: x
traffic: {monthly_sessions: 1, sampling_rate: 1, avg_session_minutes: 1}
retention: {a: {share: 1, days: 30}}
storage: {price_per_gb_month: 1}
compute: {price_per_cpu_hour: 1}
units: {bytes_per_session_minute: 5}
""")
    u = unit_figures(s, measure_installation(rt))
    assert (u.bytes_per_session_minute, u.bytes_source) == (5, "scenario")
    assert u.cpu_source == "installation" and u.cpu_seconds_per_session_minute == pytest.approx(0.1)


def test_imported_recordings_are_timed_by_their_events_not_the_server_clock(rt) -> None:
    from replayvault.ingest.importer import import_file

    path = need_shared() / "homepage.json"
    import_file(rt, ensure_project(rt, "ph", "ph", []), path)
    (facts,) = rt.analytics.sessions()
    with rt.sessions() as db:
        (row,) = db.query(RecordingSession).all()
    assert row.updated_ms - row.created_ms < facts["duration_ms"]  # imported in one burst
    m = measure_installation(rt, min_sessions=1)
    assert m.source == "installation"
    assert m.bytes_per_session_minute == pytest.approx(row.stored_bytes / (facts["duration_ms"] / 60_000))
