"""The `ledger` command: parses arguments, reads settings, runs one subcommand."""

from __future__ import annotations

import argparse
import sys
from importlib import metadata

from ledger.commands import CommandError, Handler, register_all
from ledger.commands._failures import database_failure, output_failure
from ledger.config import ENV_VARS, ConfigError, Settings
from ledger.logs import configure_logging
from projections.spill import SpillError


def _version() -> str:
    try:
        return metadata.version("guarantee-ledger")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand of ledger/commands/ registered."""
    parser = argparse.ArgumentParser(
        prog="ledger",
        description="System of record for government-backed loan guarantees.",
        epilog=f"Configuration: {', '.join(ENV_VARS)}; and for `ledger demo`, "
        "LEDGER_ADMIN_KEY (see the README's configuration table).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    register_all(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `ledger` with `argv` (default: the process arguments); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, usage errors
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_format)
        return handler(args, settings)
    except ConfigError as exc:
        print(f"ledger: configuration error: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"ledger: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SpillError as exc:  # a replay, a comparison or a business-date state
        print(f"ledger: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        said = database_failure(exc) or output_failure(exc)
        if said is None:
            raise
        print(f"ledger: error: {said}", file=sys.stderr)
        return 1
