"""The handoff hub of one Rasa server process: the gate in front of the bot, and delivery.

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
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import re
import threading
import time
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Protocol, TypeVar

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage

from bot import logs
from bot.chat_sessions import ChatSessions
from bot.delivery import FailedDeliveries, InboundLog
from bot.lifecycle import SURVEY_CLOSED_TEXT, SURVEY_PAYLOAD, DeadlineWatch, Escalations, Feedback
from bot.outbox import OutboxAdmin, OutboxDispatcher, Settings
from bot.privacy import AccessLog, Notices, PrivacyRequests, Retention, check_details_url, notice_text
from bot.storage.conversations import ConversationLog
from bot.errors import IntakeError, StoreUnavailable
from bot.incidents import IncidentService
from bot.limits import Limits, Refusal, describe_retry
from bot.handoff import CANCELLED_TEXT, IN_CHAT_TEXT, WAITING_TEXT, HandoffService, Message, WorkingHours, describe_wait
from bot.staff import StaffService
from bot.storage.database import Database
from bot.tickets import Customer, TicketService
from channels import metrics
from channels.bus import RedisBus
from channels.held_messages import HELD_TEXT, NOT_PASSED_TEXT, HeldMessages
from channels.held_messages import RETRY_SECONDS as HELD_RETRY_SECONDS
from channels.reply_guard import ReplyGuard

logger = logging.getLogger(__name__)

T = TypeVar("T")

POLL_SECONDS = 1.0
SWEEP_SECONDS = 30.0
PRUNE_SECONDS = 3600.0
WAITING_NOTICE_EVERY = 120.0
CHUNK = 500
WAITING_RECEIPT = "收到，客服接入后会看到您的留言。"
NOT_WAITING = "您目前没有在等待人工客服。有问题可以直接问我；需要人工服务请发送“转人工”。"
SLOW_DOWN = "您发送得太快了，请{wait}后再发，我会继续为您处理。"
STILL_WORKING = "您前面的消息还在处理中，请稍等片刻，收到回复后再发送。"
OVERLOADED = "当前咨询的客户较多，系统繁忙，请稍后再发送一次。"
NO_COMMANDS = "这个指令不能在这里使用。有什么问题请直接用文字告诉我。"
# Rasa's own commands, which a customer could type or send as button data: they reset the
# conversation silently (slots, an open complaint form) and none of our buttons sends them.
_RASA_COMMANDS = re.compile(r"\s*/(restart|session_start|back)(?![A-Za-z0-9_])")


def slow_down_text(refusal: Refusal) -> str:
    return SLOW_DOWN.format(wait=describe_retry(refusal.retry_after))


class Courier(Protocol):
    """How one channel reaches its customers from this process."""

    channel: str

    def holds(self, user_id: str) -> bool:
        """Whether this process can push to the customer right now."""

    def connected(self) -> Optional[Iterable[str]]:
        """The customers this process can push to right now; None: every customer of the channel
        (an API any process can call, like Telegram's)."""

    async def deliver(self, user_id: str, message: Message) -> bool:
        """Send. False: not reachable right now, the message stays pending. Raises Undeliverable
        when the channel gave up (after its own retries): the message is marked failed for the agent."""


class Undeliverable(Exception):
    """A channel finally could not deliver a message (blocked bot, deleted chat, API down for long)."""


class Pulse:
    """Wakes waiters on this event loop; `fire` may be called from any thread."""

    def __init__(self) -> None:
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._event: Optional[asyncio.Event] = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def fire(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._set)

    def _set(self) -> None:
        event, self._event = self._event, asyncio.Event()
        if event is not None:
            event.set()

    async def wait(self, timeout: float) -> None:
        if self._event is None:
            await asyncio.sleep(timeout)
            return
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except asyncio.TimeoutError:
            pass


def format_message(message: Message) -> str:
    """Plain text for channels that cannot show who is speaking."""
    if message.sender == "agent":
        return f"客服{message.agent_name or message.agent}：{message.text}"
    return message.text


class Hub:
    def __init__(self, db: Database, hours: WorkingHours) -> None:
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
        self.conversations = ConversationLog.from_env()
        self.privacy = PrivacyRequests(db, self.conversations)
        self.retention = Retention(db, self.conversations)
        self.incidents = IncidentService(db)
        self.chat_sessions = ChatSessions(db)
        # Live chats seen by this process, and their messages held while the store is down.
        self.held = HeldMessages()
        self.dispatcher: Optional[OutboxDispatcher] = None
        self._dispatch: Optional[asyncio.Task] = None
        self.couriers: Dict[str, Courier] = {}
        self._pump: Optional[asyncio.Task] = None
        self._migrated = False
        self._last_notice: Dict[Customer, float] = {}
        self.limits = Limits()
        metrics.track_in_flight(lambda: self.limits.in_flight())

    @classmethod
    def from_env(cls) -> "Hub":
        # Settings the production profile cannot run without: refused before anything starts.
        logs.check_id_key()
        check_details_url()
        hub = cls(Database.from_env(), WorkingHours.parse(os.environ.get("HANDOFF_WORKING_HOURS")))
        hub.limits = Limits.from_env()
        url = os.environ.get("BACKEND_URL", "").strip()
        if url:
            secret = os.environ.get("BACKEND_SECRET", "").strip()
            if len(secret) < 16:
                raise ValueError("BACKEND_SECRET must be set (16 characters or more) when BACKEND_URL is")
            logs.redact(secret)
            attempts = int(os.environ.get("OUTBOX_MAX_ATTEMPTS") or 12)
            hub.dispatcher = OutboxDispatcher(hub.db, Settings(url, secret, max_attempts=attempts))
        redis_url = os.environ.get("REDIS_URL", "").strip()
        if redis_url:
            hub.bus = RedisBus(redis_url, hub.pulse.fire)
        return hub

    def changed(self) -> None:
        """Something to deliver may have changed: wake this process's pump and the others'."""
        self.pulse.fire()
        if self.bus is not None:
            self.bus.publish()

    async def run(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking domain call off the event loop (in this context: its logs carry the ids)."""
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(None, lambda: context.run(method, *args, **kwargs))

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind to the server's loop, make sure the schema exists, start the delivery pump (idempotent)."""
        if self._pump is not None and not self._pump.done():
            return
        self.pulse.bind(asyncio.get_running_loop())
        if not self._migrated:
            try:
                await self.run(self.db.migrate)
                self._migrated = True
            except StoreUnavailable:
                logger.error("ticket store unavailable at start; the handoff gate lets messages through to the bot")
        if self.bus is not None:
            await self.bus.start()
        self._pump = asyncio.get_running_loop().create_task(self._deliver_forever())
        if self.dispatcher is not None:
            self._dispatch = asyncio.get_running_loop().create_task(self._dispatch_forever())

    async def stop(self) -> None:
        for task in (self._pump, self._dispatch):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._pump = self._dispatch = None
        if self.bus is not None:
            await self.bus.stop()

    def register(self, courier: Courier) -> None:
        self.couriers[courier.channel] = courier

    # -- limits ---------------------------------------------------------------------------

    def admit(self, customer: Customer, address: Optional[str] = None) -> Optional[Refusal]:
        """Whether a customer message may go on (channels ask before they hand it to the gate):
        the customer's and the address's message buckets, and new conversations per address."""
        refusal = self.limits.admit_message(f"{customer.channel}:{customer.user_id}", address)
        if refusal is not None:
            metrics.limited(refusal.kind, refusal.scope)
        return refusal

    def admit_event(self, kind: str, customer: Optional[str], address: Optional[str] = None) -> Optional[Refusal]:
        """Another limited event (e.g. a web chat page joining its session)."""
        refusal = self.limits.admit(kind, customer, address)
        if refusal is not None:
            metrics.limited(refusal.kind, refusal.scope)
        return refusal

    # -- the gate -------------------------------------------------------------------------

    def gated(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[UserMessage], Awaitable[Any]]:
        async def handle(message: UserMessage) -> Any:
            customer = Customer(message.input_channel or "unknown", message.sender_id)
            # The bounded queue: Rasa queues one customer's turns behind a lock without limit, and
            # every waiting turn holds a request and memory; past the caps the customer is told.
            key = f"{customer.channel}:{customer.user_id}"
            full = self.limits.enter(key)
            if full is not None:
                metrics.limited("turn", full)
                await message.output_channel.send_text_message(
                    message.sender_id, STILL_WORKING if full == "customer" else OVERLOADED
                )
                return None
            unsent = _UNSENT.set([])
            try:
                result = await self._turn(customer, message, on_new_message)
            finally:
                self.limits.leave(key)
                handed = _UNSENT.get() or []
                _UNSENT.reset(unsent)
            if handed:
                # Reached only when the turn completed: its answer is returned now. A turn cut off
                # before (the client hung up, the process died) leaves the claims to run out, and
                # the messages come again with the next request.
                await self.run(self._delivered_all, handed)
            return result

        # Every channel passes here: the place to count turns and give their logs the ids.
        return metrics.observe_turns(handle)

    async def _turn(
        self, customer: Customer, message: UserMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Any:
        if _RASA_COMMANDS.match(message.text or ""):
            await message.output_channel.send_text_message(message.sender_id, NO_COMMANDS)
            return None
        if await self.route(customer, message.text or "", message.output_channel):
            metrics.routed_to_human()
            return None
        # The bot's reply is checked on its way out: never empty, no repeats (channels/reply_guard.py).
        guard = ReplyGuard(message.output_channel)
        message.output_channel = guard
        result = await on_new_message(message)
        await guard.finish(message.sender_id)
        return result

    def _delivered_all(self, ids: List[int]) -> None:
        for message_id in ids:
            self.handoff.delivered(message_id)

    async def route(self, customer: Customer, text: str, output: OutputChannel) -> bool:
        """True when the message belongs to a human conversation (the bot must stay silent)."""
        await self.flush(customer, output)
        await self.first_contact(customer, output)
        if SURVEY_PAYLOAD.match(text.strip()):
            # A survey button, also pressed during a live chat: never for the agent or the bot.
            try:
                reply = await self.run(self.feedback.answer, customer, text.strip())
            except IntakeError:
                reply = None
            await output.send_text_message(customer.user_id, reply or SURVEY_CLOSED_TEXT)
            return True
        try:
            await self._pass_on_held(customer)  # what waited while the store was down goes first
            routing = await self.run(self.handoff.customer_message, customer, text)
        except IntakeError as error:
            return await self._store_down(customer, text, output, error)
        self.held.confirm(customer, routing is not None and routing.session.status.value == "active")
        if routing is None:
            if text.strip() == "/cancel_handoff":  # a stale 取消等待 button: nothing to cancel
                await output.send_text_message(customer.user_id, NOT_WAITING)
                return True
            # An answer to the satisfaction survey (a score button, 没解决, 评价：…) is not for the bot.
            try:
                reply = await self.run(self.feedback.answer, customer, text)
            except IntakeError as error:
                logger.error("survey answer not recorded: %s", error.__class__.__name__)
                reply = None
            if reply is not None:
                await output.send_text_message(customer.user_id, reply)
                return True
            return False
        if routing.session.status.value == "active" and text.strip().startswith("/") and not routing.cancelled:
            await output.send_text_message(customer.user_id, IN_CHAT_TEXT)
        elif routing.cancelled:
            self._last_notice.pop(customer, None)
            await output.send_text_message(customer.user_id, CANCELLED_TEXT)
        elif routing.position:
            # The customer was told their place when they were queued; remind them now and then.
            now = time.time()
            last = self._last_notice.get(customer) or routing.session.requested_at.timestamp()
            if now - last >= WAITING_NOTICE_EVERY:
                if len(self._last_notice) > 10_000:
                    self._last_notice.clear()
                self._last_notice[customer] = now
                text = WAITING_TEXT.format(position=routing.position, wait=describe_wait(routing.estimated_wait))
                await output.send_text_message(customer.user_id, text)
            else:
                # Never an empty reply: a short receipt between the reminders (during a live chat the
                # agent answers, and the bot says nothing).
                await output.send_text_message(customer.user_id, WAITING_RECEIPT)
        return True

    # -- the gate while the store is down (channels/held_messages.py) ----------------------

    async def _store_down(self, customer: Customer, text: str, output: OutputChannel, error: Exception) -> bool:
        """The gate could not ask the store. A customer last seen talking to an agent stays with the
        agent (fail closed): the bot does not answer in the agent's place, the message waits here for
        the transcript and the customer is told so. Anyone else gets the bot, which says itself when
        it cannot file anything."""
        if not self.held.in_live_chat(customer):
            logger.error("handoff gate skipped: %s", error.__class__.__name__)
            return False
        kept = self.held.hold(customer, text)
        logger.error("handoff gate: store unavailable (%s); live-chat message %s", error.__class__.__name__,
                     "held for the transcript" if kept else "not kept (no room)")
        await output.send_text_message(customer.user_id, HELD_TEXT if kept else NOT_PASSED_TEXT)
        if kept and (self.held.task is None or self.held.task.done()):
            self.held.task = asyncio.get_running_loop().create_task(self._drain_held())
        return True

    async def _pass_on_held(self, customer: Customer) -> None:
        """Hand the customer's held messages to the transcript, oldest first; raises IntakeError
        (keeping the rest) while the store is still down."""
        if not self.held.holds(customer):
            return
        async with self.held.lock:
            while (text := self.held.first(customer)) is not None:
                routing = await self.run(self.handoff.customer_message, customer, text)
                self.held.passed(customer)
                if routing is None:
                    logger.warning("a held live-chat message arrived after the chat ended; not shown to an agent")

    async def _drain_held(self) -> None:
        """Offer held messages to the store every few seconds until none are left, also for
        customers who write nothing more."""
        while self.held.customers():
            await asyncio.sleep(HELD_RETRY_SECONDS)
            dropped = self.held.expire()
            if dropped:
                logger.error("%d held live-chat messages dropped: the store was down too long", dropped)
            for customer in self.held.customers():
                try:
                    await self._pass_on_held(customer)
                except IntakeError:
                    break  # still down: try again later
                except Exception:  # noqa: BLE001 - one customer's failure must not strand the others
                    logger.exception("handing over held messages failed")

    async def first_contact(self, customer: Customer, output: OutputChannel) -> None:
        """The personal-data notice, once per customer and channel (个人信息保护法)."""
        try:
            if await self.run(self.notices.first_contact, customer):
                await output.send_text_message(customer.user_id, notice_text())
        except IntakeError as error:  # the notice comes with a later message
            logger.warning("privacy notice skipped: %s", error.__class__.__name__)

    async def flush(self, customer: Customer, output: OutputChannel) -> None:
        """Hand the customer what agents wrote while they were away (or on a channel that cannot push)."""
        try:
            pending = await self.run(self.handoff.pending_deliveries, customer.channel, customer.user_id)
        except IntakeError:
            return
        for message in pending:
            if await self.run(self.handoff.claim_delivery, message.id):
                try:
                    if message.buttons:
                        await output.send_text_with_buttons(customer.user_id, format_message(message), list(message.buttons))
                    else:
                        await output.send_text_message(customer.user_id, format_message(message))
                except Exception:
                    await self.run(self.handoff.unclaim_delivery, message.id)
                    raise
                # Only now: a process dying before this leaves a claim that runs out, not a lost message.
                # A collecting output (REST) sends nothing until the turn's answer is returned: the
                # message counts as delivered when the turn ends, not when it joined the answer.
                deferred = _UNSENT.get()
                if isinstance(output, CollectingOutputChannel) and deferred is not None:
                    deferred.append(message.id)
                else:
                    await self.run(self.handoff.delivered, message.id)

    # -- the pump -------------------------------------------------------------------------

    async def deliver_pending(self) -> int:
        """One round: deliver what this process can; returns how many were sent."""
        pending: List[Message] = []
        for channel, courier in list(self.couriers.items()):
            reachable = courier.connected()
            if reachable is None:
                pending += await self.run(self.handoff.pending_deliveries, channel)
                continue
            users = sorted(set(reachable))
            for start in range(0, len(users), CHUNK):
                pending += await self.run(
                    self.handoff.pending_deliveries, channel, None, 200, users[start : start + CHUNK]
                )
        pending.sort(key=lambda m: m.id)
        sent = 0
        for message in pending:
            courier = self.couriers.get(message.customer.channel) if message.customer else None
            if courier is None or not courier.holds(message.customer.user_id):
                continue
            if not await self.run(self.handoff.claim_delivery, message.id):
                continue  # another process got it
            try:
                ok = await courier.deliver(message.customer.user_id, message)
            except Undeliverable as error:
                await self.run(self.handoff.delivery_failed, message.id, str(error))
                continue
            except Exception as error:  # noqa: BLE001 - a channel failure must not stop the pump
                logger.exception("delivery through %s failed", courier.channel)
                await self.run(self.handoff.delivery_failed, message.id, error.__class__.__name__)
                continue
            if ok:
                await self.run(self.handoff.delivered, message.id)  # after the channel accepted it
                sent += 1
            else:
                await self.run(self.handoff.unclaim_delivery, message.id)
        return sent

    async def _dispatch_forever(self) -> None:
        """Push ticket events to the backend; a slow or dead backend only ever delays this task."""
        assert self.dispatcher is not None
        logger.info("pushing ticket events to the backend")
        while True:
            try:
                result = await self.run(self.dispatcher.run_once)
                metrics.outbox_round(result.delivered, result.failed, result.dead)
                busy = result.delivered or result.failed or result.dead
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep pushing through database hiccups
                logger.exception("outbox round failed")
                busy = False
            await asyncio.sleep(0 if busy else POLL_SECONDS)

    async def _deliver_forever(self) -> None:
        next_sweep = next_prune = 0.0
        while True:
            try:
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + SWEEP_SECONDS
                    await self.run(self.handoff.sweep)
                    await self.run(self.deadlines.scan)
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_SECONDS
                    await self.run(self.inbound.prune)
                    await self.run(self.retention.purge)
                    await self.run(self.chat_sessions.prune)
                await self.deliver_pending()
            except asyncio.CancelledError:
                raise
            except IntakeError as error:
                logger.warning("delivery round skipped: %s", error.__class__.__name__)
            except Exception:  # noqa: BLE001
                logger.exception("delivery round failed")
            await self.pulse.wait(POLL_SECONDS)


# Agent messages a turn put into a collecting output (REST), to be marked delivered when it ends.
_UNSENT: contextvars.ContextVar[Optional[List[int]]] = contextvars.ContextVar("unsent", default=None)


def _cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0 if hasattr(task, "cancelling") else False


_hub: Optional[Hub] = None
_hub_lock = threading.Lock()


def get_hub() -> Hub:
    """The process-wide hub (created on first use; nothing connects at import)."""
    global _hub
    with _hub_lock:
        if _hub is None:
            _hub = Hub.from_env()
        return _hub
