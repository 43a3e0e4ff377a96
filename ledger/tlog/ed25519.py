"""Ed25519 itself, from the `cryptography` package, behind four calls.

Imported only when a signature is made or checked: ledger.client, which parses keys
and notes through ledger.tlog, then imports with aiohttp and msgspec alone, and needs
`cryptography` only to check proofs.
"""

from __future__ import annotations

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError as exc:
    raise ImportError(
        "making or checking Ed25519 signatures (checkpoints, proofs) needs the "
        "`cryptography` package: pip install cryptography"
    ) from exc


def new_seed() -> bytes:
    """A fresh random 32-byte private key seed."""
    return Ed25519PrivateKey.generate().private_bytes_raw()


def public_of(seed: bytes) -> bytes:
    """The 32-byte public key of a seed."""
    key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(seed: bytes, message: bytes) -> bytes:
    """The 64-byte signature of `message` by the seed's key."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def verify(public: bytes, signature: bytes, message: bytes) -> bool:
    """Whether `signature` signs `message` with the public key."""
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except InvalidSignature:
        return False
    return True
