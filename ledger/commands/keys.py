"""`ledger keys create|list|revoke`: manage the API keys of the HTTP service."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from ledger.commands import CommandError, Subparsers
from ledger.config import Settings


def register(subparsers: Subparsers) -> None:
    """Add `ledger keys create --role ROLE | --institution ID`, `keys list`, `keys revoke ID`."""
    parser = subparsers.add_parser(
        "keys",
        help="create, list and revoke API keys",
        description="Manage API keys. Only a hash of each key is stored: a key is shown "
        "once, when created, on the last line of output.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a key and print it on the last line")
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--role", choices=("admin", "auditor", "reader"), help="a plain role")
    who.add_argument("--institution", metavar="ID", help="a registered institution")
    create.set_defaults(handler=run, action="create")
    listing = actions.add_parser("list", help="list keys (ids, roles, institutions; no secrets)")
    listing.set_defaults(handler=run, action="list")
    revoke = actions.add_parser("revoke", help="revoke a key from the next request on")
    revoke.add_argument("key_id", metavar="KEY_ID")
    revoke.set_defaults(handler=run, action="revoke")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one keys action against the ledger's database (migrating it first)."""
    from ledger.auth.dsn import resolve_dsn

    # Only `create` may start a store where there is none: listing or revoking the keys
    # of a directory that holds no ledger is a mistake to name, not a new empty store.
    with resolve_dsn(settings, create=args.action == "create") as dsn:
        return asyncio.run(_run(args, dsn))


def _show_new_key(line: str) -> None:
    """Write one line of a new key's output and flush it, or say no key was created."""
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except OSError as exc:
        # Nothing more may reach that stdout, not even Python's flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        reason = exc.strerror or type(exc).__name__
        raise CommandError(
            f"could not write the new key to standard output ({reason}): no key was created"
        ) from None


async def _run(args: argparse.Namespace, dsn: str) -> int:
    import asyncpg

    from ledger.auth.keys import KeyRefused, create_key, list_keys, revoke_key
    from ledger.store.migrate import migrate, migrate_existing

    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise CommandError(f"cannot reach the ledger's database: {exc}") from None
    try:
        # Only `create` may make a ledger where there is none (see `run`).
        await (migrate if args.action == "create" else migrate_existing)(conn)
        if args.action == "create":
            # The key is committed only once it has reached standard output: a key
            # nobody could read (a full disk, a closed pipe) must not stay active.
            async with conn.transaction():
                new = await create_key(conn, role=args.role, institution_id=args.institution)
                whom = f" for {new.info.institution_id}" if new.info.institution_id else ""
                _show_new_key(f"created key {new.info.key_id} with role {new.info.role}{whom}")
                _show_new_key(new.key)
        elif args.action == "list":
            for k in await list_keys(conn):
                state = f"revoked {k.revoked_at.isoformat()}" if k.revoked_at else "active"
                print(
                    f"{k.key_id}  {k.role:<17}  {k.institution_id or '-':<20}  "
                    f"created {k.created_at.isoformat()}  {state}"
                )
        else:
            info = await revoke_key(conn, args.key_id)
            print(f"revoked key {info.key_id} ({info.role}) at {info.revoked_at}")
    except KeyRefused as exc:
        raise CommandError(str(exc)) from None
    finally:
        await conn.close()
    return 0
