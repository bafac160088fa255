"""Settings: every variable of the README's table parsed once, with today's defaults and clear errors."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from bot.handoff import WorkingHours
from bot.limits import DEFAULT_RATES, Rate
from bot.logs import BUILT_IN_ID_KEY
from bot.settings import ACTION_SERVER, DEFAULT_TELEGRAM_API_BASE, Settings

PRODUCTION = {"LOG_FORMAT": "json", "LOG_ID_KEY": "k" * 32, "PRIVACY_DETAILS_URL": "https://example.com/chat/privacy"}


def test_defaults_are_the_readmes():
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.database_url == "sqlite:///data/tickets.db"
    assert settings.tracker_store_url is None and settings.redis_url is None
    assert (settings.rasa_port, settings.action_port) == (5005, 5055)
    assert settings.action_endpoint_url == "http://localhost:5055/webhook"
    assert settings.working_hours == WorkingHours()
    assert settings.telegram_mode == "webhook" and settings.telegram_api_base == DEFAULT_TELEGRAM_API_BASE
    assert settings.backend_url == "" and settings.outbox_max_attempts == 12
    assert settings.action_retry_seconds == 30.0
    assert settings.lock_store_type == "in_memory"
    assert (settings.redis_host, settings.redis_port, settings.redis_db) == ("127.0.0.1", 6379, 1)
    assert settings.sql_pool_size is None and settings.sql_max_overflow is None
    assert settings.sanic_request_max_size == 1_000_000 and settings.action_request_max_size == 32_000_000
    assert settings.transcript_retention_days == 180
    assert settings.details_url == "http://localhost:5005/chat/privacy"
    assert (settings.log_format, settings.log_level, settings.log_level_libraries) == ("text", "INFO", "ERROR")
    assert settings.log_id_key == BUILT_IN_ID_KEY and not settings.production
    assert settings.limit_rates == DEFAULT_RATES
    assert (settings.limit_in_flight, settings.limit_in_flight_customer) == (200, 5)
    assert (settings.turn_slots, settings.turn_slot_wait) == (6, 2.0)


def test_values_are_parsed():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u:p@h/t",
            "RASA_PORT": "6006",
            "HANDOFF_WORKING_HOURS": "09:00-21:00",
            "BACKEND_URL": "http://example.com/events",
            "BACKEND_SECRET": "s" * 16,
            "OUTBOX_MAX_ATTEMPTS": "3",
            "LIMIT_MESSAGE_CUSTOMER": "off",
            "LIMIT_IN_FLIGHT": "7",
            "TURN_SLOTS": "0",
            "TURN_SLOT_WAIT": "0.5",
            "TRANSCRIPT_RETENTION_DAYS": "30",
            **PRODUCTION,
        }
    )
    assert settings.database_url == "postgresql://u:p@h/t" and settings.rasa_port == 6006
    assert settings.working_hours == WorkingHours.parse("09:00-21:00")
    assert settings.outbox_max_attempts == 3 and settings.limit_in_flight == 7
    assert settings.turn_slots == 0 and settings.turn_slot_wait == 0.5
    assert settings.limit_rates[("message", "customer")] is None
    assert isinstance(settings.limit_rates[("message", "address")], Rate)
    assert settings.transcript_retention_days == 30 and settings.production
    assert settings.details_url == PRODUCTION["PRIVACY_DETAILS_URL"]


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"RASA_PORT": "http"}, "RASA_PORT"),
        ({"OUTBOX_MAX_ATTEMPTS": "many"}, "OUTBOX_MAX_ATTEMPTS"),
        ({"OUTBOX_MAX_ATTEMPTS": "0"}, "OUTBOX_MAX_ATTEMPTS"),
        ({"ACTION_RETRY_SECONDS": "soon"}, "ACTION_RETRY_SECONDS"),
        ({"ACTION_REQUEST_MAX_SIZE": "1MB"}, "ACTION_REQUEST_MAX_SIZE"),
        ({"TRANSCRIPT_RETENTION_DAYS": "0"}, "TRANSCRIPT_RETENTION_DAYS"),
        ({"HANDOFF_WORKING_HOURS": "nine to five"}, "HANDOFF_WORKING_HOURS"),
        ({"TELEGRAM_MODE": "push"}, "TELEGRAM_MODE"),
        ({"LIMIT_MESSAGE_CUSTOMER": "0/10"}, "LIMIT_MESSAGE_CUSTOMER"),
        ({"LIMIT_MESSAGE_CUSTOMER": "lots"}, "LIMIT_MESSAGE_CUSTOMER"),
        ({"LIMIT_IN_FLIGHT": "x"}, "LIMIT_IN_FLIGHT"),
        ({"TURN_SLOTS": "-1"}, "TURN_SLOTS"),
        ({"TURN_SLOT_WAIT": "soon"}, "TURN_SLOT_WAIT"),
        ({"BACKEND_URL": "http://example.com/events"}, "BACKEND_SECRET"),
        ({"BACKEND_URL": "http://example.com/events", "BACKEND_SECRET": "short"}, "BACKEND_SECRET"),
        ({**PRODUCTION, "LOG_ID_KEY": ""}, "LOG_ID_KEY"),
        ({**PRODUCTION, "LOG_ID_KEY": BUILT_IN_ID_KEY}, "LOG_ID_KEY"),
        ({**PRODUCTION, "LOG_ID_KEY": "short"}, "LOG_ID_KEY"),
        ({**PRODUCTION, "PRIVACY_DETAILS_URL": " "}, "PRIVACY_DETAILS_URL"),
    ],
)
def test_an_invalid_value_is_refused_naming_the_variable(env, variable):
    with pytest.raises(ValueError) as refused:
        Settings.from_env(env)
    assert variable in str(refused.value)


def test_the_action_server_is_refused_only_for_what_it_reads():
    settings = Settings.from_env({**PRODUCTION, "PRIVACY_DETAILS_URL": "", "BACKEND_URL": "http://example.com/events"}, server=ACTION_SERVER)
    assert settings.production and settings.backend_url == "http://example.com/events"
    with pytest.raises(ValueError, match="LOG_ID_KEY"):
        Settings.from_env({**PRODUCTION, "LOG_ID_KEY": ""}, server=ACTION_SERVER)
    with pytest.raises(ValueError, match="OUTBOX_MAX_ATTEMPTS"):
        Settings.from_env({"OUTBOX_MAX_ATTEMPTS": "x"}, server=ACTION_SERVER)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().rasa_port = 1  # type: ignore[misc]


def test_importing_reads_no_environment():
    # A module-level read would turn this invalid value into an import error.
    # And importing the channel and action packages configures no logging (the servers do, at start).
    code = "import logging, bot.settings, channels, actions; print(len(logging.getLogger().handlers))"
    env = {"PATH": "/usr/bin:/bin", "RASA_PORT": "not-a-port", "LOG_FORMAT": "json"}
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "0", done.stderr
