"""Replay with no database, over HTTP or from an export, equals the DSN replay byte for byte."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ledger.audit.export import decode_line, encode_line, export_log
from ledger.audit.export_log import is_event_line
from ledger.audit.remote_replay import replay_export, replay_remote
from ledger.audit.replay import ReplayError, replay
from ledger.audit.state_file import write_state
from ledger.remote import Ledger
from ledger.runtime import Runtime
from ledger.store.chain import GENESIS, link
from ledger.tlog.keys import Signer
from projections.fold import Fold
from tests.e2e.conftest import Keys
from tests.e2e.ledger_cli import Ran, run_ledger
from tests.e2e.witnesses import checkpoint_of
from tests.integration.audit import tamper
from tests.integration.audit.scenario import play, play_all

Client = TestClient[Any, Any]


def _bytes(fold: Fold) -> bytes:
    out = io.BytesIO()
    write_state(fold, out)
    return out.getvalue()


async def _played(runtime: Runtime, client: Client, keys: Keys) -> int:
    head = await play_all(runtime.ledger)
    await checkpoint_of(client, await keys.role("reader"), head)
    return head


def _url(client: Client) -> str:
    return str(client.make_url("")).rstrip("/")


async def _auditor(keys: Keys) -> str:
    return (await keys.role("auditor"))["Authorization"].removeprefix("Bearer ")


async def _dsn_replay(runtime: Runtime, **point: Any) -> bytes:
    async with runtime.pool.acquire() as conn:
        return _bytes(await replay(conn, **point))


async def _export(runtime: Runtime) -> bytes:
    out = io.BytesIO()
    async with runtime.pool.acquire() as conn:
        await export_log(conn, out)
    return out.getvalue()


async def test_replay_over_http_equals_the_dsn_replay_at_every_position(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    head = await _played(runtime, client, keys)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        for position in (1, head // 2, head):
            fold = await replay_remote(ledger, log_signer.verifier(), to_position=position)
            assert _bytes(fold) == await _dsn_replay(runtime, to_position=position), position


async def test_replay_over_http_as_of_a_moment_equals_the_dsn_replay(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    await _played(runtime, client, keys)
    moment: dt.datetime = await runtime.pool.fetchval(
        "SELECT e.recorded_at FROM events e JOIN event_log l USING (seq) WHERE l.position = 9"
    )
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        fold = await replay_remote(ledger, log_signer.verifier(), as_of=moment)
    assert fold.position == 9
    assert _bytes(fold) == await _dsn_replay(runtime, as_of=moment)


async def test_replay_from_an_export_equals_the_dsn_replay(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    head = await _played(runtime, client, keys)
    source = await _export(runtime)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        fold = await replay_export(
            io.BytesIO(source), ledger=ledger, log_key=log_signer.verifier(), to_position=head
        )
    assert _bytes(fold) == await _dsn_replay(runtime, to_position=head)
    alone = await replay_export(io.BytesIO(source), to_position=head - 3)
    assert _bytes(alone) == await _dsn_replay(runtime, to_position=head - 3)


async def test_a_changed_event_is_never_folded_over_http(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer, db_dsn: str
) -> None:
    head = await _played(runtime, client, keys)
    async with tamper.superuser(db_dsn) as conn:
        await tamper.change_body(conn, 5, b'"role":"', b'"role":"x')
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        with pytest.raises(ReplayError, match="position 5"):
            await replay_remote(ledger, log_signer.verifier(), to_position=head)


def _forged(export: bytes) -> tuple[bytes, bytes]:
    """The export with event 3 rewritten and every link after recomputed; and its trailer."""
    previous, forged, trailer = GENESIS, io.BytesIO(), b""
    for raw in export.splitlines(keepends=True):
        if not is_event_line(raw):
            trailer += raw
            continue
        line = decode_line(raw)
        body = bytes(line.event)
        if line.position == 3:
            body = body.replace(b'"name":"', b'"name":"X', 1)
        previous = link(previous, line.position, body)
        forged.write(encode_line(line.position, previous, bytes.fromhex(line.fingerprint), body))
    return forged.getvalue(), trailer


async def test_an_export_rewritten_with_its_links_fails_its_own_checkpoints(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    """Its chain holds (the links were recomputed); the roots the log signed do not."""
    head = await _played(runtime, client, keys)
    events, trailer = _forged(await _export(runtime))
    with pytest.raises(ReplayError, match="do not give the root"):
        await replay_export(
            io.BytesIO(events + trailer), log_key=log_signer.verifier(), to_position=head
        )


async def test_an_export_without_checkpoints_is_refused_alone_and_checked_against_the_ledger(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    """Stripped of its checkpoints, a forged export's chain still holds: alone it is refused
    for want of a signed checkpoint, and with --url the ledger's root catches it."""
    head = await _played(runtime, client, keys)
    events, _ = _forged(await _export(runtime))
    with pytest.raises(ReplayError, match="carries no signed checkpoint"):
        await replay_export(io.BytesIO(events), log_key=log_signer.verifier(), to_position=head)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        with pytest.raises(ReplayError, match=r"prefix|root"):
            await replay_export(
                io.BytesIO(events), ledger=ledger, log_key=log_signer.verifier(),
                to_position=head,
            )  # fmt: skip


async def test_an_untouched_export_without_checkpoints_replays_against_the_ledger(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    """What GET /v1/audit/export serves carries no checkpoint; the ledger's covers it."""
    head = await _played(runtime, client, keys)
    lines = (await _export(runtime)).splitlines(keepends=True)
    events = b"".join(raw for raw in lines if is_event_line(raw))
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        fold = await replay_export(
            io.BytesIO(events), ledger=ledger, log_key=log_signer.verifier(), to_position=head
        )
    assert _bytes(fold) == await _dsn_replay(runtime, to_position=head)


async def test_the_command_writes_nothing_for_an_export_no_checkpoint_covers(
    runtime: Runtime, client: Client, keys: Keys, tmp_path: Path
) -> None:
    head = await _played(runtime, client, keys)
    lines = (await _export(runtime)).splitlines(keepends=True)
    export = tmp_path / "log.ndjson"
    export.write_bytes(b"".join(raw for raw in lines if is_event_line(raw)))
    ran = await run_ledger(
        "audit", "replay", "--to-position", str(head), "--from-export", str(export)
    )
    assert (ran.code, ran.out) == (1, "")
    assert "carries no signed checkpoint" in ran.err


async def _cut_after_the_fifth_step(runtime: Runtime, client: Client, keys: Keys) -> bytes:
    """An export carrying two checkpoints, the later one (at its head) cut off."""
    reader = await keys.role("reader")
    steps, head = 0, 0
    async for head in play(runtime.ledger):
        steps += 1
        if steps == 5:
            await checkpoint_of(client, reader, head)  # signed before the rest is posted
    await checkpoint_of(client, reader, head)
    lines = (await _export(runtime)).splitlines(keepends=True)
    events = [raw for raw in lines if is_event_line(raw)]
    carried = [raw for raw in lines if not is_event_line(raw)]
    # The log line as an export of 0.1.0 wrote it, without the counts that would tell
    # the file is short: what is left to catch is that the last events are unsigned.
    log = json.loads(carried[0])
    del log["log"]["checkpoints"], log["log"]["cosignatures"]
    uncounted = json.dumps(log, separators=(",", ":")).encode() + b"\n"
    return b"".join([*events, uncounted, *carried[1:-1]])  # every checkpoint but the latest


def _carried_sizes(export: bytes) -> list[int]:
    return [
        int(raw.split(b'"size":', 1)[1].split(b",", 1)[0])
        for raw in export.splitlines()
        if raw.startswith(b'{"checkpoint":')
    ]


async def test_events_past_the_last_checkpoint_an_export_carries_are_refused(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    """The tail past the last carried checkpoint is checked by nothing the log signed."""
    export = await _cut_after_the_fifth_step(runtime, client, keys)
    covered = max(_carried_sizes(export))
    with pytest.raises(
        ReplayError, match=rf"past the export's last signed checkpoint \({covered}\)"
    ):
        await replay_export(io.BytesIO(export), log_key=log_signer.verifier())
    fold = await replay_export(
        io.BytesIO(export), log_key=log_signer.verifier(), to_position=covered
    )
    assert _bytes(fold) == await _dsn_replay(runtime, to_position=covered)


async def test_an_export_cut_short_after_its_log_line_is_not_replayed(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    await _cut_after_the_fifth_step(runtime, client, keys)  # the scenario, two checkpoints
    whole = await _export(runtime)
    cut = whole.rsplit(b"\n", 2)[0] + b"\n"  # its last checkpoint line dropped
    with pytest.raises(ReplayError, match="the file was cut short"):
        await replay_export(io.BytesIO(cut), log_key=log_signer.verifier())


async def test_events_an_export_adds_past_the_ledgers_checkpoint_are_refused(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer
) -> None:
    """An event appended to a true export, its link recomputed, is one the log never signed."""
    head = await _played(runtime, client, keys)
    lines = (await _export(runtime)).splitlines(keepends=True)
    events = [raw for raw in lines if is_event_line(raw)]
    last = decode_line(events[-1])
    body = bytes(last.event)
    extra = encode_line(
        head + 1, link(bytes.fromhex(last.hash), head + 1, body), bytes.fromhex(last.fingerprint),
        body,
    )  # fmt: skip
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        with pytest.raises(ReplayError, match=f"events {head + 1} to {head + 1} are past"):
            await replay_export(
                io.BytesIO(b"".join(events) + extra), ledger=ledger,
                log_key=log_signer.verifier(), to_position=head + 1,
            )  # fmt: skip


async def test_the_commands_write_what_the_dsn_replay_writes(
    runtime: Runtime, client: Client, keys: Keys, log_signer: Signer, db_dsn: str, tmp_path: Path
) -> None:
    head = await _played(runtime, client, keys)
    point = ["--to-position", str(head - 1)]
    dsn, over_http, from_file = await replayed_three_ways(
        point, runtime, client, keys, log_signer, db_dsn, tmp_path
    )
    assert (dsn.code, over_http.code, from_file.code) == (0, 0, 0), dsn.err + from_file.err
    assert over_http.out == dsn.out
    assert from_file.out == dsn.out
    assert "the key the export itself names" in from_file.err


async def replayed_three_ways(
    point: list[str],
    runtime: Runtime,
    client: Client,
    keys: Keys,
    log_signer: Signer,
    db_dsn: str,
    tmp_path: Path,
) -> tuple[Ran, Ran, Ran]:
    """`ledger audit replay POINT` with a DSN, over HTTP and from an export of the log."""
    export = tmp_path / "log.ndjson"
    export.write_bytes(await _export(runtime))
    dsn = await run_ledger("audit", "replay", *point, LEDGER_DATABASE_URL=db_dsn)
    remote = ["--url", _url(client), "--api-key", await _auditor(keys)]
    remote += ["--log-key", log_signer.verifier().encode()]
    over_http = await run_ledger("audit", "replay", *point, *remote)
    from_file = await run_ledger("audit", "replay", *point, "--from-export", str(export))
    return dsn, over_http, from_file
