"""Service settings read from the environment."""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import urllib.parse
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
READ_DATABASE_URL = "LEDGER_READ_DATABASE_URL"
READ_MAX_LAG_S = "LEDGER_READ_MAX_LAG_S"

ENV_VARS: tuple[str, ...] = (
    DATABASE_URL,
    DATA_DIR,
    HOST,
    PORT,
    LOG_FORMAT,
    LOG_ORIGIN,
    SIGNING_KEY_FILE,
    READ_DATABASE_URL,
    READ_MAX_LAG_S,
)
"""Every environment variable the service reads; deployment files may use only these."""

DEFAULT_DATA_DIR = Path(".ledger-data")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "console")
DEFAULT_READ_MAX_LAG_S = 5.0
MAX_READ_MAX_LAG_S = 3600.0
_DSN_SCHEMES = ("postgresql", "postgres")


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


def parse_database_url(value: str, *, source: str = DATABASE_URL) -> str:
    """Return `value` if it can be a PostgreSQL DSN, or raise ConfigError naming `source`
    (never the DSN itself: it may carry a password)."""
    try:
        parts = urllib.parse.urlsplit(value)
        if "," not in parts.netloc:  # several hosts: each port is the driver's to read
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ConfigError(
            f"{source} has a port that is not a number from 1 to 65535 (or is not a DSN)"
        ) from None
    if parts.scheme not in _DSN_SCHEMES:
        raise ConfigError(
            f"{source} must start with postgresql://, "
            f"not {parts.scheme + '://' if parts.scheme else 'no scheme'}"
        )
    return value


def parse_origin(value: str, *, source: str = LOG_ORIGIN) -> str:
    """Return `value` as a log origin (the log key's name), or raise ConfigError."""
    if any(c.isspace() or c == "+" for c in value):
        raise ConfigError(f"{source} must hold no space and no '+': it names the log's key")
    return value


def parse_read_urls(value: str, *, source: str = READ_DATABASE_URL) -> tuple[str, ...]:
    """Return the standby DSNs in `value` (comma-separated), or raise ConfigError naming `source`.

    Error messages name a DSN by its position and host only: a DSN may carry a password.
    """
    urls: list[str] = []
    for index, raw in enumerate(value.split(","), start=1):
        url = raw.strip()
        if not url:
            raise ConfigError(
                f"{source} has an empty entry at place {index}: give one or more "
                "postgresql:// DSNs separated by single commas"
            )
        try:
            parts = urllib.parse.urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            raise ConfigError(f"{source} entry {index} is not a valid DSN") from None
        if parts.scheme not in _DSN_SCHEMES:
            raise ConfigError(
                f"{source} entry {index} must start with postgresql://, "
                f"not {parts.scheme + '://' if parts.scheme else 'no scheme'}"
            )
        if not host and "host=" not in parts.query:
            raise ConfigError(
                f"{source} entry {index} names no host: write postgresql://USER@HOST:PORT/DB"
            )
        if url in urls:
            raise ConfigError(
                f"{source} names the same standby twice: entries {urls.index(url) + 1} "
                f"and {index}"
            )
        urls.append(url)
    return tuple(urls)


def parse_max_lag(value: str, *, source: str = READ_MAX_LAG_S) -> float:
    """Return `value` as a lag bound in seconds, or raise ConfigError naming `source`."""
    try:
        seconds = float(value.strip())
    except ValueError:
        raise ConfigError(f"{source} must be a number of seconds, got {value!r}") from None
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_READ_MAX_LAG_S:
        raise ConfigError(
            f"{source} must be more than 0 and at most {MAX_READ_MAX_LAG_S:g} seconds, "
            f"got {value.strip()!r}"
        )
    return seconds


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
    # Hot standbys the read-only routes go to; none by default.
    read_database_urls: tuple[str, ...] = dataclasses.field(default=(), repr=False)
    read_max_lag_s: float = DEFAULT_READ_MAX_LAG_S

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
        raw_reads = get(READ_DATABASE_URL)
        raw_lag = get(READ_MAX_LAG_S)
        raw_url = get(DATABASE_URL)
        raw_origin = get(LOG_ORIGIN)
        return cls(
            database_url=parse_database_url(raw_url) if raw_url else None,
            data_dir=Path(raw_dir) if raw_dir else DEFAULT_DATA_DIR,
            host=get(HOST) or DEFAULT_HOST,
            port=parse_port(raw_port) if raw_port else DEFAULT_PORT,
            log_format=(
                parse_log_format(raw_format)
                if raw_format
                else ("console" if stderr_is_tty else "json")
            ),
            log_origin=parse_origin(raw_origin) if raw_origin else None,
            signing_key_file=Path(raw_key) if raw_key else None,
            read_database_urls=parse_read_urls(raw_reads) if raw_reads else (),
            read_max_lag_s=parse_max_lag(raw_lag) if raw_lag else DEFAULT_READ_MAX_LAG_S,
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
