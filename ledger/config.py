"""Service settings read from the environment (SPEC section 7)."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TypeAlias

LogFormat: TypeAlias = Literal["json", "console"]

DATABASE_URL = "LEDGER_DATABASE_URL"
DATA_DIR = "LEDGER_DATA_DIR"
HOST = "LEDGER_HOST"
PORT = "LEDGER_PORT"
LOG_FORMAT = "LEDGER_LOG_FORMAT"
LOG_ORIGIN = "LEDGER_LOG_ORIGIN"
SIGNING_KEY_FILE = "LEDGER_SIGNING_KEY_FILE"

ENV_VARS: tuple[str, ...] = (
    DATABASE_URL,
    DATA_DIR,
    HOST,
    PORT,
    LOG_FORMAT,
    LOG_ORIGIN,
    SIGNING_KEY_FILE,
)
"""Every environment variable the service reads; deployment files may use only these."""

DEFAULT_DATA_DIR = Path(".ledger-data")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "console")


class ConfigError(ValueError):
    """A setting has a value the ledger cannot use; the message names the setting."""


def parse_port(value: str, *, source: str = PORT) -> int:
    """Return `value` as a TCP port number, or raise ConfigError naming `source`."""
    try:
        port = int(value.strip())
    except ValueError:
        raise ConfigError(
            f"{source} must be a whole number from 1 to 65535, got {value!r}"
        ) from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"{source} must be from 1 to 65535, got {port}")
    return port


def parse_log_format(value: str, *, source: str = LOG_FORMAT) -> LogFormat:
    """Return `value` as a log format name, or raise ConfigError naming `source`."""
    normalised = value.strip().lower()
    if normalised not in LOG_FORMATS:
        raise ConfigError(f"{source} must be 'json' or 'console', got {value!r}")
    return normalised


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Resolved configuration of one ledger process."""

    # Kept out of repr: a database URL may carry a password.
    database_url: str | None = dataclasses.field(default=None, repr=False)
    data_dir: Path = DEFAULT_DATA_DIR
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    log_format: LogFormat = "json"
    log_origin: str | None = None
    signing_key_file: Path | None = None

    @property
    def key_file(self) -> Path:
        """Where the log's signing key is: LEDGER_SIGNING_KEY_FILE, else in the data dir."""
        return self.signing_key_file or self.data_dir / "log-signing.key"

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] = os.environ,
        *,
        stderr_is_tty: bool | None = None,
    ) -> Settings:
        """Read settings from `environ`; unset or empty variables take their defaults.

        The log format defaults to "console" when stderr is a terminal (a person is
        reading) and to "json" otherwise (a collector is reading).
        """

        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        if stderr_is_tty is None:
            stderr_is_tty = _stderr_is_tty()
        raw_port = get(PORT)
        raw_format = get(LOG_FORMAT)
        raw_dir = get(DATA_DIR)
        raw_key = get(SIGNING_KEY_FILE)
        return cls(
            database_url=get(DATABASE_URL),
            data_dir=Path(raw_dir) if raw_dir else DEFAULT_DATA_DIR,
            host=get(HOST) or DEFAULT_HOST,
            port=parse_port(raw_port) if raw_port else DEFAULT_PORT,
            log_format=(
                parse_log_format(raw_format)
                if raw_format
                else ("console" if stderr_is_tty else "json")
            ),
            log_origin=get(LOG_ORIGIN),
            signing_key_file=Path(raw_key) if raw_key else None,
        )

    def with_overrides(self, *, host: str | None = None, port: int | None = None) -> Settings:
        """Return a copy with command-line values taking precedence over the environment."""
        return dataclasses.replace(
            self,
            host=self.host if host is None else host,
            port=self.port if port is None else port,
        )


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # stderr replaced or closed
        return False
