"""Moneybird API v2 adapter: one OAuth token fans out to every administration (docs/providers/moneybird.md)."""
