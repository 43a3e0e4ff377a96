"""LEDGER_READ_DATABASE_URL and LEDGER_READ_MAX_LAG_S (docs/standbys.md) are read and checked."""

import pytest

from ledger.config import ConfigError, Settings


def test_no_standbys_and_a_five_second_bound_by_default() -> None:
    settings = Settings.from_env({}, stderr_is_tty=False)
    assert settings.read_database_urls == ()
    assert settings.read_max_lag_s == 5.0


def test_several_standbys_are_read_in_order_with_spaces_trimmed() -> None:
    raw = "postgresql://u@s1:5432/ledger , postgres://u@s2/ledger"
    settings = Settings.from_env({"LEDGER_READ_DATABASE_URL": raw}, stderr_is_tty=False)
    assert settings.read_database_urls == (
        "postgresql://u@s1:5432/ledger",
        "postgres://u@s2/ledger",
    )


def test_a_unix_socket_standby_is_accepted() -> None:
    raw = "postgresql://postgres@/ledger?host=/run/standby"
    settings = Settings.from_env({"LEDGER_READ_DATABASE_URL": raw}, stderr_is_tty=False)
    assert settings.read_database_urls == (raw,)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("postgresql://u@s1/l,,postgresql://u@s2/l", "empty entry at place 2"),
        ("postgresql://u@s1/l,", "empty entry at place 2"),
        ("mysql://u@s1/l", "entry 1 must start with postgresql://"),
        ("s1:5432", "entry 1 must start with postgresql://"),
        ("postgresql:///ledger", "entry 1 names no host"),
        ("postgresql://u@s1:notaport/l", "entry 1 is not a valid DSN"),
        ("postgresql://u@s1/l,postgresql://u@s1/l", "the same standby twice: entries 1 and 2"),
        ("postgresql://u@s1/l,postgresql://u@s2/l,postgresql://u@s2/l", "entries 2 and 3"),
    ],
)
def test_bad_standby_lists_are_refused_naming_the_variable(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match="LEDGER_READ_DATABASE_URL") as caught:
        Settings.from_env({"LEDGER_READ_DATABASE_URL": raw})
    assert message in str(caught.value)


def test_a_refused_standby_list_does_not_show_its_password() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"LEDGER_READ_DATABASE_URL": "postgresql://u:hunter2@s1/l,"})
    assert "hunter2" not in str(caught.value)


def test_standby_passwords_are_kept_out_of_repr() -> None:
    env = {"LEDGER_READ_DATABASE_URL": "postgresql://u:hunter2@s1/l"}
    assert "hunter2" not in repr(Settings.from_env(env))


@pytest.mark.parametrize("raw", ["0.5", "5", " 30 ", "3600"])
def test_lag_bounds_in_seconds_are_accepted(raw: str) -> None:
    settings = Settings.from_env({"LEDGER_READ_MAX_LAG_S": raw})
    assert settings.read_max_lag_s == float(raw)


@pytest.mark.parametrize("raw", ["0", "-1", "nan", "inf", "3601", "five", "5s"])
def test_bad_lag_bounds_are_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="LEDGER_READ_MAX_LAG_S"):
        Settings.from_env({"LEDGER_READ_MAX_LAG_S": raw})
