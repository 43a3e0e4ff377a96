"""PostgreSQL event store: migrations, append, sealing, reads."""
