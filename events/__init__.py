"""Event vocabulary of the guarantee ledger: one msgspec Struct per event type."""
