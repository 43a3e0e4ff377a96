"""C2SP signed notes: a text, a blank line, and `— <name> <base64(key id || signature)>` lines."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ledger.tlog import b64
from ledger.tlog.errors import NoteError
from ledger.tlog.keys import Signer, Verifier, check_name

MAX_SIGNATURES = 100
"""More than the 16 signatures the spec says a verifier must accept."""
_DASH = "\u2014 "


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name and id, and the signature bytes after the id."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """The signature line, newline included."""
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_DASH}{self.name} {base64.b64encode(raw).decode()}\n"


@dataclass(frozen=True)
class Note:
    """A note's text (final newline included) and its signatures, in order."""

    text: str
    signatures: tuple[Signature, ...]

    def encode(self) -> str:
        """The whole signed note."""
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def signature_of(signer: Signer, text: str) -> Signature:
    """`signer`'s signature of `text`."""
    return Signature(signer.name, signer.key_id, signer.sign(text))


def check_text(text: str) -> None:
    """Refuse a note text that is empty, lacks its final newline or holds control characters."""
    if not text.endswith("\n"):
        raise NoteError("the note text does not end in a newline")
    if any(c < " " and c != "\n" for c in text):
        raise NoteError("the note text holds a control character")


def sign(text: str, signers: Iterable[Signer]) -> str:
    """The signed note of `text` with one signature per signer, in order."""
    check_text(text)
    sigs = tuple(signature_of(s, text) for s in signers)
    if not sigs:
        raise NoteError("a note needs at least one signature")
    return Note(text, sigs).encode()


def signature_line(line: str) -> Signature:
    """One signature line (without its newline); NoteError when malformed."""
    return _parse_line(line)


def _parse_line(line: str) -> Signature:
    if not line.startswith(_DASH):
        raise NoteError(f"signature line {line!r} does not start with an em dash and a space")
    name, sep, text = line[len(_DASH) :].partition(" ")
    if not sep:
        raise NoteError(f"signature line {line!r} has no signature after the name")
    check_name(name)
    raw = b64.decode(text, f"the signature of {name!r}", NoteError)
    if len(raw) < 5:
        raise NoteError(f"the signature of {name!r} is too short")
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def parse(note: str | bytes) -> Note:
    """A note's text and signatures, without checking any; NoteError when malformed."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("the note is not UTF-8") from exc
    if any(c < " " and c != "\n" for c in note):
        raise NoteError("the note holds a control character")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("the note has no blank line before its signatures")
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines(keepends=True)
    if not lines:
        raise NoteError("the note has no signature")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"the note has more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(_parse_line(line.rstrip("\n")) for line in lines))


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> tuple[Note, list[Verifier]]:
    """The note and the known keys whose signatures verify.

    Signatures by unknown keys are ignored; one by a known key that fails, or
    none by a known key at all, is refused (NoteError naming the key).
    """
    parsed = parse(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[Verifier] = []
    for sig in parsed.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(parsed.text, sig.signature):
            raise NoteError(f"the signature of {sig.name} does not verify")
        if verifier not in verified:
            verified.append(verifier)
    if not verified:
        raise NoteError("the note has no signature by a known key")
    return parsed, verified
