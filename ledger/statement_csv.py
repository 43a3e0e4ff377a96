"""A statement as CSV: one row per program, columns named by their JSON path (`issued.count`)."""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec

from ledger.http.statement_schemas import StatementLine

HEADS = ("institution_id", "kind", "from", "to", "known_at", "position", "filed_at", "digest")
"""The statement's own fields, repeated on every row before the program's (`filed_at` and
`digest` only in a filed statement)."""


def flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as one level, keys joined by dots, in document order."""
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def columns_of(struct: type[msgspec.Struct], prefix: str = "") -> list[str]:
    """The wire names of a type's fields as `flatten` names them, in order."""
    names: list[str] = []
    for field in msgspec.structs.fields(struct):
        if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct):
            names += columns_of(field.type, f"{prefix}{field.encode_name}.")
        else:
            names.append(f"{prefix}{field.encode_name}")
    return names


PROGRAM_COLUMNS = tuple(columns_of(StatementLine))
"""A program's columns, the same whether the statement has programs or none."""


def statement_csv(body: dict[str, Any]) -> str:
    """The statement body as CSV text (null written as an empty field)."""
    heads = [head for head in HEADS if head in body]
    rows = [
        {**{head: body[head] for head in heads}, **flatten(program)} for program in body["programs"]
    ]
    out = io.StringIO()
    columns = [*heads, *PROGRAM_COLUMNS]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
