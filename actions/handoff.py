"""Requests for a human (转人工): recorded on the customer's ticket, then the conversation is put
through to an agent (queued, or straight to the ticket's responsible agent), or, when nobody is
available, a call-back is promised. From then on the channels' handoff gate keeps the bot silent."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, customer_of, idempotency_key
from actions.complaint import reset_complaint, validate_phone
from actions.handover import agents_available, hand_over
from bot import escalation
from bot.categories import Category
from bot.lifecycle import Escalations
from bot.errors import StoreUnavailable
from bot.tickets import Ticket, TicketService

DEFAULT_REQUEST = "客户请求人工服务"


def escalation_text(tracker: Tracker) -> str:
    """What the customer wrote when asking for a human (button presses carry no words)."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent == "escalate":
            text = (event.get("text") or "").strip()
            return "" if text.startswith("/") else text
    return ""


class ValidateCallbackForm(FormValidationAction):
    """Asks for a call-back number only when nobody can take the chat now and none is known."""

    def name(self) -> Text:
        return "validate_callback_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if tracker.get_slot("contact_phone"):
            return []
        try:
            if await agents_available():
                return []
            open_tickets = await call(TicketService.list_for, customer_of(tracker), open_only=True, limit=1)
        except StoreUnavailable:
            open_tickets = []
        return [] if any(t.contact_phone for t in open_tickets) else domain_slots

    def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return validate_phone(value, dispatcher)


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer = customer_of(tracker)
        phone = tracker.get_slot("contact_phone")
        category = Category(tracker.get_slot("complaint_category") or Category.OTHER.value)
        description = tracker.get_slot("complaint_description")
        try:
            number = None
            if description:
                # A complaint interrupted by the request is filed as its own ticket first.
                complaint, _ = await call(
                    TicketService.open_complaint,
                    customer,
                    category,
                    description,
                    phone,
                    idempotency_key(tracker, "complaint-before-human"),
                )
                number = complaint.number
            ticket, _created = await call(
                TicketService.request_human,
                customer,
                escalation_text(tracker) or DEFAULT_REQUEST,
                number=number,
                contact_phone=phone,
                category=category,
                idempotency_key=idempotency_key(tracker, "human"),
            )
            await escalate_if_asked(tracker, ticket)
            await hand_over(dispatcher, tracker, ticket, reason_for(tracker, ticket))
        except StoreUnavailable:
            dispatcher.utter_message(response="utter_store_unavailable")
            return []
        return reset_complaint()


async def escalate_if_asked(tracker: Tracker, ticket: Ticket) -> None:
    """Asking for a supervisor (投诉升级) puts the ticket in the escalation queue; a regulator, media
    or legal threat does so automatically."""
    said = escalation_text(tracker)
    why = escalation.signal(said)
    if why == escalation.SUPERVISOR[1]:
        await call(Escalations.request, ticket.number, "customer", "customer", f"{why}：{said[:200]}")
    elif why == escalation.REGULATOR[1]:
        await call(Escalations.request, ticket.number, "automatic", "bot", f"{why}：{said[:200]}")


def reason_for(tracker: Tracker, ticket: Ticket) -> str:
    said = escalation_text(tracker)
    if said:
        return f"客户要求转人工：{said[:100]}"
    return "客户要求转人工"
