"""Benchmark: PII detection quality and speed — replayvault, Presidio and scrubadub side by side.

All three run on the same labelled corpus (``tests/privacy/pii_corpus.py``: real formats, about
half negatives that trip other tools). A finding is a true positive when it overlaps a labelled
span (kinds are not compared: the tools name entities differently); a finding that overlaps no
label is a false positive; a label no finding overlaps is a false negative.

* replayvault: ``privacy.detectors.find_all`` with every registered detector (``REGISTRY``).
* Presidio: ``presidio-analyzer`` with ``NoOpNlpEngine`` — its pattern recognizers only (no
  spaCy model), language "en".
* scrubadub: ``Scrubber().iter_filth`` with its default detectors.

Throughput is MB/s of the corpus rows joined into 64 KB documents (repeated to about ``--mb`` MB
for replayvault and scrubadub, one document for Presidio, which is slow) on one core. Targets (issue "Privacy engine"):
recall 1.0 and precision >= 0.99 for replayvault, >= 20 MB/s, >= 50x Presidio's throughput.

Run: ``make bench`` (installs the ``bench`` extra), or ``.venv/bin/python benchmarks/pii.py [--mb 4]``.
Presidio and scrubadub are optional: a missing one is reported as not installed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "privacy"))
from pii_corpus import ROWS, parse  # noqa: E402

from replayvault.privacy.detectors import REGISTRY, find_all  # noqa: E402

Spans = list[tuple[int, int]]
#: ``(text, [(kind, start, end)])`` rows of the labelled corpus.
CORPUS = [parse(row) for row in ROWS]


def replayvault_spans(text: str) -> Spans:
    return [(f.start, f.end) for f in find_all(text, REGISTRY)]


def presidio_finder() -> Callable[[str], Spans] | None:
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


def scrubadub_finder() -> Callable[[str], Spans] | None:
    try:
        import scrubadub
    except ImportError:
        return None
    scrubber = scrubadub.Scrubber()
    return lambda text: [(f.beg, f.end) for f in scrubber.iter_filth(text)]


def quality(find: Callable[[str], Spans]) -> tuple[int, int, int]:
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


def throughput(find: Callable[[str], Spans], target_bytes: int) -> float:
    """MB/s of ``find`` over the corpus rows joined into 64 KB documents, repeated to about ``target_bytes``
    (page snapshots are large texts; per-call overhead is not what is measured)."""
    doc = "\n".join(t for t, _ in CORPUS)
    while len(doc.encode()) < 64_000:
        doc += "\n" + doc
    size = len(doc.encode())
    reps = max(1, target_bytes // size)
    started = time.perf_counter()
    for _ in range(reps):
        find(doc)
    return size * reps / (time.perf_counter() - started) / 1e6


def page_text() -> str:
    """The text of every text node in the real recordings' full snapshots (../shared/data/recordings):
    what the masker actually scans. Empty when the folder is absent."""
    import json

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


def throughput_on(find: Callable[[str], Spans], text: str, target_bytes: int) -> float:
    """MB/s of ``find`` over ``text`` cut into 64 KB documents, repeated to about ``target_bytes``."""
    docs = [text[i:i + 64_000] for i in range(0, len(text), 64_000)] or [""]
    size = sum(len(d.encode()) for d in docs)
    reps = max(1, target_bytes // max(size, 1))
    started = time.perf_counter()
    for _ in range(reps):
        for d in docs:
            find(d)
    return size * reps / (time.perf_counter() - started) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=4.0, help="text to time replayvault and scrubadub on (MB)")
    args = ap.parse_args()
    console = Console()
    tools = {"replayvault": replayvault_spans}
    with console.status("loading Presidio and scrubadub…"):
        for name, make in (("presidio (patterns)", presidio_finder), ("scrubadub", scrubadub_finder)):
            finder = make()
            if finder is not None:
                tools[name] = finder
    labels = sum(len(lab) for _, lab in CORPUS)
    pages = page_text()
    table = Table("tool", "precision", "recall", "TP", "FP", "FN", "MB/s corpus", "MB/s page text",
                  title=f"{len(CORPUS)} rows, {labels} labelled spans; page text {len(pages.encode()) / 1e6:.1f} MB "
                        "from the real recordings")
    speeds: dict[str, tuple[float, float]] = {}
    for name, find in tools.items():
        with console.status(f"{name}…"):
            tp, fp, fn = quality(find)
            budget = int(args.mb * 1e6) if name != "presidio (patterns)" else 1
            speeds[name] = (throughput(find, budget), throughput_on(find, pages[: 200_000 if budget == 1 else None], budget))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        table.add_row(name, f"{precision:.3f}", f"{recall:.3f}", str(tp), str(fp), str(fn),
                      f"{speeds[name][0]:.2f}", f"{speeds[name][1]:.2f}")
    for missing in {"presidio (patterns)", "scrubadub"} - set(tools):
        table.add_row(missing, "not installed", "", "", "", "", "", "")
    console.print(table)
    if "presidio (patterns)" in speeds:
        rv, pr = speeds["replayvault"], speeds["presidio (patterns)"]
        console.print(f"replayvault / Presidio throughput: {rv[0] / pr[0]:.0f}x on the corpus, "
                      f"{rv[1] / pr[1]:.0f}x on page text (target >= 50x)")


if __name__ == "__main__":
    main()
