"""The domain services of the action server, built once from `Settings` when the server starts.

rasa_sdk instantiates every Action class itself (``ActionExecutor.register_package``), without
arguments, so the actions cannot be handed their services through a constructor. This module is
the one place they reach them instead: actions/server.py main() builds a `Services` object from the
settings it parsed and calls `install()` before the app runs; `current()` returns it. Nothing is
built at import time, and nothing else installs one (tests do, in their fixtures).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, Optional

from bot.handoff import HandoffService
from bot.incidents import DEFAULT_RULES, IncidentService, RuleBook
from bot.lifecycle import Escalations
from bot.limits import Limits
from bot.privacy import PrivacyRequests
from bot.settings import Settings
from bot.staff import StaffService
from bot.storage.conversations import ConversationLog
from bot.storage.database import Database
from bot.tickets import TicketService


class Services:
    """What the actions call, over one ticket store; the schema is migrated on first use, not at
    start, so that the server starts (and /readyz says why it is not ready) while the store is down."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.staff = StaffService(self.db)
        self.tickets = TicketService(self.db)
        self.handoff = HandoffService(self.db, self.staff, settings.working_hours)
        self.escalations = Escalations(self.db)
        log = ConversationLog(settings.tracker_store_url) if settings.tracker_store_url else None
        self.privacy = PrivacyRequests(self.db, log)
        self.incidents = IncidentService(self.db, rules=RuleBook(Path(settings.outage_rules_file or DEFAULT_RULES)))
        # This process's traffic limits (the human-request buckets).
        self.limits = Limits(settings.limit_rates, settings.limit_in_flight, settings.limit_in_flight_customer)
        # `actions.common.call(TicketService.get, ...)` names a service by its class.
        self._by_class: Dict[str, Any] = {
            type(service).__name__: service
            for service in (self.tickets, self.staff, self.handoff, self.escalations, self.privacy, self.incidents)
        }
        self._migrated = False
        self._lock = threading.Lock()

    def ready(self) -> "Services":
        """Make sure the schema exists (once; tried again on the next call while the store is down)."""
        with self._lock:
            if not self._migrated:
                self.db.migrate()
                self._migrated = True
        return self

    def of_class(self, name: str) -> Any:
        """The live service whose class is called `name` (e.g. "TicketService")."""
        return self._by_class[name]


_installed: Optional[Services] = None


def install(services: Optional[Services]) -> None:
    """Make `services` the ones the actions use (the server's start-up; tests). None uninstalls."""
    global _installed
    _installed = services


def current() -> Services:
    if _installed is None:
        raise RuntimeError("no services installed: actions/server.py main() installs them at start")
    return _installed
