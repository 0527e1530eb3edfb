"""Leak benchmark (benchmarks/leaks.py): personal values typed into real saved forms are never stored.

The browser test runs the benchmark on the first 20 pages of ../shared/data/forms (index.json order)
that have an annotated personal field, through the real tracker and collector, into the ``rt``
fixture's data directory. The other tests check the benchmark's search itself (it must find what
it looks for), without a browser.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from conftest import ROOT, SHARED

FORMS = SHARED / "forms"
N_PAGES = 20


def _leaks():  # type: ignore[no-untyped-def]
    """benchmarks/leaks.py as a module (benchmarks/ is not a package)."""
    if "replayvault_bench_leaks" in sys.modules:
        return sys.modules["replayvault_bench_leaks"]
    spec = importlib.util.spec_from_file_location("replayvault_bench_leaks", ROOT / "benchmarks" / "leaks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _need_forms() -> dict:
    if not (FORMS / "index.json").is_file() or not (FORMS / "html").is_dir():
        pytest.skip("../shared/data/forms (saved real-world forms) is not present beside the checkout")
    return json.loads((FORMS / "index.json").read_text())


# --------------------------------------------------------------------------- the search finds what it should

def _field(leaks, page: str, code: str, value: str):  # type: ignore[no-untyped-def]
    return leaks.FieldResult(page=page, form=0, name=f"f-{code}", code=code, status="typed", method="fill", value=value)


def test_search_finds_exact_separator_free_and_fragment_matches() -> None:
    leaks = _leaks()
    card = _field(leaks, "p", "c#", "4539 1488 0343 6467")
    email = _field(leaks, "p", "e1", "vorqua.zelmir17@kelrynmail.test")
    password = _field(leaks, "p", "p1", "Quinhol#003!V68")
    needles = leaks._Needles([card, email, password], noise="<html>mail us at info@kelrynmail.test</html>")

    def hits(text: str) -> dict[int, tuple[str, int]]:
        return {i: (kind, n) for i, kind, n, _ in needles.search(text)}

    assert hits('{"text":"***************"}') == {}
    assert hits("x Vorqua.Zelmir17@kelrynmail.test x")[1] == ("exact", 31)  # case is ignored
    assert hits("card=4539148803436467;")[0] == ("nosep", 16)
    assert hits("pw hol#003!V y")[2] == ("fragment", 9)
    assert 0 not in hits("**** **** **** 6467")  # the last four digits alone are not 6 characters of it
    assert hits("n 4539 148* **** ****")[0] == ("fragment", 8)
    # "@kelrynmail.test" is in the page's own HTML: its fragments alone prove nothing.
    assert needles.left_out > 0
    assert hits("see kelrynmail.test") == {}


def test_fake_values_are_valid_and_unique() -> None:
    leaks = _leaks()
    faker = leaks.Faker(7)
    cards = [faker.value("c#") for _ in range(50)]
    assert all(leaks.luhn_ok(c) and len(c.replace(" ", "")) == 16 and c.startswith("4") for c in cards)
    assert leaks.luhn_ok("4111 1111 1111 1111") and not leaks.luhn_ok("4111 1111 1111 1112")
    values = [faker.value(code) for code in leaks.PERSONAL_KINDS for _ in range(3)]
    long_values = [v for v in values if len(v) >= leaks.MIN_FRAGMENT]
    assert len(set(long_values)) == len(long_values)
    assert faker.value("bD", "date").count("-") == 2  # <input type=date> takes ISO dates


# --------------------------------------------------------------------------- the benchmark on real pages

@pytest.mark.browser
def test_typed_personal_values_are_never_stored(rt, chromium) -> None:  # type: ignore[no-untyped-def]
    index = _need_forms()
    leaks = _leaks()
    if not (ROOT / "src" / "replayvault" / "web" / "static" / "replayvault.js").is_file():
        pytest.skip("the tracker is not built (make build)")
    kinds = set(leaks.PERSONAL_KINDS)
    pages = [name for name, entry in index.items()
             if any(code in kinds for form in entry["visible_html_fields"] for code in form.values())][:N_PAGES]
    assert pages == leaks.select_pages(index, N_PAGES)
    annotated = sum(1 for name in pages for form in index[name]["visible_html_fields"]
                    for code in form.values() if code in kinds)

    report = leaks.run(pages, rt=rt, browser=chromium, html_dir=FORMS / "html", index=index)

    assert len(report.pages) >= 20
    assert not report.incomplete, [(p.name, p.error) for p in report.incomplete]
    assert len(report.fields) == annotated
    assert report.values_typed == annotated - report.skipped
    assert report.values_typed >= 40
    assert report.by_script >= 10  # one value per page assigned by script, never typed
    # The typing reached the collector (as masked input events) and the search sees what was stored.
    assert sum(p.input_events for p in report.pages) >= 40
    assert report.canaries_found == len(report.canaries) == len(pages)
    leaks_found = [(f.page, f.code, f.storage, f.match, f.length, f.where) for f in report.findings]
    assert report.values_found == 0, leaks_found
