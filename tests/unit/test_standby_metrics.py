"""/metrics shows each standby's replay lag and whether it is in use."""

from typing import cast

import asyncpg
import prometheus_client
from prometheus_client import CollectorRegistry

from ledger.http.standby_metrics import StandbyCollector
from ledger.standbys import ReadRouter, Standby

_NO_POOL = cast(asyncpg.Pool, None)


def _standby(name: str, **state: object) -> Standby:
    return Standby(name=name, dsn=f"postgresql://u:secret@{name}/l", pool=_NO_POOL, **state)  # type: ignore[arg-type]


def _text(*standbys: Standby, primary_reads: int = 0) -> str:
    router = ReadRouter(_NO_POOL, standbys, max_lag=5.0)
    router.primary_reads = primary_reads
    registry = CollectorRegistry()
    registry.register(StandbyCollector(router))
    return prometheus_client.generate_latest(registry).decode()


def test_no_standby_configured_adds_nothing() -> None:
    assert _text() == ""


def test_each_standby_shows_its_lag_and_whether_it_is_in_use() -> None:
    good = _standby("s1:5432/l", up=True, usable=True, lag_s=0.25, lag_bytes=120, reads=7)
    paused = _standby("s2:5432/l", up=True, paused=True, lag_s=9.0, lag_bytes=4096)
    lines = set(_text(good, paused, primary_reads=3).splitlines())
    assert 'ledger_standby_replay_lag_seconds{standby="s1:5432/l"} 0.25' in lines
    assert 'ledger_standby_replay_lag_bytes{standby="s2:5432/l"} 4096.0' in lines
    assert 'ledger_standby_in_use{standby="s1:5432/l"} 1.0' in lines
    assert 'ledger_standby_in_use{standby="s2:5432/l"} 0.0' in lines
    assert 'ledger_standby_replay_paused{standby="s2:5432/l"} 1.0' in lines
    assert 'ledger_standby_reads_total{standby="s1:5432/l"} 7.0' in lines
    assert "ledger_primary_reads_total 3.0" in lines
    assert "# TYPE ledger_standby_replay_lag_seconds gauge" in lines


def test_a_standby_that_is_down_has_no_lag_line_rather_than_a_zero() -> None:
    text = _text(_standby("s1:5432/l", up=False))
    assert 'ledger_standby_up{standby="s1:5432/l"} 0.0' in text
    assert "ledger_standby_replay_lag_seconds{" not in text


def test_an_unknown_lag_is_shown_as_infinite() -> None:
    text = _text(_standby("s1:5432/l", up=True, lag_s=float("inf")))
    assert 'ledger_standby_replay_lag_seconds{standby="s1:5432/l"} +Inf' in text


def test_passwords_never_reach_the_metrics() -> None:
    assert "secret" not in _text(_standby("s1:5432/l"))
