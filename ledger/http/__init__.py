"""HTTP API served by aiohttp."""
