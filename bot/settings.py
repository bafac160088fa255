"""The configuration of one process, parsed once: every variable of the README's configuration table.

The servers call `Settings.from_env()` when they start (channels/hub/setup.py, actions/server.py) and
hand the values to what they build; nothing here reads the environment at import. An invalid value
is refused with one `ValueError` that names the variable and says what is wrong, before anything
serves, including the production profile's own rules (``LOG_FORMAT=json`` needs ``LOG_ID_KEY`` and
``PRIVACY_DETAILS_URL``).

Some variables are read by Rasa itself through ``${VAR}`` in credentials.yml and endpoints.yml (the
Telegram and Redis lock-store settings, the tracker store's pool) or by Sanic (``SANIC_*``); they are
parsed here too, so that the table has one home, and checked only as far as Rasa would accept them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Dict, Mapping, Optional, Tuple, TypeVar

from bot.handoff import WorkingHours
from bot.limits import (
    DEFAULT_IN_FLIGHT,
    DEFAULT_IN_FLIGHT_CUSTOMER,
    DEFAULT_RATES,
    DEFAULT_TURN_SLOT_WAIT,
    DEFAULT_TURN_SLOTS,
    Rate,
    rates_from,
)
from bot.logs import BUILT_IN_ID_KEY, MIN_ID_KEY_CHARS
from bot.urls import outbound_url

T = TypeVar("T")

DEFAULT_DATABASE_URL = "sqlite:///data/tickets.db"
DEFAULT_RETENTION_DAYS = 180
DEFAULT_OUTBOX_MAX_ATTEMPTS = 12
DEFAULT_ACTION_RETRY_SECONDS = 30.0
DEFAULT_ACTION_REQUEST_MAX_SIZE = 32_000_000
DEFAULT_SANIC_REQUEST_MAX_SIZE = 1_000_000
DEFAULT_IDLE_DAYS = 30.0
ATTACHMENT_STORES = ("directory", "database")
DEFAULT_ATTACHMENT_DIR = "data/attachments"
DEFAULT_ATTACHMENT_URL_SECONDS = 3600
DEFAULT_ATTACHMENTS_PER_TICKET = 20
DEFAULT_ATTACHMENTS_PER_DAY = 30
MIN_ATTACHMENT_SECRET_CHARS = 16
MIN_BACKEND_SECRET_CHARS = 16
TELEGRAM_MODES = ("webhook", "polling")
RASA_SERVER, ACTION_SERVER = "rasa", "actions"  # which process parses (see Settings.from_env)

Rates = Dict[Tuple[str, str], Optional[Rate]]


def _text(env: Mapping[str, str], name: str, default: str = "") -> str:
    return (env.get(name) or "").strip() or default


def _number(env: Mapping[str, str], name: str, default: T, kind: Callable[[str], T], minimum: Optional[float] = None) -> T:
    raw = _text(env, name)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{name} must be {what}, not {raw!r}") from None
    if minimum is not None and value < minimum:  # type: ignore[operator]
        raise ValueError(f"{name} must be {minimum:g} or more, not {raw!r}")
    return value


# The public Bot API; tests and a local Bot API server point TELEGRAM_API_BASE elsewhere.
DEFAULT_TELEGRAM_API_BASE = "https://api.telegram.org"
# The public WeChat API; tests point WECHAT_API_BASE at a fake on localhost.
DEFAULT_WECHAT_API_BASE = "https://api.weixin.qq.com"
WECHAT_AES_KEY_CHARS = 43  # an EncodingAESKey is 43 characters of base64

@dataclass(frozen=True)
class Settings:
    """One process's configuration; the defaults are the README's."""

    # Stores
    database_url: str = DEFAULT_DATABASE_URL
    tracker_store_url: Optional[str] = None  # unset: endpoints.yml's SQLite file, no conversation log here
    redis_url: Optional[str] = None  # the wake-up bus between Rasa processes
    # Ports and the action server
    rasa_port: int = 5005
    action_port: int = 5055
    action_endpoint_url: str = "http://localhost:5055/webhook"
    action_retry_seconds: float = DEFAULT_ACTION_RETRY_SECONDS
    action_request_max_size: int = DEFAULT_ACTION_REQUEST_MAX_SIZE
    sanic_request_max_size: int = DEFAULT_SANIC_REQUEST_MAX_SIZE
    sanic_host: str = "0.0.0.0"
    # Handoff
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    # Telegram (credentials.yml)
    telegram_bot_token: str = ""
    telegram_mode: str = "webhook"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base: str = DEFAULT_TELEGRAM_API_BASE
    # WeChat Official Account (channels/wechat/): off while wechat_app_id is empty
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""  # empty: plaintext mode; else safe mode (messages AES-encrypted)
    wechat_api_base: str = DEFAULT_WECHAT_API_BASE
    wechat_template_result: str = ""  # template for results and surveys after the 48-hour window
    # The backend: push (outbox) and pull (read API)
    backend_url: str = ""
    backend_secret: str = ""
    outbox_max_attempts: int = DEFAULT_OUTBOX_MAX_ATTEMPTS
    backend_api_key: str = ""
    # Rasa's lock store and tracker-store pool (endpoints.yml)
    lock_store_type: str = "in_memory"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 1
    redis_password: str = ""
    sql_pool_size: Optional[int] = None
    sql_max_overflow: Optional[int] = None
    prod_metrics_port: Optional[int] = None
    # Privacy
    transcript_retention_days: int = DEFAULT_RETENTION_DAYS
    privacy_details_url: str = ""  # empty: the page served with the web chat (see `details_url`)
    webchat_idle_days: float = DEFAULT_IDLE_DAYS
    outage_rules_file: Optional[str] = None
    # Evidence attachments (bot/attachments/)
    attachment_store: str = "directory"  # production profile and Kubernetes: "database"
    attachment_dir: str = DEFAULT_ATTACHMENT_DIR
    attachment_url_secret: str = ""  # empty: derived from BACKEND_API_KEY/BACKEND_SECRET (bot/attachments/signing.py)
    attachment_url_seconds: int = DEFAULT_ATTACHMENT_URL_SECONDS
    attachments_per_ticket: int = DEFAULT_ATTACHMENTS_PER_TICKET
    attachments_per_day: int = DEFAULT_ATTACHMENTS_PER_DAY
    public_base_url: str = ""  # empty: http://localhost:<RASA_PORT>
    # Logging
    log_format: str = "text"
    log_level: str = "INFO"
    log_level_libraries: str = "ERROR"
    log_id_key: str = BUILT_IN_ID_KEY
    # Traffic limits
    limit_rates: Rates = field(default_factory=lambda: dict(DEFAULT_RATES))
    limit_in_flight: int = DEFAULT_IN_FLIGHT
    limit_in_flight_customer: int = DEFAULT_IN_FLIGHT_CUSTOMER
    turn_slots: int = DEFAULT_TURN_SLOTS  # 0: every turn at once (channels/hub/turns.py)
    turn_slot_wait: float = DEFAULT_TURN_SLOT_WAIT

    @property
    def production(self) -> bool:
        """The production profile: ``LOG_FORMAT=json`` (see bot/logs.production_profile)."""
        return self.log_format == "json"

    @property
    def details_url(self) -> str:
        """Where the first-contact notice's link points."""
        return self.privacy_details_url or f"http://localhost:{self.rasa_port}/chat/privacy"

    @property
    def public_url(self) -> str:
        """Where the backend reaches this server (the signed attachment links start with it)."""
        return (self.public_base_url or f"http://localhost:{self.rasa_port}").rstrip("/")

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None, server: str = RASA_SERVER) -> "Settings":
        """Parse and check every variable; raises ValueError naming the first invalid one.

        `server` says which process asks: the action server (ACTION_SERVER) neither pushes to the
        backend nor sends the first-contact notice, so it is not refused for BACKEND_SECRET or
        PRIVACY_DETAILS_URL (as before); every value it does read is checked the same way."""
        env = os.environ if environ is None else environ
        hours_spec = _text(env, "HANDOFF_WORKING_HOURS")
        try:
            hours = WorkingHours.parse(hours_spec)
        except Exception as error:  # InvalidInput: a domain error, reported as configuration here
            raise ValueError(f"HANDOFF_WORKING_HOURS: {error}") from None
        # The production profile (LOG_FORMAT=json) runs several processes or pods: they share the database.
        production = _text(env, "LOG_FORMAT", "text").lower() == "json"
        store = _text(env, "ATTACHMENT_STORE", "database" if production else "directory").lower()
        if store not in ATTACHMENT_STORES:
            raise ValueError(f"ATTACHMENT_STORE must be 'directory' or 'database', not {store!r}")
        mode = _text(env, "TELEGRAM_MODE", "webhook")
        if mode not in TELEGRAM_MODES:
            raise ValueError(f"TELEGRAM_MODE must be 'webhook' or 'polling', not {mode!r}")
        settings = cls(
            database_url=_text(env, "DATABASE_URL", DEFAULT_DATABASE_URL),
            tracker_store_url=env.get("TRACKER_STORE_URL") or None,
            redis_url=_text(env, "REDIS_URL") or None,
            rasa_port=_number(env, "RASA_PORT", 5005, int, 1),
            action_port=_number(env, "ACTION_PORT", 5055, int, 1),
            action_endpoint_url=_text(env, "ACTION_ENDPOINT_URL", "http://localhost:5055/webhook"),
            action_retry_seconds=max(0.0, _number(env, "ACTION_RETRY_SECONDS", DEFAULT_ACTION_RETRY_SECONDS, float)),
            action_request_max_size=_number(env, "ACTION_REQUEST_MAX_SIZE", DEFAULT_ACTION_REQUEST_MAX_SIZE, int, 1),
            sanic_request_max_size=_number(env, "SANIC_REQUEST_MAX_SIZE", DEFAULT_SANIC_REQUEST_MAX_SIZE, int, 1),
            sanic_host=env.get("SANIC_HOST", "0.0.0.0"),
            working_hours=hours,
            telegram_bot_token=_text(env, "TELEGRAM_BOT_TOKEN"),
            telegram_mode=mode,
            telegram_webhook_url=_text(env, "TELEGRAM_WEBHOOK_URL"),
            telegram_webhook_secret=_text(env, "TELEGRAM_WEBHOOK_SECRET"),
            telegram_api_base=_text(env, "TELEGRAM_API_BASE", DEFAULT_TELEGRAM_API_BASE),
            wechat_token=_text(env, "WECHAT_TOKEN"),
            wechat_app_id=_text(env, "WECHAT_APP_ID"),
            wechat_app_secret=_text(env, "WECHAT_APP_SECRET"),
            wechat_aes_key=_text(env, "WECHAT_AES_KEY"),
            wechat_api_base=_text(env, "WECHAT_API_BASE", DEFAULT_WECHAT_API_BASE),
            wechat_template_result=_text(env, "WECHAT_TEMPLATE_RESULT"),
            backend_url=_text(env, "BACKEND_URL"),
            backend_secret=_text(env, "BACKEND_SECRET"),
            outbox_max_attempts=_number(env, "OUTBOX_MAX_ATTEMPTS", DEFAULT_OUTBOX_MAX_ATTEMPTS, int, 1),
            backend_api_key=env.get("BACKEND_API_KEY", ""),
            lock_store_type=_text(env, "LOCK_STORE_TYPE", "in_memory"),
            redis_host=_text(env, "REDIS_HOST", "127.0.0.1"),
            redis_port=_number(env, "REDIS_PORT", 6379, int, 1),
            redis_db=_number(env, "REDIS_DB", 1, int, 0),
            redis_password=env.get("REDIS_PASSWORD", ""),
            sql_pool_size=_number(env, "SQL_POOL_SIZE", None, int, 1),
            sql_max_overflow=_number(env, "SQL_MAX_OVERFLOW", None, int, 0),
            prod_metrics_port=_number(env, "PROD_METRICS_PORT", None, int, 1),
            transcript_retention_days=_number(env, "TRANSCRIPT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS, int, 1),
            privacy_details_url=_text(env, "PRIVACY_DETAILS_URL"),
            webchat_idle_days=_number(env, "WEBCHAT_IDLE_DAYS", DEFAULT_IDLE_DAYS, float),
            outage_rules_file=env.get("OUTAGE_RULES_FILE") or None,
            attachment_store=store,
            attachment_dir=_text(env, "ATTACHMENT_DIR", DEFAULT_ATTACHMENT_DIR),
            attachment_url_secret=_text(env, "ATTACHMENT_URL_SECRET"),
            attachment_url_seconds=_number(env, "ATTACHMENT_URL_SECONDS", DEFAULT_ATTACHMENT_URL_SECONDS, int, 60),
            attachments_per_ticket=_number(env, "ATTACHMENTS_PER_TICKET", DEFAULT_ATTACHMENTS_PER_TICKET, int, 1),
            attachments_per_day=_number(env, "ATTACHMENTS_PER_DAY", DEFAULT_ATTACHMENTS_PER_DAY, int, 1),
            public_base_url=_text(env, "PUBLIC_BASE_URL"),
            log_format=_text(env, "LOG_FORMAT", "text").lower(),
            log_level=env.get("LOG_LEVEL") or "INFO",
            log_level_libraries=env.get("LOG_LEVEL_LIBRARIES", "ERROR"),
            log_id_key=env.get("LOG_ID_KEY") or BUILT_IN_ID_KEY,
            limit_rates=rates_from(env),
            limit_in_flight=_number(env, "LIMIT_IN_FLIGHT", DEFAULT_IN_FLIGHT, int, 1),
            limit_in_flight_customer=_number(env, "LIMIT_IN_FLIGHT_CUSTOMER", DEFAULT_IN_FLIGHT_CUSTOMER, int, 1),
            turn_slots=_number(env, "TURN_SLOTS", DEFAULT_TURN_SLOTS, int, 0),
            turn_slot_wait=_number(env, "TURN_SLOT_WAIT", DEFAULT_TURN_SLOT_WAIT, float, 0),
        )
        settings.check(server)
        return settings

    def check(self, server: str = RASA_SERVER) -> None:
        """The rules between variables, and the production profile's."""
        if server == RASA_SERVER and self.backend_url and len(self.backend_secret) < MIN_BACKEND_SECRET_CHARS:
            raise ValueError(
                f"BACKEND_SECRET must be set ({MIN_BACKEND_SECRET_CHARS} characters or more) when BACKEND_URL is"
            )
        if self.wechat_app_id:
            self._check_wechat()
        if self.attachment_url_secret and len(self.attachment_url_secret) < MIN_ATTACHMENT_SECRET_CHARS:
            raise ValueError(f"ATTACHMENT_URL_SECRET must have {MIN_ATTACHMENT_SECRET_CHARS} characters or more")
        if self.public_base_url:
            outbound_url(self.public_base_url, "PUBLIC_BASE_URL")
        if self.production:
            key = self.log_id_key.strip()
            if key == BUILT_IN_ID_KEY or len(key) < MIN_ID_KEY_CHARS:
                raise ValueError(
                    f"LOG_ID_KEY must be set to a secret of {MIN_ID_KEY_CHARS}+ characters (the same in every "
                    "process) when LOG_FORMAT=json: with the built-in key the conversation ids in the logs can be "
                    "traced back to Telegram ids and phone numbers. Generate one with: openssl rand -hex 32"
                )
            if server == RASA_SERVER and not self.privacy_details_url:
                raise ValueError(
                    "PRIVACY_DETAILS_URL must be set when LOG_FORMAT=json (production profile): the public address "
                    "of the privacy details page, e.g. https://bot.example.com/chat/privacy"
                )

    def _check_wechat(self) -> None:
        if not self.wechat_token or not self.wechat_app_secret:
            raise ValueError("WECHAT_TOKEN and WECHAT_APP_SECRET must be set when WECHAT_APP_ID is")
        if self.wechat_aes_key and len(self.wechat_aes_key) != WECHAT_AES_KEY_CHARS:
            raise ValueError(
                f"WECHAT_AES_KEY must be the {WECHAT_AES_KEY_CHARS}-character EncodingAESKey (empty: plaintext mode)"
            )
        # The access token travels in every request's query: never in clear text across a network.
        outbound_url(self.wechat_api_base, "WECHAT_API_BASE", plain_http="refuse")
