"""Complaint intake: start, ask only for what is missing, confirm, file the ticket (投诉确认)."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, customer_of, idempotency_key, latest_text, ticket_vars
from actions.handover import hand_over
from bot.categories import Category
from bot.incidents import IncidentService
from bot.lifecycle import Escalations
from bot.severity import Severity
from bot.errors import IntakeError, InvalidInput, StoreUnavailable
from bot.text import description_from, find_phone, is_vague, mask_phone, yes_or_no
from bot.tickets import TicketService

logger = logging.getLogger(__name__)

COMPLAINT_SLOTS = ("complaint_category", "complaint_description", "complaint_confirmed")


def reset_complaint() -> List[EventType]:
    """Forget the complaint in progress; the contact phone is kept for the rest of the session."""
    return [SlotSet(slot, None) for slot in COMPLAINT_SLOTS]


class ActionStartComplaint(Action):
    """Takes what the first message already says: category, description, phone."""

    def name(self) -> Text:
        return "action_start_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        category = Category.from_intent(intent) or Category.OTHER
        text = latest_text(tracker)
        # Only facts are set: the form validates every slot set in this turn, and an empty
        # one would make it complain about input the customer never gave.
        # Stale values (an earlier session, a failed call) must not file an old complaint; the
        # validators accept None silently.
        events: List[EventType] = [SlotSet("complaint_category", category.value), SlotSet("complaint_confirmed", None)]
        events.append(SlotSet("complaint_description", None if is_vague(text) else description_from(text)))
        phone = find_phone(text)
        if not phone and not tracker.get_slot("contact_phone"):
            try:
                phone = await call(TicketService.known_phone, customer_of(tracker))
            except StoreUnavailable:
                phone = None  # we simply ask for it
        if phone:
            events.append(SlotSet("contact_phone", phone))
        return events


def validate_phone(value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
    if not value:
        return {"contact_phone": None}
    phone = find_phone(str(value))
    if phone is None:
        dispatcher.utter_message(response="utter_invalid_phone")
    return {"contact_phone": phone}


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_complaint_form"

    def validate_complaint_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not value:
            return {"complaint_description": None}
        text = description_from(str(value))
        if is_vague(text):
            dispatcher.utter_message(response="utter_description_too_vague")
            return {"complaint_description": None}
        result: Dict[Text, Any] = {"complaint_description": text}
        # "我要投诉" gave no category; the description does.
        described = Category.from_intent((tracker.latest_message.get("intent") or {}).get("name"))
        if described is not None:
            result["complaint_category"] = described.value
        return result

    def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return validate_phone(value, dispatcher)

    async def extract_complaint_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A plain yes or no to the confirmation counts whatever intent it was classified as."""
        if tracker.get_slot("requested_slot") != "complaint_confirmed":
            return {}
        answer = yes_or_no(latest_text(tracker))
        return {} if answer is None else {"complaint_confirmed": answer}


class ActionAskComplaintConfirmed(Action):
    """Shows what will be filed and asks for a yes/no with buttons."""

    def name(self) -> Text:
        return "action_ask_complaint_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        category = Category(tracker.get_slot("complaint_category") or Category.OTHER.value)
        description = tracker.get_slot("complaint_description") or ""
        if len(description) > 200:
            description = description[:200] + "…"
        dispatcher.utter_message(
            text=(
                "请确认以下投诉信息：\n"
                f"类别：{category.label}\n"
                f"问题描述：{description}\n"
                f"联系电话：{mask_phone(tracker.get_slot('contact_phone') or '')}\n"
                "确认无误就提交吗？"
            ),
            buttons=[
                {"title": "确认提交", "payload": "/affirm"},
                {"title": "取消", "payload": "/deny"},
            ],
        )
        return []


class ActionFileComplaint(Action):
    """Files the confirmed complaint and sends the 投诉确认 with number and deadlines."""

    def name(self) -> Text:
        return "action_file_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("complaint_confirmed") is not True:
            dispatcher.utter_message(response="utter_complaint_cancelled")
            return reset_complaint()
        category = Category(tracker.get_slot("complaint_category") or Category.OTHER.value)
        try:
            ticket, _created = await call(
                TicketService.open_complaint,
                customer_of(tracker),
                category,
                tracker.get_slot("complaint_description") or latest_text(tracker),
                tracker.get_slot("contact_phone"),
                idempotency_key(tracker, "complaint"),
            )
        except StoreUnavailable:
            logger.error("complaint of %s not filed: ticket store unavailable", tracker.sender_id)
            dispatcher.utter_message(response="utter_complaint_retry")
            # Keep everything; the form asks for the confirmation again.
            return [SlotSet("complaint_confirmed", None), FollowupAction("complaint_form")]
        except InvalidInput as error:
            logger.warning("complaint rejected: %s", error)
            dispatcher.utter_message(response="utter_complaint_cancelled")
            return reset_complaint()
        dispatcher.utter_message(response="utter_ticket_created", **ticket_vars(ticket))
        if category is Category.NETWORK:
            try:
                outcome = await call(IncidentService.consider, ticket.number)
            except IntakeError as error:  # the ticket stands; it is handled like any other
                logger.error("outage check of %s failed: %s", ticket.number, error.__class__.__name__)
            else:
                if outcome.linked and outcome.customer_text:
                    # A known fault: the incident is the escalation; no queue, no separate escalation.
                    dispatcher.utter_message(text=outcome.customer_text)
                    return reset_complaint()
        if ticket.severity in (Severity.MAJOR, Severity.URGENT):
            # Major and urgent complaints (outages, regulator threats, repeats) go to a person at once;
            # urgent ones also to the supervisors' escalation queue.
            try:
                if ticket.severity is Severity.URGENT:
                    try:
                        await call(Escalations.request, ticket.number, "automatic", "bot", f"紧急投诉：{ticket.severity_reason}")
                    except IntakeError as error:  # the ticket and its confirmation stand
                        logger.error("automatic escalation of %s failed: %s", ticket.number, error.__class__.__name__)
                await hand_over(dispatcher, tracker, ticket, f"{ticket.severity.label}投诉：{ticket.severity_reason}")
            except StoreUnavailable:
                logger.error("ticket %s filed but not handed over: store unavailable", ticket.number)
        return reset_complaint()


class ActionCancelComplaint(Action):
    def name(self) -> Text:
        return "action_cancel_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_complaint_cancelled")
        return reset_complaint()

