"""A Python client of the guarantee ledger, importable with aiohttp and msgspec alone."""
