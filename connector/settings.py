"""Settings from the environment (prefix ``DUNNING_``, nesting with ``__``), built once at the entry point.

``Settings`` is constructed by the CLI and by ``create_app()`` and passed down; nothing reads the environment
elsewhere. Every provider URL is a setting holding scheme and host only; adapters append the provider's paths,
so a sandbox on ``http://127.0.0.1:<port>`` stands in for any host. ``config/example.env`` documents each one.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connector import defaults
from connector.errors import ConfigurationError

VAR_DIR = Path("var")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_DATABASE_URL = re.compile(r"^(sqlite|postgresql)(\+\w+)?://", re.IGNORECASE)
_QUEUE_URL = re.compile(r"^(sqlite|rediss?)://", re.IGNORECASE)
DEMO_KEY_FILE = "demo-secret.key"  # under var_dir: the key `dunning demo` made, used while no key is configured


class ProviderConfig(BaseModel):
    """What every provider needs: OAuth client, webhook key, and whether it is enabled."""

    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    webhook_key: SecretStr = SecretStr("")
    enabled: bool = True


class MoneybirdConfig(ProviderConfig):
    base_url: str = "https://moneybird.com"
    scopes: str = "sales_invoices settings"


class XeroConfig(ProviderConfig):
    login_url: str = "https://login.xero.com"
    identity_url: str = "https://identity.xero.com"
    api_url: str = "https://api.xero.com"
    granular_scopes: bool = True  # False: the older broad accounting.transactions / accounting.contacts scopes
    credit_stop_group: str = "Credit stop"
    full_refresh_hours: int = 24  # If-Modified-Since misses some changes: full refresh of open receivables


class ExactConfig(ProviderConfig):
    base_url: str = "https://start.exactonline.nl"
    credit_stop_sets_blocked: bool = False


class SmtpConfig(BaseModel):
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password: SecretStr = SecretStr("")
    sender: str = "Debiteurenbeheer <debiteuren@example.nl>"
    enabled: bool = False


class Settings(BaseSettings):
    """All configuration. See ``config/example.env``."""

    model_config = SettingsConfigDict(env_prefix="DUNNING_", env_nested_delimiter="__", extra="ignore")

    var_dir: Path = VAR_DIR
    database_url: str = ""  # default: sqlite:///<var_dir>/dunning.db
    queue_url: str = ""  # default: SQLite huey file <var_dir>/queue.db; redis://... at scale
    queue_immediate: bool = False  # run jobs inline (tests, demo)
    queue_name: str = "dunning"  # the huey queue's name: installations sharing one Redis need one each
    rate_limit_url: str = ""  # default: SQLite bucket file <var_dir>/ratelimit.db; redis://... at scale
    secret_keys: list[SecretStr] = Field(default_factory=list)  # Fernet keys, newest first
    org: str = ""  # the organisation commands and the web app act for when several exist (``--org`` wins)
    base_url: str = "http://127.0.0.1:8000"  # public URL for OAuth redirects and webhooks
    api_rate_limit_per_minute: int = 600  # calls per API key per minute, shared by all workers
    webhook_delivery_timeout_seconds: float = 10.0  # outbound webhooks: how long a receiver may take
    trusted_proxies: int = 0  # reverse proxies whose X-Forwarded-* headers count (docs/operations.md)
    log_level: str = "INFO"
    log_json: bool = False
    http_timeout_seconds: float = 30.0
    max_retry_wait_seconds: int = 60  # a Retry-After beyond this reschedules the job instead of sleeping
    webhook_max_bytes: int = 1024 * 1024
    locale: str = "nl"
    policies_dir: Path = Field(default_factory=defaults.policies_dir)  # the packaged defaults unless set
    interest_rates_file: Path = Field(default_factory=defaults.interest_rates_file)

    moneybird: MoneybirdConfig = Field(default_factory=MoneybirdConfig)
    xero: XeroConfig = Field(default_factory=XeroConfig)
    exact: ExactConfig = Field(default_factory=ExactConfig)
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)

    @field_validator("policies_dir", mode="before")
    @classmethod
    def _packaged_policies(cls, value: object) -> object:
        return defaults.policies_dir() if value in ("", None) else value  # empty: the policies that ship

    @field_validator("interest_rates_file", mode="before")
    @classmethod
    def _packaged_rates(cls, value: object) -> object:
        return defaults.interest_rates_file() if value in ("", None) else value

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'dunning.db'}"
        if not self.queue_url:
            self.queue_url = f"sqlite:///{self.var_dir / 'queue.db'}"
        if not self.rate_limit_url:
            self.rate_limit_url = f"sqlite:///{self.var_dir / 'ratelimit.db'}"
        return self

    def problems(self) -> list[str]:
        """What is wrong with these settings, one line each naming the variable and what to write instead; empty
        when nothing is. Checked by every command before it starts (docs/operations.md#settings-checked-at-start);
        never echoes a value that could hold a password or a key."""
        found: list[str] = []
        if not _DATABASE_URL.match(self.database_url):
            found.append(
                "DUNNING_DATABASE_URL is not a database URL: write sqlite:///var/dunning.db or postgresql://user@host/db"
            )
        for name, url in (("DUNNING_QUEUE_URL", self.queue_url), ("DUNNING_RATE_LIMIT_URL", self.rate_limit_url)):
            if not _QUEUE_URL.match(url):
                found.append(f"{name} is not a queue URL: write sqlite:///var/queue.db or redis://host:6379/0")
        for position, key in enumerate(self.secret_keys, start=1):
            if not _is_fernet_key(key.get_secret_value()):
                found.append(
                    f"DUNNING_SECRET_KEYS: key {position} of {len(self.secret_keys)} is not a Fernet key: "
                    "make keys with `dunning keygen`"
                )
        for name, value in (
            ("DUNNING_HTTP_TIMEOUT_SECONDS", self.http_timeout_seconds),
            ("DUNNING_WEBHOOK_DELIVERY_TIMEOUT_SECONDS", self.webhook_delivery_timeout_seconds),
            ("DUNNING_WEBHOOK_MAX_BYTES", self.webhook_max_bytes),
            ("DUNNING_API_RATE_LIMIT_PER_MINUTE", self.api_rate_limit_per_minute),
        ):
            if not value > 0:
                found.append(f"{name} is {value}: it must be more than 0")
        if self.max_retry_wait_seconds < 0:
            found.append(f"DUNNING_MAX_RETRY_WAIT_SECONDS is {self.max_retry_wait_seconds}: it must be 0 or more")
        if self.log_level.upper() not in LOG_LEVELS:
            found.append(f"DUNNING_LOG_LEVEL {self.log_level[:20]!r} is not a log level: use {', '.join(LOG_LEVELS)}")
        return found

    def provider(self, provider_id: str) -> ProviderConfig:
        try:
            config = getattr(self, provider_id)
        except AttributeError:
            raise ConfigurationError(f"unknown provider {provider_id!r}") from None
        if not isinstance(config, ProviderConfig):
            raise ConfigurationError(f"unknown provider {provider_id!r}")
        return config

    @property
    def demo_key_file(self) -> Path:
        return self.var_dir / DEMO_KEY_FILE

    def uses_demo_key(self) -> bool:
        """True when no key is configured and the demo's key file in ``var_dir`` stands in for one."""
        return not self.secret_keys and self.demo_key_file.is_file()

    def fernet_keys(self) -> list[str]:
        """The configured keys, newest first; without any, the key ``dunning demo`` left in ``var_dir`` (so every
        command run where the demo ran reads the demo's data, and ``dunning keygen`` is never needed for it)."""
        if self.secret_keys:
            return [k.get_secret_value() for k in self.secret_keys]
        if self.demo_key_file.is_file():
            return [self.demo_key_file.read_text(encoding="utf-8").strip()]
        raise ConfigurationError(
            "no encryption key: set DUNNING_SECRET_KEYS to the output of `dunning keygen` "
            "(or run `dunning demo` here to try it out)"
        )


def _is_fernet_key(key: str) -> bool:
    """32 bytes in url-safe base64, as ``dunning keygen`` prints them."""
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32  # noqa: PLR2004 - Fernet's key size
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return False
