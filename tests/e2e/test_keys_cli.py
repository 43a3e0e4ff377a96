"""`ledger keys`: create prints the key last, list never shows secrets, revoke takes effect."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest

from bench.service import LEDGER
from ledger.cli import main


def _run(
    args: list[str], dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> tuple[int, str, str]:
    monkeypatch.setenv("LEDGER_DATABASE_URL", dsn)
    monkeypatch.setenv("LEDGER_LOG_FORMAT", "json")
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_create_prints_the_key_on_its_last_line_and_list_shows_only_its_id(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    code, out, _ = _run(["keys", "create", "--role", "auditor"], db_dsn, monkeypatch, capsys)
    key = out.strip().splitlines()[-1]
    assert code == 0
    assert key.startswith("lk_")
    code, listing, _ = _run(["keys", "list"], db_dsn, monkeypatch, capsys)
    key_id = key.split("_")[1]
    assert key_id in listing
    assert "auditor" in listing
    assert key.rsplit("_", 1)[-1][-20:] not in listing


def test_revoke_marks_the_key_revoked(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _, out, _ = _run(["keys", "create", "--role", "reader"], db_dsn, monkeypatch, capsys)
    key_id = out.strip().splitlines()[-1].split("_")[1]
    code, _, _ = _run(["keys", "revoke", key_id], db_dsn, monkeypatch, capsys)
    assert code == 0
    _, listing, _ = _run(["keys", "list"], db_dsn, monkeypatch, capsys)
    assert "revoked" in listing


def test_an_unregistered_institution_gets_no_key(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    code, _, err = _run(["keys", "create", "--institution", "NOPE"], db_dsn, monkeypatch, capsys)
    assert code == 1
    assert "not registered" in err


def test_revoking_a_whole_key_names_its_id_and_never_echoes_its_secret(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _, out, _ = _run(["keys", "create", "--role", "reader"], db_dsn, monkeypatch, capsys)
    key = out.strip().splitlines()[-1]
    key_id, secret = key.split("_")[1], key.split("_", 2)[2]
    code, out, err = _run(["keys", "revoke", key], db_dsn, monkeypatch, capsys)
    assert code != 0
    assert f"give its id, {key_id}" in err
    assert secret not in out + err


def test_listing_keys_where_no_ledger_is_kept_says_so_and_makes_no_store(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path / "elsewhere"))
    for action in (["list"], ["revoke", "0123456789abcdef"]):
        assert main(["keys", *action]) == 1
        assert "no ledger store in" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere" / "pg").exists()


def test_a_key_that_cannot_be_written_out_is_not_created(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _, before, _ = _run(["keys", "list"], db_dsn, monkeypatch, capsys)
    with open("/dev/full", "w") as full:
        ran = subprocess.run(
            [*LEDGER, "keys", "create", "--role", "admin"],
            env={**os.environ, "LEDGER_DATABASE_URL": db_dsn, "LEDGER_LOG_FORMAT": "json"},
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    _, after, _ = _run(["keys", "list"], db_dsn, monkeypatch, capsys)
    assert ran.returncode == 1
    assert "could not write the new key to standard output" in ran.stderr
    assert "no key was created" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert after == before
