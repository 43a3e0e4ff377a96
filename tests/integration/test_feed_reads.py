"""Feeds read the log through half of the pool at most: streams and long polls, however many,
leave connections to posts and reads."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from ledger.store.reads import FeedReads, feed_slots


def test_a_pool_of_ten_gives_the_feeds_five_and_one_of_one() -> None:
    assert (feed_slots(10), feed_slots(4), feed_slots(1)) == (5, 2, 1)


async def test_feeds_beyond_their_slots_wait_and_the_pool_still_serves_others(
    db_dsn: str,
) -> None:
    """Twelve feed reads of 0.3 s through 2 slots of a pool of 4 run two at a time (the
    soak saw 200 streams take a pool of 10 and posts refused); a post's query meanwhile
    gets a connection at once."""
    pool = await asyncpg.create_pool(db_dsn, min_size=4, max_size=4)
    assert pool is not None
    try:
        feeds = FeedReads(pool, feed_slots(4))
        started = time.monotonic()
        reads = [asyncio.create_task(feeds.fetch("SELECT pg_sleep(0.3)")) for _ in range(12)]
        await asyncio.sleep(0.1)
        async with asyncio.timeout(1.0):  # a connection for others, not after the feeds
            assert await pool.fetchval("SELECT 1") == 1
        await asyncio.gather(*reads)
        assert time.monotonic() - started >= 6 * 0.3
    finally:
        await pool.close()
