"""Export to NDJSON and import into an empty ledger: same bytes, same chain, same decisions."""

from __future__ import annotations

import asyncio
import io

import asyncpg
import msgspec
import pytest

from ledger.audit.export import ExportError, decode_line, export_log
from ledger.audit.export_log import is_event_line
from ledger.audit.restore import ImportRefused, import_log
from ledger.audit.verify import verify_chain
from ledger.rules.refusal import Refusal
from ledger.runtime import Runtime, connect, running
from ledger.seeds import GUARANTOR_ID, SME_ID
from ledger.tlog.keys import Signer
from projections.runner import ProjectionRunner
from tests.factory import ADMIN, actor, envelope, institution, posted
from tests.integration.audit import readmodels, tamper
from tests.integration.audit.scenario import play_all

DECISION_TABLES = (
    "w_institutions",
    "w_programs",
    "w_smes",
    "w_guarantees",
    "w_claims",
    "w_program_volume",
    "w_guarantor_limits",
    "w_breakers",
    "streams",
)


async def _export(dsn: str) -> bytes:
    out = io.BytesIO()
    conn = await asyncpg.connect(dsn)
    try:
        await export_log(conn, out)
    finally:
        await conn.close()
    return out.getvalue()


async def _import(dsn: str, data: bytes) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await import_log(conn, io.BytesIO(data))
    finally:
        await conn.close()


async def _table(dsn: str, table: str) -> list[dict[str, object]]:
    """A table's rows; JSON documents decoded, since key order in them carries no meaning."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(f"SELECT * FROM {table}")
    finally:
        await conn.close()
    decoded = [{k: msgspec.json.decode(v) if k == "doc" else v for k, v in r.items()} for r in rows]
    return sorted(decoded, key=lambda row: [repr(v) for v in row.values()])


async def _log(dsn: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT l.position, l.hash, e.body, e.fingerprint, e.event_id, e.stream_id,
                      e.stream_version, e.type, e.recorded_at
                 FROM event_log l JOIN events e USING (seq) ORDER BY l.position"""
        )
    finally:
        await conn.close()
    return [tuple(r.values()) for r in rows]


async def test_each_export_line_embeds_the_stored_bytes_verbatim(runtime: Runtime) -> None:
    head = await play_all(runtime.ledger)
    lines = [line for line in (await _export(runtime.dsn)).splitlines() if is_event_line(line)]
    stored = await _log(runtime.dsn)
    assert len(lines) == head
    assert [bytes(decode_line(line).event) for line in lines] == [row[2] for row in stored]


async def test_import_gives_the_same_events_positions_and_links(
    runtime: Runtime, other_dsn: str
) -> None:
    await play_all(runtime.ledger)
    await _import(other_dsn, await _export(runtime.dsn))
    assert await _log(other_dsn) == await _log(runtime.dsn)


async def test_import_rebuilds_the_same_decision_state(runtime: Runtime, other_dsn: str) -> None:
    await play_all(runtime.ledger)
    await _import(other_dsn, await _export(runtime.dsn))
    for table in DECISION_TABLES:
        assert await _table(other_dsn, table) == await _table(runtime.dsn, table), table


async def test_an_imported_ledger_verifies_with_the_same_head_hash(
    runtime: Runtime, other_dsn: str
) -> None:
    await play_all(runtime.ledger)
    await _import(other_dsn, await _export(runtime.dsn))
    reports = []
    for dsn in (runtime.dsn, other_dsn):
        conn = await asyncpg.connect(dsn)
        try:
            reports.append(await verify_chain(conn))
        finally:
            await conn.close()
    assert reports[1].ok
    assert (reports[1].verified_through, reports[1].head_hash) == (
        reports[0].verified_through,
        reports[0].head_hash,
    )


async def test_an_imported_ledger_continues_the_chain_with_new_posts(
    runtime: Runtime, other_dsn: str
) -> None:
    head = await play_all(runtime.ledger)
    await _import(other_dsn, await _export(runtime.dsn))
    async with running(other_dsn) as moved:
        result = await moved.ledger.post(posted(institution("B-NEW")), ADMIN)
        conn = await connect(other_dsn)
        try:
            report = await verify_chain(conn)
        finally:
            await conn.close()
    assert result.receipts[0].position == head + 1
    assert (report.ok, report.verified_through) == (True, head + 1)


async def test_an_imported_ledger_recognises_a_repost_of_an_exported_event(
    runtime: Runtime, other_dsn: str
) -> None:
    head = await play_all(runtime.ledger)
    await _import(other_dsn, await _export(runtime.dsn))
    last = (await _log(runtime.dsn))[-1]
    again = envelope("guarantee.released", {"guarantee_id": "G-2"}, event_id=last[4])
    async with running(other_dsn) as moved:
        result = await moved.ledger.post(posted(again), actor("guarantor", GUARANTOR_ID))
    assert (result.replayed, result.receipts[0].position) == (True, head)


async def test_an_imported_ledger_refuses_what_the_original_would(
    runtime: Runtime, other_dsn: str
) -> None:
    await play_all(runtime.ledger)
    await _import(other_dsn, await _export(runtime.dsn))
    again = envelope("sme.registered", {"sme_id": SME_ID, "name": "Photonics again"})
    async with running(other_dsn) as moved:
        with pytest.raises(Refusal) as refused:
            await moved.ledger.post(posted(again), actor("guarantor", GUARANTOR_ID))
    assert refused.value.slug == "invalid-state"


async def test_import_into_a_ledger_that_has_events_is_refused(
    runtime: Runtime, other_dsn: str
) -> None:
    await play_all(runtime.ledger)
    data = await _export(runtime.dsn)
    await _import(other_dsn, data)
    with pytest.raises(ImportRefused, match="not empty"):
        await _import(other_dsn, data)


async def test_import_under_a_running_service_is_refused_and_stores_nothing(
    runtime: Runtime, other_dsn: str, log_signer: Signer
) -> None:
    """Its sealer would go on from its own idea of the head and sign nothing more."""
    await play_all(runtime.ledger)
    data = await _export(runtime.dsn)
    async with running(other_dsn, signer=log_signer) as service:
        async with asyncio.timeout(10):
            while not service.sealer.active:  # its sealer has taken the sealing lock
                await asyncio.sleep(0.02)
        with pytest.raises(ImportRefused, match="stop every instance first"):
            await _import(other_dsn, data)
    assert await _log(other_dsn) == []


async def test_an_export_cut_at_a_line_break_is_refused_unless_asked_for(
    runtime: Runtime, other_dsn: str
) -> None:
    """Cut anywhere before its log line, a file would import as a shorter log."""
    head = await play_all(runtime.ledger)
    lines = (await _export(runtime.dsn)).splitlines(keepends=True)
    cut = b"".join(lines[: head // 2])
    with pytest.raises(ImportRefused, match=f"ends after event {head // 2} without the log line"):
        await _import(other_dsn, cut)
    assert await _log(other_dsn) == []
    conn = await asyncpg.connect(other_dsn)
    try:
        done = await import_log(conn, io.BytesIO(cut), without_log=True)
    finally:
        await conn.close()
    assert done.count == head // 2


async def test_an_export_changed_after_it_was_written_is_refused_and_stores_nothing(
    runtime: Runtime, other_dsn: str
) -> None:
    await play_all(runtime.ledger)
    data = (await _export(runtime.dsn)).replace(b'"amount":100000000', b'"amount":10000000', 1)
    with pytest.raises(ImportRefused, match="does not match its hash"):
        await _import(other_dsn, data)
    assert await _table(other_dsn, "events") == []


async def test_an_export_with_a_line_left_out_is_refused(runtime: Runtime, other_dsn: str) -> None:
    await play_all(runtime.ledger)
    lines = (await _export(runtime.dsn)).splitlines(keepends=True)
    with pytest.raises(ImportRefused, match="position 6, expected 5"):
        await _import(other_dsn, b"".join(lines[:4] + lines[5:]))


async def test_a_line_that_is_not_json_is_refused_naming_it(
    runtime: Runtime, other_dsn: str
) -> None:
    await play_all(runtime.ledger)
    lines = (await _export(runtime.dsn)).splitlines(keepends=True)
    with pytest.raises(ImportRefused, match="line 3"):
        await _import(other_dsn, b"".join([*lines[:2], b"{not json\n", *lines[3:]]))


async def test_exporting_a_ledger_with_a_broken_chain_is_refused(runtime: Runtime) -> None:
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await tamper.change_body(su, 14, b'"loan_amount":500000000', b'"loan_amount":400000000')
    with pytest.raises(ExportError, match="position 14"):
        await _export(runtime.dsn)


async def test_exporting_a_ledger_with_a_changed_fingerprint_is_refused(runtime: Runtime) -> None:
    """The export line carries the stored fingerprint, which the chain does not cover."""
    await play_all(runtime.ledger)
    async with tamper.superuser(runtime.dsn) as su:
        await su.execute(
            "UPDATE events SET fingerprint = sha256(fingerprint) WHERE seq = $1",
            await tamper.seq_at(su, 11),
        )
    with pytest.raises(ExportError, match="position 11: its fingerprint"):
        await _export(runtime.dsn)


async def test_an_export_with_a_changed_fingerprint_is_refused_and_stores_nothing(
    runtime: Runtime, other_dsn: str
) -> None:
    await play_all(runtime.ledger)
    lines = (await _export(runtime.dsn)).splitlines(keepends=True)
    fingerprint = decode_line(lines[6]).fingerprint
    lines[6] = lines[6].replace(fingerprint.encode(), b"0" * 64)
    with pytest.raises(ImportRefused, match="line 7: position 7 carries a fingerprint"):
        await _import(other_dsn, b"".join(lines))
    assert await _table(other_dsn, "events") == []


def test_export_lines_with_unknown_fields_do_not_parse() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_line(b'{"position":1,"hash":"","fingerprint":"","event":{},"extra":1}')


async def test_an_imported_ledger_builds_the_same_read_models(
    runtime: Runtime, other_dsn: str
) -> None:
    await play_all(runtime.ledger)
    await _import(other_dsn, await _export(runtime.dsn))
    bodies = []
    for dsn in (runtime.dsn, other_dsn):
        runner = ProjectionRunner(dsn)
        try:
            await runner.catch_up()
        finally:
            await runner.close()
        conn = await asyncpg.connect(dsn)
        try:
            bodies.append(await readmodels.live(conn))
        finally:
            await conn.close()
    assert None not in bodies[0].values()
    assert bodies[1] == bodies[0]


async def test_an_export_holding_an_id_the_ledger_refuses_is_refused_naming_its_pattern(
    runtime: Runtime, other_dsn: str
) -> None:
    """Imported events are checked as posts are: an id ending in a line break, which
    0.1.0 accepted, is refused, and the message gives the pattern as the API does."""
    await play_all(runtime.ledger)
    lines = (await _export(runtime.dsn)).splitlines(keepends=True)
    first = msgspec.json.decode(bytes(decode_line(lines[0]).event))
    institution_id = first["data"]["institution_id"].encode()
    quoted = b'"' + institution_id + b'"'
    lines[0] = lines[0].replace(quoted, b'"' + institution_id + b'\\n"', 1)
    with pytest.raises(ImportRefused) as refused:
        await _import(other_dsn, b"".join(lines))
    assert str(refused.value) == (
        "line 1: its event is not one the ledger accepts: Expected `str` matching regex "
        "'^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' - at `$.institution_id`"
    )
    assert await _table(other_dsn, "events") == []
