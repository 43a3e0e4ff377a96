"""`make bench`: the ledger's throughput, latency and scale beside raw PostgreSQL, in one run."""
