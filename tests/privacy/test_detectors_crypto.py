"""Crypto addresses (BIP-173/350 and EIP-55 vectors), BIP-39 seed phrases and secrets.

The bech32 vectors are copied from the "Test vectors" sections of BIP-173 and BIP-350; the
EIP-55 vectors from the EIP's "Test Cases"; the BIP-39 phrases from the shared vectors file
(python-mnemonic's vectors.json).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from replayvault.privacy.detectors import Validation, bip39, crypto, secret
from replayvault.privacy.detectors.crypto import Encoding, bech32_decode, decode_segwit, eip55_checksum


def spans(found, text):
    return [text[f.start : f.end] for f in found]


# -- bech32 / bech32m strings -------------------------------------------------------------------
BIP173_VALID_BECH32 = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
BIP173_INVALID_BECH32 = [
    "\x201nwldj5",  # HRP character out of range
    "\x7f1axkwrx",
    "\x801eym55h",
    "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",  # too long
    "pzry9x0s0muk",  # no separator
    "1pzry9x0s0muk",  # empty HRP
    "x1b4n0q5v",  # invalid data character
    "li1dgmt3",  # too short checksum
    "de1lg7wt\xff",  # invalid character in checksum
    "A1G7SGD8",  # checksum calculated with uppercase form of HRP
    "10a06t8",  # empty HRP
    "1qzzfhee",  # empty HRP
]
BIP350_VALID_BECH32M = [
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
]
BIP350_INVALID_BECH32M = [
    "\x201xj0phk",
    "\x7f1g6xzxy",
    "\x801vctc34",
    "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
    "qyrz8wqd2c9m",
    "1qyrz8wqd2c9m",
    "y1b0jsk6g",
    "lt1igcx5c0",
    "in1muywd",
    "mm1crxm3i",
    "au1s5cgom",
    "M1VUXWEZ",
    "16plkw9",
    "1p2gdwpf",
]


@pytest.mark.parametrize("value", BIP173_VALID_BECH32)
def test_bip173_valid_bech32(value):
    decoded = bech32_decode(value)
    assert decoded is not None and decoded[0] is Encoding.BECH32


@pytest.mark.parametrize("value", BIP350_VALID_BECH32M)
def test_bip350_valid_bech32m(value):
    decoded = bech32_decode(value)
    assert decoded is not None and decoded[0] is Encoding.BECH32M


@pytest.mark.parametrize("value", BIP173_INVALID_BECH32 + BIP350_INVALID_BECH32M)
def test_invalid_bech32_strings(value):
    assert bech32_decode(value) is None


# -- segwit addresses ---------------------------------------------------------------------------
#: BIP-350 "Test vectors for v0-v16 native segregated witness addresses": address -> scriptPubKey.
SEGWIT_VALID = {
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4": "0014751e76e8199196d454941c45d1b3a323f1433bd6",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7":
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y":
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    "BC1SW50QGDZ25J": "6002751e",
    "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs": "5210751e76e8199196d454941c45d1b3a323",
    "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy":
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c":
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0":
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
}
SEGWIT_INVALID = [
    # BIP-350
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",  # invalid HRP
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # bech32 instead of bech32m
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # bech32m instead of bech32
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",  # invalid character in checksum
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",  # invalid witness version
    "bc1pw5dgrnzv",  # program length 1
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",  # program length 41
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 program length 16
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",  # mixed case
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",  # zero padding of more than 4 bits
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",  # non-zero padding
    "bc1gmk9yu",  # empty data section
    # BIP-173
    "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
    "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",
    "bc1rw5uspcuh",
    "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
    "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
    # BIP-173's v1+ examples use bech32, which BIP-350 made invalid
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
    "BC1SW50QA3JX3S",
    "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
]


def _script_pubkey(version: int, program: bytes) -> str:
    return bytes([version + 0x50 if version else 0, len(program)]).hex() + program.hex()


@pytest.mark.parametrize(("address", "script"), SEGWIT_VALID.items())
def test_valid_segwit_addresses_decode_to_their_script_and_are_found(address, script):
    hrp = address[:2].lower()
    decoded = decode_segwit(hrp, address)
    assert decoded is not None and _script_pubkey(*decoded) == script
    text = f"send to {address} today"
    found = crypto.find(text)
    assert spans(found, text) == [address]
    assert found[0].outcome is Validation.CONFIRMED and found[0].validator == "bech32"


@pytest.mark.parametrize("address", SEGWIT_INVALID)
def test_invalid_segwit_addresses_are_not_found(address):
    assert crypto.find(f"send to {address} today") == []


# -- base58check addresses ----------------------------------------------------------------------
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def ref_b58check(version: int, payload: bytes) -> str:
    """Reference base58check encoder (independent of the detector's decoder)."""
    raw = bytes([version]) + payload
    raw += hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n, out = int.from_bytes(raw, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


BASE58_VALID = [
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # genesis block coinbase
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",  # Bitcoin wiki example
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # Bitcoin wiki P2SH example
    "1NEDqZPvTWRaoho48qXuLLsrYomMXPABfD",  # python-stdnum's example
    "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",  # Bitcoin wiki testnet example
    ref_b58check(0x6F, bytes(range(20))),  # testnet P2PKH (n...)
    ref_b58check(0xC4, bytes(range(20, 40))),  # testnet P2SH (2...)
]


@pytest.mark.parametrize("address", BASE58_VALID)
def test_base58_addresses(address):
    text = f"BTC: {address}."
    found = crypto.find(text)
    assert spans(found, text) == [address]
    assert found[0].outcome is Validation.CONFIRMED and found[0].validator == "base58check"


@pytest.mark.parametrize(
    "text",
    [
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",  # one character changed
        "x1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",  # glued to a letter
        ref_b58check(0x30, bytes(20)),  # Litecoin version byte
        ref_b58check(0x00, bytes(19)),  # payload too short
    ],
)
def test_base58_negatives(text):
    assert crypto.find(text) == []


# -- Ethereum (EIP-55) ----------------------------------------------------------------------------
EIP55_ALL_CAPS = ["0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D"]
EIP55_ALL_LOWER = ["0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26"]
EIP55_NORMAL = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


def test_keccak_is_keccak256_not_sha3():
    from Crypto.Hash import keccak

    assert keccak.new(digest_bits=256, data=b"").hexdigest() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")


@pytest.mark.parametrize("address", EIP55_NORMAL)
def test_eip55_checksum_reproduces_the_vectors(address):
    assert eip55_checksum(address.lower()) == address


@pytest.mark.parametrize(
    ("address", "outcome"),
    [(a, Validation.CONFIRMED) for a in EIP55_NORMAL]
    + [(a, Validation.UNKNOWN) for a in EIP55_ALL_CAPS + EIP55_ALL_LOWER],
)
def test_eth_addresses(address, outcome):
    text = f"ETH {address}"
    found = crypto.find(text)
    assert spans(found, text) == [address]
    assert found[0].outcome is outcome and found[0].validator == "eip55"


@pytest.mark.parametrize(
    "text",
    [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",  # one letter in the wrong case
        "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",  # 39 hex digits
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00",  # 42 hex digits
        "3f786850e387550fdab836ed7e6dc881de23001b",  # git commit: no 0x
    ],
)
def test_eth_negatives(text):
    assert crypto.find(text) == []


# -- BIP-39 -------------------------------------------------------------------------------------
VECTORS = Path(__file__).resolve().parents[3] / "shared" / "data" / "vectors" / "bip39" / "vectors.json"
ENGLISH = json.loads(VECTORS.read_text())["english"] if VECTORS.exists() else []


@pytest.mark.skipif(not ENGLISH, reason="shared BIP-39 vectors absent")
@pytest.mark.parametrize("vector", ENGLISH, ids=lambda v: v[0][:8] + f"-{len(v[1].split())}w")
def test_every_english_vector_is_one_confirmed_phrase(vector):
    phrase = vector[1]
    text = f"My recovery phrase: {phrase}. Keep it secret!"
    found = bip39.find(text)
    assert spans(found, text) == [phrase]
    assert found[0].outcome is Validation.CONFIRMED and found[0].evidence == "bip39/words/bip39-checksum:confirmed"


@pytest.mark.skipif(not ENGLISH, reason="shared BIP-39 vectors absent")
@pytest.mark.parametrize("vector", ENGLISH[:6])
def test_vector_one_per_line_is_still_one_phrase(vector):
    phrase = "\n".join(vector[1].split())
    assert spans(bip39.find(phrase), phrase) == [phrase]


@pytest.mark.parametrize(
    ("text", "expected", "outcome"),
    [
        (" ".join(["abandon"] * 12), " ".join(["abandon"] * 12), Validation.UNKNOWN),  # checksum fails
        (" ".join(["abandon"] * 13), " ".join(["abandon"] * 13), Validation.UNKNOWN),  # not a BIP-39 length
        ("Seed:  " + " ".join(["zoo"] * 11) + "  wrong", " ".join(["zoo"] * 11) + "  wrong", Validation.CONFIRMED),
    ],
)
def test_bip39_runs(text, expected, outcome):
    found = bip39.find(text)
    assert spans(found, text) == [expected]
    assert found[0].outcome is outcome


@pytest.mark.parametrize(
    "text",
    [
        " ".join(["abandon"] * 10) + " about",  # 11 words
        "The quick brown fox jumps over the lazy dog again and again until the sun goes down.",
        "Abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon About",  # capitals
        "abandon abandon abandon abandon abandon abandon, abandon abandon abandon abandon abandon about",  # comma
    ],
)
def test_bip39_negatives(text):
    assert bip39.find(text) == []


# -- secrets ------------------------------------------------------------------------------------
def _jwt(header: dict, payload: dict) -> str:
    def enc(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{enc(header)}.{enc(payload)}.c2lnbmF0dXJl"


JWT_IO = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIy"
          "fQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")


@pytest.mark.parametrize(
    ("value", "pattern", "outcome"),
    [
        ("5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ", "wif", Validation.CONFIRMED),  # Bitcoin wiki
        ("KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617", "wif", Validation.CONFIRMED),  # compressed
        (ref_b58check(0xEF, bytes(range(1, 33))), "wif", Validation.CONFIRMED),  # testnet, uncompressed (9...)
        (ref_b58check(0xEF, bytes(range(1, 33)) + b"\x01"), "wif", Validation.CONFIRMED),  # testnet compressed (c...)
        ("e9873d79c6d87dc0fb6a5778633389f4453213303da61f20bd67fc233aa33262", "hex64", Validation.UNKNOWN),
        ("0xe9873d79c6d87dc0fb6a5778633389f4453213303da61f20bd67fc233aa33262", "hex64_0x", Validation.UNKNOWN),
        (JWT_IO, "jwt", Validation.CONFIRMED),
        (_jwt({"alg": "RS256", "kid": "k1"}, {"sub": "jane"}), "jwt", Validation.CONFIRMED),
        ("AKIAIOSFODNN7EXAMPLE", "aws", Validation.UNKNOWN),  # AWS documentation's example key id
        ("ASIAY34FZKBOKMUTVV7A", "aws", Validation.UNKNOWN),
        ("ghp_16C7e42F292c6912E7710c838347Ae178B4a", "github", Validation.UNKNOWN),
        ("github_pat_" + "A" * 22 + "_" + "b" * 59, "github_pat", Validation.UNKNOWN),
        ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack", Validation.UNKNOWN),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe", Validation.UNKNOWN),
        ("rk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe", Validation.UNKNOWN),
        ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "google", Validation.UNKNOWN),
        ("rvw_q0dG4mX2b7Vn9LkJ3sT8aP1yR6uW5eZc0HfIoNgBqKe", "replayvault", Validation.UNKNOWN),
        ("rvt_" + "A" * 43, "replayvault", Validation.UNKNOWN),
    ],
)
def test_secrets(value, pattern, outcome):
    text = f"key = {value}\n"
    found = secret.find(text)
    assert [(text[f.start:f.end], f.pattern, f.outcome) for f in found] == [(value, pattern, outcome)]


def test_own_keys_have_the_shape_the_code_generates():
    import secrets as pysecrets

    for prefix in ("rvw_", "rvt_"):
        value = prefix + pysecrets.token_urlsafe(32)
        assert [f.pattern for f in secret.find(f"x {value} y")] == ["replayvault"]


@pytest.mark.parametrize(
    "text",
    [
        "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTK",  # WIF with a bad checksum
        ref_b58check(0x80, bytes(31)),  # 31-byte key
        "e9873d79c6d87dc0fb6a5778633389f4453213303da61f20bd67fc233aa3326",  # 63 hex digits
        "e9873d79c6d87dc0fb6a5778633389f4453213303da61f20bd67fc233aa332620",  # 65 hex digits
        _jwt({"typ": "JWT"}, {"sub": "jane"}),  # header without "alg"
        "eyJhbGciOiJub25l.bm90IGpzb24",  # two parts
        "AKIAIOSFODNN7EXAMPLE1",  # 21 characters
        "ghp_tooshort",
        "123e4567-e89b-12d3-a456-426614174000",  # UUID
        "rvw_" + "A" * 42,
    ],
)
def test_secret_negatives(text):
    assert secret.find(f"value {text} end") == []
