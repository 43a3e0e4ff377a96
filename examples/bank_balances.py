"""A downstream service: in-force guarantee balances per bank, kept from the ledger's feed.

Run it beside a ledger (an auditor key reads the feed) with a PostgreSQL database of
its own:

    python -m examples.bank_balances --url http://127.0.0.1:8080 \\
        --key "$AUDITOR_KEY" --dsn postgresql://postgres@127.0.0.1:5432/balances

It keeps two tables in that database: `example_guarantees` (each guarantee's bank,
balance and whether it is in force) and `example_bank_balances` (per bank, the sum of
its guarantees in force, and how many events moved it). Each page of the feed is
applied together with the consumer's position in one transaction, so the tables
never count an event twice or miss one, however often the service is stopped or
killed: `ledger.client.Consumer` resumes after the last page it committed.

The balance follows the ledger's rules: issued for the loan amount; a repayment
lowers it (not below 0); a renewal may set it; a compensation lowers it by the
approved amount; a release or a closed claim takes the guarantee out of force.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import asyncpg

from ledger.client import Consumer, Event, LedgerClient

# One implicit transaction; the lock lets copies started together create the tables in
# turn (two sessions running CREATE TABLE IF NOT EXISTS at once can fail one).
SCHEMA = """
SELECT pg_advisory_xact_lock(hashtext('examples.bank_balances'));
CREATE TABLE IF NOT EXISTS example_guarantees (
    guarantee_id text PRIMARY KEY,
    bank_id      text NOT NULL,
    balance      bigint NOT NULL,
    in_force     boolean NOT NULL
);
CREATE TABLE IF NOT EXISTS example_bank_balances (
    bank_id  text PRIMARY KEY,
    in_force bigint NOT NULL,
    events   bigint NOT NULL
);
"""


@dataclass(frozen=True)
class Guarantee:
    """What the service keeps of one guarantee."""

    bank_id: str
    balance: int
    in_force: bool

    @property
    def in_force_balance(self) -> int:
        """The balance while in force, else 0."""
        return self.balance if self.in_force else 0


def step(guarantee: Guarantee | None, event: Event) -> Guarantee | None:
    """The guarantee after `event` (None: the event does not concern a guarantee's balance)."""
    data: dict[str, Any] = event.data
    if event.type == "guarantee.issued":
        return Guarantee(data["bank_id"], int(data["loan_amount"]), True)
    if guarantee is None:
        return None
    match event.type:
        case "loan.repaid":
            return replace(guarantee, balance=max(0, guarantee.balance - int(data["amount"])))
        case "guarantee.renewed" if data.get("balance") is not None:
            return replace(guarantee, balance=int(data["balance"]))
        case "compensation.paid":
            approved = int((event.derived or {}).get("approved_amount", 0))
            return replace(guarantee, balance=max(0, guarantee.balance - approved))
        case "guarantee.released" | "claim.closed":
            return replace(guarantee, in_force=False)
    return None


def fold(events: Iterable[Event]) -> dict[str, tuple[int, int]]:
    """Per bank: (in-force balance, events that moved it), folded over the whole log."""
    guarantees: dict[str, Guarantee] = {}
    banks: dict[str, tuple[int, int]] = {}
    for event in events:
        gid = event.data.get("guarantee_id")
        if not isinstance(gid, str):
            continue
        before = guarantees.get(gid)
        after = step(before, event)
        if after is None:
            continue
        guarantees[gid] = after
        balance, count = banks.get(after.bank_id, (0, 0))
        delta = after.in_force_balance - (before.in_force_balance if before else 0)
        banks[after.bank_id] = (balance + delta, count + 1)
    return banks


async def apply(conn: asyncpg.Connection, event: Event) -> None:
    """The consumer's handler: move the guarantee and its bank, on the page's transaction."""
    gid = event.data.get("guarantee_id")
    if not isinstance(gid, str):
        return
    row = await conn.fetchrow(
        "SELECT bank_id, balance, in_force FROM example_guarantees WHERE guarantee_id = $1",
        gid,
    )
    before = None if row is None else Guarantee(row["bank_id"], row["balance"], row["in_force"])
    after = step(before, event)
    if after is None:
        return
    await conn.execute(
        """INSERT INTO example_guarantees (guarantee_id, bank_id, balance, in_force)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (guarantee_id) DO UPDATE SET balance = $3, in_force = $4""",
        gid,
        after.bank_id,
        after.balance,
        after.in_force,
    )
    delta = after.in_force_balance - (before.in_force_balance if before else 0)
    await conn.execute(
        """INSERT INTO example_bank_balances (bank_id, in_force, events) VALUES ($1, $2, 1)
           ON CONFLICT (bank_id) DO UPDATE
           SET in_force = example_bank_balances.in_force + $2,
               events = example_bank_balances.events + 1""",
        after.bank_id,
        delta,
    )


async def balances(pool: asyncpg.Pool) -> dict[str, tuple[int, int]]:
    """The table as kept: per bank, (in-force balance, events that moved it)."""
    rows = await pool.fetch("SELECT bank_id, in_force, events FROM example_bank_balances")
    return {r["bank_id"]: (int(r["in_force"]), int(r["events"])) for r in rows}


async def serve(url: str, key: str, dsn: str, *, until: int | None = None) -> int:
    """Keep the tables up to date until SIGINT/SIGTERM (or position `until`); return it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        await pool.execute(SCHEMA)
        async with LedgerClient(url, key) as ledger:
            consumer = Consumer(ledger, pool, "bank-balances", apply)
            return await consumer.run(stop, until=until)
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the service."""
    parser = argparse.ArgumentParser(prog="python -m examples.bank_balances", description=__doc__)
    parser.add_argument("--url", default=os.environ.get("LEDGER_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--key", default=os.environ.get("LEDGER_KEY"), help="auditor key")
    parser.add_argument("--dsn", default=os.environ.get("BALANCES_DSN"), help="own database")
    parser.add_argument("--until", type=int, help="stop once this position is applied")
    args = parser.parse_args(argv)
    if not args.key or not args.dsn:
        parser.error("give --key (or LEDGER_KEY) and --dsn (or BALANCES_DSN)")
    position = asyncio.run(serve(args.url, args.key, args.dsn, until=args.until))
    print(f"applied through position {position}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
