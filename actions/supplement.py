"""Customer additions to an open ticket ("补充一下：…")."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, customer_of, latest_text
from actions.forms import ReadingForm, intent_of, is_interruption, is_payload
from actions.replies import polite_errors
from actions.status import mentioned_ticket
from actions.ticket_changes import change_on_ticket
from bot import answers
from bot.answers import reply_kind
from bot.errors import InvalidInput, NotFound, StoreUnavailable
from bot.text import substance, supplement_content
from bot.tickets import TicketService

RESET = [SlotSet("supplement_text", None), SlotSet("supplement_ticket", None), SlotSet("supplement_cancelled", None)]


class ActionPrepareSupplement(Action):
    """Keeps what the first message already adds, so the form only asks when nothing was said."""

    def name(self) -> Text:
        return "action_prepare_supplement"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        changed = await change_on_ticket(dispatcher, tracker)
        if changed is not None:
            return [*RESET, *changed]  # a new call-back number or a withdrawal, not a note
        number = mentioned_ticket(tracker)
        if number is None:
            with polite_errors(dispatcher) as failed:
                open_tickets = await call(TicketService.list_for, customer_of(tracker), open_only=True, limit=1)
            if failed:
                return [*RESET, FollowupAction("action_listen")]
            if not open_tickets:
                dispatcher.utter_message(response="utter_no_open_ticket")
                return [*RESET, FollowupAction("action_listen")]
        content = supplement_content(latest_text(tracker))
        return [
            SlotSet("supplement_cancelled", None),
            SlotSet("supplement_ticket", number),
            SlotSet("supplement_text", content if len(substance(content)) >= 2 else None),
        ]


class ValidateSupplementForm(ReadingForm):
    """Takes the addition; a wish to stop ends the form, an interruption is answered by a rule."""

    extra_slots = ("form_prompted", "supplement_cancelled")

    def name(self) -> Text:
        return "validate_supplement_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        return [] if tracker.get_slot("supplement_cancelled") else domain_slots

    async def read(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = latest_text(tracker)
        if is_interruption(tracker) and intent_of(tracker) != "consult":
            return {}
        content = supplement_content(text)
        if (reply_kind(text) in ("no", "cancel") or intent_of(tracker) == "goodbye") and not answers.has_facts(content):
            return {"supplement_cancelled": True}
        if is_payload(tracker) or len(substance(content)) < 2:
            # The form asks again (utter_ask_supplement_text); nothing is said twice.
            return {"supplement_text": None}
        return {"supplement_text": content}


class ActionAddTicketInfo(Action):
    def name(self) -> Text:
        return "action_add_ticket_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("supplement_cancelled"):
            dispatcher.utter_message(response="utter_supplement_cancelled")
            return RESET
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
