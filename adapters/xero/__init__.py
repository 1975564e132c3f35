"""Xero adapter: OAuth 2.0 with PKCE, every organisation of a grant, keyset-paged sync, webhooks, write-back."""
