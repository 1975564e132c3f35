"""The organisation's connections as the connections page shows them: provider, status, administrations, last
sync, webhook health and dead letters.

Part of ``connector.queries``, the read side under the dashboard: one session, every read scoped to the
organisation through ``connector.storage.repos``; changing a connection (connect, reconnect, disconnect) is
``connector.connect``. A connection is ``active``, ``needs_reauth`` (the provider refused our grant: the owner
connects again) or parked by a provider's daily limit until ``parked_until`` (docs/onboarding.md#connections).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connector.runtime import Runtime
from connector.storage import repos


@dataclass(frozen=True)
class ConnectionView:
    id: int
    provider: str
    name: str
    status: str  # active | needs_reauth | parked | revoked
    parked_until: datetime | None
    administrations: tuple[str, ...]
    last_sync_at: datetime | None
    webhooks_registered: int  # administrations whose webhook we registered at the provider
    last_delivery_at: datetime | None
    dead_letters: int


def connections(rt: Runtime, org_id: int) -> list[ConnectionView]:
    """Every connection of the organisation, oldest first; parked when a daily limit holds it past now."""
    now = rt.clock()
    with rt.sessions() as s:
        health = repos.webhook_health(s, org_id)
        administrations = repos.list_administrations(s, org_id)
        views = []
        for c in repos.list_connections(s, org_id):
            own = [a for a in administrations if a.connection_id == c.id]
            parked = c.status == "active" and c.parked_until is not None and c.parked_until > now
            last, dead = health.get(c.id, (None, 0))
            views.append(
                ConnectionView(
                    id=c.id,
                    provider=c.provider,
                    name=c.display_name or c.provider,
                    status="parked" if parked else c.status,
                    parked_until=c.parked_until if parked else None,
                    administrations=tuple(a.name for a in own),
                    last_sync_at=c.last_sync_at,
                    webhooks_registered=sum(1 for a in own if a.webhook_ref),
                    last_delivery_at=last,
                    dead_letters=dead,
                )
            )
    return views
