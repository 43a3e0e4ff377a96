"""The read router's arithmetic: standby names, lag from the primary's WAL history, turns."""

import math
from typing import Any, cast

import asyncpg

from ledger.standbys import ReadRouter, Standby, display_name

_NO_POOL = cast(asyncpg.Pool, None)


def _standby(name: str, *, usable: bool) -> Standby:
    return Standby(name=name, dsn=f"postgresql://u@{name}/l", pool=_NO_POOL, usable=usable)


def _router(*standbys: Standby) -> ReadRouter:
    return ReadRouter(_NO_POOL, standbys, max_lag=5.0)


def test_a_standby_is_named_by_host_port_and_database_never_its_password() -> None:
    assert display_name("postgresql://u:hunter2@db2:5433/ledger") == "db2:5433/ledger"


def test_a_unix_socket_standby_is_named_by_its_socket_directory() -> None:
    assert display_name("postgresql://u@/ledger?host=/run/pg&port=6543") == "/run/pg:6543/ledger"


def test_a_standby_that_replayed_all_the_primary_wrote_lags_zero() -> None:
    router = _router()
    router._note_primary(100, now=10.0)
    assert router.lag_of(100, now=50.0) == 0.0


def test_lag_is_the_time_since_the_primary_first_wrote_past_the_replayed_position() -> None:
    router = _router()
    for at, lsn in ((10.0, 100), (11.0, 200), (12.0, 300)):
        router._note_primary(lsn, now=at)
    assert router.lag_of(150, now=13.5) == 2.5  # 200 was first seen at 11.0
    assert router.lag_of(99, now=13.5, replay_age=1.0) == 3.5  # at least since first seen


def test_an_unchanged_primary_position_keeps_the_time_it_was_first_seen() -> None:
    router = _router()
    router._note_primary(100, now=10.0)
    router._note_primary(100, now=20.0)
    assert router.lag_of(50, now=21.0, replay_age=0.5) == 11.0


def test_a_standby_behind_all_the_history_lags_by_its_last_replayed_transaction() -> None:
    router = _router()
    router._note_primary(100, now=10.0)
    # Behind since before the monitor started: an hour-old last transaction says how far.
    assert router.lag_of(50, now=11.0, replay_age=3600.0) == 3600.0
    assert router.lag_of(50, now=11.0, replay_age=0.2) == 1.0


def test_a_standby_behind_all_the_history_with_no_replayed_transaction_lags_infinitely() -> None:
    router = _router()
    router._note_primary(100, now=10.0)
    assert router.lag_of(50, now=10.0) == math.inf


def test_reads_take_turns_over_the_usable_standbys_only() -> None:
    a, b, down = _standby("a", usable=True), _standby("b", usable=True), _standby("c", usable=False)
    router = _router(a, down, b)
    picked = [cast(Any, router.pick()).name for _ in range(4)]
    assert picked == ["a", "b", "a", "b"]


def test_with_no_usable_standby_the_primary_reads() -> None:
    assert _router(_standby("a", usable=False)).pick() is None


def test_a_failed_read_takes_the_standby_out_of_use_until_probed() -> None:
    a = _standby("a", usable=True)
    router = _router(a)
    router.failed(a, OSError("connection refused"))
    assert router.pick() is None
    assert a.fallbacks == 1
