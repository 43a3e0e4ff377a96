"""The client trusts a checkpoint, a log's growth and an event's proof only as far as they hold
against the keys its user pinned."""

from __future__ import annotations

import base64
import uuid

import msgspec
import pytest

from ledger.client import LogKeys, NotWitnessed, ProofFailed, trusted_checkpoint
from ledger.client.proofs import ConsistencyProof, check_consistency, needed_proof, proved_event
from ledger.tlog.checkpoint import Checkpoint
from ledger.tlog.cosignature import cosign
from ledger.tlog.hashing import leaf_hash, root_of_leaves
from ledger.tlog.keys import COSIGNATURE_V1, Signer, generate_signer
from ledger.tlog.note import Note, parse, sign
from ledger.tlog.proof_file import ProofFile
from ledger.tlog.proofs import prove_consistency, prove_inclusion
from tests.e2e.witnesses import alias
from tests.unit.tlog.memory import Nodes

ORIGIN = "guarantee-ledger/0123456789abcdef"
LOG = generate_signer(ORIGIN)
WITNESS = generate_signer("fund.example/witness", COSIGNATURE_V1)


def _event(n: int) -> bytes:
    return msgspec.json.encode(
        {
            "event_id": str(uuid.UUID(int=n)),
            "type": "sme.registered",
            "stream_id": f"sme-{n}",
            "occurred_at": "2025-01-02T10:00:00+08:00",
            "data": {"n": n},
        }
    )


BODIES = [_event(n) for n in range(1, 14)]
HASHES = [leaf_hash(b) for b in BODIES]


def _note(
    size: int, signer: Signer = LOG, root: bytes | None = None, cosigned: bool = False
) -> str:
    text = Checkpoint(ORIGIN, size, root or root_of_leaves(HASHES[:size])).text()
    note = sign(text, [signer])
    if not cosigned:
        return note
    opened = parse(note)
    return Note(text, (*opened.signatures, cosign(text, WITNESS, 1_750_000_000))).encode()


def _keys(min_witnesses: int = 0) -> LogKeys:
    return LogKeys(LOG.verifier().encode(), [WITNESS.verifier().encode()], min_witnesses)


def _proof(position: int, size: int, note: str | None = None) -> bytes:
    hashes = prove_inclusion(position - 1, size, Nodes(HASHES))
    text = ProofFile(BODIES[position - 1], position - 1, tuple(hashes), note or _note(size))
    return text.encode().encode()


def _consistency(old: int, new: int) -> ConsistencyProof:
    hashes = prove_consistency(old, new, Nodes(HASHES))
    return ConsistencyProof([base64.b64encode(h).decode() for h in hashes])


def test_a_checkpoint_the_log_signed_is_trusted_with_its_witnesses() -> None:
    trusted = trusted_checkpoint(_note(5, cosigned=True), _keys(min_witnesses=1))
    assert (trusted.origin, trusted.size) == (ORIGIN, 5)
    assert trusted.root == root_of_leaves(HASHES[:5])
    assert trusted.witnesses == ("fund.example/witness",)


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    other = generate_signer(ORIGIN)
    with pytest.raises(ProofFailed, match="no signature by a known key"):
        trusted_checkpoint(_note(5, signer=other), _keys())


def _witnessed_only(size: int) -> str:
    """A checkpoint of the log's origin carrying a pinned witness's cosignature alone."""
    text = Checkpoint(ORIGIN, size, root_of_leaves(HASHES[:size])).text()
    return Note(text, (cosign(text, WITNESS, 1_750_000_000),)).encode()


def test_a_checkpoint_only_a_witness_signed_is_refused() -> None:
    """A witness's cosignature is no signature of the log: it vouches for what the log
    signed, and there is nothing here the log signed."""
    with pytest.raises(ProofFailed, match="not signed by the log key"):
        trusted_checkpoint(_witnessed_only(5), _keys(min_witnesses=1))


def test_an_events_proof_under_a_checkpoint_only_a_witness_signed_is_refused() -> None:
    with pytest.raises(ProofFailed, match="not signed by the log key"):
        proved_event(
            _proof(7, 13, _witnessed_only(13)), _keys(min_witnesses=1), str(uuid.UUID(int=7))
        )


def test_a_checkpoint_short_of_its_witnesses_is_not_witnessed_yet_not_failed() -> None:
    with pytest.raises(NotWitnessed, match="0 of the pinned witnesses cosigned") as raised:
        trusted_checkpoint(_note(5), _keys(min_witnesses=1))
    assert not isinstance(raised.value, ProofFailed)


def test_an_events_proof_under_a_checkpoint_short_of_its_witnesses_is_not_witnessed() -> None:
    with pytest.raises(NotWitnessed, match="0 of the pinned witnesses cosigned"):
        proved_event(_proof(7, 13, _note(13)), _keys(min_witnesses=1), str(uuid.UUID(int=7)))


def test_a_log_that_grew_is_consistent_and_one_that_forked_is_not() -> None:
    old = trusted_checkpoint(_note(5), _keys())
    new = trusted_checkpoint(_note(13), _keys())
    assert needed_proof(old, new) == (5, 13)
    check_consistency(old, new, _consistency(5, 13))
    forked = trusted_checkpoint(_note(13, root=b"\x07" * 32), _keys())
    with pytest.raises(ProofFailed, match="not an extension of the log at size 5"):
        check_consistency(old, forked, _consistency(5, 13))


def test_a_log_gone_back_to_a_smaller_size_is_refused() -> None:
    """An older checkpoint served after a newer one was trusted moves no anchor back, even
    when it is a true prefix."""
    newer = trusted_checkpoint(_note(13), _keys())
    older = trusted_checkpoint(_note(5), _keys())
    with pytest.raises(ProofFailed, match="went back from size 13, already trusted, to 5"):
        needed_proof(newer, older)


def test_two_roots_for_one_size_are_refused_without_asking_for_a_proof() -> None:
    one = trusted_checkpoint(_note(8), _keys())
    other = trusted_checkpoint(_note(8, root=b"\x01" * 32), _keys())
    with pytest.raises(ProofFailed, match="two checkpoints of size 8"):
        needed_proof(one, other)


def test_an_events_proof_gives_its_exact_bytes_position_and_checkpoint() -> None:
    event_id = str(uuid.UUID(int=7))
    proved = proved_event(_proof(7, 13), _keys(), event_id.upper(), position=7)
    assert (proved.event_id, proved.position, proved.type) == (event_id, 7, "sme.registered")
    assert proved.body == BODIES[6]
    assert proved.checkpoint.size == 13


def test_a_proof_of_another_event_is_refused() -> None:
    """A ledger answering with a true proof of some other event proves nothing asked."""
    with pytest.raises(ProofFailed, match="not 00000000-0000-0000-0000-000000000008"):
        proved_event(_proof(7, 13), _keys(), str(uuid.UUID(int=8)))


def test_a_proof_at_another_position_than_the_receipts_is_refused() -> None:
    with pytest.raises(ProofFailed, match="at position 7, not 6"):
        proved_event(_proof(7, 13), _keys(), str(uuid.UUID(int=7)), position=6)


def test_a_proof_whose_bytes_were_changed_is_refused() -> None:
    text = _proof(7, 13)
    changed = base64.b64encode(BODIES[6].replace(b'"n":7', b'"n":9')).decode()
    forged = text.replace(base64.b64encode(BODIES[6]), changed.encode())
    with pytest.raises(ProofFailed, match="does not hold"):
        proved_event(forged, _keys(), str(uuid.UUID(int=7)))


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        (lambda: LogKeys("not a key"), "the log key is not a verifier key"),
        (lambda: LogKeys(WITNESS.verifier().encode()), "the log key is not of type 0x01"),
        (lambda: LogKeys(LOG.verifier().encode(), [LOG.verifier().encode()]), "type 0x04"),
        (lambda: LogKeys(LOG.verifier().encode(), [], 1), "min_witnesses 1"),
        (
            lambda: LogKeys(
                LOG.verifier().encode(),
                [WITNESS.verifier().encode(), alias(WITNESS, "w-alias").verifier().encode()],
                2,
            ),
            "the 1 distinct witness keys given",
        ),
    ],
)
def test_keys_that_cannot_check_anything_are_refused_before_asking(keys: object, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        keys()  # type: ignore[operator]
