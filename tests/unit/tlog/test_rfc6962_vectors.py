"""Every shared RFC 6962 vector: happy paths verify, every wantErr mutant is refused."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.tlog.errors import ProofError
from ledger.tlog.hashing import leaf_hash, root_of_leaves
from ledger.tlog.proofs import verify_consistency, verify_inclusion
from tests.unit.tlog import vectors

INCLUSION = vectors.load("inclusion")
CONSISTENCY = vectors.load("consistency")


@pytest.mark.parametrize(("name", "case"), INCLUSION, ids=[n for n, _ in INCLUSION])
def test_inclusion_vector(name: str, case: dict[str, Any]) -> None:
    """The verifier agrees with the vector's expected outcome."""
    args = (
        case["leafIdx"],
        case["treeSize"],
        vectors.b64(case["leafHash"]),
        vectors.hashes(case["proof"]),
        vectors.b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize(("name", "case"), CONSISTENCY, ids=[n for n, _ in CONSISTENCY])
def test_consistency_vector(name: str, case: dict[str, Any]) -> None:
    """The verifier agrees with the vector's expected outcome."""
    args = (
        case["size1"],
        case["size2"],
        vectors.b64(case["root1"]),
        vectors.b64(case["root2"]),
        vectors.hashes(case["proof"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_vectors_hold_mutants_and_happy_paths() -> None:
    """The vectors were all found: both outcomes are exercised."""
    outcomes = {c["wantErr"] for _, c in INCLUSION + CONSISTENCY}
    assert outcomes == {True, False}
    assert len(INCLUSION) + len(CONSISTENCY) >= 190


def test_reference_tree_root() -> None:
    """The README's eight leaves hash to its root."""
    leaves = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    root = root_of_leaves([leaf_hash(bytes.fromhex(x)) for x in leaves])
    assert root.hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
