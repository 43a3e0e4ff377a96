"""A statement as CSV: one row per program, columns named by JSON path."""

from __future__ import annotations

import csv
import io

from ledger.statement_csv import flatten, statement_csv

BODY = {
    "institution_id": "G",
    "kind": "guarantor",
    "from": "2025-04-01",
    "to": "2025-06-30",
    "known_at": "2026-01-05T10:00:00+08:00",
    "position": 12,
    "programs": [
        {"program_id": "P", "issued": {"count": 2, "amount": 300}, "compensation_rate_bp": None},
        {"program_id": "Q", "issued": {"count": 0, "amount": 0}, "compensation_rate_bp": 25},
    ],
}


def test_nested_figures_are_named_by_their_json_path() -> None:
    assert flatten({"a": 1, "b": {"c": 2, "d": {"e": 3}}}) == {"a": 1, "b.c": 2, "b.d.e": 3}


def test_each_program_is_one_row_with_the_statement_fields_first() -> None:
    rows = list(csv.DictReader(io.StringIO(statement_csv(BODY))))
    assert [r["program_id"] for r in rows] == ["P", "Q"]
    assert list(rows[0])[:7] == [
        "institution_id",
        "kind",
        "from",
        "to",
        "known_at",
        "position",
        "program_id",
    ]
    assert (rows[0]["issued.count"], rows[0]["issued.amount"]) == ("2", "300")


def test_null_is_an_empty_field() -> None:
    rows = list(csv.DictReader(io.StringIO(statement_csv(BODY))))
    assert (rows[0]["compensation_rate_bp"], rows[1]["compensation_rate_bp"]) == ("", "25")


def test_a_statement_without_programs_has_the_header_of_one_with_programs() -> None:
    empty = statement_csv({**BODY, "programs": []}).splitlines()
    some = statement_csv(BODY).splitlines()
    assert empty == [some[0]]
    assert some[0].startswith("institution_id,kind,from,to,known_at,position,program_id,")
    assert "issued.count,issued.amount" in some[0]
    assert some[0].endswith(",recovered.amount,recovered.returned,net_loss")


def test_a_filed_statement_carries_when_it_was_filed_and_its_digest() -> None:
    filed = {**BODY, "filed_at": "2025-07-02T09:00:00+08:00", "digest": "ab" * 32}
    rows = list(csv.DictReader(io.StringIO(statement_csv(filed))))
    assert list(rows[0])[6:9] == ["filed_at", "digest", "program_id"]
    assert (rows[1]["filed_at"], rows[1]["digest"]) == (filed["filed_at"], "ab" * 32)
