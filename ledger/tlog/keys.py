"""C2SP signed-note keys: Ed25519 signers and verifiers, key ids and their text encodings."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ledger.tlog import b64
from ledger.tlog.errors import NoteError

ED25519 = 0x01
"""Signature type of plain Ed25519 note signatures (the log's)."""
COSIGNATURE_V1 = 0x04
"""Signature type of timestamped Ed25519 checkpoint cosignatures (witnesses')."""
_TYPES = (ED25519, COSIGNATURE_V1)
_NAME = re.compile(r"^[^\s+]+$")


def check_name(name: str) -> None:
    """Refuse a key name that is empty or holds a space or a plus."""
    if not _NAME.fullmatch(name):
        raise NoteError(f"key name {name!r} is empty or holds a space or a plus")


def key_id(name: str, alg: int, public: bytes) -> int:
    """SHA-256(name || 0x0A || type || public key)[:4] as a big-endian uint32."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public).digest()
    return int.from_bytes(digest[:4], "big")


def cosigned_message(text: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header, time line, then the checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


@dataclass(frozen=True)
class Verifier:
    """A verifier key `<name>+<8 hex>+<base64(type || public key)>`."""

    name: str
    key_id: int
    alg: int
    public: bytes

    def encode(self) -> str:
        """The vkey text."""
        material = base64.b64encode(bytes([self.alg]) + self.public).decode()
        return f"{self.name}+{self.key_id:08x}+{material}"

    def verify(self, text: str, signature: bytes) -> bool:
        """Whether `signature` (the bytes after the key id) signs `text` with this key."""
        if self.alg == COSIGNATURE_V1:
            if len(signature) != 8 + 64:
                return False
            stamp = int.from_bytes(signature[:8], "big")
            if stamp >= 1 << 63:
                return False
            message, signature = cosigned_message(text, stamp), signature[8:]
        else:
            if len(signature) != 64:
                return False
            message = text.encode()
        from ledger.tlog import ed25519  # on first use: see ledger/tlog/ed25519.py

        return ed25519.verify(self.public, signature, message)


@dataclass(frozen=True)
class Signer:
    """A private key `PRIVATE+KEY+<name>+<8 hex>+<base64(type || seed)>`."""

    name: str
    key_id: int
    alg: int
    seed: bytes = field(repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def encode(self) -> str:
        """The private key text (a secret: never log it)."""
        material = base64.b64encode(bytes([self.alg]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{material}"

    def verifier(self) -> Verifier:
        """The matching verifier key."""
        from ledger.tlog import ed25519

        return Verifier(self.name, self.key_id, self.alg, ed25519.public_of(self.seed))

    def sign(self, text: str) -> bytes:
        """The signature bytes (after the key id) over `text`; a cosigner stamps the time."""
        from ledger.tlog import ed25519

        if self.alg == COSIGNATURE_V1:
            stamp = int(self.clock())
            return stamp.to_bytes(8, "big") + ed25519.sign(self.seed, cosigned_message(text, stamp))
        return ed25519.sign(self.seed, text.encode())


def generate_signer(name: str, alg: int = ED25519) -> Signer:
    """A new random Ed25519 key named `name` (type 0x01 for a log, 0x04 for a cosigner)."""
    check_name(name)
    if alg not in _TYPES:
        raise NoteError(f"signature type {alg:#04x} is not supported")
    from ledger.tlog import ed25519

    seed = ed25519.new_seed()
    public = ed25519.public_of(seed)
    return Signer(name, key_id(name, alg, public), alg, seed)


def _split_key(text: str, parts: int, what: str) -> list[str]:
    # Base64 may hold "+": split only as many times as there are fields.
    fields = text.strip().split("+", parts - 1)
    if len(fields) != parts:
        raise NoteError(f"{what} is not {parts} fields joined by '+'")
    return fields


def _material(name: str, hex_id: str, material: str, what: str) -> tuple[int, int, bytes]:
    check_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError(f"{what}'s key id {hex_id!r} is not 8 lowercase hex digits")
    raw = b64.decode(material, f"{what}'s key material", NoteError)
    if len(raw) != 33 or raw[0] not in _TYPES:
        raise NoteError(f"{what} is not an Ed25519 key of type 0x01 or 0x04")
    return int(hex_id, 16), raw[0], raw[1:]


def parse_verifier(text: str) -> Verifier:
    """A verifier key from its text; NoteError when malformed or its key id does not match."""
    name, hex_id, material = _split_key(text, 3, "the verifier key")
    kid, alg, public = _material(name, hex_id, material, "the verifier key")
    if key_id(name, alg, public) != kid:
        raise NoteError("the verifier key's id does not match its name and key")
    return Verifier(name, kid, alg, public)


def parse_signer(text: str) -> Signer:
    """A private key from its text; NoteError when malformed or its key id does not match."""
    fields = _split_key(text, 5, "the private key")
    if fields[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("the private key does not start with PRIVATE+KEY+")
    kid, alg, seed = _material(fields[2], fields[3], fields[4], "the private key")
    signer = Signer(fields[2], kid, alg, seed)
    public = signer.verifier().public
    if key_id(signer.name, alg, public) != kid:
        raise NoteError("the private key's id does not match its name and key")
    return signer
