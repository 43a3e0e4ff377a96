"""API keys: how they look, how they are stored (hashes only) and who they stand for."""
