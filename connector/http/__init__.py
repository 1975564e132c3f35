"""Outbound HTTP for adapters: one session factory, the retry/wait policy, the shared rate budget.

``ConnectionSession`` (session.py) is what adapters receive as ``self.http``; it combines ``make_session``
(factory.py), the Retry-After aware policy (retry.py) and ``RateBudget`` (budget.py).
"""

from __future__ import annotations

from connector.http.budget import BudgetKey, RateBudget
from connector.http.factory import make_session
from connector.http.retry import parse_retry_after
from connector.http.session import ConnectionSession
from connector.ports import RateObservation

__all__ = [
    "BudgetKey",
    "ConnectionSession",
    "RateBudget",
    "RateObservation",
    "make_session",
    "parse_retry_after",
]
