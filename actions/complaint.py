"""Complaint intake: start (taking what the first message already says) and file the confirmed
ticket (投诉确认). The form in between, which asks only for what is missing, is actions/complaint_form.py."""

from __future__ import annotations

import logging
import re
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, customer_of, idempotency_key, latest_text, origin_of, ticket_vars
from actions.forms import intent_of
from bot import logs
from actions.handover import hand_over
from actions.status import ticket_of_this_conversation
from actions.ticket_changes import change_on_ticket
from bot.categories import Category
from bot.incidents import IncidentService
from bot.lifecycle import ESCALATION_REQUESTED_TEXT, Escalations
from bot.severity import Severity
from bot.errors import IntakeError, InvalidInput, StoreUnavailable
from bot.text import description_from, find_phone, is_vague, substance
from bot.tickets import Ticket, TicketService

logger = logging.getLogger(__name__)

COMPLAINT_SLOTS = (
    "complaint_category",
    "complaint_description",
    "complaint_confirmed",
    "complaint_cancel_pending",
    "complaint_cancel_confirmed",
    "complaint_no_phone",
    "form_prompted",
)


def reset_complaint() -> List[EventType]:
    """Forget the complaint in progress; the contact phone is kept for the rest of the session."""
    return [SlotSet(slot, None) for slot in COMPLAINT_SLOTS]


class ActionStartComplaint(Action):
    """Takes what the first message already says: category, description, phone. The same complaint
    sent again, or more about the one just filed, goes to that ticket instead of a new one."""

    def name(self) -> Text:
        return "action_start_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = latest_text(tracker)
        changed = await change_on_ticket(dispatcher, tracker)
        if changed is not None:
            return [*reset_complaint(), *changed]  # "撤销投诉": about the ticket filed, not a new one
        filed = await already_filed(tracker, text)
        if filed is not None:
            # The same complaint sent again (a double tap, or "did it go through?"): no second ticket.
            dispatcher.utter_message(response="utter_ticket_exists", ticket_number=filed.number)
            return [*reset_complaint(), FollowupAction("action_listen")]
        category = Category.from_intent(intent_of(tracker)) or ranked_category(tracker) or Category.OTHER
        if not _NEW_MATTER.search(text):
            recent = await ticket_of_this_conversation(tracker)
            if recent is not None and recent.category is category:
                # More about the complaint just filed ("能不能快点，楼里好多人在家办公"): it goes on that
                # ticket; a new matter is introduced as one ("还有一个问题…") or asked for in so many words.
                try:
                    await call(TicketService.add_customer_note, customer_of(tracker), text, recent.number)
                except IntakeError as error:
                    logger.error("addition to %s not recorded: %s", recent.number, error.__class__.__name__)
                else:
                    dispatcher.utter_message(response="utter_added_to_recent_ticket", ticket_number=recent.number)
                    return [*reset_complaint(), FollowupAction("action_listen")]
        if not is_vague(text):
            # Said before the first question so the customer knows they were heard, and as what; a
            # bare "我要投诉" gets its apology with the question about what happened instead.
            dispatcher.utter_message(response=f"utter_complaint_heard_{category.value}")
        return await start_complaint(tracker, category, text)


async def already_filed(tracker: Tracker, text: str) -> Optional[Ticket]:
    """The customer's open ticket whose first description says the same as `text`, if any."""
    said = substance(text)
    if len(said) < 6:  # "我要投诉", "网不好": too little to call it the same complaint
        return None
    try:
        tickets = await call(TicketService.list_for, customer_of(tracker), open_only=True)
    except StoreUnavailable:
        return None
    for ticket in tickets:
        if substance(ticket.description.split("；", 1)[0]) == said:
            return ticket
    return None


def ranked_category(tracker: Tracker) -> Optional[Category]:
    """The best complaint category in the intent ranking (for a message that fell back)."""
    for ranked in (tracker.latest_message or {}).get("intent_ranking") or []:
        category = Category.from_intent(ranked.get("name"))
        if category is not None:
            return category
    return None


async def start_complaint(tracker: Tracker, category: Category, text: str) -> List[EventType]:
    """The slots a new complaint starts with; the complaint form asks only for what is missing.

    Only facts are set, and stale values (an earlier complaint, a failed call) are cleared so that an
    old complaint is never filed again.
    """
    events: List[EventType] = [*reset_complaint(), SlotSet("complaint_category", category.value)]
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


# A complaint introduced as another one: never an addition to the ticket just filed.
_NEW_MATTER = re.compile(r"还有|另外|另一|再投诉|还要投诉|新的|又一个|再登记|登记新|新投诉|第二个|别的事|其他事")


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
                origin_of(tracker),
            )
        except StoreUnavailable:
            logger.error("complaint of %s not filed: ticket store unavailable", logs.conversation_ref(tracker.sender_id))
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
                    # A known fault: the incident is the escalation, so no separate escalation, and
                    # ordinary complaints are not queued. An urgent one still reaches a person: a
                    # forged or mistaken incident must never hide a customer who cannot wait.
                    dispatcher.utter_message(text=outcome.customer_text)
                    if ticket.severity is Severity.URGENT:
                        try:
                            await hand_over(
                                dispatcher, tracker, ticket,
                                f"紧急投诉（已并入故障 {outcome.incident.number}）：{ticket.severity_reason}",
                                asked=False,
                            )
                        except StoreUnavailable:
                            logger.error("urgent ticket %s linked but not handed over: store unavailable", ticket.number)
                    return reset_complaint()
        if ticket.severity in (Severity.MAJOR, Severity.URGENT):
            # Major and urgent complaints (outages, regulator threats, repeats) go to a person at once;
            # urgent ones also to the supervisors' escalation queue.
            try:
                escalated = False
                if ticket.severity is Severity.URGENT:
                    try:
                        _request, escalated = await call(
                            Escalations.request, ticket.number, "automatic", "bot", f"紧急投诉：{ticket.severity_reason}",
                            notify=False,
                        )
                    except IntakeError as error:  # the ticket and its confirmation stand
                        logger.error("automatic escalation of %s failed: %s", ticket.number, error.__class__.__name__)
                await hand_over(
                    dispatcher, tracker, ticket, f"{ticket.severity.label}投诉：{ticket.severity_reason}", asked=False
                )
                if escalated:  # said in this reply, not queued as a notice (see escalate_if_asked)
                    dispatcher.utter_message(text=ESCALATION_REQUESTED_TEXT.format(number=ticket.number))
            except StoreUnavailable:
                logger.error("ticket %s filed but not handed over: store unavailable", ticket.number)
        return reset_complaint()
