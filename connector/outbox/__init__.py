"""The outbox: every message and write-back the connector owes, done exactly once.

``connector.decide`` (and the debtor-management services) queue items with deterministic idempotency keys;
``drain`` works through the pending ones: ``drain`` (freshness gate, retries, bookkeeping), ``writes`` (what the
accounting package is told), ``deliver`` (our own e-mail, letter and phone channels) and ``smtp`` (sending mail).
"""

from connector.outbox.drain import DrainReport, drain, process_item

__all__ = ["DrainReport", "drain", "process_item"]
