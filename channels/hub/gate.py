"""The gate in front of the bot: every input channel wraps Rasa's ``on_new_message`` with
`Gate.gated`. While the customer waits for or talks to an agent, their messages go to the handoff
transcript instead of the bot; before that, the customer gets what agents wrote while they were
away (`flush`) and, once, the personal-data notice (`first_contact`). Also the traffic limits the
channels ask before they hand a message on, and the live-chat messages held while the store is down.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage

from bot.errors import IntakeError
from bot.handoff import CANCELLED_TEXT, IN_CHAT_TEXT, WAITING_TEXT, GateState, HandoffService, describe_wait
from bot.lifecycle import SURVEY_CLOSED_TEXT, SURVEY_PAYLOAD, Feedback, looks_like_survey_answer
from bot.limits import Limits, Refusal, describe_retry
from bot.privacy import Notices, notice_text
from bot.tickets import Customer
from channels import metrics
from channels.held_messages import HELD_TEXT, NOT_PASSED_TEXT, HeldMessages
from channels.held_messages import RETRY_SECONDS as HELD_RETRY_SECONDS
from channels.hub.pump import format_message
from channels.hub.turns import TurnSlots
from channels.reply_guard import ReplyGuard

logger = logging.getLogger("channels.hub")

WAITING_NOTICE_EVERY = 120.0
WAITING_RECEIPT = "收到，客服接入后会看到您的留言。"
NOT_WAITING = "您目前没有在等待人工客服。有问题可以直接问我；需要人工服务请发送“转人工”。"
SLOW_DOWN = "您发送得太快了，请{wait}后再发，我会继续为您处理。"
STILL_WORKING = "您前面的消息还在处理中，请稍等片刻，收到回复后再发送。"
OVERLOADED = "当前咨询的客户较多，系统繁忙，请稍后再发送一次。"
NO_COMMANDS = "这个指令不能在这里使用。有什么问题请直接用文字告诉我。"
# Rasa's own commands, which a customer could type or send as button data: they reset the
# conversation silently (slots, an open complaint form) and none of our buttons sends them.
_RASA_COMMANDS = re.compile(r"\s*/(restart|session_start|back)(?![A-Za-z0-9_])")

# Agent messages a turn put into a collecting output (REST), to be marked delivered when it ends.
_UNSENT: contextvars.ContextVar[Optional[List[int]]] = contextvars.ContextVar("unsent", default=None)


def slow_down_text(refusal: Refusal) -> str:
    return SLOW_DOWN.format(wait=describe_retry(refusal.retry_after))


class Gate:
    """The gate and the limits of the `Hub` (channels/hub/core.py holds the services they use)."""

    limits: Limits
    turns: TurnSlots
    handoff: HandoffService
    feedback: Feedback
    notices: Notices
    held: HeldMessages
    _last_notice: Dict[Customer, float]
    run: Callable[..., Awaitable[Any]]

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
                async with self.turns.turn(key):  # a few at a time, in order (channels/hub/turns.py)
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

    def _at_gate(self, customer: Customer) -> Tuple[bool, Optional[GateState]]:
        """In one worker-thread call: whether the personal-data notice is due (remembered in the
        process after the first time) and the customer's GateState (None when the store did not
        answer: the gate then takes the careful path, which knows what to do without it)."""
        try:
            notice_due = self.notices.first_contact(customer)
        except IntakeError as error:  # the notice comes with a later message
            logger.warning("privacy notice skipped: %s", error.__class__.__name__)
            notice_due = False
        try:
            return notice_due, self.handoff.gate_state(customer)
        except IntakeError:
            return notice_due, None

    async def _not_in_handoff(self, customer: Customer, text: str, output: OutputChannel) -> bool:
        """The customer is with the bot: only a stale 取消等待 button or a survey answer is not for it."""
        if text.strip() == "/cancel_handoff":  # a stale 取消等待 button: nothing to cancel
            await output.send_text_message(customer.user_id, NOT_WAITING)
            return True
        if not looks_like_survey_answer(text):
            return False
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

    def _delivered_all(self, ids: List[int]) -> None:
        for message_id in ids:
            self.handoff.delivered(message_id)

    async def route(self, customer: Customer, text: str, output: OutputChannel) -> bool:
        """True when the message belongs to a human conversation (the bot must stay silent).

        One worker-thread hop and one lock-free read decide the common case (no agent messages
        waiting, no handoff: the bot answers); deliveries, the handoff transcript and survey answers
        take their own transactions only when there is something to do."""
        notice_due, state = await self.run(self._at_gate, customer)
        if state is None or state.pending:
            await self.flush(customer, output)
        if notice_due:
            await output.send_text_message(customer.user_id, notice_text())
        if SURVEY_PAYLOAD.match(text.strip()):
            # A survey button, also pressed during a live chat: never for the agent or the bot.
            try:
                reply = await self.run(self.feedback.answer, customer, text.strip())
            except IntakeError:
                reply = None
            await output.send_text_message(customer.user_id, reply or SURVEY_CLOSED_TEXT)
            return True
        if state is not None and not state.with_human and not self.held.holds(customer):
            self.held.confirm(customer, False)
            return await self._not_in_handoff(customer, text, output)
        try:
            await self._pass_on_held(customer)  # what waited while the store was down goes first
            routing = await self.run(self.handoff.customer_message, customer, text)
        except IntakeError as error:
            return await self._store_down(customer, text, output, error)
        self.held.confirm(customer, routing is not None and routing.session.status.value == "active")
        if routing is None:
            return await self._not_in_handoff(customer, text, output)
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
