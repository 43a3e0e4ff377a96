"""Released migrations are never edited: each file's SHA-256, which the migrator records in
schema_migrations.checksum and compares on every start, is still what was released."""

from __future__ import annotations

from ledger.store.migrate import shipped_migrations

# As recorded by the migrator (schema_migrations.checksum) in every database these reached.
RELEASED = {
    1: "cee6b952e06c4b450c67b58cf5939cf814d6f8a289191151bfae39c7187ee774",
    2: "7dd4deff42221a99949dd909753bed69baeaf8f4c3260cfc0987bb76fe41a42b",
    3: "29ee08f12ca9862e7b6348dc23c7c7a382fcd74fd32db53d4cb185ccea848c27",
    4: "25f87c804e05ae67e618777dd72b4695a41372a1973e61a2d17fddccabbeda1e",
    5: "dc4b2576974cd248c30d1b81f163c837fa43b8097862119f947b70b7e476cb0a",
    7: "2d56f428ee7e6a65fb6d5ff8a8ffc7c8c92ece02c914ad0b95be7bbdc0aaec8a",
    8: "f729f35d65d3da28a264193a8d15ad4a6d9d14c3d239ca5f7194fcdfe7f3ced3",
    9: "6cd024f25327e1e585b8a5cd96bad14e77997a06c6a0f2572c5789ee35421f06",
    10: "f2b3c03173304cc2ef370d7cd6780c26fa410194d4abcb9a6735367b8808a2b6",
    11: "90b0b183609808ea56a3d2b73ca2b53f03b3d84969e791a4ef9d801d2b8dad2d",
    12: "dfc8056f734245819c25e34e74fa301ddf8399f271c569029d46958dabed6bbc",
}


def test_every_released_migration_still_has_the_checksum_recorded_for_it() -> None:
    shipped = {m.version: m.checksum.hex() for m in shipped_migrations()}
    assert {v: shipped.get(v) for v in RELEASED} == RELEASED
