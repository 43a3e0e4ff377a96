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
    13: "0286cb3c8819b8bef312232ce61868e2a8ce439a86c523e8530948b3a95d3248",
    15: "f5e2f832151f10245523d93b1f1cdc5c2c33f0a0daa352c12d2e1b48c5e9199c",
    16: "7340ea0b92f73810703ec50b9709a5e8270cca4c7c6e86d7a9bead074000f175",
    20: "8983155ffe49f7155be35966512ebb03d749a20dfc706a404d011aeececaf377",
    21: "0c6dfab0694adb0d0207a89a38426ee6315199a185d1768cd79725119dc05293",
    22: "3d39af946b24e91e91173e3fd3629df1a88b64f7e87c06f1638bfcbf7294e3bf",
    23: "618f6cfd49beb0395c5847e3421b41af1bcbae9ec0b468b257e8a06211d3e7c4",
    24: "52c267c47b25dd5061788d68225a9755f71694c3bd0758549d4a0ee2ba41f1ba",
    25: "a14ce019d8dcfc15901fa49304a5a8d88e892daa8224c0be4a21e3b9396c0894",
    26: "625dd66b08401085d9f501ab7a628e7418f6d1526f7ae52cb0def2f516d95505",
    27: "6270fa397fa6a1b24696c1ad2f31d6ed31e16fe98e22536d009b5355fe806baf",
}


def test_every_released_migration_still_has_the_checksum_recorded_for_it() -> None:
    shipped = {m.version: m.checksum.hex() for m in shipped_migrations()}
    assert {v: shipped.get(v) for v in RELEASED} == RELEASED
