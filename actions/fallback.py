"""Messages the assistant did not understand: ask to rephrase once; the second time in a row, put the
customer through to a person (or, when nobody can take the chat, offer a call-back)."""

from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, customer_of, idempotency_key, latest_text
from actions.handover import agents_available, hand_over
from bot.categories import Category
from bot.errors import StoreUnavailable
from bot.tickets import TicketService

logger = logging.getLogger(__name__)
NOT_UNDERSTOOD_TWICE = "客户连续两次未被理解，转人工"

NOT_UNDERSTOOD = {"nlu_fallback", "out_of_scope"}


def failures_in_a_row(tracker: Tracker) -> int:
    """How many of the latest user messages, counting back, were not understood."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in NOT_UNDERSTOOD:
            break
        count += 1
    return count


class ActionHandleFallback(Action):
    def name(self) -> Text:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not latest_text(tracker).strip():
            dispatcher.utter_message(response="utter_empty_message")
        elif failures_in_a_row(tracker) >= 2:
            if not await self._hand_over(dispatcher, tracker):
                dispatcher.utter_message(response="utter_offer_human")
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []

    @staticmethod
    async def _hand_over(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        """Straight to a person when someone can take the chat now; False otherwise."""
        try:
            if not await agents_available():
                return False
            customer = customer_of(tracker)
            ticket, _ = await call(
                TicketService.request_human,
                customer,
                f"{NOT_UNDERSTOOD_TWICE}。客户原话：{latest_text(tracker)}",
                category=Category.OTHER,
                idempotency_key=idempotency_key(tracker, "human-fallback"),
            )
            dispatcher.utter_message(response="utter_not_understood_to_human")
            await hand_over(dispatcher, tracker, ticket, NOT_UNDERSTOOD_TWICE)
            return True
        except StoreUnavailable:
            logger.error("fallback handover failed: ticket store unavailable")
            return False
