"""The ledger's HTTP app in a process of its own with short event-stream limits, for
measuring what stalled stream consumers cost it: `python -m tests.reliability.stream_service
DSN PORT STALL_SECONDS`."""

from __future__ import annotations

import dataclasses
import sys

from aiohttp import web

from ledger.http.app import create_app
from ledger.http.context import Limits
from ledger.logs import configure_logging


def main() -> None:
    """Serve until killed."""
    dsn, port, stall = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    configure_logging("json")
    limits = dataclasses.replace(Limits(), stream_stall=stall)
    web.run_app(
        create_app(dsn, limits=limits), host="127.0.0.1", port=port, access_log=None, print=None
    )


if __name__ == "__main__":
    main()
