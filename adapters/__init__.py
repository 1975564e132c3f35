"""Provider adapters: one folder per accounting package with the same file names in each.

Adapters translate between a provider's wire format and ``connector.model``. They never sleep, retry, refresh
tokens or touch storage; the core does that (see ``connector.ports``).
"""
