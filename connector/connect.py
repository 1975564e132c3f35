"""Connect: the OAuth authorisation of a provider account, from the authorize URL to the first sync.

Where everything starts for an organisation: the web app's ``/connect/<provider>`` and ``/oauth/<provider>/callback``
routes and ``dunning connect`` call it. ``start_connect`` stores a ``state`` (bound to the organisation, with the
PKCE verifier where the provider supports it) and returns the authorize URL; ``complete_connect`` checks that
state, exchanges the code, stores the tokens encrypted, discovers the administrations (``connector.sync``) and
registers webhooks where the provider lets us, all or nothing: a step that fails removes what the earlier ones
stored. The caller then enqueues the first full sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog

from connector.auth.oauth import authorize_url, exchange_code, new_pkce_pair, new_state
from connector.errors import ConnectorError, NotSupported, PermanentError
from connector.model import Capability, TokenSet
from connector.registry import adapter_class
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction
from connector.sync import discover_administrations

log = structlog.get_logger(__name__)
STATE_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class Connected:
    connection_id: int
    administrations: int
    webhooks: int
    org_id: int = 0  # the organisation the authorisation was started for (its state says which)


def redirect_uri(rt: Runtime, provider: str, base_url: str | None = None) -> str:
    """The OAuth callback URL under the configured public base URL."""
    return f"{(base_url or rt.settings.base_url).rstrip('/')}/oauth/{provider}/callback"


def start_connect(rt: Runtime, org_id: int, provider: str, redirect: str) -> str:
    """Remember a fresh ``state`` for ``org_id`` and return the provider's authorize URL."""
    cls = adapter_class(provider)
    state = new_state()
    verifier, _challenge = new_pkce_pair() if cls.oauth.pkce else (None, None)
    expires_at = rt.clock() + STATE_LIFETIME
    with transaction(rt.sessions) as s:
        repos.purge_oauth_states(s, org_id, rt.clock())  # states whose redirect never came back go with each new one
        repos.add_oauth_state(
            s, org_id, state, provider=provider, code_verifier=verifier, redirect_uri=redirect, expires_at=expires_at
        )
    return authorize_url(cls, rt.settings.provider(provider), redirect, state, verifier)


def complete_connect(
    rt: Runtime,
    provider: str,
    code: str,
    state: str,
    *,
    expected_org: int | None = None,
    reconnect: int | None = None,
) -> Connected:
    """Finish the OAuth flow. Refuses an unknown, expired, reused or foreign ``state``. With ``reconnect`` (a
    connection of the state's organisation and this provider) the new grant replaces that connection's tokens
    instead of making a new connection, so its administrations and their history stay (docs/onboarding.md#connections).
    """
    now = rt.clock()
    with transaction(rt.sessions) as s:
        pending = repos.get_oauth_state(s, state)
        if pending is None or pending.provider != provider or pending.expires_at < now:
            raise PermanentError("this authorisation link is unknown or expired: start connecting again")
        if expected_org is not None and pending.org_id != expected_org:
            raise PermanentError("this authorisation belongs to another organisation")
        repos.delete_oauth_state(s, pending.org_id, state)  # single use
        org_id, verifier, redirect = pending.org_id, pending.code_verifier, pending.redirect_uri
    cls = adapter_class(provider)
    tokens = exchange_code(cls, rt.settings.provider(provider), code, redirect, verifier, now=now)
    if reconnect is not None:
        return _reconnect(rt, org_id, provider, reconnect, tokens)
    with transaction(rt.sessions) as s:
        connection = repos.create_connection(s, org_id, provider, display_name=cls.name)
        connection_id = connection.id
    try:
        rt.tokens.store_initial(connection_id, org_id, tokens)
        administrations = discover_administrations(rt, org_id, connection_id)
        webhooks = register_webhooks(rt, org_id, connection_id)
        with transaction(rt.sessions) as s:
            repos.audit(s, org_id, "connect", f"connected {cls.name}: {len(administrations)} administration(s)")
    except Exception as exc:
        _undo(rt, org_id, connection_id)
        if isinstance(exc, ConnectorError):
            raise PermanentError(
                f"connecting {cls.name} did not complete ({exc}); nothing of it was kept: connect again",
                provider=provider,
            ) from exc
        raise
    return Connected(connection_id, len(administrations), webhooks, org_id)


def _reconnect(rt: Runtime, org_id: int, provider: str, connection_id: int, tokens: TokenSet) -> Connected:
    """A re-authorisation: the connection that needed it gets the new tokens, is active again and its
    administrations are discovered again (new ones join, known ones keep their history)."""
    with rt.sessions() as s:
        connection = repos.get_connection(s, org_id, connection_id)  # NotFound outside the organisation
        if connection.provider != provider:
            raise PermanentError(f"connection {connection_id} is not a {provider} connection: reconnect from its row")
    rt.tokens.store_initial(connection_id, org_id, tokens)
    with transaction(rt.sessions) as s:
        repos.set_connection_status(s, org_id, connection_id, "active")
    administrations = discover_administrations(rt, org_id, connection_id)
    webhooks = register_webhooks(rt, org_id, connection_id)
    with transaction(rt.sessions) as s:
        repos.audit(s, org_id, "reconnect", f"reconnected {provider}: {len(administrations)} administration(s)")
    return Connected(connection_id, len(administrations), webhooks, org_id)


@dataclass(frozen=True)
class Disconnected:
    administrations: int
    webhooks_removed: int
    webhooks_left: int  # registered at the provider but not removable from here: remove them in the package


def disconnect(rt: Runtime, org_id: int, connection_id: int, who: str = "") -> Disconnected:
    """Remove a connection with its tokens and administrations (and what was synced of them), after removing the
    webhooks we registered at the provider where its adapter can (docs/onboarding.md#connections); audited. A
    connection of another organisation is ``NotFound``."""
    with rt.sessions() as s:
        connection = repos.get_connection(s, org_id, connection_id)
        administrations = repos.list_administrations(s, org_id, connection_id)
        registered = [(a.provider_tenant_id, a.webhook_ref) for a in administrations]
        count = len(registered)
    removed = 0
    if any(ref for _, ref in registered) and connection.status == "active":
        adapter = rt.adapter_for(connection)
        for tenant, ref in registered:
            if not ref:
                continue
            try:
                adapter.remove_webhook(tenant, ref)
            except ConnectorError as exc:  # NotSupported too: the package's developer portal holds it
                log.warning("webhook.removal_failed", connection_id=connection_id, error=str(exc))
                continue
            removed += 1
    left = sum(1 for _, ref in registered if ref) - removed
    with transaction(rt.sessions) as s:
        repos.delete_connection(s, org_id, connection_id)
        repos.audit(
            s,
            org_id,
            "disconnect",
            f"disconnected {connection.provider}: {count} administration(s), {removed} webhook(s) removed",
            data={"connection_id": connection_id, "by": who, "webhooks_left": left},
        )
    log.info("connect.disconnected", connection_id=connection_id, administrations=count)
    return Disconnected(count, removed, left)


def _undo(rt: Runtime, org_id: int, connection_id: int) -> None:
    """A connect that failed after its connection row was made leaves nothing behind: the connection, its tokens
    and administrations go (docs/architecture.md#connect-completes-or-leaves-nothing). Subscriptions a provider
    already made are found again by the next connect (Exact keeps those for our URL)."""
    with transaction(rt.sessions) as s:
        repos.delete_connection(s, org_id, connection_id)
    log.warning("connect.undone", connection_id=connection_id)


def register_webhooks(rt: Runtime, org_id: int, connection_id: int) -> int:
    """Create a webhook per administration where the provider registers them through its API (Moneybird)."""
    with rt.sessions() as s:
        connection = repos.get_connection(s, org_id, connection_id)
        administrations = repos.list_administrations(s, org_id, connection_id)
    adapter = rt.adapter_for(connection)
    if Capability.WEBHOOKS not in adapter.capabilities:
        return 0
    url = f"{rt.settings.base_url.rstrip('/')}/webhooks/{connection.provider}"
    created = 0
    for adm in administrations:
        if adm.webhook_ref:
            continue
        try:
            registration = adapter.register_webhook(adm.provider_tenant_id, url)
        except NotSupported:
            return created  # configured in the provider's developer portal instead (Xero, Exact app settings)
        except ConnectorError as exc:
            log.warning("webhook.registration_failed", administration_id=adm.id, error=str(exc))
            continue
        with transaction(rt.sessions) as s:
            row = repos.get_administration(s, org_id, adm.id)
            row.webhook_ref = registration.provider_ref
            if registration.secret:
                binding = rt.webhook_secret_binding(connection.provider, adm.provider_tenant_id)
                row.webhook_secret_ciphertext = rt.cipher.encrypt(binding, {"secret": registration.secret})
        created += 1
    return created
