"""What `ledger audit verify --url --state FILE` remembers: the size, root and chain it verified."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ledger.tlog.errors import FormatError
from ledger.tlog.frontier import Frontier


class StateFileError(Exception):
    """The state file cannot be read or is not one this command wrote."""


@dataclass(frozen=True)
class Verified:
    """A log verified through `size`: its origin, root, chain head and tree edge."""

    origin: str
    size: int
    root: bytes
    chain_head: bytes
    edge: list[tuple[int, bytes]]

    def frontier(self) -> Frontier:
        """The tree's right edge at `size`, to carry on from."""
        return Frontier(self.size, self.edge)


def load(path: Path) -> Verified | None:
    """The state in `path`, or None when there is no file yet."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StateFileError(f"cannot read the state file {path}: {exc}") from None
    try:
        verified = Verified(
            origin=str(doc["origin"]),
            size=int(doc["size"]),
            root=base64.b64decode(doc["root"], validate=True),
            chain_head=bytes.fromhex(doc["chain_head"]),
            edge=[(int(lv), base64.b64decode(h, validate=True)) for lv, h in doc["edge"]],
        )
        verified.frontier()  # checks the edge fits the size
    except (KeyError, TypeError, ValueError, FormatError) as exc:
        raise StateFileError(
            f"{path} is not a state file of `ledger audit verify`: {exc}"
        ) from None
    return verified


def save(path: Path, verified: Verified) -> None:
    """Write the state so that a crash leaves the old file or the new, never half."""
    doc = {
        "origin": verified.origin,
        "size": verified.size,
        "root": base64.b64encode(verified.root).decode(),
        "chain_head": verified.chain_head.hex(),
        "edge": [[lv, base64.b64encode(h).decode()] for lv, h in verified.edge],
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
