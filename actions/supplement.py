"""Customer additions to an open ticket ("补充一下：…")."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, customer_of, latest_text
from actions.status import mentioned_ticket
from bot.errors import InvalidInput, NotFound, StoreUnavailable
from bot.text import substance, supplement_content
from bot.tickets import TicketService

RESET = [SlotSet("supplement_text", None), SlotSet("supplement_ticket", None)]


class ActionPrepareSupplement(Action):
    """Keeps what the first message already adds, so the form only asks when nothing was said."""

    def name(self) -> Text:
        return "action_prepare_supplement"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        number = mentioned_ticket(tracker)
        if number is None:
            try:
                open_tickets = await call(TicketService.list_for, customer_of(tracker), open_only=True, limit=1)
            except StoreUnavailable:
                dispatcher.utter_message(response="utter_store_unavailable")
                return [*RESET, FollowupAction("action_listen")]
            if not open_tickets:
                dispatcher.utter_message(response="utter_no_open_ticket")
                return [*RESET, FollowupAction("action_listen")]
        content = supplement_content(latest_text(tracker))
        return [
            SlotSet("supplement_ticket", number),
            SlotSet("supplement_text", content if len(substance(content)) >= 2 else None),
        ]


class ValidateSupplementForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_supplement_form"

    def validate_supplement_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        content = supplement_content(str(value or ""))
        if len(substance(content)) < 2:
            dispatcher.utter_message(response="utter_ask_supplement_text")
            return {"supplement_text": None}
        return {"supplement_text": content}


class ActionAddTicketInfo(Action):
    def name(self) -> Text:
        return "action_add_ticket_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        number = tracker.get_slot("supplement_ticket")
        try:
            ticket = await call(
                TicketService.add_customer_note, customer_of(tracker), tracker.get_slot("supplement_text") or "", number
            )
        except NotFound:
            if number:
                dispatcher.utter_message(response="utter_ticket_not_found", ticket_number=number)
            else:
                dispatcher.utter_message(response="utter_no_open_ticket")
            return RESET
        except InvalidInput:
            dispatcher.utter_message(response="utter_ask_supplement_text")
            return RESET
        except StoreUnavailable:
            dispatcher.utter_message(response="utter_store_unavailable")
            return RESET
        dispatcher.utter_message(response="utter_supplement_added", ticket_number=ticket.number)
        return RESET
