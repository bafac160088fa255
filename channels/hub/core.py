"""The handoff hub of one Rasa server process: its services, the gate in front of the bot, and delivery.

* **Gate.** Every input channel wraps Rasa's ``on_new_message`` with `Hub.gated`: while the customer
  waits for or talks to an agent, their messages go to the handoff transcript instead of the bot.
* **Delivery.** Agents' messages wait in the database until a channel delivers them. Each channel
  registers a `Courier` for its customers. A pump in every process looks for undelivered messages
  whenever something changed here (an in-process pulse), when another Rasa process says so over the
  Redis wake-up bus (channels/bus.py, with REDIS_URL), and at least once a second (changes made by
  processes without the bus, e.g. the action server); the courier that holds the customer claims the
  message in the database for a while (a lease), so one process sends it; it is marked delivered
  once the channel accepted it, and offered again if that process died first (at-least-once).
  Customers whose channel cannot push (the REST channel) or who are not connected get them with
  their next message.

The pieces live beside this module: gate.py (the gate and the limits), pump.py (couriers and one
delivery round), jobs.py (start, stop and the background loops), setup.py (wiring onto the app).
"""

from __future__ import annotations

import asyncio
import contextvars
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Dict, Optional, TypeVar

from bot import logs
from bot.attachments import AttachmentService, DatabaseStore
from bot.chat_sessions import ChatSessions
from bot.delivery import FailedDeliveries, InboundLog
from bot.handoff import HandoffService, WorkingHours
from bot.incidents import DEFAULT_RULES, IncidentService, RuleBook
from bot.lifecycle import DeadlineWatch, Escalations, Feedback
from bot.limits import Limits
from bot.outbox import OutboxAdmin, OutboxDispatcher
from bot.outbox import Settings as OutboxSettings
from bot.privacy import AccessLog, Notices, PrivacyRequests, Retention
from bot.settings import Settings
from bot.staff import StaffService
from bot.storage.conversations import ConversationLog
from bot.storage.database import Database
from bot.tickets import Customer, TicketService
from channels import metrics
from channels.bus import RedisBus
from channels.held_messages import HeldMessages
from channels.hub.gate import Gate
from channels.hub.jobs import Jobs
from channels.hub.pump import Courier, Pulse, Pump
from channels.hub.turns import TurnSlots

T = TypeVar("T")


def rule_book(settings: Settings) -> RuleBook:
    """The outage rules of OUTAGE_RULES_FILE, else the ones shipped in bot/incidents/."""
    return RuleBook(Path(settings.outage_rules_file or DEFAULT_RULES))


class Hub(Gate, Pump, Jobs):
    """The services of one Rasa server process, and the gate, the pump and the loops that use them."""

    def __init__(
        self,
        db: Database,
        hours: WorkingHours,
        conversations: Optional[ConversationLog] = None,
        settings: Optional[Settings] = None,
    ) -> None:
        # Without `settings` (tests), the services read their own defaults.
        self.db = db
        self.pulse = Pulse()
        self.staff = StaffService(db)
        self.bus: Optional[RedisBus] = None
        self.handoff = HandoffService(db, self.staff, hours, on_change=self.changed)
        self.tickets = TicketService(db)
        self.inbound = InboundLog(db)
        self.failures = FailedDeliveries(db)
        self.outbox = OutboxAdmin(db)
        self.deadlines = DeadlineWatch(db)
        self.feedback = Feedback(db)
        self.escalations = Escalations(db)
        self.notices = Notices(db)
        self.access = AccessLog(db)
        self.conversations = conversations
        # Evidence files: without `settings` (tests) in the database, so nothing is written under data/.
        self.attachments = AttachmentService.from_settings(db, settings) if settings else AttachmentService(db, DatabaseStore(db))
        self.privacy = PrivacyRequests(db, self.conversations, files=self.attachments)
        self.retention = Retention(
            db, self.conversations, days=settings.transcript_retention_days if settings else None, files=self.attachments
        )
        self.incidents = IncidentService(db, rules=rule_book(settings) if settings else None)
        self.chat_sessions = ChatSessions(db, idle=timedelta(days=settings.webchat_idle_days) if settings else None)
        # Live chats seen by this process, and their messages held while the store is down.
        self.held = HeldMessages()
        self.dispatcher: Optional[OutboxDispatcher] = None
        self._dispatch: Optional[asyncio.Task] = None
        self.couriers: Dict[str, Courier] = {}
        self._pump: Optional[asyncio.Task] = None
        self._migrated = False
        self._last_notice: Dict[Customer, float] = {}
        self.limits = Limits()
        self.turns = TurnSlots()
        metrics.track_in_flight(lambda: self.limits.in_flight())
        metrics.track_waiting(lambda: self.turns.waiting())

    @classmethod
    def from_settings(cls, settings: Settings) -> "Hub":
        """The hub of a Rasa server process (channels/hub/setup.py builds it when the server starts).
        `Settings.from_env()` has already refused what the production profile cannot run without."""
        log = ConversationLog(settings.tracker_store_url) if settings.tracker_store_url else None
        hub = cls(Database(settings.database_url), settings.working_hours, log, settings)
        hub.limits = Limits(settings.limit_rates, settings.limit_in_flight, settings.limit_in_flight_customer)
        hub.turns = TurnSlots(settings.turn_slots, settings.turn_slot_wait)
        if settings.backend_url:
            logs.redact(settings.backend_secret)
            push = OutboxSettings(settings.backend_url, settings.backend_secret, max_attempts=settings.outbox_max_attempts)
            hub.dispatcher = OutboxDispatcher(hub.db, push, attachments=hub.attachments.documents)
        if settings.redis_url:
            hub.bus = RedisBus(settings.redis_url, hub.pulse.fire)
        return hub

    @classmethod
    def from_env(cls) -> "Hub":
        return cls.from_settings(Settings.from_env())

    def changed(self) -> None:
        """Something to deliver may have changed: wake this process's pump and the others'."""
        self.pulse.fire()
        if self.bus is not None:
            self.bus.publish()

    async def run(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking domain call off the event loop (in this context: its logs carry the ids)."""
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(None, lambda: context.run(method, *args, **kwargs))

    def register(self, courier: Courier) -> None:
        self.couriers[courier.channel] = courier
