"""Settings come from LEDGER_* variables (the README's table) and `ledger` refuses bad ones."""

import logging
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from ledger.cli import main
from ledger.config import ENV_VARS, ConfigError, Settings, parse_port


def test_defaults_when_nothing_is_set() -> None:
    settings = Settings.from_env({}, stderr_is_tty=False)
    assert settings.database_url is None
    assert settings.data_dir == Path(".ledger-data")
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.log_format == "json"


def test_every_variable_is_read() -> None:
    env = {
        "LEDGER_DATABASE_URL": "postgresql://ledger:pw@db:5432/ledger",
        "LEDGER_DATA_DIR": "/var/lib/ledger",
        "LEDGER_HOST": "0.0.0.0",
        "LEDGER_PORT": "9000",
        "LEDGER_LOG_FORMAT": "console",
        "LEDGER_LOG_ORIGIN": "example.org/log",
        "LEDGER_SIGNING_KEY_FILE": "/run/secrets/log-signing.key",
        "LEDGER_READ_DATABASE_URL": "postgresql://ledger:pw@standby:5432/ledger",
        "LEDGER_READ_MAX_LAG_S": "2.5",
    }
    settings = Settings.from_env(env, stderr_is_tty=False)
    assert settings.database_url == "postgresql://ledger:pw@db:5432/ledger"
    assert settings.data_dir == Path("/var/lib/ledger")
    assert settings.host == "0.0.0.0"
    assert settings.port == 9000
    assert settings.log_format == "console"
    assert settings.log_origin == "example.org/log"
    assert settings.key_file == Path("/run/secrets/log-signing.key")
    assert settings.read_database_urls == ("postgresql://ledger:pw@standby:5432/ledger",)
    assert settings.read_max_lag_s == 2.5
    assert set(env) == set(ENV_VARS)


def test_the_signing_key_defaults_to_the_data_dir() -> None:
    settings = Settings.from_env({"LEDGER_DATA_DIR": "/data"}, stderr_is_tty=False)
    assert settings.key_file == Path("/data/log-signing.key")


def test_log_format_defaults_to_console_on_a_terminal() -> None:
    assert Settings.from_env({}, stderr_is_tty=True).log_format == "console"


def test_explicit_log_format_wins_over_terminal_detection() -> None:
    settings = Settings.from_env({"LEDGER_LOG_FORMAT": "JSON"}, stderr_is_tty=True)
    assert settings.log_format == "json"


def test_empty_variables_count_as_unset() -> None:
    env = {name: "" for name in ENV_VARS}
    assert Settings.from_env(env, stderr_is_tty=False) == Settings.from_env({}, stderr_is_tty=False)


@pytest.mark.parametrize("raw", ["0", "65536", "-1", "http", "80.5"])
def test_invalid_port_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="LEDGER_PORT"):
        Settings.from_env({"LEDGER_PORT": raw})


@pytest.mark.parametrize("raw", ["1", "8080", "65535", " 443 "])
def test_valid_ports_are_accepted(raw: str) -> None:
    assert parse_port(raw) == int(raw)


def test_unknown_log_format_is_refused() -> None:
    with pytest.raises(ConfigError, match="LEDGER_LOG_FORMAT must be 'json' or 'console'"):
        Settings.from_env({"LEDGER_LOG_FORMAT": "xml"})


def test_command_line_overrides_take_precedence() -> None:
    settings = Settings.from_env({"LEDGER_PORT": "9000"}, stderr_is_tty=False)
    assert settings.with_overrides(host="0.0.0.0", port=None).port == 9000
    assert settings.with_overrides(port=8181).port == 8181
    assert settings.with_overrides(host="0.0.0.0").host == "0.0.0.0"


def test_database_password_is_kept_out_of_repr() -> None:
    settings = Settings.from_env({"LEDGER_DATABASE_URL": "postgresql://u:hunter2@db/x"})
    assert "hunter2" not in repr(settings)


@pytest.fixture
def fake_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Settings, str]]]:
    """A stand-in ledger.service recording how `ledger serve` called it."""
    calls: list[tuple[Settings, str]] = []

    async def run_service(settings: Settings, dsn: str) -> None:
        calls.append((settings, dsn))

    module = types.ModuleType("ledger.service")
    module.run_service = run_service  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ledger.service", module)
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield calls
    # main() configures logging for the process; give the next test a clean slate.
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_serve_passes_the_configured_database_and_overrides(
    fake_service: list[tuple[Settings, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", "postgresql://ledger@db/ledger")
    monkeypatch.setenv("LEDGER_PORT", "9000")
    monkeypatch.setenv("LEDGER_LOG_FORMAT", "json")
    assert main(["serve", "--host", "0.0.0.0"]) == 0
    [(settings, dsn)] = fake_service
    assert dsn == "postgresql://ledger@db/ledger"
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)


def test_bad_environment_is_one_line_and_exit_2(
    fake_service: list[tuple[Settings, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LEDGER_PORT", "eighty")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "LEDGER_PORT" in err
    assert "Traceback" not in err
    assert fake_service == []


def test_bad_port_option_is_a_usage_error(
    fake_service: list[tuple[Settings, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port must be from 1 to 65535" in capsys.readouterr().err
    assert fake_service == []


def test_no_command_shows_help_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "serve" in capsys.readouterr().err


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "serve" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("LEDGER_DATABASE_URL", "mysql://me:s3cret@db/ledger", "must start with postgresql://"),
        ("LEDGER_DATABASE_URL", "ledger-db", "must start with postgresql://"),
        ("LEDGER_DATABASE_URL", "postgresql://me:s3cret@db:abc/ledger", "port"),
        ("LEDGER_DATABASE_URL", "postgresql://me:s3cret@db:99999/ledger", "port"),
        ("LEDGER_LOG_ORIGIN", "bad origin+x", "no space and no '+'"),
    ],
)
def test_a_setting_that_cannot_work_is_one_line_naming_it_and_exit_2(
    fake_service: list[tuple[Settings, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    said: str,
) -> None:
    monkeypatch.setenv(name, value)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert name in err
    assert said in err
    assert "s3cret" not in err
    assert fake_service == []


def test_several_hosts_in_the_database_url_are_left_to_the_driver() -> None:
    url = "postgresql://me@db1:5432,db2:5432/ledger?target_session_attrs=read-write"
    assert Settings.from_env({"LEDGER_DATABASE_URL": url}).database_url == url
