"""C2SP signed notes: the known vector byte for byte, several signatures, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog.errors import NoteError
from ledger.tlog.keys import check_name, generate_signer, parse_signer, parse_verifier
from ledger.tlog.note import open_note, parse, sign
from tests.unit.tlog import vectors

VECTOR = vectors.signed_note()


def test_signing_the_known_text_gives_the_known_note() -> None:
    """Ed25519 is deterministic: the note is exactly the vector's."""
    signer = parse_signer(VECTOR["signer_key"])
    assert sign(VECTOR["text"], [signer]) == VECTOR["signed_note"]


def test_keys_round_trip_their_encodings() -> None:
    """Parsing and encoding a key gives the same text; the signer's verifier is the vector's."""
    signer = parse_signer(VECTOR["signer_key"])
    assert signer.encode() == VECTOR["signer_key"]
    assert signer.verifier().encode() == VECTOR["verifier_key"]
    assert parse_verifier(VECTOR["verifier_key"]).encode() == VECTOR["verifier_key"]


def test_known_note_opens_with_its_key() -> None:
    """The vector's note verifies with its verifier key."""
    note, verified = open_note(VECTOR["signed_note"], [parse_verifier(VECTOR["verifier_key"])])
    assert note.text == VECTOR["text"]
    assert [v.name for v in verified] == ["PeterNeumann"]


def test_second_signature_verifies_too() -> None:
    """A note with two signatures opens with both keys and with either alone."""
    two = VECTOR["signed_note"] + VECTOR["second_signature_line"]
    keys = [parse_verifier(VECTOR["verifier_key"]), parse_verifier(VECTOR["second_verifier_key"])]
    _, verified = open_note(two, keys)
    assert [v.name for v in verified] == ["PeterNeumann", "EnochRoot"]
    _, verified = open_note(two, keys[1:])
    assert [v.name for v in verified] == ["EnochRoot"]


def test_unknown_keys_are_ignored_but_one_is_needed() -> None:
    """Signatures by unknown keys are skipped; a note with none by a known key is refused."""
    other = generate_signer("someone.example/else").verifier()
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(VECTOR["signed_note"], [other])


def test_verifier_key_with_wrong_id_is_refused() -> None:
    """A vkey whose id does not match its name and key is refused."""
    name, kid, material = VECTOR["verifier_key"].split("+")
    with pytest.raises(NoteError, match="id does not match"):
        parse_verifier(f"{name}+{int(kid, 16) ^ 1:08x}+{material}")


@pytest.mark.parametrize(
    "bad",
    [
        "no blank line\n— a AAAAAAA=\n",
        "text\n\n",
        "text\n\nnot a signature line\n",
        "te\x01xt\n\n— a AAAAAAAA\n",
        "text\n\n— a not-base64!\n",
    ],
)
def test_malformed_notes_are_refused(bad: str) -> None:
    """Each malformed note gets a NoteError."""
    with pytest.raises(NoteError):
        parse(bad)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, (len(VECTOR["signed_note"].encode()) - 1) * 8 - 1))
def test_any_flipped_bit_of_a_signed_note_is_refused(bit: int) -> None:
    """One flipped bit anywhere in the note (text or signature) fails to open it."""
    raw = bytearray(VECTOR["signed_note"].encode())
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(NoteError):
        open_note(bytes(raw), [parse_verifier(VECTOR["verifier_key"])])


def test_generated_key_signs_and_verifies() -> None:
    """A new key's note opens with its verifier and not with another's."""
    signer = generate_signer("guarantee-ledger/0123456789abcdef")
    note = sign("hello\n", [signer])
    open_note(note, [signer.verifier()])
    with pytest.raises(NoteError):
        open_note(note.replace("hello", "hellp"), [signer.verifier()])


@pytest.mark.parametrize("name", ["", "a b", "a+b", "log\n", "log\t"])
def test_a_key_name_with_a_space_a_plus_or_a_line_break_is_refused(name: str) -> None:
    with pytest.raises(NoteError, match="space or a plus"):
        check_name(name)
