"""Read-only views for the dashboard, the JSON API and the CLI; every one is scoped to an organisation.

The read side of the product, beside ``connector.services`` (which writes): it sits above storage and the pipeline's
steps and below the dashboard, the API and the CLI. Split by what a person is looking at: ``overview`` (the
organisation, its administrations and connections), ``worklist`` (what needs a person today) and ``lookups``
(single invoices and debtors, and why they did or did not get a step). Callers use ``connector.queries.<name>``.
"""

from __future__ import annotations

from connector.queries.connections import ConnectionView, connections
from connector.queries.lookups import debtor_flags, debtors, invoices, why
from connector.queries.overview import (
    MESSAGE_CHANNELS,
    AdministrationView,
    administrations,
    as_dicts,
    connection_health,
    debtor_names,
    example_reminded_invoice,
    messages_sent,
    organisation_name,
)
from connector.queries.worklist import (
    RECENT_DAYS,
    credit_stops,
    dead_letters,
    over_credit_limit,
    phone_tasks,
    previews,
    todays_actions,
    tomorrow,
    worklist,
)

__all__ = [
    "debtor_flags",
    "MESSAGE_CHANNELS",
    "RECENT_DAYS",
    "AdministrationView",
    "administrations",
    "as_dicts",
    "connection_health",
    "ConnectionView",
    "connections",
    "credit_stops",
    "dead_letters",
    "debtor_names",
    "debtors",
    "example_reminded_invoice",
    "invoices",
    "messages_sent",
    "organisation_name",
    "over_credit_limit",
    "phone_tasks",
    "previews",
    "todays_actions",
    "tomorrow",
    "why",
    "worklist",
]
