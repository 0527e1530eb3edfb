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
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, fields
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from .facts import Click, Facts, MouseMove, PageView, ScrollDepth, strip_url
from .behaviour import Behaviour

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
    frac_x DOUBLE,                -- offset_x / target_w, 0..1 (NULL if unknown)
    frac_y DOUBLE,
    fixed BOOLEAN,                -- target inside a position: fixed/sticky element (NULL if unknown)
    content_x DOUBLE,             -- page x/y + scroll of the target's scrolled ancestor elements, px
    content_y DOUBLE,
    PRIMARY KEY (session_id, page_view, ts_ms, x, y)
);
ALTER TABLE clicks ADD COLUMN IF NOT EXISTS frac_x DOUBLE;
ALTER TABLE clicks ADD COLUMN IF NOT EXISTS frac_y DOUBLE;
ALTER TABLE clicks ADD COLUMN IF NOT EXISTS fixed BOOLEAN;
ALTER TABLE clicks ADD COLUMN IF NOT EXISTS content_x DOUBLE;
ALTER TABLE clicks ADD COLUMN IF NOT EXISTS content_y DOUBLE;
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
    max_depth_share DOUBLE,        -- max(depth / page height at that moment), 0..1 (NULL if unknown)
    PRIMARY KEY (session_id, page_view)
);
ALTER TABLE scroll_depths ADD COLUMN IF NOT EXISTS max_depth_share DOUBLE;
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
CREATE TABLE IF NOT EXISTS signals (
    project_id VARCHAR NOT NULL,
    session_id VARCHAR NOT NULL,
    page_view INTEGER NOT NULL,
    url VARCHAR NOT NULL,
    ts_ms BIGINT NOT NULL,        -- epoch ms (analytics.behaviour: where each kind is timed)
    kind VARCHAR NOT NULL,        -- rage_click | dead_click | error_click | u_turn | thrashed_cursor
    x DOUBLE,                     -- page px (NULL for u_turn)
    y DOUBLE,
    selector VARCHAR,             -- CSS selector path of the target
    count INTEGER NOT NULL,       -- clicks of a rage burst, reversals of a thrash, else 1
    duration_ms BIGINT,           -- burst / episode length, time on the page left (u_turn)
    PRIMARY KEY (session_id, page_view, kind, ts_ms)
);
CREATE TABLE IF NOT EXISTS form_visits (
    project_id VARCHAR NOT NULL,
    session_id VARCHAR NOT NULL,
    page_view INTEGER NOT NULL,
    url VARCHAR NOT NULL,
    form VARCHAR NOT NULL,        -- class-free selector path of the nearest form, or '(no form)' (analytics._dom)
    field VARCHAR NOT NULL,       -- class-free selector path of the input/select/textarea
    field_id INTEGER NOT NULL,    -- rrweb node id
    start_ms BIGINT NOT NULL,     -- focus (or first input when unfocused), epoch ms
    focused BOOLEAN NOT NULL,
    end_ms BIGINT,                -- blur, epoch ms (NULL while open or unfocused)
    first_input_ms BIGINT,        -- first Input event, epoch ms (never the value)
    inputs INTEGER NOT NULL,      -- Input events during the visit
    refill BOOLEAN NOT NULL,      -- changed again after an earlier visit of the page view
    PRIMARY KEY (session_id, page_view, field_id, start_ms)
);
CREATE TABLE IF NOT EXISTS form_errors (
    project_id VARCHAR NOT NULL,
    session_id VARCHAR NOT NULL,
    page_view INTEGER NOT NULL,
    url VARCHAR NOT NULL,
    form VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    field_id INTEGER NOT NULL,
    ts_ms BIGINT NOT NULL,        -- when the field started showing the error, epoch ms
    rule VARCHAR NOT NULL,        -- aria-invalid | message
    PRIMARY KEY (session_id, page_view, field_id, ts_ms)
);
CREATE TABLE IF NOT EXISTS form_submits (
    project_id VARCHAR NOT NULL,
    session_id VARCHAR NOT NULL,
    page_view INTEGER NOT NULL,
    url VARCHAR NOT NULL,
    form VARCHAR NOT NULL,
    ts_ms BIGINT NOT NULL,
    via VARCHAR NOT NULL,         -- rv.submit | navigation
    PRIMARY KEY (session_id, page_view, form, ts_ms)
);
CREATE TABLE IF NOT EXISTS track_events (
    project_id VARCHAR NOT NULL,
    session_id VARCHAR NOT NULL,
    page_view INTEGER NOT NULL,   -- -1 before the session's first page view
    url VARCHAR NOT NULL,
    ts_ms BIGINT NOT NULL,
    name VARCHAR NOT NULL,        -- replayvault.track(name), at most 200 characters
    PRIMARY KEY (session_id, ts_ms, name)
);
"""

_TABLES = ("clicks", "moves", "scroll_depths", "page_views", "sessions", "signals", "form_visits",
           "form_errors", "form_submits", "track_events")
#: One lock per DuckDB file, shared by every AnalyticsStore of this process.
_WRITE_LOCKS: dict[str, threading.Lock] = {}
WRITE_ATTEMPTS = 4
_VIEWPORT_CLASSES = ("mobile", "tablet", "desktop")


class AnalyticsStore:
    """Analytics facts of every project in one DuckDB file at ``path`` (created when missing)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        #: Ids of sessions every read leaves out (expired, not yet deleted; see governance.retention).
        self.hidden_sessions: Callable[[], Collection[str]] | None = None
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

    @contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for reads: while :attr:`hidden_sessions` names sessions, temporary views of the
        same names shadow every fact table without their rows (queries stay unchanged)."""
        hidden = sorted(self.hidden_sessions()) if self.hidden_sessions is not None else []
        with self._connect() as con:
            if hidden:
                catalog = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
                con.execute("CREATE TEMP TABLE rv_hidden AS SELECT DISTINCT unnest(?::VARCHAR[]) AS session_id", [hidden])
                for table in _TABLES:
                    con.execute(f'CREATE TEMP VIEW {table} AS SELECT * FROM "{catalog}".main.{table} '
                                "WHERE session_id NOT IN (SELECT session_id FROM temp.rv_hidden)")
            yield con

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
                        "UPDATE clicks SET offset_x = ?, offset_y = ?, target_w = ?, target_h = ?, "
                        "frac_x = ?, frac_y = ?, fixed = ? "
                        "WHERE session_id = ? AND page_view = ? AND ts_ms = ? AND target_id = ? AND offset_x IS NULL",
                        [off.offset_x, off.offset_y, off.target_w, off.target_h, off.frac_x, off.frac_y, off.fixed,
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
                "INSERT INTO scroll_depths (project_id, session_id, page_view, url, max_depth_px, page_height_px, "
                "viewport_w, viewport_h, device_class, max_depth_share) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (session_id, page_view) DO UPDATE SET "
                "max_depth_px = greatest(scroll_depths.max_depth_px, excluded.max_depth_px), "
                "page_height_px = greatest(scroll_depths.page_height_px, excluded.page_height_px), "
                "max_depth_share = greatest(scroll_depths.max_depth_share, excluded.max_depth_share), "
                "viewport_w = excluded.viewport_w, viewport_h = excluded.viewport_h, "
                "device_class = excluded.device_class",
                [project_id, session_id, d.page_view, d.url, d.max_depth_px, d.page_height_px,
                 d.viewport_w, d.viewport_h, d.device_class, d.max_depth_share],
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
        with self._reading() as con:
            rows = con.execute(sql + " GROUP BY device_class", params).fetchall()
        counts = dict.fromkeys(_VIEWPORT_CLASSES, 0)
        counts.update({cls: int(n) for cls, n in rows if cls in counts})
        return counts

    def clicks(self, url: str, viewport_class: str | None = None, project_id: str | None = None,
               since_ms: int | None = None, until_ms: int | None = None) -> dict[str, np.ndarray]:
        """Clicks on ``url`` with ``since_ms <= ts_ms < until_ms`` (epoch ms; None: open) as numpy arrays.

        One array per column (px, ms; NaN where unknown). Keys: ``session_id``, ``ts_ms``, ``x``, ``y``,
        ``page_x``, ``page_y``, ``viewport_w``, ``viewport_h``, ``offset_x``, ``offset_y``, ``target_w``,
        ``target_h``, ``target_id``, ``selector``, ``frac_x``, ``frac_y`` (0..1), ``fixed`` (bool, False when
        unknown), ``content_x``, ``content_y`` (px; page x/y for clicks stored before these existed).
        """
        cols = ("session_id, ts_ms, x, y, page_x, page_y, viewport_w, viewport_h, offset_x, offset_y, "
                "target_w, target_h, target_id, selector, frac_x, frac_y, coalesce(fixed, false) AS fixed, "
                "coalesce(content_x, page_x) AS content_x, coalesce(content_y, page_y) AS content_y")
        return self._arrays("clicks", cols, url, viewport_class, project_id,
                            window=("ts_ms", since_ms, until_ms))

    def scroll_depths(self, url: str, viewport_class: str | None = None, project_id: str | None = None,
                      since_ms: int | None = None, until_ms: int | None = None) -> dict[str, np.ndarray]:
        """Per page view of ``url`` that started at ``since_ms <= ts_ms < until_ms`` (epoch ms; None: open):
        ``max_depth_px`` (int64), ``page_height_px``, ``viewport_h`` (px) and ``max_depth_share`` (0..1),
        float64 with NaN when unknown."""
        out = self._arrays("scroll_depths d LEFT JOIN page_views p USING (session_id, page_view)",
                           "d.max_depth_px, d.page_height_px, d.viewport_h, d.max_depth_share", url,
                           viewport_class, project_id, prefix="d.", window=("p.ts_ms", since_ms, until_ms))
        out["max_depth_px"] = out["max_depth_px"].astype(np.int64)
        return out

    def moves(self, url: str, viewport_class: str | None = None, project_id: str | None = None,
              since_ms: int | None = None, until_ms: int | None = None) -> dict[str, np.ndarray]:
        """Coarse mouse positions on ``url`` with ``since_ms <= ts_ms < until_ms`` (epoch ms; None: open).

        Keys: ``page_x``, ``page_y`` (px), ``ts_ms``, and ``next_ms``: the timestamp of the next stored
        move of the same page view (moves outside the time window count), else the page view's end (the
        next page view's start, else the session's last event), NaN when unknown. The move map's dwell
        time is ``next_ms - ts_ms`` (see :func:`replayvault.analytics.heatmap.dwell_ms`).
        """
        views = ("(SELECT v.session_id, v.page_view, v.url, v.device_class, v.project_id, "
                 "coalesce(lead(v.ts_ms) OVER (PARTITION BY v.session_id ORDER BY v.page_view), s.end_ms) AS end_ms "
                 "FROM page_views v LEFT JOIN sessions s ON s.session_id = v.session_id)")
        table = ("(SELECT m.page_x, m.page_y, m.ts_ms, p.url, p.device_class, p.project_id, coalesce(lead(m.ts_ms) "
                 "OVER (PARTITION BY m.session_id, m.page_view ORDER BY m.ts_ms, m.page_x, m.page_y), p.end_ms) "
                 f"AS next_ms FROM moves m JOIN {views} p USING (session_id, page_view) WHERE {{where}})")
        return self._arrays(table, "page_x, page_y, ts_ms, next_ms", url, viewport_class, project_id,
                            window=("ts_ms", since_ms, until_ms), prefix="p.", inner=True)

    def _arrays(self, table: str, cols: str, url: str, viewport_class: str | None, project_id: str | None,
                prefix: str = "", window: tuple[str, int | None, int | None] = ("", None, None),
                inner: bool = False) -> dict[str, np.ndarray]:
        """``SELECT cols FROM table`` filtered by URL, viewport class, project and a time window.

        With ``inner`` the URL/class/project conditions go into ``table``'s ``{where}`` placeholder
        (before its window functions) and only the time window is applied outside.
        """
        if viewport_class is not None and viewport_class not in _VIEWPORT_CLASSES:
            raise ValueError(f"viewport_class must be one of {', '.join(_VIEWPORT_CLASSES)}, not {viewport_class!r}")
        where, params = [f"{prefix}url = ?"], [strip_url(url)]
        if viewport_class:
            where.append(f"{prefix}device_class = ?")
            params.append(viewport_class)
        if project_id:
            where.append(f"{prefix}project_id = ?")
            params.append(project_id)
        if inner:
            table, where = table.replace("{where}", " AND ".join(where)), []
        ts_col, since_ms, until_ms = window
        if since_ms is not None:
            where.append(f"{ts_col} >= ?")
            params.append(int(since_ms))
        if until_ms is not None:
            where.append(f"{ts_col} < ?")
            params.append(int(until_ms))
        sql = f"SELECT {cols} FROM {table}" + (" WHERE " + " AND ".join(where) if where else "")
        with self._reading() as con:
            raw = con.execute(sql, params).fetchnumpy()
        return {k.split(".")[-1]: _plain(v) for k, v in raw.items()}

    def _dicts(self, sql: str, params: Any) -> list[dict[str, Any]]:
        with self._reading() as con:
            cur = con.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]
    # -- behaviour (analytics.behaviour): frustration signals, form facts, named events -----------
    def write_behaviour(self, project_id: str, session_id: str, behaviour: Behaviour) -> None:
        """Add one batch's behaviour rows for ``session_id`` (batches in order; repeats are harmless).

        Signals and field visits are upserted: a rage burst's ``count`` and an open visit grow from
        batch to batch (counts keep the maximum, an end time once known stays). Errors, submits and
        named events are inserted once.

        Raises:
            duckdb.Error: the write failed after the retries.
        """
        with _WRITE_LOCKS.setdefault(str(self.path.resolve()), threading.Lock()):
            for attempt in range(WRITE_ATTEMPTS):
                try:
                    return self._write_behaviour(project_id, session_id, behaviour)
                except duckdb.TransactionException:
                    if attempt == WRITE_ATTEMPTS - 1:
                        raise
                    time.sleep(0.05 * (attempt + 1))

    def _write_behaviour(self, project_id: str, session_id: str, b: Behaviour) -> None:
        upserts = (
            ("signals", b.signals, "(session_id, page_view, kind, ts_ms) DO UPDATE SET "
             "count = greatest(signals.count, excluded.count), "
             "duration_ms = greatest(signals.duration_ms, excluded.duration_ms)"),
            ("form_visits", b.visits, "(session_id, page_view, field_id, start_ms) DO UPDATE SET "
             "end_ms = coalesce(form_visits.end_ms, excluded.end_ms), "
             "first_input_ms = coalesce(form_visits.first_input_ms, excluded.first_input_ms), "
             "inputs = greatest(form_visits.inputs, excluded.inputs), refill = form_visits.refill OR excluded.refill"),
            ("form_errors", b.errors, "DO NOTHING"),
            ("form_submits", b.submits, "DO NOTHING"),
            ("track_events", b.events, "DO NOTHING"),
        )
        with self._connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for table, rows, conflict in upserts:
                    if rows:
                        names = [f.name for f in fields(rows[0])]
                        con.executemany(
                            f"INSERT INTO {table} (project_id, session_id, {', '.join(names)}) "
                            f"VALUES ({', '.join('?' * (len(names) + 2))}) ON CONFLICT {conflict}",
                            [[project_id, session_id, *astuple(r)] for r in rows])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def behaviour_rows(self, table: str, *, project_id: str | None = None, session_id: str | None = None,
                       url: str | None = None, kinds: Sequence[str] = (), since_ms: int | None = None,
                       until_ms: int | None = None) -> list[dict[str, Any]]:
        """Rows of ``table`` (``signals``, ``form_visits``, ``form_errors``, ``form_submits``,
        ``track_events`` or ``page_views``) as dicts with every column, by session then time.

        ``url`` is compared without query and fragment; ``kinds`` filters ``signals`` by kind;
        ``since_ms <= time < until_ms`` applies to the row's time (``start_ms`` for field visits,
        ``ts_ms`` elsewhere; epoch ms).

        Raises:
            ValueError: an unknown table, or ``kinds`` for a table other than ``signals``.
        """
        if table not in _BEHAVIOUR_TIME:
            raise ValueError(f"table must be one of {', '.join(_BEHAVIOUR_TIME)}, not {table!r}")
        if kinds and table != "signals":
            raise ValueError("kinds filters the signals table only")
        ts_col = _BEHAVIOUR_TIME[table]
        where, params = _Where(), []
        where.add("project_id = ?", project_id, params)
        where.add("session_id = ?", session_id, params)
        where.add("url = ?", strip_url(url) if url is not None else None, params)
        where.add("list_contains(?, kind)", list(kinds) or None, params)
        where.add(f"{ts_col} >= ?", since_ms, params)
        where.add(f"{ts_col} < ?", until_ms, params)
        return self._dicts(f"SELECT * FROM {table}{where} ORDER BY session_id, {ts_col}", params)

    def search_sessions(self, *, project_id: str | None = None, url_regexes: Sequence[str] = (),
                        min_duration_ms: int | None = None, max_duration_ms: int | None = None,
                        min_clicks: int | None = None, max_clicks: int | None = None, kinds: Sequence[str] = (),
                        viewport_class: str | None = None, since_ms: int | None = None, until_ms: int | None = None,
                        only_ids: Sequence[str] | None = None, skip_ids: Sequence[str] = (), sort: str = "start",
                        descending: bool = True, limit: int = 50, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """Sessions matching every given filter: ``(total, page of rows)``.

        Rows have every ``sessions`` column plus ``signals`` (signal rows of the session),
        ``signals_by_kind`` (kind -> count) and ``entry_url`` (URL of page view 0). Filters (all
        optional, bounds inclusive): ``url_regexes`` (each must match a page view's URL; see
        :mod:`._patterns`), duration (ms), clicks, ``kinds`` (at least one signal of any of them),
        ``viewport_class`` (the session's last known class), ``since_ms <= start_ms < until_ms``,
        ``only_ids`` / ``skip_ids`` (session ids). ``sort`` is ``start``, ``duration``, ``clicks`` or
        ``signals`` (NULLs last, then by session id); ``limit``/``offset`` page the result.

        Raises:
            ValueError: an unknown sort key.
        """
        if sort not in _SEARCH_SORT:
            raise ValueError(f"sort must be one of {', '.join(_SEARCH_SORT)}, not {sort!r}")
        if only_ids is not None and not only_ids:
            return 0, []
        where, params = _Where(), []
        where.add("s.project_id = ?", project_id, params)
        for rx in url_regexes:
            where.add("EXISTS (SELECT 1 FROM page_views p WHERE p.session_id = s.session_id "
                      "AND regexp_full_match(p.url, ?))", rx, params)
        where.add("s.duration_ms >= ?", min_duration_ms, params)
        where.add("s.duration_ms <= ?", max_duration_ms, params)
        where.add("s.clicks >= ?", min_clicks, params)
        where.add("s.clicks <= ?", max_clicks, params)
        where.add("EXISTS (SELECT 1 FROM signals k WHERE k.session_id = s.session_id AND list_contains(?, k.kind))",
                  list(kinds) or None, params)
        where.add("s.device_class = ?", viewport_class, params)
        where.add("s.start_ms >= ?", since_ms, params)
        where.add("s.start_ms < ?", until_ms, params)
        where.add("list_contains(?, s.session_id)", list(only_ids) if only_ids is not None else None, params)
        where.add("NOT list_contains(?, s.session_id)", list(skip_ids) or None, params)
        base = ("FROM sessions s LEFT JOIN (SELECT session_id, count(*) AS signals FROM signals GROUP BY session_id) g "
                f"ON g.session_id = s.session_id{where}")
        with self._reading() as con:
            total = int(con.execute(f"SELECT count(*) {base}", params).fetchone()[0])  # type: ignore[index]
        order = f"{_SEARCH_SORT[sort]} {'DESC' if descending else 'ASC'} NULLS LAST, s.session_id"
        rows = self._dicts(f"SELECT s.*, coalesce(g.signals, 0) AS signals {base} ORDER BY {order} LIMIT ? OFFSET ?",
                           [*params, int(limit), int(offset)])
        ids = [r["session_id"] for r in rows]
        if ids:
            by_kind = self._dicts("SELECT session_id, kind, count(*) AS n FROM signals WHERE list_contains(?, session_id) "
                                  "GROUP BY session_id, kind", [ids])
            entry = self._dicts("SELECT session_id, url FROM page_views WHERE page_view = 0 AND list_contains(?, session_id)",
                                [ids])
            entries = {e["session_id"]: e["url"] for e in entry}
            for r in rows:
                r["signals_by_kind"] = {k["kind"]: int(k["n"]) for k in by_kind if k["session_id"] == r["session_id"]}
                r["entry_url"] = entries.get(r["session_id"])
        return total, rows


def _plain(arr: Any) -> np.ndarray:
    """A plain ndarray: numeric columns with NULLs become float64 with NaN."""
    if isinstance(arr, np.ma.MaskedArray):
        if arr.dtype.kind in "iuf":
            return arr.astype(np.float64).filled(np.nan)
        return arr.filled(None)  # type: ignore[no-any-return]
    return np.asarray(arr)


#: Behaviour tables readable through AnalyticsStore.behaviour_rows -> their time column.
_BEHAVIOUR_TIME = {"signals": "ts_ms", "form_visits": "start_ms", "form_errors": "ts_ms", "form_submits": "ts_ms",
                   "track_events": "ts_ms", "page_views": "ts_ms"}
#: Session search sort keys -> SQL expression.
_SEARCH_SORT = {"start": "s.start_ms", "duration": "s.duration_ms", "clicks": "s.clicks", "signals": "signals"}


class _Where:
    """A SQL ``WHERE`` clause built from conditions whose value is not None (``str()`` gives the clause)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, condition: str, value: Any, params: list[Any]) -> None:
        if value is not None:
            self.parts.append(condition)
            params.append(value)

    def __str__(self) -> str:
        return " WHERE " + " AND ".join(self.parts) if self.parts else ""
