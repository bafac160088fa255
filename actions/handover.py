"""Putting a conversation through to a person, shared by every action that does it."""

from __future__ import annotations

from typing import List, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import metrics
from actions.common import call, customer_of, ticket_vars
from bot.handoff import HandoffService, Outcome, describe_wait
from bot.text import beijing_time
from bot.tickets import Ticket


def conversation(tracker: Tracker) -> List[Tuple[str, str]]:
    """The bot conversation so far, for the agent's transcript."""
    lines: List[Tuple[str, str]] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            lines = []
        elif event.get("event") == "user" and event.get("text") and not event["text"].startswith("/"):
            lines.append(("customer", event["text"]))
        elif event.get("event") == "bot" and event.get("text"):
            lines.append(("bot", event["text"]))
    return lines


async def agents_available() -> bool:
    return await call(HandoffService.available_now)


def _hours_note(hours: str) -> str:
    """Working hours are worth saying only when they explain the wait: with round-the-clock service
    "（人工服务时间：全天）" beside "nobody is online" reads as a contradiction."""
    return "" if hours == "全天" else f"（人工服务时间：{hours}）"


async def hand_over(
    dispatcher: CollectingDispatcher, tracker: Tracker, ticket: Ticket, reason: str, asked: bool = True
) -> None:
    """Put the conversation through to a person and tell the customer where they stand.

    `asked=False` when the assistant does it on its own (a major or urgent complaint): the customer
    is then not told that "their request" was recorded, which they never made."""
    history = conversation(tracker)
    # This turn's own answers are rendered by Rasa after the action: note what the customer was told.
    history.append(("system", f"智能助手已告知客户：工单 {ticket.number} 已登记，正在转接人工客服"))
    placement = await call(HandoffService.request, customer_of(tracker), reason, ticket, history)
    metrics.HANDOFF_REQUESTS.labels(placement.outcome.value).inc()
    values = ticket_vars(ticket)
    if placement.outcome is Outcome.ROUTED or (placement.outcome is Outcome.ALREADY and placement.agent_name):
        dispatcher.utter_message(response="utter_handoff_routed", agent=placement.agent_name, **values)
    elif placement.outcome is Outcome.UNAVAILABLE:
        contact = f"通过 {ticket.masked_phone} 联系您" if ticket.contact_phone else "在这里回复您"
        dispatcher.utter_message(
            response="utter_handoff_unavailable" if asked else "utter_handoff_unavailable_priority",
            hours=_hours_note(placement.hours),
            callback_due=beijing_time(placement.callback_due or ticket.response_due),
            contact=contact,
            **values,
        )
    else:
        dispatcher.utter_message(
            response="utter_handoff_queued",
            position=str(max(1, placement.position)),
            wait=describe_wait(placement.estimated_wait),
            **values,
        )
