"""The explicit list of adapters (no scanning): provider id -> adapter class."""

from __future__ import annotations

from adapters.exact.provider import ExactAdapter
from adapters.moneybird.provider import MoneybirdAdapter
from adapters.xero.provider import XeroAdapter
from connector.ports import AccountingAdapter

ADAPTERS: dict[str, type[AccountingAdapter]] = {
    "exact": ExactAdapter,
    "moneybird": MoneybirdAdapter,
    "xero": XeroAdapter,
}


def adapter_class(provider: str) -> type[AccountingAdapter]:
    try:
        return ADAPTERS[provider]
    except KeyError:
        raise KeyError(f"unknown provider {provider!r}; known: {', '.join(sorted(ADAPTERS))}") from None
