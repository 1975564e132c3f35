"""Tests of connector.http: session, retry policy, rate budget, logging redaction."""
