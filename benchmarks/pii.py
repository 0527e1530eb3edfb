"""Benchmark: PII detection quality and speed — replayvault, Presidio and scrubadub side by side.

Quality: all three run on the labelled corpus (``tests/privacy/pii_corpus.py``: real formats,
about half negatives that trip other tools). A finding is a true positive when it overlaps a
labelled span (kinds are not compared: the tools name entities differently); a finding that
overlaps no label is a false positive; a label no finding overlaps is a false negative.

* replayvault: ``privacy.detectors.find_all`` with every registered detector (``REGISTRY``).
* Presidio: ``presidio-analyzer`` with ``NoOpNlpEngine`` — its pattern recognizers only (no
  spaCy model), language "en".
* scrubadub: ``Scrubber().iter_filth`` with its default detectors.

Speed: MB/s (10^6 bytes of UTF-8 per second) of CPU time on one core. Every tool runs
single-threaded in this process (Hyperscan scans on the calling thread; no tool starts worker
threads, which the benchmark checks), and the clock is ``time.process_time``: the CPU time of
the process, so other programs on a shared machine inflate it far less than wall time. The
same texts go to every tool, in the same run:

* corpus: the corpus rows joined by newlines (about 10 KB), repeated into one document of at
  least 64 KB (the repeat count is printed). A tool is timed over that document again and
  again until ``--seconds`` of CPU time have passed (at least once).
* page text: the text of every text node in the real recordings' full snapshots
  (``../shared/data/recordings``, what the masker scans), cut into 64 KB documents; timed the
  same way (Presidio, which is slow, gets the first ``--presidio-kb`` KB of it).
* prose: synthetic sentences with one identifier every 1-3 KB (the old in-test benchmark).

replayvault keeps bounded caches keyed by candidate strings (``candidate_cache`` in
``privacy/detectors/_cache.py``: phone numbering-plan verdicts, checksums). The "cold" row
empties them before every document, and for the corpus its documents are one copy of the rows
each, so its figure owes nothing to repeated text; the main row is the steady state with warm
caches (page text repeats: the same stylesheets and page chrome in every snapshot).

Targets (issue "Privacy engine"): replayvault recall 1.0 and precision >= 0.99 on the corpus;
>= 20 MB/s on one core; >= 50x Presidio's throughput, on the corpus and on page text.

Run: ``make bench`` (installs the ``bench`` extra), or
``.venv/bin/python benchmarks/pii.py [--seconds 3] [--only replayvault]``. Presidio and
scrubadub are optional: a missing one is reported as not installed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "privacy"))
from pii_corpus import ROWS, parse  # noqa: E402

from replayvault.privacy.detectors import REGISTRY, clear_caches, find_all  # noqa: E402

Spans = list[tuple[int, int]]
Find = Callable[[str], Spans]
#: ``(text, [(kind, start, end)])`` rows of the labelled corpus.
CORPUS = [parse(row) for row in ROWS]
DOC_BYTES = 64_000
PRESIDIO = "presidio (patterns)"
COLD = "replayvault, cold"


def replayvault_spans(text: str) -> Spans:
    return [(f.start, f.end) for f in find_all(text, REGISTRY)]


def replayvault_cold(text: str) -> Spans:
    """:func:`replayvault_spans` with the candidate caches emptied first (no help from earlier documents)."""
    clear_caches()
    return replayvault_spans(text)


def presidio_finder() -> Find | None:
    try:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
    except ImportError:
        return None
    os.environ.setdefault("TLDEXTRACT_CACHE", str(Path.home() / ".cache" / "tldextract"))
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers()
    registry.remove_recognizer("SpacyRecognizer")  # needs a spaCy model: patterns only
    engine = AnalyzerEngine(registry=registry, supported_languages=["en"],
                            nlp_engine=NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "noop"}]))
    engine.analyze(text="warm up jane@example.com", language="en")
    return lambda text: [(r.start, r.end) for r in engine.analyze(text=text, language="en")]


def scrubadub_finder() -> Find | None:
    try:
        import scrubadub
    except ImportError:
        return None
    scrubber = scrubadub.Scrubber()
    return lambda text: [(f.beg, f.end) for f in scrubber.iter_filth(text)]


def quality(find: Find) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) over the corpus."""
    tp = fp = fn = 0
    for text, labels in CORPUS:
        found = find(text)
        for s, e in found:
            if any(s < le and e > ls for _, ls, le in labels):
                tp += 1
            else:
                fp += 1
        fn += sum(1 for _, ls, le in labels if not any(s < le and e > ls for s, e in found))
    return tp, fp, fn


# -- texts ------------------------------------------------------------------------------------------
def corpus_document() -> tuple[list[str], int]:
    """The corpus rows joined by newlines, repeated into one document of at least 64 KB; and the repeat count."""
    rows = "\n".join(t for t, _ in CORPUS)
    copies = -(-DOC_BYTES // len(rows.encode()))
    return ["\n".join([rows] * copies)], copies


def page_text() -> str:
    """The text of every text node in the real recordings' full snapshots (../shared/data/recordings):
    what the masker actually scans. Empty when the folder is absent."""
    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "recordings"
    out: list[str] = []
    for path in sorted(folder.glob("*.json")):
        stack = [json.loads(path.read_text())]
        while stack:
            obj = stack.pop()
            if isinstance(obj, dict):
                if obj.get("type") == 3 and isinstance(obj.get("textContent"), str):
                    out.append(obj["textContent"])
                stack.extend(obj.values())
            elif isinstance(obj, list):
                stack.extend(obj)
    return "\n".join(out)


def prose_text(size: int) -> str:
    """Prose-like sentences (capitals, short words, punctuation) with an identifier every ~1-3 kB."""
    rnd = random.Random(5)
    words = ("the customer opened a transfer form and entered the amount before the deadline of this month "
             "while the page showed their balance history chart and recent statements in it to be of on").split()
    ids = ["jane.doe@bank.example", "DE89 3704 0044 0532 0130 00", "4111 1111 1111 1111", "+49 30 123456",
           "(201) 555-0123", "192.168.10.20", "2026-11-29", "EUR 1,234.56", "ORD-2026-000123", "BIC DEUTDEFFXXX",
           "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "your verification code is 482913", "1700000000000"]
    parts, n = [], 0
    while n < size:
        sentences = []
        for _ in range(rnd.randint(8, 25)):
            sentence = " ".join(rnd.choice(words) for _ in range(rnd.randint(6, 18)))
            sentences.append(sentence[0].upper() + sentence[1:] + rnd.choice([".", ",", "!", "?", ";"]))
        chunk = " ".join(sentences) + f" {rnd.choice(ids)} {rnd.randint(1, 99999)}. "
        parts.append(chunk)
        n += len(chunk)
    return "".join(parts)


def documents(text: str, limit: int | None = None) -> list[str]:
    """``text`` (its first ``limit`` bytes' worth of characters) cut into 64 KB documents."""
    text = text[:limit] if limit else text
    return [text[i : i + DOC_BYTES] for i in range(0, len(text), DOC_BYTES)]


def throughput(find: Find, docs: list[str], seconds: float) -> float:
    """MB/s of CPU time: ``find`` over every document, passes repeated until ``seconds`` have passed."""
    size = sum(len(d.encode()) for d in docs)
    passes, started = 0, time.process_time()
    while True:
        for d in docs:
            find(d)
        passes += 1
        elapsed = time.process_time() - started
        if elapsed >= seconds:
            return size * passes / elapsed / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="CPU seconds per tool and text (at least one pass)")
    ap.add_argument("--presidio-kb", type=int, default=256, help="page text given to Presidio (KB)")
    ap.add_argument("--only", choices=["replayvault", "presidio", "scrubadub"], action="append",
                    help="time only these tools (repeatable)")
    args = ap.parse_args()
    console = Console(width=150)
    tools: dict[str, Find] = {"replayvault": replayvault_spans, COLD: replayvault_cold}
    console.print("[dim]loading Presidio and scrubadub…[/dim]")
    for name, make in ((PRESIDIO, presidio_finder), ("scrubadub", scrubadub_finder)):
        finder = make() if not args.only or name.split()[0] in args.only else None
        if finder is not None:
            tools[name] = finder
    if args.only and "replayvault" not in args.only:
        del tools["replayvault"], tools[COLD]
    corpus_docs, copies = corpus_document()
    corpus_rows = "\n".join(t for t, _ in CORPUS)
    pages = page_text()
    texts = {"corpus": corpus_docs, "page text": documents(pages), "prose": documents(prose_text(1_000_000))}
    labels = sum(len(lab) for _, lab in CORPUS)
    table = Table("tool", "precision", "recall", "TP", "FP", "FN", *(f"MB/s {name}" for name in texts),
                  title=f"{len(CORPUS)} corpus rows, {labels} labelled spans; MB/s of CPU time on one core")
    speeds: dict[str, dict[str, float]] = {}
    threads_seen = 1
    for name, find in tools.items():
        # No spinner while timing: rich animates it from a second thread, which would share the clock.
        console.print(f"[dim]timing {name}…[/dim]")
        tp, fp, fn = quality(find)
        speeds[name] = {}
        for text_name, docs in texts.items():
            if name == PRESIDIO and text_name != "corpus":
                docs = documents("".join(docs), args.presidio_kb * 1000)
            if name == COLD and text_name == "corpus":
                docs = [corpus_rows]  # one copy per document: no row is seen twice between cache clears
            speeds[name][text_name] = throughput(find, docs, args.seconds)
            threads_seen = max(threads_seen, threading.active_count())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        table.add_row(name, f"{precision:.3f}", f"{recall:.3f}", str(tp), str(fp), str(fn),
                      *(f"{speeds[name][t]:.2f}" for t in texts))
    for missing in {PRESIDIO, "scrubadub"} - set(tools):
        table.add_row(missing, "not installed" if not args.only else "not run", *[""] * (4 + len(texts)))
    console.print(table)
    console.print(f"corpus: {len(corpus_docs[0].encode()) / 1e3:.0f} KB document = the {len(CORPUS)} rows "
                  f"({sum(len(t.encode()) for t, _ in CORPUS) / 1e3:.1f} KB) repeated {copies}x; page text: "
                  f"{len(pages.encode()) / 1e6:.1f} MB in 64 KB documents (Presidio: first {args.presidio_kb} KB); "
                  f"prose: 1 MB. Each figure: >= {args.seconds:g} s of CPU time, single thread "
                  f"(threads while timing: {threads_seen}). The cold row empties replayvault's candidate caches "
                  "before every document, and its corpus documents are one copy of the rows each.")
    if "replayvault" in speeds:
        rv = speeds["replayvault"]
        console.print("replayvault, one core: " + ", ".join(f"{rv[t]:.1f} MB/s on {t}" for t in texts)
                      + " (target >= 20 MB/s)")
    if "replayvault" in speeds and PRESIDIO in speeds:
        for row in ("replayvault", COLD):
            rv, pr = speeds[row], speeds[PRESIDIO]
            console.print(f"{row} / Presidio throughput: "
                          + ", ".join(f"{rv[t] / pr[t]:.0f}x on {t}" for t in texts) + " (target >= 50x)")


if __name__ == "__main__":
    main()
