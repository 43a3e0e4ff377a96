"""Runnable examples of using the ledger."""
