"""What users and the next engineers read: a short README, every setting documented where
they look for it, and no reference to a document they do not have."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from ledger.cli import main
from ledger.config import ENV_VARS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The name of the contract the ledger was built from, which its users never see; spelt in
# two halves so that this file does not name it itself.
_OUTSIDE_DOCUMENT = "SP" + "EC"
_READ = {".py", ".md", ".sql", ".js", ".html", ".css", ".toml", ".yml", ".yaml", ".cfg"}
_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".ledger-data", ".mypy_cache", ".ruff_cache"}
_SETTING = re.compile(r"\bLEDGER_[A-Z_]+\b")


def _help(*command: str) -> str:
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        assert main([*command, "--help"]) == 0
    return " ".join(shown.getvalue().split())  # argparse wraps lines anywhere


def _configuration_table() -> str:
    section = README[README.index("## Configuration") :]
    return section[: section.index("\n## ", 1)]


def _read_by_users_or_engineers() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if any(p in _SKIP_DIRS or p.startswith(".venv") for p in parts):
            continue
        if "migrations" in parts:  # released migrations are never edited
            continue
        if path.is_file() and (path.suffix in _READ or path.name == "Makefile"):
            found.append(path)
    return found


def test_the_readme_is_under_250_lines() -> None:
    assert len(README.splitlines()) < 250


def test_no_file_users_or_engineers_read_names_a_document_outside_the_repository() -> None:
    files = _read_by_users_or_engineers()
    assert ROOT / "README.md" in files
    assert ROOT / "ledger" / "cli.py" in files
    naming = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _OUTSIDE_DOCUMENT in line
    ]
    assert naming == []


def test_every_setting_the_service_reads_is_in_the_readme_table() -> None:
    table = _configuration_table()
    for name in ENV_VARS:
        assert f"| `{name}` |" in table, name


def test_every_setting_named_in_the_ledger_package_is_in_the_readme_table() -> None:
    table = _configuration_table()
    named = {
        name
        for package in ("ledger", "events", "projections")
        for path in (ROOT / package).rglob("*.py")
        for name in _SETTING.findall(path.read_text(encoding="utf-8"))
    }
    assert "LEDGER_ADMIN_KEY" in named
    assert sorted(n for n in named if f"| `{n}` |" not in table) == []


def test_ledger_help_lists_every_setting_the_service_reads() -> None:
    shown = _help()
    assert [name for name in ENV_VARS if name not in shown] == []


def test_the_admin_key_setting_is_in_the_help_of_the_command_that_reads_it() -> None:
    assert "LEDGER_ADMIN_KEY" in _help("demo")
    assert "LEDGER_ADMIN_KEY" in _help()
