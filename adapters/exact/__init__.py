"""Exact Online adapter: divisions as tenants, PaymentTerms sync, HashCode webhooks, notes/documents write-back.

See ``provider.py`` for the declaration and ``../shared/reference/exact.md`` for every provider fact.
"""
