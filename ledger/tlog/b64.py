"""Canonical standard base64: a value has exactly one accepted spelling."""

from __future__ import annotations

import base64
import binascii

from ledger.tlog.errors import TlogError


def decode(text: str, what: str, error: type[TlogError]) -> bytes:
    """Decode `text`, refusing anything but its canonical padded spelling (`error` names `what`)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(f"{what} is not base64") from exc
    # Non-zero padding bits decode to the same bytes: refuse them, so that a
    # changed character can never leave a proof or signature valid.
    if base64.b64encode(raw).decode() != text:
        raise error(f"{what} is not canonical base64")
    return raw
