"""What a customer asks to change on a complaint already filed, whatever the classifier read:
the call-back number ("电话留错了，正确的是139…"), the complaint itself withdrawn ("投诉撤了吧"),
or the call-back by a person they asked for ("不要人工了 不用给我回电话").

Said after the confirmation, these used to become a note on the ticket (the agent then called the
old number), a new complaint, or "好的，有需要随时找我" with nothing done. The number is changed on
the ticket; a withdrawal is recorded on it for the responsible person, who closes the ticket after
checking with the customer (the assistant does not close tickets on its own).
"""

from __future__ import annotations

import logging
from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import call, customer_of, latest_text, previous_bot_actions
from actions.status import mentioned_ticket, ticket_of_this_conversation
from bot import answers
from bot.errors import IntakeError
from bot.handoff import HandoffService
from bot.text import find_landline, find_phone, mask_phone
from bot.tickets import Ticket, TicketService

logger = logging.getLogger(__name__)


async def change_on_ticket(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """Carries out a change of number or a withdrawal of the customer's recent complaint; None when
    the message asks for neither (or there is no open ticket to change)."""
    if tracker.active_loop_name:
        return None  # a form reads its own answers
    withdrawn = await withdraw_call_back(dispatcher, tracker)
    if withdrawn is not None:
        return withdrawn
    text = latest_text(tracker)
    phone = find_phone(text) or find_landline(text)  # "我办公室座机也可以 021-58881234"
    asked = "utter_ask_new_contact_phone" in previous_bot_actions(tracker)  # the number on its own, as asked
    changes_phone = answers.changes_phone(text) or (asked and phone is not None)
    withdraws = answers.withdraws(text)
    if not (changes_phone or withdraws):
        return None
    ticket = await _recent_ticket(tracker)
    if ticket is None:
        return None
    customer = customer_of(tracker)
    try:
        if changes_phone and phone:
            await call(TicketService.set_contact_phone, customer, ticket.number, phone)
            dispatcher.utter_message(response="utter_contact_phone_changed", ticket_number=ticket.number, phone=mask_phone(phone))
            return [SlotSet("contact_phone", phone), FollowupAction("action_listen")]
        if changes_phone and not withdraws:
            dispatcher.utter_message(response="utter_ask_new_contact_phone", ticket_number=ticket.number)
            return [FollowupAction("action_listen")]
        await call(TicketService.add_customer_note, customer, f"客户希望撤销投诉：{text[:200]}", ticket.number)
    except IntakeError as error:
        logger.error("change on %s not recorded: %s", ticket.number, error.__class__.__name__)
        dispatcher.utter_message(response="utter_store_unavailable")
        return [FollowupAction("action_listen")]
    dispatcher.utter_message(response="utter_withdrawal_noted", ticket_number=ticket.number)
    return [FollowupAction("action_listen")]


async def withdraw_call_back(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """"不要人工了 不用给我回电话" while a call-back waits: it is withdrawn (and the tickets say so);
    None when the message does not withdraw one or none waits."""
    if not answers.withdraws_human(latest_text(tracker)):
        return None
    try:
        withdrawn = await call(HandoffService.withdraw_callback, customer_of(tracker))
    except IntakeError as error:
        logger.error("call-back not withdrawn: %s", error.__class__.__name__)
        dispatcher.utter_message(response="utter_store_unavailable")
        return [FollowupAction("action_listen")]
    if withdrawn is None:
        return None
    dispatcher.utter_message(response="utter_call_back_withdrawn", ticket_number=withdrawn.ticket_number or "")
    return [FollowupAction("action_listen")]


async def _recent_ticket(tracker: Tracker) -> Optional[Ticket]:
    """The ticket named in the message, else the one filed in this conversation, else the customer's
    latest open one."""
    customer = customer_of(tracker)
    try:
        number = mentioned_ticket(tracker)
        if number:
            ticket = await call(TicketService.get, customer, number)
            return ticket if ticket.status.is_open else None
        ticket = await ticket_of_this_conversation(tracker)
        if ticket is not None:
            return ticket
        latest = await call(TicketService.list_for, customer, open_only=True, limit=1)
    except IntakeError:
        return None
    return latest[0] if latest else None
