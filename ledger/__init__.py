"""The guarantee ledger service: rules, event store, HTTP API, CLI."""
