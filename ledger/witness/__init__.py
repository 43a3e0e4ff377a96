"""Witnessing the log: what the ledger accepts, and the witness that cosigns."""
