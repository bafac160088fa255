"""Requests for a human (转人工): recorded on the customer's ticket, then the conversation is put
through to an agent (queued, or straight to the ticket's responsible agent), or, when nobody is
available, a call-back is promised. From then on the channels' handoff gate keeps the bot silent."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import metrics
from actions.common import address_of, call, customer_of, idempotency_key, latest_text, limits, origin_of, ticket_vars
from actions.complaint import reset_complaint
from actions.forms import ReadingForm, intent_of, is_interruption, is_payload, prompted
from actions.handover import agents_available, hand_over
from actions.replies import polite_errors
from actions.ticket_changes import withdraw_call_back
from bot import answers, escalation
from bot.answers import reply_kind
from bot.categories import Category
from bot.lifecycle import ESCALATION_REQUESTED_TEXT, Escalations
from bot.limits import HUMAN, describe_retry
from bot.errors import IntakeError, StoreUnavailable
from bot.handoff import HandoffService, HandoffSession
from bot.text import description_from, find_phone
from bot.tickets import Customer, Ticket, TicketService

# How much of the classifier's belief a complaint category needs, beside `escalate`, to name the
# grievance of a request for a person (a bare "转人工" leaves every category under 0.01).
GRIEVANCE_SHARE = 0.08
DEFAULT_REQUEST = "客户请求人工服务"
TOO_MANY_REQUESTS = "您在短时间内已多次申请人工服务，请{wait}后再试。如果情况紧急，请直接拨打客服热线。"
# Asked again while the request stands: where they are, not a refusal (nothing new is filed).
WAITING_GREETING = "您好，您的转人工请求已记录在工单 {ticket} 上，客服会尽快与您联系。在此期间有什么问题也可以先问我。"
CALL_BACK_WAITING = "会的。您的转人工请求还在等待中（工单 {ticket}），客服会尽快与您联系，不需要重复申请。"
NO_CALL_BACK = "目前没有等待中的人工回电。工单的处理人员如需核实情况，可能会按工单上的号码联系您；需要人工客服的话，发送“转人工”就行。"
STILL_RECORDED = "您的转人工请求已记录在工单 {ticket} 上，不需要重复申请，客服会尽快与您联系。在此期间我仍可以为您解答问题。"


def grievance_of_request(tracker: Tracker) -> Category:
    """The complaint category the request for a person itself tells ("乱扣我30块，我要找律师"): its
    department gets the ticket, not the general desk. "Other" when it tells none."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") != "escalate":
            continue
        for ranked in parse.get("intent_ranking") or []:
            category = Category.from_intent(ranked.get("name"))
            if category is not None and float(ranked.get("confidence") or 0.0) >= GRIEVANCE_SHARE:
                return category
        break
    return Category.OTHER


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


_WITHDRAW = re.compile(r"取消|算了|不(用|要|需要|想)?(转|找)?人工|不转了|不用转|不等了|不找了|不麻烦")
CALLBACK_SLOTS = ("callback_declined", "callback_withdrawn", "callback_note", "form_prompted")


class ValidateCallbackForm(ReadingForm):
    """Asks for a call-back number only when nobody can take the chat now and none is known.

    The customer may refuse to leave one (asking for a person again counts as that: they are put
    through without it), withdraw the request, or say what it is about (kept for the agent).
    """

    extra_slots = CALLBACK_SLOTS

    def name(self) -> Text:
        return "validate_callback_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if tracker.get_slot("contact_phone") or tracker.get_slot("callback_declined") or tracker.get_slot("callback_withdrawn"):
            return []
        try:
            if await agents_available():
                return []
            if await _pending_request(customer_of(tracker)) is not None:
                return []  # asked (and answered, or declined) with the request that still stands
            open_tickets = await call(TicketService.list_for, customer_of(tracker), open_only=True, limit=1)
        except StoreUnavailable:
            open_tickets = []
        return [] if any(t.contact_phone for t in open_tickets) else domain_slots

    async def read(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = latest_text(tracker)
        intent = intent_of(tracker)
        phone = find_phone(text)
        if phone:
            return {"contact_phone": phone}
        if intent in ("escalate", "goodbye") or answers.declines_phone(text):
            return {"callback_declined": True}  # they want a person, not a form: put them through
        if _WITHDRAW.search(text):
            return {"callback_withdrawn": True}
        if reply_kind(text) in ("no", "cancel"):
            return {"callback_declined": True}
        if is_interruption(tracker):
            return {}
        if not is_payload(tracker) and (Category.from_intent(intent) or answers.has_facts(text)):
            before = tracker.get_slot("callback_note") or ""
            dispatcher.utter_message(response="utter_callback_note_added")
            return {"callback_note": description_from(f"{before}；{text}" if before else text)}
        dispatcher.utter_message(response="utter_still_need_phone")
        return {"contact_phone": None, **prompted()}


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        done = [SlotSet(slot, None) for slot in CALLBACK_SLOTS]
        if tracker.get_slot("callback_withdrawn"):
            if tracker.get_slot("complaint_category"):
                # The request interrupted a complaint: withdrawing it goes back to the complaint.
                dispatcher.utter_message(response="utter_callback_cancelled_complaint_resumes")
                return [*done, FollowupAction("complaint_form")]
            dispatcher.utter_message(response="utter_callback_cancelled")
            return done
        if answers.asks_about_call_back(latest_text(tracker)):
            # "人工还会给我打电话吗": where the call-back stands, not a second request.
            pending = await _pending_request(customer_of(tracker))
            if pending is not None and pending.ticket_number:
                dispatcher.utter_message(text=CALL_BACK_WAITING.format(ticket=pending.ticket_number))
            else:
                dispatcher.utter_message(text=NO_CALL_BACK)
            return done
        if answers.withdraws_human(latest_text(tracker)):
            # "不要人工了" read as a request for a person (it says 人工): never a new request.
            withdrawn = await withdraw_call_back(dispatcher, tracker)
            if withdrawn is None:
                dispatcher.utter_message(response="utter_no_more")
            return [*done, *(withdrawn or [])]
        customer = customer_of(tracker)
        # Each request files a ticket and puts someone in front of the agents: bounded per customer
        # and per address (bot/limits.py), so a script cannot bury the people really waiting.
        refusal = limits().admit(HUMAN, f"{customer.channel}:{customer.user_id}", address_of(tracker))
        if refusal is not None:
            metrics.HANDOFF_REQUESTS.labels("limited").inc()
            pending = await _pending_request(customer)
            if pending is not None and pending.ticket_number:
                dispatcher.utter_message(text=STILL_RECORDED.format(ticket=pending.ticket_number))
            else:
                dispatcher.utter_message(text=TOO_MANY_REQUESTS.format(wait=describe_retry(refusal.retry_after)))
            return done
        phone = tracker.get_slot("contact_phone")
        category = Category(tracker.get_slot("complaint_category") or grievance_of_request(tracker).value)
        description = tracker.get_slot("complaint_description")
        said = escalation_text(tracker) or DEFAULT_REQUEST
        note = tracker.get_slot("callback_note")
        with polite_errors(dispatcher) as failed:
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
                    origin_of(tracker),
                )
                number = complaint.number
                dispatcher.utter_message(response="utter_complaint_filed_before_human", **ticket_vars(complaint))
            ticket, _created = await call(
                TicketService.request_human,
                customer,
                f"{said}；客户补充：{note}" if note else said,
                number=number,
                contact_phone=phone,
                category=category,
                idempotency_key=idempotency_key(tracker, "human"),
            )
            escalated = await escalate_if_asked(tracker, ticket)
            await hand_over(dispatcher, tracker, ticket, reason_for(tracker, ticket))
            if escalated:
                dispatcher.utter_message(text=ESCALATION_REQUESTED_TEXT.format(number=ticket.number))
        if failed:
            return done
        return [*reset_complaint(), *done]


class ActionGreet(Action):
    """A greeting. "有人吗" from a customer whose request for a person is waiting is a question
    whether anyone is coming: where the request stands, not the menu."""

    def name(self) -> Text:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        pending = await _pending_request(customer_of(tracker))
        if pending is not None and pending.ticket_number:
            dispatcher.utter_message(text=WAITING_GREETING.format(ticket=pending.ticket_number))
        else:
            dispatcher.utter_message(response="utter_greet")
        return []


async def _pending_request(customer: Customer) -> Optional[HandoffSession]:
    """The customer's request for a person that still stands, if the database can tell."""
    try:
        return await call(HandoffService.pending_for, customer)
    except IntakeError:
        return None


async def escalate_if_asked(tracker: Tracker, ticket: Ticket) -> bool:
    """Asking for a supervisor (投诉升级) puts the ticket in the escalation queue; a regulator, media
    or legal threat does so automatically. True when a request was queued now: the caller says so in
    this turn's reply (not as a notice, which a channel that cannot push shows a turn late)."""
    said = escalation_text(tracker)
    why = escalation.signal(said)
    if why == escalation.SUPERVISOR[1]:
        source, by = "customer", "customer"
    elif why == escalation.REGULATOR[1]:
        source, by = "automatic", "bot"
    else:
        return False
    _request, created = await call(Escalations.request, ticket.number, source, by, f"{why}：{said[:200]}", notify=False)
    return created


def reason_for(tracker: Tracker, ticket: Ticket) -> str:
    said = escalation_text(tracker)
    if said:
        return f"客户要求转人工：{said[:100]}"
    return "客户要求转人工"
