"""Audit: verify the hash chain, replay the log to any point, export and import it."""
