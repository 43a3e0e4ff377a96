"""Read models that follow the global event log."""
