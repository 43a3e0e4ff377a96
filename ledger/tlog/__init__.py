"""Transparency-log arithmetic and formats: RFC 9162 trees, C2SP notes, tiles, proofs."""
