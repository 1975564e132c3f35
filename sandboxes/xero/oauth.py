"""Xero identity as the sandbox emulates it: authorize with PKCE (S256), token grants, rotation, connections.

Mixed into the sandbox state object. Access tokens live 30 minutes; every refresh rotates the refresh token and
the previous one stays usable for a 30-minute grace unless its successor was used; unused refresh tokens die
after 60 days; everything else is ``400 {"error":"invalid_grant"}`` (docs/providers/xero.md#tokens). Consent connects
every organisation (``GET /connections``); ``DELETE /connections/{id}`` disconnects one
(docs/providers/xero.md#tenants).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

ACCESS_TTL = timedelta(minutes=30)
REFRESH_GRACE = timedelta(minutes=30)
REFRESH_LIFETIME = timedelta(days=60)
CODE_TTL = timedelta(minutes=5)
KNOWN_SCOPES = frozenset(
    "openid profile email offline_access accounting.transactions accounting.transactions.read "
    "accounting.contacts accounting.contacts.read accounting.settings accounting.settings.read "
    "accounting.attachments accounting.attachments.read accounting.reports.read accounting.invoices "
    "accounting.invoices.read accounting.payments accounting.payments.read accounting.banktransactions "
    "accounting.banktransactions.read accounting.manualjournals accounting.manualjournals.read "
    "accounting.reports.aged.read".split()
)


class TokenError(Exception):
    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error, self.status = error, status


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class OAuthState:
    """Codes, tokens and connections. Expects ``now()``, ``lock``, ``orgs``, ``client_id``/``client_secret``."""

    def __init__(self) -> None:
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.connections: dict[str, dict[str, Any]] = {}
        self.consent_tenants: list[str] | None = None  # None: the user ticks every organisation
        self.token_calls = 0

    # the host class provides these
    client_id: str
    client_secret: str
    orgs: dict[str, Any]

    def now(self) -> datetime:
        raise NotImplementedError

    def changed(self) -> None:
        raise NotImplementedError

    # --- authorize ---------------------------------------------------------------------------------------
    def authorize(self, args: dict[str, str]) -> str:
        """Validate an authorize request and consent; return the redirect URL (code or error)."""
        if args.get("client_id") != self.client_id:
            raise TokenError("unauthorized_client")
        redirect_uri = args.get("redirect_uri", "")
        if not redirect_uri:
            raise TokenError("invalid_request")
        state = args.get("state", "")
        scopes = args.get("scope", "").split()
        error = None
        if args.get("response_type") != "code":
            error = "unsupported_response_type"
        elif not scopes or any(s not in KNOWN_SCOPES for s in scopes):
            error = "invalid_scope"
        elif args.get("code_challenge") and args.get("code_challenge_method", "plain") != "S256":
            error = "invalid_request"  # docs/providers/xero.md#endpoints: S256 only
        if error:
            return _with_query(redirect_uri, {"error": error, "state": state})
        code = secrets.token_urlsafe(24)
        auth_event = str(uuid.uuid4())
        self.codes[code] = {
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "expires": self.now() + CODE_TTL,
            "challenge": args.get("code_challenge"),
            "used": False,
            "auth_event": auth_event,
        }
        self._connect(auth_event)
        self.changed()
        return _with_query(redirect_uri, {"code": code, "scope": " ".join(scopes), "state": state})

    def _connect(self, auth_event: str) -> None:
        now = self.now()
        by_tenant = {c["tenantId"]: c for c in self.connections.values()}
        for tenant_id in self.consent_tenants or list(self.orgs):
            existing = by_tenant.get(tenant_id)
            if existing:
                existing.update(authEventId=auth_event, updatedDateUtc=now)
                continue
            cid = str(uuid.uuid4())
            self.connections[cid] = {
                "id": cid,
                "authEventId": auth_event,
                "tenantId": tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": self.orgs[tenant_id].name,
                "createdDateUtc": now,
                "updatedDateUtc": now,
            }

    # --- token endpoint ----------------------------------------------------------------------------------
    def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        self.token_calls += 1
        public = self._client_auth(form, basic)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._exchange(form, public)
        if grant == "refresh_token":
            return self._refresh(form.get("refresh_token", ""))
        raise TokenError("unsupported_grant_type")

    def _client_auth(self, form: dict[str, str], basic: tuple[str, str] | None) -> bool:
        if basic is not None:
            if basic[0] != self.client_id or not hmac.compare_digest(basic[1], self.client_secret):
                raise TokenError("invalid_client")
            return False
        if form.get("client_id") != self.client_id:
            raise TokenError("invalid_client")
        secret = form.get("client_secret")
        if secret is not None:
            if not hmac.compare_digest(secret, self.client_secret):
                raise TokenError("invalid_client")
            return False
        return True  # PKCE app: client_id in the body, no secret (docs/providers/xero.md#endpoints)

    def _exchange(self, form: dict[str, str], public: bool) -> dict[str, Any]:
        code = self.codes.get(form.get("code", ""))
        if code is None or code["used"] or code["expires"] < self.now():
            raise TokenError("invalid_grant")
        if code["redirect_uri"] != form.get("redirect_uri"):
            raise TokenError("invalid_grant")
        challenge = code["challenge"]
        if challenge or public:
            verifier = form.get("code_verifier", "")
            computed = _b64url(hashlib.sha256(verifier.encode()).digest())
            if not challenge or not 43 <= len(verifier) <= 128 or not hmac.compare_digest(computed, challenge):
                raise TokenError("invalid_grant")
        code["used"] = True
        return self._issue(code["scope"], code["auth_event"])

    def _refresh(self, token: str) -> dict[str, Any]:
        now = self.now()
        record = self.refresh_tokens.get(token)
        if record is None or record["dead"] or now - record["issued"] > REFRESH_LIFETIME:
            raise TokenError("invalid_grant")
        successor = self.refresh_tokens.get(record["successor"] or "")
        if record["rotated_at"] is not None:
            if now - record["rotated_at"] > REFRESH_GRACE or (successor and successor["rotated_at"] is not None):
                raise TokenError("invalid_grant")
            if successor:
                successor["dead"] = True  # the lost response's token is replaced by a fresh one
        body = self._issue(record["scope"], record["auth_event"])
        record["rotated_at"] = record["rotated_at"] or now
        record["successor"] = body.get("refresh_token")
        return body

    def _issue(self, scope: str, auth_event: str) -> dict[str, Any]:
        now = self.now()
        access = self._jwt(scope, auth_event, now)
        self.access_tokens[access] = {"expires": now + ACCESS_TTL, "scope": scope, "auth_event": auth_event}
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": int(ACCESS_TTL.total_seconds()),
            "token_type": "Bearer",
            "scope": scope,
        }
        if "offline_access" in scope.split():
            refresh = secrets.token_hex(32)
            self.refresh_tokens[refresh] = {
                "issued": now,
                "scope": scope,
                "auth_event": auth_event,
                "rotated_at": None,
                "successor": None,
                "dead": False,
            }
            body["refresh_token"] = refresh
        if "openid" in scope.split():
            body["id_token"] = self._jwt("openid", auth_event, now)
        self.changed()
        return body

    def _jwt(self, scope: str, auth_event: str, now: datetime) -> str:
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {
            "nbf": int(now.timestamp()),
            "exp": int((now + ACCESS_TTL).timestamp()),
            "iss": "https://identity.xero.com",
            "client_id": self.client_id,
            "scope": scope.split(),
            "authentication_event_id": auth_event,
            "jti": secrets.token_hex(8),
        }
        payload = _b64url(json.dumps(claims).encode())
        signature = _b64url(hmac.new(self.client_secret.encode(), f"{header}.{payload}".encode(), "sha256").digest())
        return f"{header}.{payload}.{signature}"

    # --- resource-server checks ----------------------------------------------------------------------------
    def bearer(self, authorization: str) -> tuple[dict[str, Any] | None, str]:
        """Token record for an Authorization header, or None and the 401 Detail Xero would give."""
        token = authorization[7:] if authorization.startswith("Bearer ") else ""
        record = self.access_tokens.get(token)
        if record is None:
            return None, "AuthenticationUnsuccessful"
        if record["expires"] <= self.now():
            return None, f"TokenExpired: token expired at {record['expires']:%m/%d/%Y %H:%M:%S}"
        return record, ""

    def tenant_connected(self, tenant: str) -> bool:
        return tenant in self.orgs and any(c["tenantId"] == tenant for c in self.connections.values())

    def delete_connection(self, connection_id: str) -> bool:
        found = self.connections.pop(connection_id, None) is not None
        self.changed()
        return found

    def revoke(self, token: str) -> None:
        """Revoking the refresh token drops the grant and every connection of it (docs/providers/xero.md#endpoints)."""
        record = self.refresh_tokens.get(token)
        if record is not None:
            for other in self.refresh_tokens.values():
                if other["auth_event"] == record["auth_event"]:
                    other["dead"] = True
            self.connections.clear()
            for access in [t for t, r in self.access_tokens.items() if r["auth_event"] == record["auth_event"]]:
                del self.access_tokens[access]
        self.changed()


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode({k: v for k, v in params.items() if v})}"
