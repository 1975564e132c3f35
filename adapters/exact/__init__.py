"""Exact Online adapter: divisions as tenants, PaymentTerms sync, HashCode webhooks, notes/documents write-back.

See ``provider.py`` for the declaration and ``docs/providers/exact.md`` for every provider fact.
"""
