"""Cryptocurrency address detector: Bitcoin (base58check, bech32, bech32m) and Ethereum (EIP-55).

Bitcoin:

* ``base58``: P2PKH/P2SH, base58check (version byte + 20-byte hash + 4-byte double-SHA-256
  checksum). Versions: mainnet ``0x00`` (``1...``) and ``0x05`` (``3...``), testnet ``0x6f``
  (``m...``/``n...``) and ``0xc4`` (``2...``).
* ``bech32``: native segwit addresses with HRP ``bc`` (mainnet) or ``tb`` (testnet): BIP-173
  bech32 for witness version 0, BIP-350 bech32m for versions 1-16 (Taproot ``bc1p...``).
  :func:`bech32_decode` and :func:`decode_segwit` follow the reference decoder of the BIPs.

Ethereum (``eth``): ``0x`` + 40 hex digits. Mixed case carries the EIP-55 checksum (Keccak-256
of the lower-case hex; a letter is upper case when its hash nibble is >= 8): valid ->
confirmed, invalid -> rejected. All lower or all upper case carries no checksum -> unknown.

Addresses must not touch an ASCII letter or digit.
"""

from __future__ import annotations

import hashlib
import re
from enum import Enum

from Crypto.Hash import keccak

from . import _scanner
from ._finding import Finding, Validation
from ._cache import candidate_cache
from ._util import isolated, run_end

KIND = "crypto"
VALIDATOR = "base58check"
CONTEXT = ("bitcoin", "btc", "wallet", "address", "ethereum", "eth", "send to")

PATTERNS = [
    ("base58", r"\b[13mn2][1-9A-HJ-NP-Za-km-z]{25}"),
    ("bech32", r"\b(?:bc|tb|BC|TB)1[02-9ac-hj-np-zAC-HJ-NP-Z]{6}"),
    ("eth", r"\b0x[0-9a-fA-F]{40}"),
]
VALIDATORS = {"base58": "base58check", "bech32": "bech32", "eth": "eip55"}

# -- base58check -----------------------------------------------------------------------------
B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {ch: i for i, ch in enumerate(B58_ALPHABET)}
#: Version byte -> what it is, for P2PKH/P2SH addresses.
ADDRESS_VERSIONS = {0x00: "p2pkh", 0x05: "p2sh", 0x6F: "testnet-p2pkh", 0xC4: "testnet-p2sh"}


def b58decode_check(value: str) -> bytes | None:
    """Payload (version byte included) of a base58check string, or ``None`` if malformed or the checksum fails."""
    n = 0
    for ch in value:
        digit = _B58_INDEX.get(ch)
        if digit is None:
            return None
        n = n * 58 + digit
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(value) - len(value.lstrip("1"))) + body
    if len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


@candidate_cache
def base58_address_ok(value: str) -> bool:
    """True for a P2PKH/P2SH address (mainnet or testnet) with a valid base58check checksum."""
    if not 26 <= len(value) <= 35:
        return False
    payload = b58decode_check(value)
    return payload is not None and len(payload) == 21 and payload[0] in ADDRESS_VERSIONS


# -- bech32 / bech32m (BIP-173, BIP-350) -------------------------------------------------------
BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
SEGWIT_HRPS = ("bc", "tb")


class Encoding(Enum):
    """Which checksum constant a bech32 string uses."""

    BECH32 = 1  # BIP-173
    BECH32M = 0x2BC830A3  # BIP-350


def _generator_xor(top: int) -> int:
    out = 0
    for i in range(5):
        if (top >> i) & 1:
            out ^= _GENERATOR[i]
    return out


#: XOR of the generator words selected by each 5-bit value of the checksum's top bits.
_GENERATOR_XOR = tuple(_generator_xor(top) for top in range(32))


def _two_steps(top: int) -> int:
    """What two steps of the polymod XOR in, for the 10 top bits ``top`` of the 30-bit state.

    One step is ``c' = ((c & M25) << 5) ^ v ^ X[c >> 25]``. For ``h = c >> 20`` (``t = h >> 5``,
    ``m = h & 31``) two steps give ``((c & M20) << 10) ^ (v1 << 5 | v2) ^ ((X[t] & M25) << 5)
    ^ X[m ^ (X[t] >> 25)]``; the last two terms depend on ``h`` only.
    """
    first = _GENERATOR_XOR[top >> 5]
    return ((first & 0x1FFFFFF) << 5) ^ _GENERATOR_XOR[(top & 31) ^ (first >> 25)]


_TWO_STEPS = tuple(_two_steps(top) for top in range(1024))


def bech32_polymod(values: list[int]) -> int:
    """The BCH checksum polynomial of BIP-173 over 5-bit values.

    The reference loop XORs ``GEN[i]`` for each set bit ``i`` of the top five bits; here the
    XOR of those words is looked up in :data:`_GENERATOR_XOR`, two values at a time through
    :data:`_TWO_STEPS` (same result; a test compares it with the reference loop).
    """
    chk = 1
    n = len(values) - len(values) % 2
    for i in range(0, n, 2):
        chk = ((chk & 0xFFFFF) << 10) ^ (values[i] << 5 | values[i + 1]) ^ _TWO_STEPS[chk >> 20]
    if n < len(values):
        chk = ((chk & 0x1FFFFFF) << 5) ^ values[n] ^ _GENERATOR_XOR[chk >> 25]
    return chk


_PRINTABLE = re.compile(r"[\x21-\x7e]*")
#: Byte -> its 5-bit value in the bech32 charset; 0xFF for any other byte.
_BECH32_VALUES = bytes(BECH32_CHARSET.find(chr(b)) & 0xFF if chr(b) in BECH32_CHARSET else 0xFF for b in range(256))


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_decode(value: str) -> tuple[Encoding, str, list[int]] | None:
    """``(encoding, hrp, data without checksum)`` of a valid bech32 or bech32m string, else ``None``.

    Steps (BIP-173 "Bech32"): 1. printable US-ASCII only; 2. not mixed case; 3. separator is
    the last ``1``, HRP at least 1 character, checksum 6 characters, total at most 90;
    4. data characters in the charset; 5. polymod equals the bech32 or the bech32m constant.
    """
    if not _PRINTABLE.fullmatch(value):  # 1
        return None
    if value.lower() != value and value.upper() != value:  # 2
        return None
    value = value.lower()
    pos = value.rfind("1")
    if pos < 1 or pos + 7 > len(value) or len(value) > 90:  # 3
        return None
    values = value[pos + 1 :].encode("ascii").translate(_BECH32_VALUES)
    if b"\xff" in values:  # 4
        return None
    hrp = value[:pos]
    data = list(values)
    const = bech32_polymod(_hrp_expand(hrp) + data)  # 5
    for encoding in Encoding:
        if const == encoding.value:
            return encoding, hrp, data[:-6]
    return None


def convertbits(data: list[int], frombits: int, tobits: int, pad: bool) -> list[int] | None:
    """Regroup ``frombits``-bit values as ``tobits``-bit values; ``None`` on bad padding."""
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            return None
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return out


def decode_segwit(hrp: str, address: str) -> tuple[int, bytes] | None:
    """``(witness version, program)`` of a segwit address with this HRP, else ``None``.

    Steps (BIP-173 "Segwit address format", BIP-350 "Addresses for segregated witness
    outputs"): 1. valid bech32/bech32m with the expected HRP and a non-empty data part;
    2. version 0-16; 3. program of 2-40 bytes, zero padding of at most 4 bits; 4. version 0
    needs a 20- or 32-byte program; 5. version 0 uses bech32, versions 1-16 bech32m.
    """
    decoded = bech32_decode(address)
    if decoded is None or decoded[1] != hrp:  # 1 (HRP)
        return None
    return _witness_program(decoded)


def _witness_program(decoded: tuple[Encoding, str, list[int]]) -> tuple[int, bytes] | None:
    """Steps 1 (non-empty data) to 5 of :func:`decode_segwit` on an already decoded string."""
    encoding, _, data = decoded
    if not data:  # 1
        return None
    version = data[0]
    if version > 16:  # 2
        return None
    program = _bytes_of(data[1:])
    if program is None or not 2 <= len(program) <= 40:  # 3
        return None
    if version == 0 and len(program) not in (20, 32):  # 4
        return None
    if (version == 0) != (encoding is Encoding.BECH32):  # 5
        return None
    return version, program


def _bytes_of(data: list[int]) -> bytes | None:
    """``convertbits(data, 5, 8, False)`` as bytes: the 5-bit values read as one big number; the
    0-4 bits left over must be zero padding (BIP-173), else ``None``."""
    bits = 5 * len(data)
    spare = bits % 8
    if spare > 4:
        return None
    n = 0
    for value in data:
        n = n << 5 | value
    if n & ((1 << spare) - 1):
        return None
    return (n >> spare).to_bytes(bits // 8, "big")


@candidate_cache
def segwit_address_ok(value: str) -> bool:
    """True for a valid mainnet (``bc``) or testnet (``tb``) segwit address (decoded once, not per HRP)."""
    decoded = bech32_decode(value)
    return decoded is not None and decoded[1] in SEGWIT_HRPS and _witness_program(decoded) is not None


# -- Ethereum (EIP-55) -----------------------------------------------------------------------
def eip55_checksum(address: str) -> str:
    """``0x`` + the EIP-55 mixed-case form of a 40-hex-digit address (any case in)."""
    hexdigits = address[2:].lower()
    digest = keccak.new(digest_bits=256, data=hexdigits.encode("ascii")).hexdigest()
    # A hash nibble >= 8 is "8"-"9" or "a"-"f": as characters, those are >= "8".
    return "0x" + "".join(c.upper() if h >= "8" else c for c, h in zip(hexdigits, digest[: len(hexdigits)], strict=True))


@candidate_cache
def eth_outcome(address: str) -> Validation:
    """Unknown without a checksum (one case), confirmed/rejected by EIP-55 for mixed case."""
    body = address[2:]
    if body == body.lower() or body == body.upper():
        return Validation.UNKNOWN
    return Validation.CONFIRMED if eip55_checksum(address) == address else Validation.REJECTED


_B58_CHARS = frozenset(B58_ALPHABET)
_BECH32_CHARS = frozenset(BECH32_CHARSET + BECH32_CHARSET.upper())


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """The whole run of the address alphabet (the scanner reports a fixed-length prefix)."""
    if pattern == "base58":
        end = run_end(text, end, _B58_CHARS)
    elif pattern == "bech32":
        end = run_end(text, end, _BECH32_CHARS)
    return [(start, end)]


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """base58check, bech32/bech32m or EIP-55, on an isolated span."""
    value = text[start:end]
    if not isolated(text, start, end):
        return Validation.REJECTED
    if pattern == "base58":
        return Validation.CONFIRMED if base58_address_ok(value) else Validation.REJECTED
    if pattern == "bech32":
        return Validation.CONFIRMED if segwit_address_ok(value) else Validation.REJECTED
    if len(value) != 42:
        return Validation.REJECTED
    return eth_outcome(value)


def find(text: str) -> list[Finding]:
    """Return Bitcoin and Ethereum addresses in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
