"""Checkpoints, cosignatures and tlog-proof files: exact formats and refusals."""

from __future__ import annotations

import pytest

from ledger.tlog.checkpoint import Checkpoint, parse_checkpoint
from ledger.tlog.cosignature import cosign, cosignature_time, verify_cosignature
from ledger.tlog.errors import FormatError, NoteError, ProofError, TlogError
from ledger.tlog.hashing import leaf_hash, root_of_leaves
from ledger.tlog.keys import COSIGNATURE_V1, generate_signer, parse_signer
from ledger.tlog.note import Note, Signature, open_note, parse, sign
from ledger.tlog.proof_file import ProofFile, check_proof, parse_proof
from ledger.tlog.proofs import prove_inclusion
from tests.e2e.witnesses import alias, renamed
from tests.unit.tlog.memory import Nodes

ORIGIN = "guarantee-ledger/00112233aabbccdd"
LOG = generate_signer(ORIGIN)
WITNESS = generate_signer("witness.example/w1", COSIGNATURE_V1)


def test_checkpoint_text_is_exact() -> None:
    """Origin, size and base64 root, each on its line."""
    cp = Checkpoint(ORIGIN, 20852163, bytes(32))
    assert cp.text() == f"{ORIGIN}\n20852163\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    assert parse_checkpoint(cp.text()) == cp


@pytest.mark.parametrize(
    "bad",
    [
        "o\n1\n",
        "o\n01\nAA==\n",
        "\n1\n" + "A" * 43 + "=\n",
        "o\n1\nAAAA\n",
        "o\n1\n" + "A" * 43 + "=\next\n",
    ],
)
def test_malformed_checkpoints_are_refused(bad: str) -> None:
    """Missing lines, leading zeros, short roots and extension lines are refused."""
    with pytest.raises(FormatError):
        parse_checkpoint(bad)


def test_cosignature_signs_header_time_and_body() -> None:
    """A cosignature/v1 verifies with the witness's key and states its time."""
    text = Checkpoint(ORIGIN, 5, bytes(32)).text()
    sig = cosign(text, WITNESS, 1679315147)
    assert verify_cosignature(text, sig, WITNESS.verifier()) == 1679315147
    assert cosignature_time(sig) == 1679315147
    with pytest.raises(NoteError):
        verify_cosignature(text.replace("5", "6"), sig, WITNESS.verifier())


def test_cosigned_note_opens_with_log_and_witness_keys() -> None:
    """The log's signature and a witness's cosignature stand side by side in one note."""
    text = Checkpoint(ORIGIN, 5, bytes(32)).text()
    signed = parse(sign(text, [LOG]))
    note = Note(text, (*signed.signatures, cosign(text, WITNESS, 1700000000)))
    _, verified = open_note(note.encode(), [LOG.verifier(), WITNESS.verifier()])
    assert [v.name for v in verified] == [ORIGIN, "witness.example/w1"]


def _proof(entries: list[bytes], index: int, witnesses: bool = False) -> str:
    hashes = [leaf_hash(e) for e in entries]
    size = len(entries)
    text = Checkpoint(ORIGIN, size, root_of_leaves(hashes)).text()
    note = parse(sign(text, [LOG]))
    if witnesses:
        note = Note(text, (*note.signatures, cosign(text, WITNESS, 1700000000)))
    path = prove_inclusion(index, size, Nodes(hashes))
    return ProofFile(entries[index], index, tuple(path), note.encode()).encode()


ENTRIES = [f"event {i}".encode() for i in range(13)]


def test_proof_file_round_trips_and_checks() -> None:
    """A built proof parses back to what was built and checks against the log key."""
    text = _proof(ENTRIES, 6)
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra ZXZlbnQgNg==\nindex 6\n")
    assert parse_proof(text).encode() == text
    checked = check_proof(text, LOG.verifier())
    assert checked.checkpoint.size == 13
    assert checked.proof.extra == b"event 6"


def test_proof_needs_enough_witnesses() -> None:
    """--min-witnesses counts only cosignatures by the given witness keys."""
    text = _proof(ENTRIES, 2, witnesses=True)
    assert check_proof(text, LOG.verifier(), [WITNESS.verifier()], 1).witnesses == (
        "witness.example/w1",
    )
    with pytest.raises(NoteError, match="0 known witnesses"):
        check_proof(text, LOG.verifier(), [], 1)


def test_a_proof_under_a_checkpoint_only_a_witness_signed_is_refused() -> None:
    """Witness keys given, a cosignature alone (the log's origin, no log signature) is not
    the log's checkpoint, however many witnesses are wanted."""
    hashes = [leaf_hash(e) for e in ENTRIES]
    text = Checkpoint(ORIGIN, len(ENTRIES), root_of_leaves(hashes)).text()
    note = Note(text, (cosign(text, WITNESS, 1700000000),))
    path = prove_inclusion(3, len(ENTRIES), Nodes(hashes))
    proof = ProofFile(ENTRIES[3], 3, tuple(path), note.encode()).encode()
    with pytest.raises(NoteError, match="not signed by the log key"):
        check_proof(proof, LOG.verifier(), [WITNESS.verifier()], 1)


def test_one_public_key_under_two_names_is_one_witness() -> None:
    """A cosignature signs no name: copied under another name of the same key, it is
    still the one witness's, and --min-witnesses 2 is not met by it."""
    other = alias(WITNESS, "witness.example/alias")
    text = Checkpoint(ORIGIN, 1, leaf_hash(b"e")).text()
    mine = cosign(text, WITNESS, 1_700_000_000)
    note = Note(text, (*parse(sign(text, [LOG])).signatures, mine, renamed(mine, other)))
    proof = ProofFile(b"e", 0, (), note.encode()).encode()
    keys = [WITNESS.verifier(), other.verifier()]
    assert check_proof(proof, LOG.verifier(), keys, 1).witnesses == ("witness.example/w1",)
    with pytest.raises(NoteError, match="1 known witnesses cosigned, 2 are required"):
        check_proof(proof, LOG.verifier(), keys, 2)


def test_a_cosignature_time_past_2_63_is_named_as_such() -> None:
    text = Checkpoint(ORIGIN, 1, leaf_hash(b"e")).text()
    good = cosign(text, WITNESS, 5)
    late = Signature(good.name, good.key_id, (1 << 63).to_bytes(8, "big") + good.signature[8:])
    with pytest.raises(NoteError, match="states a time past 2\\^63 - 1"):
        verify_cosignature(text, late, WITNESS.verifier())


def test_every_changed_byte_of_a_proof_fails() -> None:
    """Changing any one character of the proof file makes the check fail."""
    text = _proof(ENTRIES, 9)
    for at in range(len(text)):
        if text[at] == "\n":
            continue
        changed = text[:at] + ("B" if text[at] != "B" else "C") + text[at + 1 :]
        with pytest.raises(TlogError):
            check_proof(changed, LOG.verifier())


def test_proof_by_another_log_key_fails() -> None:
    """A proof signed by a key other than the pinned one is refused."""
    other = parse_signer(generate_signer(ORIGIN).encode())
    with pytest.raises(NoteError):
        check_proof(_proof(ENTRIES, 0), other.verifier())


def test_proof_with_wrong_index_fails() -> None:
    """The index is bound by the inclusion proof."""
    text = _proof(ENTRIES, 4).replace("index 4", "index 5")
    with pytest.raises(ProofError):
        check_proof(text, LOG.verifier())
