"""Subcommands of `ledger`: one module each, found by name, so none edits a shared list.

A module `ledger/commands/<name>.py` becomes part of the CLI by defining::

    def register(subparsers: Subparsers) -> None:
        parser = subparsers.add_parser("<name>", help="...")
        ...
        parser.set_defaults(handler=run)

    def run(args: argparse.Namespace, settings: Settings) -> int: ...

`settings` are already read from the environment and logging is configured.
A handler returns the exit code, raises `CommandError` for a failure the user
can act on (printed as one line), or `ConfigError` for a bad setting (exit 2).
`ledger --help` imports every command module: keep their top-level imports
light and import the service, store or HTTP client inside the handler.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Protocol, TypeAlias

from ledger.config import Settings

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class Handler(Protocol):
    """What a subcommand runs: parsed arguments and settings in, exit code out."""

    def __call__(self, args: argparse.Namespace, settings: Settings, /) -> int:
        """Run the command."""
        ...


class CommandError(Exception):
    """A failure the user can act on; printed as one line, no traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        """`message` is shown after "ledger: error: "; the process exits with `exit_code`."""
        super().__init__(message)
        self.exit_code = exit_code


def command_modules() -> list[str]:
    """Names of the subcommand modules in this package, in help order."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def register_all(subparsers: Subparsers) -> None:
    """Let every subcommand module add its parser."""
    for name in command_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(subparsers)
