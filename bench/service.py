"""Running the ledger as a separate process for the benchmark, and talking to it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

LEDGER = [sys.executable, "-c", "import sys; from ledger.cli import main; sys.exit(main())"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ledger_command(args: list[str], dsn: str, **env: str) -> str:
    """Run a `ledger` CLI command against `dsn`; return its standard output."""
    done = subprocess.run(  # noqa: S603 - our own CLI
        [*LEDGER, *args],
        env={**os.environ, "LEDGER_DATABASE_URL": dsn, "LEDGER_LOG_FORMAT": "json", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ledger {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def create_key(dsn: str, *args: str) -> str:
    """A new key (the last line `ledger keys create` prints)."""
    return ledger_command(["keys", "create", *args], dsn).strip().splitlines()[-1].strip()


class Service:
    """One `ledger serve` process on a database; can be killed and started again."""

    def __init__(self, dsn: str, log: Path, *extra: str) -> None:
        self.dsn = dsn
        self.log = log
        self.extra = extra
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._out: BinaryIO | None = None

    def start(self, ready_within: float = 60.0) -> None:
        """Start the process and wait until /readyz answers 200."""
        env = {**os.environ, "LEDGER_DATABASE_URL": self.dsn, "LEDGER_LOG_FORMAT": "json"}
        # The log's signing key beside the process's log: instances started with logs
        # in one directory share one key, as instances of one deployment do.
        env.setdefault("LEDGER_SIGNING_KEY_FILE", str(self.key_file))
        self._close_log()
        self._out = self.log.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - our own CLI
            [*LEDGER, "serve", "--port", str(self.port), *self.extra],
            env=env,
            stdout=self._out,
            stderr=self._out,
        )
        deadline = time.monotonic() + ready_within
        while not self.ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"ledger serve exited: {self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("ledger serve did not become ready")
            time.sleep(0.1)

    @property
    def key_file(self) -> Path:
        """The log signing key file the process uses (unless the environment names one)."""
        return self.log.parent / "log-signing.key"

    def ready(self) -> bool:
        """Whether /readyz answers 200."""
        return _answers(self.url + "/readyz")

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close_log()


@dataclass(frozen=True)
class Served:
    """An HTTP service the benchmark started: where it listens, and its process."""

    url: str
    pid: int


@contextlib.contextmanager
def running_service(dsn: str, log: Path, *extra: str) -> Iterator[Served]:
    """`ledger serve` in its own process, once it is ready."""
    service = Service(dsn, log, *extra)
    service.start()
    assert service.proc is not None
    try:
        yield Served(service.url, service.proc.pid)
    finally:
        service.stop()


@contextlib.contextmanager
def running_passthrough(dsn: str, log: Path, ready_within: float = 60.0) -> Iterator[Served]:
    """bench.passthrough in its own process, once it is ready."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own module
            [sys.executable, "-m", "bench.passthrough", dsn, str(port)], stdout=out, stderr=out
        )
        try:
            deadline = time.monotonic() + ready_within
            while not _answers(url + "/ready"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the pass-through did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
            yield Served(url, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310 - loopback
            return bool(r.status == 200)
    except OSError:
        return False


def post(url: str, key: str, body: Any) -> Any:
    """POST /v1/events synchronously (set-up only)."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        url + "/v1/events",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as r:  # noqa: S310
        return json.loads(r.read())


def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load generator in its own process; return its figures."""
    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.load", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.strip()[-2000:]}")
    sys.stderr.write(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def timed_command(args: list[str], dsn: str) -> tuple[float, int]:
    """Run a ledger CLI command; return (seconds, peak resident memory in bytes of all its
    processes together, bench/peak_rss.py)."""
    done = subprocess.run(  # noqa: S603 - our own CLI, measured in a clean parent
        [sys.executable, "-m", "bench.peak_rss", *LEDGER, *args],
        env={**os.environ, "LEDGER_DATABASE_URL": dsn, "LEDGER_LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds, peak, rc = done.stdout.split()
    if int(rc) != 0:
        raise RuntimeError(f"ledger {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return float(seconds), int(peak)
