"""Analytics store on a DuckDB file (the embedded default backend).

Each call opens a short-lived connection and closes it, so ``replayvault serve`` and CLI commands
in other processes can take turns on the same file. DuckDB allows one writing process at a time;
a call that finds the file locked retries for up to :data:`LOCK_WAIT_S` seconds.

Units everywhere: timestamps and durations in milliseconds (epoch ms for timestamps), coordinates,
sizes and depths in CSS pixels. ``page_view`` is the session-relative page view index from
:mod:`replayvault.analytics.facts`. ``device_class`` / ``viewport_class`` is ``"mobile"``
(< 768 px wide), ``"tablet"`` (< 1024 px) or ``"desktop"``.

Writes are idempotent per batch: rows have natural keys and repeated rows are ignored, session
counters are recounted from the fact tables, scroll depths keep the maximum.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, fields
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from .facts import Click, Facts, MouseMove, PageView, ScrollDepth, strip_url

__all__ = ["AnalyticsStore", "SCHEMA", "LOCK_WAIT_S"]

#: Seconds a call keeps retrying while another process holds the DuckDB file lock.
LOCK_WAIT_S = 5.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    project_id VARCHAR NOT NULL,
    session_id VARCHAR PRIMARY KEY,
    start_ms BIGINT,              -- first event timestamp, epoch ms
    end_ms BIGINT,                -- last event timestamp, epoch ms
    duration_ms BIGINT,           -- end_ms - start_ms
    page_views INTEGER NOT NULL DEFAULT 0,
    clicks INTEGER NOT NULL DEFAULT 0,
    viewport_w INTEGER,           -- last known viewport, px
    viewport_h INTEGER,
    device_class VARCHAR          -- mobile | tablet | desktop
);
CREATE TABLE IF NOT EXISTS page_views (
    project_id VARCHAR NOT NULL,
    session_id VARCHAR NOT NULL,
    page_view INTEGER NOT NULL,   -- session-relative index (one per rrweb Meta event)
    url VARCHAR NOT NULL,         -- without query string and fragment
    ts_ms BIGINT NOT NULL,
    viewport_w INTEGER,
    viewport_h INTEGER,
    device_class VARCHAR,
    PRIMARY KEY (session_id, page_view)
);
CREATE TABLE IF NOT EXISTS clicks (
    project_id VARCHAR NOT NULL,
    session_id VARCHAR NOT NULL,
    page_view INTEGER NOT NULL,
    url VARCHAR NOT NULL,
    ts_ms BIGINT NOT NULL,
    x DOUBLE NOT NULL,            -- viewport (client) coordinates, px
    y DOUBLE NOT NULL,
    page_x DOUBLE NOT NULL,       -- x + document scroll x, px
    page_y DOUBLE NOT NULL,
    viewport_w INTEGER,
    viewport_h INTEGER,
    device_class VARCHAR,
    target_id INTEGER,            -- rrweb node id
    selector VARCHAR,             -- CSS selector path of the target
    offset_x DOUBLE,              -- offset inside the target box, px (NULL if unknown)
    offset_y DOUBLE,
    target_w DOUBLE,              -- target box size, px (NULL if unknown)
    target_h DOUBLE,
    PRIMARY KEY (session_id, page_view, ts_ms, x, y)
);
CREATE TABLE IF NOT EXISTS scroll_depths (
    project_id VARCHAR NOT NULL,
    session_id VARCHAR NOT NULL,
    page_view INTEGER NOT NULL,
    url VARCHAR NOT NULL,
    max_depth_px INTEGER NOT NULL, -- max(document scroll y + viewport height), px
    page_height_px INTEGER,        -- document scrollHeight, px (NULL if unknown)
    viewport_w INTEGER,
    viewport_h INTEGER,
    device_class VARCHAR,
    PRIMARY KEY (session_id, page_view)
);
CREATE TABLE IF NOT EXISTS moves (
    project_id VARCHAR NOT NULL,
    session_id VARCHAR NOT NULL,
    page_view INTEGER NOT NULL,
    url VARCHAR NOT NULL,
    ts_ms BIGINT NOT NULL,
    page_x DOUBLE NOT NULL,       -- px, page coordinates
    page_y DOUBLE NOT NULL,
    PRIMARY KEY (session_id, page_view, ts_ms, page_x, page_y)
);
"""

_TABLES = ("clicks", "moves", "scroll_depths", "page_views", "sessions")
#: One lock per DuckDB file, shared by every AnalyticsStore of this process.
_WRITE_LOCKS: dict[str, threading.Lock] = {}
WRITE_ATTEMPTS = 4
_VIEWPORT_CLASSES = ("mobile", "tablet", "desktop")


class AnalyticsStore:
    """Analytics facts of every project in one DuckDB file at ``path`` (created when missing)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        deadline = time.monotonic() + LOCK_WAIT_S
        delay = 0.01
        while True:
            try:
                con = duckdb.connect(str(self.path))
                break
            except duckdb.IOException as exc:  # another process holds the write lock
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        try:
            yield con
        finally:
            con.close()

    # -- writing --------------------------------------------------------------------------------
    def write(self, project_id: str, session_id: str, facts: Facts) -> None:
        """Add one batch's facts for ``session_id`` (batches of a session in order; repeats are harmless).

        Writers in this process take turns (DuckDB aborts concurrent conflicting transactions);
        a transaction that still conflicts with another process is retried a few times.

        Raises:
            duckdb.Error: the write failed after the retries.
        """
        with _WRITE_LOCKS.setdefault(str(self.path.resolve()), threading.Lock()):
            for attempt in range(WRITE_ATTEMPTS):
                try:
                    return self._write(project_id, session_id, facts)
                except duckdb.TransactionException:
                    if attempt == WRITE_ATTEMPTS - 1:
                        raise
                    time.sleep(0.05 * (attempt + 1))

    def _write(self, project_id: str, session_id: str, facts: Facts) -> None:
        with self._connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                self._insert(con, "page_views", PageView, facts.page_views, project_id, session_id,
                             rename={"index": "page_view"})
                self._insert(con, "clicks", Click, facts.clicks, project_id, session_id)
                self._insert(con, "moves", MouseMove, facts.moves, project_id, session_id)
                self._upsert_depths(con, facts.scroll_depths, project_id, session_id)
                for off in facts.click_offsets:
                    con.execute(
                        "UPDATE clicks SET offset_x = ?, offset_y = ?, target_w = ?, target_h = ? "
                        "WHERE session_id = ? AND page_view = ? AND ts_ms = ? AND target_id = ? AND offset_x IS NULL",
                        [off.offset_x, off.offset_y, off.target_w, off.target_h,
                         session_id, off.page_view, off.ts_ms, off.target_id],
                    )
                self._upsert_session(con, facts, project_id, session_id)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, table: str, cls: type, rows: Sequence[Any], project_id: str,
                session_id: str, rename: dict[str, str] | None = None) -> None:
        if not rows:
            return
        names = [(rename or {}).get(f.name, f.name) for f in fields(cls)]
        columns = list(zip(*(astuple(r) for r in rows)))
        src: dict[str, np.ndarray] = {n: np.array(col, dtype=object) for n, col in zip(names, columns)}
        con.register("rv_src", src)
        try:
            con.execute(
                f"INSERT INTO {table} (project_id, session_id, {', '.join(names)}) "
                f"SELECT ?, ?, {', '.join(names)} FROM rv_src ON CONFLICT DO NOTHING",
                [project_id, session_id],
            )
        finally:
            con.unregister("rv_src")

    @staticmethod
    def _upsert_depths(con: duckdb.DuckDBPyConnection, depths: list[ScrollDepth], project_id: str,
                       session_id: str) -> None:
        for d in depths:
            con.execute(
                "INSERT INTO scroll_depths VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (session_id, page_view) DO UPDATE SET "
                "max_depth_px = greatest(scroll_depths.max_depth_px, excluded.max_depth_px), "
                "page_height_px = greatest(scroll_depths.page_height_px, excluded.page_height_px), "
                "viewport_w = excluded.viewport_w, viewport_h = excluded.viewport_h, "
                "device_class = excluded.device_class",
                [project_id, session_id, d.page_view, d.url, d.max_depth_px, d.page_height_px,
                 d.viewport_w, d.viewport_h, d.device_class],
            )

    @staticmethod
    def _upsert_session(con: duckdb.DuckDBPyConnection, facts: Facts, project_id: str, session_id: str) -> None:
        s = facts.session
        con.execute(
            "INSERT INTO sessions (project_id, session_id, start_ms, end_ms, viewport_w, viewport_h, device_class) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET "
            "start_ms = least(sessions.start_ms, excluded.start_ms), "
            "end_ms = greatest(sessions.end_ms, excluded.end_ms), "
            "viewport_w = coalesce(excluded.viewport_w, sessions.viewport_w), "
            "viewport_h = coalesce(excluded.viewport_h, sessions.viewport_h), "
            "device_class = coalesce(excluded.device_class, sessions.device_class)",
            [project_id, session_id, s.first_ms, s.last_ms, s.viewport_w, s.viewport_h, s.device_class],
        )
        con.execute(
            "UPDATE sessions SET duration_ms = end_ms - start_ms, "
            "page_views = (SELECT count(*) FROM page_views WHERE session_id = $sid), "
            "clicks = (SELECT count(*) FROM clicks WHERE session_id = $sid) "
            "WHERE session_id = $sid",
            {"sid": session_id},
        )

    def delete_session(self, session_id: str) -> int:
        """Delete every fact of ``session_id``; returns how many rows were deleted in all tables."""
        total = 0
        with self._connect() as con:
            con.execute("BEGIN TRANSACTION")
            for table in _TABLES:
                row = con.execute(f"DELETE FROM {table} WHERE session_id = ? RETURNING 1", [session_id]).fetchall()
                total += len(row)
            con.execute("COMMIT")
        return total

    # -- reading --------------------------------------------------------------------------------
    def sessions(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """Session summaries (all columns of ``sessions``), newest first; ms and px units."""
        sql = "SELECT * FROM sessions" + (" WHERE project_id = ?" if project_id else "")
        return self._dicts(sql + " ORDER BY start_ms DESC NULLS LAST, session_id", [project_id] if project_id else [])

    def session(self, session_id: str) -> dict[str, Any] | None:
        """One session summary, or None when unknown."""
        rows = self._dicts("SELECT * FROM sessions WHERE session_id = ?", [session_id])
        return rows[0] if rows else None

    def pages(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """``[{url, page_views, clicks}]`` per URL, most viewed first."""
        where = "WHERE project_id = $p" if project_id else ""
        sql = (
            f"WITH v AS (SELECT url, count(*) AS n FROM page_views {where} GROUP BY url), "
            f"c AS (SELECT url, count(*) AS n FROM clicks {where} GROUP BY url) "
            "SELECT v.url, v.n AS page_views, coalesce(c.n, 0) AS clicks FROM v LEFT JOIN c USING (url) "
            "ORDER BY page_views DESC, url"
        )
        return self._dicts(sql, {"p": project_id} if project_id else {})

    def viewport_counts(self, url: str, project_id: str | None = None) -> dict[str, int]:
        """Page views of ``url`` per viewport class: ``{"desktop": n, "tablet": n, "mobile": n}`` (zeros included)."""
        sql = "SELECT device_class, count(*) FROM page_views WHERE url = ?"
        params: list[Any] = [strip_url(url)]
        if project_id:
            sql += " AND project_id = ?"
            params.append(project_id)
        with self._connect() as con:
            rows = con.execute(sql + " GROUP BY device_class", params).fetchall()
        counts = dict.fromkeys(_VIEWPORT_CLASSES, 0)
        counts.update({cls: int(n) for cls, n in rows if cls in counts})
        return counts

    def clicks(self, url: str, viewport_class: str | None = None,
               project_id: str | None = None) -> dict[str, np.ndarray]:
        """Clicks on ``url`` as numpy arrays (one per column; px, ms; NaN where unknown).

        Keys: ``session_id``, ``ts_ms``, ``x``, ``y``, ``page_x``, ``page_y``, ``viewport_w``,
        ``viewport_h``, ``offset_x``, ``offset_y``, ``target_w``, ``target_h``, ``target_id``, ``selector``.
        """
        cols = ("session_id, ts_ms, x, y, page_x, page_y, viewport_w, viewport_h, offset_x, offset_y, "
                "target_w, target_h, target_id, selector")
        return self._arrays("clicks", cols, url, viewport_class, project_id)

    def scroll_depths(self, url: str, viewport_class: str | None = None,
                      project_id: str | None = None) -> dict[str, np.ndarray]:
        """Per page view of ``url``: ``max_depth_px`` (int64), ``page_height_px`` and ``viewport_h``
        (float64, NaN when unknown)."""
        out = self._arrays("scroll_depths", "max_depth_px, page_height_px, viewport_h", url, viewport_class,
                           project_id)
        out["max_depth_px"] = out["max_depth_px"].astype(np.int64)
        return out

    def moves(self, url: str, viewport_class: str | None = None,
              project_id: str | None = None) -> dict[str, np.ndarray]:
        """Coarse mouse positions on ``url``: ``page_x``, ``page_y`` (px), ``ts_ms``."""
        return self._arrays("moves m JOIN page_views p USING (session_id, page_view)",
                            "m.page_x, m.page_y, m.ts_ms", url, viewport_class, project_id,
                            prefix="p.")

    def _arrays(self, table: str, cols: str, url: str, viewport_class: str | None, project_id: str | None,
                prefix: str = "") -> dict[str, np.ndarray]:
        if viewport_class is not None and viewport_class not in _VIEWPORT_CLASSES:
            raise ValueError(f"viewport_class must be one of {', '.join(_VIEWPORT_CLASSES)}, not {viewport_class!r}")
        sql = f"SELECT {cols} FROM {table} WHERE {prefix}url = ?"
        params: list[Any] = [strip_url(url)]
        if viewport_class:
            sql += f" AND {prefix}device_class = ?"
            params.append(viewport_class)
        if project_id:
            sql += f" AND {prefix}project_id = ?"
            params.append(project_id)
        with self._connect() as con:
            raw = con.execute(sql, params).fetchnumpy()
        return {k.split(".")[-1]: _plain(v) for k, v in raw.items()}

    def _dicts(self, sql: str, params: Any) -> list[dict[str, Any]]:
        with self._connect() as con:
            cur = con.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]


def _plain(arr: Any) -> np.ndarray:
    """A plain ndarray: numeric columns with NULLs become float64 with NaN."""
    if isinstance(arr, np.ma.MaskedArray):
        if arr.dtype.kind in "iuf":
            return arr.astype(np.float64).filled(np.nan)
        return arr.filled(None)  # type: ignore[no-any-return]
    return np.asarray(arr)
