"""Benchmark: the audit log — durable appends, proofs at 10^6 entries, full verification.

Measures, on a fresh data directory (SQLite in WAL mode with ``synchronous=FULL``: every commit
is fsync'ed before the append returns):

1. append throughput of ``AuditLog.record`` — one writer (one commit per entry) and 32 concurrent
   writers (group commit: one transaction carries every entry queued meanwhile); target >= 5,000/s;
2. building a log of ``--entries`` (default 10^6) entries, then bringing the in-memory Merkle tree
   up to date from the database and signing a checkpoint;
3. inclusion-proof and consistency-proof time at that size (median and p99 of 1,000; target < 1 ms);
4. full verification (``audit verify``: every leaf hash recomputed from its row, every checkpoint);
   target < 10 s.

Run: ``.venv/bin/python benchmarks/audit.py [--entries N] [--appends N]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from replayvault.audit.log import _Pending
from replayvault.config import Settings
from replayvault.runtime import Runtime

FIELDS = dict(actor="user:u_0123456789abcdef", action="recording.view", purpose="ux_research",
              justification="UX-1042", origin_ip="10.1.2.3")


def appends(rt: Runtime, n: int, writers: int) -> float:
    """Entries per second appended through the public ``record`` call by ``writers`` threads."""
    def one(i: int) -> None:
        rt.audit.record(resource=f"session:{i:08d}", details={"events": i}, **FIELDS)

    started = time.perf_counter()
    if writers == 1:
        for i in range(n):
            one(i)
    else:
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(one, range(n)))
    return n / (time.perf_counter() - started)


def fill(rt: Runtime, total: int, console: Console) -> None:
    """Grow the log to ``total`` entries in batches of 10,000 (the group-commit write path)."""
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("writing entries", total=total)
        have = rt.audit.tree().size
        bar.update(task, completed=have)
        while have < total:
            k = min(10_000, total - have)
            batch = [_Pending({**FIELDS, "resource": f"session:{have + i:08d}", "outcome": "ok",
                               "details": {"events": have + i}}) for i in range(k)]
            with rt.audit.lock:
                rt.audit._write(batch)
            have += k
            bar.update(task, completed=have)


def timings(fn, n: int = 1000) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median and p99 of ``n`` calls, microseconds."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e6)
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.99) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--appends", type=int, default=5_000)
    args = ap.parse_args()
    console = Console()
    table = Table("measure", "value", "target")
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(Settings(home=Path(tmp) / "home"))
        one = appends(rt, args.appends // 5, 1)
        many = appends(rt, args.appends, 32)
        table.add_row("append, 1 writer (fsync per entry)", f"{one:,.0f} entries/s", "")
        table.add_row("append, 32 writers (group commit)", f"{many:,.0f} entries/s", ">= 5,000/s")

        started = time.perf_counter()
        fill(rt, args.entries, console)
        table.add_row(f"write {args.entries:,} entries (batches of 10,000)", f"{time.perf_counter() - started:.1f} s", "")
        fresh = Runtime(rt.settings)  # a restarted server: tree rebuilt from the stored leaf hashes
        started = time.perf_counter()
        tree = fresh.audit.tree()
        fresh.audit.checkpoint()
        table.add_row("load tree from DB + sign checkpoint", f"{time.perf_counter() - started:.2f} s", "")

        size = tree.size
        rnd = random.Random(7)
        med, p99 = timings(lambda: tree.inclusion_proof(rnd.randrange(size), size))
        table.add_row(f"inclusion proof at {size:,} entries", f"median {med:.0f} µs, p99 {p99:.0f} µs", "< 1 ms")
        med, p99 = timings(lambda: tree.consistency_proof(rnd.randrange(1, size), size))
        table.add_row(f"consistency proof at {size:,} entries", f"median {med:.0f} µs, p99 {p99:.0f} µs", "< 1 ms")
        med, _ = timings(lambda: fresh.audit.inclusion_bundle(rnd.randrange(size)), 200)
        table.add_row("proof bundle via AuditLog (DB read + proof)", f"median {med:.0f} µs", "")

        started = time.perf_counter()
        report = fresh.audit.verify()
        took = time.perf_counter() - started
        table.add_row(f"full verification ({report.entries:,} entries, {report.checkpoints} checkpoint)",
                      f"{took:.1f} s", "< 10 s")
    console.print(table)


if __name__ == "__main__":
    main()
