"""``replayvault scan``: run the privacy detectors over any text and print the findings as JSON lines.

Thin layer over :func:`replayvault.privacy.detectors.find_all`; attached to the main app in
:mod:`.cli`. Each line holds offsets and evidence only, never the matched text.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from .errors import ReplayVaultError

__all__ = ["scan", "scan_text"]


def scan_text(text: str, detectors: list[str] | None = None) -> list[dict[str, object]]:
    """Findings in ``text`` as JSON-ready dicts (all registered detectors unless ``detectors`` names some).

    Raises:
        UnknownDetector: a name is not registered.
    """
    from .privacy.detectors import REGISTRY, find_all, select

    chosen = select(detectors) if detectors else REGISTRY
    return [
        {"kind": f.kind, "start": f.start, "end": f.end, "validator": f.validator, "outcome": f.outcome.value,
         "confidence": f.confidence, "pattern": f.pattern}
        for f in find_all(text, chosen)
    ]


def _read(file: Optional[Path]) -> str:
    if file is None or str(file) == "-":
        data = sys.stdin.buffer.read()
    else:
        data = file.read_bytes()
    return data.decode("utf-8", errors="replace")


def scan(file: Optional[Path] = typer.Argument(None, help="Text file to scan; '-' or nothing reads standard input.",
                                               dir_okay=False, allow_dash=True),
         detector: Optional[list[str]] = typer.Option(None, "--detector", "-d",
                                                      help="Run only this detector (repeatable); default: all.")) -> None:
    """Find personal data in a text file (or standard input); print one JSON object per finding.

    Keys: kind, start, end (character offsets in the UTF-8 text, end exclusive), validator,
    outcome (confirmed or unknown), confidence, pattern. The matched text is never printed.

    Detectors: email, card, iban, bic, aba, ssn, national_id, phone, ip, crypto, bip39, secret, otp.

    Example: echo "IBAN DE89 3704 0044 0532 0130 00" | replayvault scan - --detector iban
    """
    if file is not None and str(file) != "-" and not file.is_file():
        typer.echo(f"error: no such file: {file}", err=True)
        raise typer.Exit(code=2)
    try:
        rows = scan_text(_read(file), detector or None)
    except ReplayVaultError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    out = sys.stdout
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
