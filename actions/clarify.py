"""The customer's answer to a clarifying question ("您是想咨询，还是投诉？", see actions/fallback.py).

The buttons send ``/clarify{"choice": "<intent>"}``; the message they clarify waits in the slot
``pending_text`` (and, for a consultation, the FAQ answer the response selector picked for it in
``pending_answer``). The chosen reading is then carried out on the original words, as if the model
had been sure: a complaint starts with them as its description, a progress query looks for a ticket
number in them, a consultation gets its answer, a request for a person is put through.
"""

from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.complaint import start_complaint
from actions.status import tell_status
from bot import ticket_numbers
from bot.categories import Category

DONE = [SlotSet("pending_text", None), SlotSet("pending_answer", None)]


def choice_of(tracker: Tracker) -> Optional[str]:
    for value in tracker.get_latest_entity_values("choice"):
        return str(value)
    return None


class ActionResolveClarification(Action):
    def name(self) -> Text:
        return "action_resolve_clarification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        choice = choice_of(tracker)
        text = tracker.get_slot("pending_text") or ""
        category = Category.from_intent(choice)
        if category is not None:
            events = await start_complaint(tracker, category, text)
            return [*DONE, *events, FollowupAction("complaint_form")]
        if choice == "check_ticket_status":
            await tell_status(dispatcher, tracker, ticket_numbers.find(text))
            return DONE
        if choice == "escalate":
            return [*DONE, FollowupAction("callback_form")]
        if choice == "consult":
            answer = tracker.get_slot("pending_answer")
            dispatcher.utter_message(response=answer if answer and answer.startswith("utter_consult/") else "utter_consult/general")
            return DONE
        # A stale or forged button: say what we can do rather than nothing.
        dispatcher.utter_message(response="utter_consult/general")
        return DONE
