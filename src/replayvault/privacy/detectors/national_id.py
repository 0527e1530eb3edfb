"""National identity and tax numbers, validated by python-stdnum (one pattern per number).

Patterns (number, example, validator, when a context word is needed):

* ``de_idnr``: DE Steuer-ID ``36 574 261 809``, ``stdnum.de.idnr``; context for bare 11 digits.
* ``de_stnr``: DE Steuernummer ``181/815/08155``, ``stdnum.de.stnr`` (format only); context
  makes it confirmed.
* ``fr_nir``: FR NIR ``2 95 10 99 126 111 93``, ``stdnum.fr.nir``; no context.
* ``fr_nif``: FR numéro fiscal (SPI) ``30 23 217 600 053``, ``stdnum.fr.nif``; always.
* ``es_dni`` / ``es_nie`` / ``es_nif``: ES ``54362315-K`` / ``X-2482300-W`` / ``M-1234567-L``,
  ``stdnum.es.dni`` / ``.nie`` / ``.nif``; no context.
* ``it_cf``: IT codice fiscale ``RCCMNL83S18D969H``, ``stdnum.it.codicefiscale``; no context.
* ``nl_bsn`` / ``nl_bsn_dotted``: NL BSN ``111222333`` / ``1112.22.333``, ``stdnum.nl.bsn``; always.
* ``gb_nino``: GB National Insurance number ``AB 12 34 56 C``, HMRC rules; context makes it
  confirmed.

Outcomes: a number with a check digit that stdnum accepts is confirmed. Numbers whose shape is
too common to report alone (9 or 11 or 13 bare digits) need a context word of their country
within :data:`CONTEXT_WINDOW` characters before them (the Steuer-ID is reported alone
only in its official grouping ``dd ddd ddd ddd``). The Steuernummer and the NINO have no
check digit: they are unknown, or confirmed with a context word. python-stdnum has no NINO
module, so :func:`nino_ok` implements HMRC's rules: first letter not D F I Q U V, second
letter not D F I O Q U V, prefix not BG GB KN NK NT TN ZZ, six digits, suffix A-D.
"""

from __future__ import annotations

from typing import Callable

from stdnum.de import idnr, stnr
from stdnum.es import dni, nie, nif as es_nif
from stdnum.fr import nif as fr_nif, nir
from stdnum.it import codicefiscale
from stdnum.nl import bsn

from . import _scanner
from ._finding import Finding, Validation
from ._cache import candidate_cache
from ._util import ContextWords, has_context, isolated

KIND = "national_id"
VALIDATOR = "stdnum"
CONTEXT_WINDOW = 40

PATTERNS = [
    ("de_idnr", r"\b[1-9][0-9] ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}"),
    ("de_stnr", r"\b[0-9]{2,3}/[0-9]{3,4}/[0-9]{4,5}"),
    ("fr_nir", r"\b[12] ?[0-9]{2} ?[0-9]{2} ?[0-9][0-9AB] ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}"),
    ("fr_nif", r"\b[0-3] ?[0-9] ?[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}"),
    ("es_dni", r"\b[0-9]{8}-?[A-Z]"),
    ("es_nie", r"\b[XYZ]-?[0-9]{7}-?[A-Z]"),
    ("es_nif", r"\b[KLM]-?[0-9]{7}-?[A-Z]"),
    ("it_cf", r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]"),
    ("nl_bsn", r"\b[0-9]{9}"),
    ("nl_bsn_dotted", r"\b[0-9]{4}\.[0-9]{2}\.[0-9]{3}"),
    ("gb_nino", r"\b[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]"),
]

#: Context words per pattern; a pattern listed in :data:`CONTEXT_REQUIRED` needs one.
CONTEXT_WORDS: dict[str, tuple[str, ...]] = {
    "de_idnr": ("steuer-id", "steuerid", "steuer id", "identifikationsnummer", "idnr", "id-nr", "tin",
                "steueridentifikationsnummer", "tax id"),
    "de_stnr": ("steuernummer", "st.-nr", "stnr", "st-nr", "tax number"),
    "fr_nif": ("numéro fiscal", "numero fiscal", "spi", "nif", "identifiant fiscal", "tax number"),
    "nl_bsn": ("bsn", "burgerservicenummer", "sofinummer", "sofi-nummer", "citizen service number"),
    "gb_nino": ("nino", "national insurance", "ni number", "ni no", "insurance number"),
}
CONTEXT = tuple(sorted({w for words in CONTEXT_WORDS.values() for w in words}))
#: Patterns reported only with a context word (the bare form of de_idnr too, see validate()).
CONTEXT_REQUIRED = frozenset({"fr_nif", "nl_bsn", "nl_bsn_dotted"})

VALIDATORS = {
    "de_idnr": "de.idnr", "de_stnr": "de.stnr", "fr_nir": "fr.nir", "fr_nif": "fr.nif", "es_dni": "es.dni",
    "es_nie": "es.nie", "es_nif": "es.nif", "it_cf": "it.codicefiscale", "nl_bsn": "nl.bsn", "nl_bsn_dotted": "nl.bsn",
    "gb_nino": "gb.nino-rules",
}  # fmt: skip

#: Exact lengths once spaces, dots, slashes and dashes are removed.
_LENGTHS = {"de_idnr": 11, "fr_nir": 15, "fr_nif": 13, "nl_bsn": 9, "nl_bsn_dotted": 9, "gb_nino": 9}
#: Patterns without a check digit: unknown unless a context word confirms them.
_NO_CHECK_DIGIT = frozenset({"de_stnr", "gb_nino"})
_CONTEXT = {name: ContextWords(words) for name, words in CONTEXT_WORDS.items()}
_CONTEXT["nl_bsn_dotted"] = _CONTEXT["nl_bsn"]
#: Patterns whose validate() rejects every span without a context word of its country in the
#: window before it (pattern name -> words, window); no spans(). The scanner skips their
#: candidates when no such word can be near (see ``_scanner``).
REQUIRES_CONTEXT = {name: (_CONTEXT[name], CONTEXT_WINDOW) for name in sorted(CONTEXT_REQUIRED)}

_NINO_FIRST_EXCLUDED = frozenset("DFIQUV")
_NINO_SECOND_EXCLUDED = frozenset("DFIOQUV")
_NINO_PREFIX_EXCLUDED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def nino_ok(value: str) -> bool:
    """HMRC's rules for a National Insurance number (spaces ignored)."""
    v = value.replace(" ", "")
    if len(v) != 9 or not (v[:2].isalpha() and v[:2].isupper() and v[2:8].isdigit() and v[8] in "ABCD"):
        return False
    return v[0] not in _NINO_FIRST_EXCLUDED and v[1] not in _NINO_SECOND_EXCLUDED and v[:2] not in _NINO_PREFIX_EXCLUDED


_STDNUM_CHECKS: dict[str, Callable[[str], bool]] = {
    "de_idnr": idnr.is_valid, "de_stnr": stnr.is_valid, "fr_nir": nir.is_valid, "fr_nif": fr_nif.is_valid,
    "es_dni": dni.is_valid, "es_nie": nie.is_valid, "es_nif": es_nif.is_valid,
    "it_cf": codicefiscale.is_valid, "nl_bsn": bsn.is_valid, "nl_bsn_dotted": bsn.is_valid, "gb_nino": nino_ok,
}  # fmt: skip
#: Pattern -> its check (python-stdnum's ``is_valid``, or :func:`nino_ok`), each behind a candidate cache.
_CHECKS = {name: candidate_cache(check) for name, check in _STDNUM_CHECKS.items()}


def _compact(value: str) -> str:
    return value.replace(" ", "").replace(".", "").replace("/", "").replace("-", "")


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Run the stdnum check (or the NINO rules); apply the context rules of the table above."""
    value = text[start:end]
    want = _LENGTHS.get(pattern)
    if (want is not None and len(_compact(value)) != want) or not isolated(text, start, end, glue="-/."):
        return Validation.REJECTED
    context = pattern in _CONTEXT and has_context(text, start, _CONTEXT[pattern], CONTEXT_WINDOW)
    needs_context = pattern in CONTEXT_REQUIRED or (pattern == "de_idnr" and value.count(" ") != 3)
    if (needs_context and not context) or not _CHECKS[pattern](value):  # the context test is the cheaper
        return Validation.REJECTED
    if pattern in _NO_CHECK_DIGIT and not context:
        return Validation.UNKNOWN
    return Validation.CONFIRMED


def find(text: str) -> list[Finding]:
    """Return national identity and tax numbers in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
