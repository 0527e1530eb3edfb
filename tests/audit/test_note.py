"""Checkpoints as C2SP signed notes: round trips, strict parsing, key IDs, the key file, and
interoperability with published Go vectors.

Published vectors used here:

* golang.org/x/mod/sumdb/note (note_test.go, package doc): the PeterNeumann and EnochRoot keys
  and their signatures over a two-line text.
* google/trillian-examples formats/log/checkpoint_test.go: a real sum.golang.org checkpoint
  verified with the real sum.golang.org key, and cosignatures by three other keys.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
from pathlib import Path

import pytest

from replayvault.audit.note import (
    Checkpoint,
    NoteSigner,
    generate_signer,
    load_or_create_signer,
    open_checkpoint,
    parse_verifier_key,
    verify_note,
)
from replayvault.errors import KeyFileError, NoteError

# --- published vectors ------------------------------------------------------------------------

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
             "RZb6KE6RyyBwJnAM=\n")
ENOCH_SIG = ("\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33W"
             "Wd1RvMc+QQ=\n")

SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = ("go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n"
              "\u2014 sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL"
              "+o3GeoWwOoAw=\n")
COSIGNERS = {
    "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT":
        "\u2014 monkeys 202ffh9ve46Mqbhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2NbvAnaepM6Y+8ww=\n",
    "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M":
        "\u2014 bananas z2OfE+2bbsBZ7NLgfuslc0v7NFW2QyexJ7fhePpoL2N/P7N/COd5S+JNHbQEAlYzz2C5sg0E+x/MggS1mDR6t3/9rQw=\n",
    "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN":
        "\u2014 witness 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n",
}

ORIGIN = "bank.example/replayvault/audit"
ROOT = hashlib.sha256(b"some root").digest()
B64_ROOT = base64.b64encode(ROOT).decode()
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#: The same 32 bytes with one of the two unused low bits of the last character set.
NONCANONICAL_ROOT = B64_ROOT[:-2] + _ALPHABET[_ALPHABET.index(B64_ROOT[-2]) | 1] + "="


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return generate_signer(ORIGIN)


@pytest.fixture(scope="module")
def note(signer: NoteSigner) -> str:
    return signer.sign(Checkpoint(ORIGIN, 1234, ROOT).body())


# --- round trip -------------------------------------------------------------------------------


def test_sign_and_open_round_trip(signer: NoteSigner, note: str) -> None:
    assert note.startswith(f"{ORIGIN}\n1234\n{B64_ROOT}\n\n\u2014 {ORIGIN} ")
    assert note.endswith("=\n") and note.count("\n") == 5
    assert open_checkpoint(note, signer.verifier_key, ORIGIN) == Checkpoint(ORIGIN, 1234, ROOT)
    assert open_checkpoint(note.encode(), signer.verifier_key) == Checkpoint(ORIGIN, 1234, ROOT)


def test_empty_tree_checkpoint(signer: NoteSigner) -> None:
    empty = Checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest())
    assert open_checkpoint(signer.sign(empty.body()), signer.verifier_key) == empty


def test_extension_lines_are_ignored(signer: NoteSigner) -> None:
    body = Checkpoint(ORIGIN, 7, ROOT).body() + "extension one\nextension two\n"
    assert open_checkpoint(signer.sign(body), signer.verifier_key) == Checkpoint(ORIGIN, 7, ROOT)


def test_key_id_follows_the_spec_formula(signer: NoteSigner) -> None:
    name, key_id, public = parse_verifier_key(signer.verifier_key)
    raw = public.public_bytes_raw()
    expected = hashlib.sha256(name.encode() + b"\x0a" + b"\x01" + raw).digest()[:4]
    assert key_id == signer.key_id == expected
    key_data = base64.b64encode(bytes([1]) + raw).decode()
    assert signer.verifier_key == f"{ORIGIN}+{expected.hex()}+{key_data}"
    assert base64.b64decode(note_signature(signer.sign("x\n")))[:4] == expected


def note_signature(note: str) -> str:
    return note.rstrip("\n").rsplit(" ", 1)[1]


def test_signer_key_string_round_trips_and_never_shows_in_repr(signer: NoteSigner) -> None:
    secret = signer.private_key()
    assert secret.startswith(f"PRIVATE+KEY+{ORIGIN}+{signer.key_id.hex()}+")
    again = NoteSigner(secret)
    assert again.verifier_key == signer.verifier_key
    key_material = secret.split("+", 4)[4]  # PRIVATE+KEY+name+keyid+base64 (base64 may hold "+")
    assert len(key_material) >= 44 and key_material not in repr(again) and key_material[:12] not in repr(again)


# --- rejection --------------------------------------------------------------------------------


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1
    return text.replace(old, new, 1)


def test_tampered_body_is_rejected(signer: NoteSigner, note: str) -> None:
    with pytest.raises(NoteError, match="invalid signature by key"):
        open_checkpoint(_replace_once(note, "\n1234\n", "\n1235\n"), signer.verifier_key)


def test_tampered_signature_is_rejected(signer: NoteSigner, note: str) -> None:
    sig = note_signature(note)
    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 1
    with pytest.raises(NoteError, match="invalid signature by key"):
        open_checkpoint(_replace_once(note, sig, base64.b64encode(raw).decode()), signer.verifier_key)


def test_wrong_key_is_rejected(note: str) -> None:
    other = generate_signer(ORIGIN)  # same name, other key: another key ID
    with pytest.raises(NoteError, match="no signature by key"):
        open_checkpoint(note, other.verifier_key)


def test_key_with_another_name_is_rejected(signer: NoteSigner, note: str) -> None:
    renamed = generate_signer("other.example/log")
    with pytest.raises(NoteError, match=re.escape("no signature by key other.example/log")):
        open_checkpoint(note, renamed.verifier_key)
    # The same signature line under another name is a signature by an unknown key: ignored.
    with pytest.raises(NoteError, match="no signature by key"):
        open_checkpoint(_replace_once(note, f"\u2014 {ORIGIN} ", "\u2014 other.example/log "), signer.verifier_key)


def test_missing_signature_line_is_rejected(signer: NoteSigner) -> None:
    body = Checkpoint(ORIGIN, 1, ROOT).body()
    for text in (body, body + "\n"):
        with pytest.raises(NoteError, match=r"no (blank line|signature lines)"):
            open_checkpoint(text, signer.verifier_key)


def test_non_utf8_and_control_characters_are_rejected(signer: NoteSigner, note: str) -> None:
    with pytest.raises(NoteError, match="not valid UTF-8"):
        open_checkpoint(b"\xff" + note.encode(), signer.verifier_key)
    with pytest.raises(NoteError, match="not valid UTF-8"):
        open_checkpoint("\udcff" + note, signer.verifier_key)
    with pytest.raises(NoteError, match="control character"):
        open_checkpoint(note.replace("\n", "\r\n", 1), signer.verifier_key)


@pytest.mark.parametrize("size", ["01", "-1", "+1", "1_000", "١٢", " 1", "1.0", "", "18446744073709551616"])
def test_bad_size_field_is_rejected(signer: NoteSigner, size: str) -> None:
    body = f"{ORIGIN}\n{size}\n{B64_ROOT}\n"
    with pytest.raises(NoteError, match=r"tree size|line 2 is empty"):
        open_checkpoint(signer.sign(body), signer.verifier_key)


@pytest.mark.parametrize("root", [ROOT[:31], ROOT + b"\x00", b""])
def test_wrong_root_length_is_rejected(signer: NoteSigner, root: bytes) -> None:
    body = f"{ORIGIN}\n5\n{base64.b64encode(root).decode()}\n"
    with pytest.raises(NoteError, match=r"root hash is \d+ bytes, expected 32|line 3 is empty"):
        open_checkpoint(signer.sign(body), signer.verifier_key)


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n5\n",  # two lines
        f"\n5\n{B64_ROOT}\n",  # empty origin
        f"{ORIGIN}\n5\n{B64_ROOT.rstrip('=')}\n",  # unpadded base64
        f"{ORIGIN}\n5\n{base64.urlsafe_b64encode(bytes([0xFB] * 32)).decode()}\n",  # URL-safe alphabet
        f"{ORIGIN}\n5\n{NONCANONICAL_ROOT}\n",  # non-canonical base64
        f"{ORIGIN}\n5\n{B64_ROOT}\n\n",  # empty extension line
    ],
)
def test_malformed_bodies_are_rejected(signer: NoteSigner, body: str) -> None:
    with pytest.raises(NoteError, match="checkpoint"):
        open_checkpoint(signer.sign(body), signer.verifier_key)


def test_origin_mismatch_is_rejected(signer: NoteSigner, note: str) -> None:
    with pytest.raises(NoteError, match=re.escape("is not the expected 'bank.example/other'")):
        open_checkpoint(note, signer.verifier_key, origin="bank.example/other")


def test_sign_refuses_text_a_note_cannot_carry(signer: NoteSigner) -> None:
    for body in ("", "no final newline", "tab\there\n"):
        with pytest.raises(NoteError):
            signer.sign(body)


def test_checkpoint_fields_are_checked() -> None:
    for args in [("", 1, ROOT), ("a\nb", 1, ROOT), (ORIGIN, -1, ROOT), (ORIGIN, 2**64, ROOT), (ORIGIN, 1, ROOT[:5])]:
        with pytest.raises(NoteError):
            Checkpoint(*args)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # 7 hex digits
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
        # From note_test.go: wrong key length and unknown algorithm, each with an adjusted key ID.
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_keys_are_rejected(key: str) -> None:
    with pytest.raises(NoteError):
        parse_verifier_key(key)


# --- interoperability with Go's note package and real checkpoints ----------------------------


def test_go_signer_key_signs_byte_for_byte_like_go() -> None:
    signer = NoteSigner(PETER_SKEY)
    assert (signer.name, signer.key_id.hex()) == ("PeterNeumann", "c74f20a3")
    assert signer.verifier_key == PETER_VKEY
    assert signer.private_key() == PETER_SKEY
    assert signer.sign(GO_TEXT) == GO_TEXT + "\n" + PETER_SIG  # Ed25519 is deterministic


def test_go_signed_note_verifies_and_other_keys_are_ignored() -> None:
    both = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert verify_note(both, PETER_VKEY) == GO_TEXT
    assert verify_note(both, ENOCH_VKEY) == GO_TEXT
    with pytest.raises(NoteError, match="no signature by key EnochRoot"):
        verify_note(GO_TEXT + "\n" + PETER_SIG, ENOCH_VKEY)
    with pytest.raises(NoteError, match="checkpoint body has 2 lines"):  # a note, not a checkpoint
        open_checkpoint(both, PETER_VKEY)


@pytest.mark.parametrize(
    "message",
    [  # the malformed notes of note_test.go TestOpen
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        GO_TEXT + "\n" + "\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
        "RZb6KE6RyyBwJnAM=",
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        GO_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:],  # invalid signature
        GO_TEXT + "\n" + PETER_SIG * 101,  # too many signatures
    ],
)
def test_go_malformed_notes_are_rejected(message: str) -> None:
    with pytest.raises(NoteError):
        verify_note(message, PETER_VKEY)
    with pytest.raises(NoteError):
        verify_note(b"\xff" + message.encode(), PETER_VKEY)


def test_real_sum_golang_org_checkpoint_verifies() -> None:
    checkpoint = open_checkpoint(SUMDB_NOTE, SUMDB_VKEY, origin="go.sum database tree")
    assert checkpoint.size == 6476701
    assert checkpoint.root == base64.b64decode("mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=")
    assert checkpoint.body() == SUMDB_NOTE.split("\n\n")[0] + "\n"


@pytest.mark.parametrize("verifier_key", [SUMDB_VKEY, *COSIGNERS])
def test_cosigned_checkpoint_verifies_with_each_key(verifier_key: str) -> None:
    note = SUMDB_NOTE + "".join(COSIGNERS.values())
    assert open_checkpoint(note, verifier_key).size == 6476701


# --- key file ---------------------------------------------------------------------------------


def test_key_file_is_created_0600_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.key"
    first = load_or_create_signer(path, ORIGIN)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text() == first.private_key() + "\n"
    assert [p.name for p in path.parent.iterdir()] == ["audit.key"]  # no temporary file left
    again = load_or_create_signer(path, ORIGIN)
    assert again.verifier_key == first.verifier_key


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    secret = load_or_create_signer(path, ORIGIN).private_key()
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="mode 0644") as err:
        load_or_create_signer(path, ORIGIN)
    assert secret.rsplit("+", 1)[1] not in str(err.value)


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not a key\n",
        PETER_SKEY[:-4] + "\n",  # truncated key data
        PETER_SKEY.replace("c74f20a3", "c74f20a4") + "\n",  # key ID of another key
        PETER_VKEY + "\n",  # a public key is not a signer key
    ],
)
def test_malformed_key_file_is_refused_without_echoing_it(tmp_path: Path, content: str) -> None:
    path = tmp_path / "audit.key"
    path.write_text(content)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="does not hold a valid note signing key") as err:
        load_or_create_signer(path, "PeterNeumann")
    assert "AYEKFALV" not in str(err.value) and "ARpc2Qc" not in str(err.value)


def test_key_file_of_another_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    path.write_text(PETER_SKEY + "\n")
    os.chmod(path, 0o600)
    assert load_or_create_signer(path, "PeterNeumann").verifier_key == PETER_VKEY
    with pytest.raises(KeyFileError, match="holds the key of 'PeterNeumann', expected 'EnochRoot'"):
        load_or_create_signer(path, "EnochRoot")


def test_key_file_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    path.mkdir(mode=0o700)
    with pytest.raises(KeyFileError):
        load_or_create_signer(path, ORIGIN)
