"""Ingest throughput: raw rrweb JSON through the whole pipeline (mask -> compress -> encrypt -> store -> facts).

Usage: .venv/bin/python benchmarks/ingest.py [--repeat N]

For each real recording in ../shared/data/recordings, imports it into a fresh data directory
(same code path as the collector, batches of 1,000 events) and prints events/s and MB/s of raw
JSON, plus stored bytes / raw bytes next to gzip level 6 of the same raw file (as shipped, and
re-serialized as compact JSON, since the shipped exports are pretty-printed).
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from replayvault.config import Settings
from replayvault.ingest.importer import import_file
from replayvault.projects_setup import ensure_project
from replayvault.runtime import Runtime

RECORDINGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "recordings"


def bench_file(path: Path) -> dict:
    """Import ``path`` into a fresh data directory; returns timings (s) and sizes (bytes)."""
    raw = path.read_bytes()
    events = len(json.loads(raw)["result"])
    with tempfile.TemporaryDirectory() as home:
        rt = Runtime(Settings(home=Path(home)))
        project = ensure_project(rt, "bench", "bench", [])
        rt.analytics  # open DuckDB outside the timed part
        t0 = time.perf_counter()
        import_file(rt, project, path)
        seconds = time.perf_counter() - t0
        stored = sum(p.stat().st_size for p in rt.settings.chunks_dir.rglob("*.rvc"))
    compact = json.dumps(json.loads(raw)["result"], separators=(",", ":")).encode()
    return {"file": path.name, "events": events, "raw": len(raw), "seconds": seconds, "stored": stored,
            "gzip6": len(gzip.compress(raw, compresslevel=6)),
            "gzip6c": len(gzip.compress(compact, compresslevel=6))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the fastest counts")
    args = parser.parse_args()
    if not RECORDINGS.is_dir():
        raise SystemExit(f"recordings not found at {RECORDINGS}")
    table = Table("file", "events", "raw MB", "events/s", "MB/s", "stored/raw", "gzip-6/raw",
                  "gzip-6 of compact JSON/raw")
    totals = {"events": 0, "raw": 0, "seconds": 0.0, "stored": 0, "gzip6": 0, "gzip6c": 0}
    for path in sorted(RECORDINGS.glob("*.json")):
        best = min((bench_file(path) for _ in range(args.repeat)), key=lambda r: r["seconds"])
        for k in totals:
            totals[k] += best[k]
        table.add_row(best["file"], str(best["events"]), f"{best['raw'] / 1e6:.2f}",
                      f"{best['events'] / best['seconds']:,.0f}", f"{best['raw'] / 1e6 / best['seconds']:.2f}",
                      f"{best['stored'] / best['raw']:.3f}", f"{best['gzip6'] / best['raw']:.3f}",
                      f"{best['gzip6c'] / best['raw']:.3f}")
    table.add_row("all", str(totals["events"]), f"{totals['raw'] / 1e6:.2f}",
                  f"{totals['events'] / totals['seconds']:,.0f}", f"{totals['raw'] / 1e6 / totals['seconds']:.2f}",
                  f"{totals['stored'] / totals['raw']:.3f}", f"{totals['gzip6'] / totals['raw']:.3f}",
                  f"{totals['gzip6c'] / totals['raw']:.3f}")
    Console().print(table)


if __name__ == "__main__":
    main()
