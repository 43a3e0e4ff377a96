"""Witnessing the log (SPEC 8.2): what the ledger accepts, and the witness that cosigns."""
