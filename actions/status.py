"""Progress queries (进度查询): only ever about the customer's own tickets."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, customer_of, latest_text, ticket_vars
from actions.replies import TICKET_REPLIES, polite_errors
from bot import ticket_numbers
from bot.errors import IntakeError
from bot.tickets import Ticket, TicketService


def mentioned_ticket(tracker: Tracker) -> Optional[str]:
    """The ticket number in the latest message, from the NLU entity or the text itself."""
    for value in tracker.get_latest_entity_values("ticket_id"):
        number = ticket_numbers.find(str(value))
        if number:
            return number
    return ticket_numbers.find(latest_text(tracker))


def status_vars(ticket: Ticket) -> dict:
    values = ticket_vars(ticket)
    late = ticket.status.is_open and datetime.now(timezone.utc) > ticket.resolve_due
    values["overdue"] = "\n⚠️ 已超过承诺的处理时限，非常抱歉，我们会尽快给您答复。" if late else ""
    return values


class ActionCheckTicketStatus(Action):
    def name(self) -> Text:
        return "action_check_ticket_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        await tell_status(dispatcher, tracker, mentioned_ticket(tracker))
        return []


async def tell_status(dispatcher: CollectingDispatcher, tracker: Tracker, number: Optional[str]) -> None:
    """The named ticket, or the customer's tickets, as the customer may see them."""
    customer = customer_of(tracker)
    with polite_errors(dispatcher, TICKET_REPLIES, ticket_number=number) as failed:
        if number:
            ticket = await call(TicketService.get, customer, number)
        else:
            tickets = await call(TicketService.list_for, customer)
    if failed:
        return
    if number:
        dispatcher.utter_message(response="utter_ticket_status", **status_vars(ticket))
        return
    if not tickets:
        dispatcher.utter_message(response="utter_no_tickets")
    elif len(tickets) == 1:
        dispatcher.utter_message(response="utter_ticket_status", **status_vars(tickets[0]))
    else:
        dispatcher.utter_message(response="utter_ticket_list_header")
        for ticket in tickets:
            dispatcher.utter_message(response="utter_ticket_list_item", **ticket_vars(ticket))
        dispatcher.utter_message(response="utter_ticket_list_footer")


async def ticket_of_this_conversation(tracker: Tracker) -> Optional[Ticket]:
    """The ticket last filed in this conversation, if it is still open (None when the store does not
    answer): what "多久能处理完" or more of the same story right after the confirmation is about."""
    for event in reversed(tracker.events):
        if event.get("event") != "bot" or (event.get("metadata") or {}).get("utter_action") != "utter_ticket_created":
            continue
        number = ticket_numbers.find(event.get("text") or "")
        if not number:
            return None
        try:
            ticket = await call(TicketService.get, customer_of(tracker), number)
        except IntakeError:
            return None
        return ticket if ticket.status.is_open else None
    return None
