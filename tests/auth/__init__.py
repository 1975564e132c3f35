"""Tests of connector.auth: token crypto, OAuth calls, TokenManager."""
