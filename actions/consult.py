"""Consultations: the FAQ answer the response selector picked (nlu/linear.py).

Rasa's own `utter_consult` fails when a message carries no selection (a typed "/consult" payload
skips the NLU pipeline), which would leave the customer without an answer. This action answers with
the selected topic and otherwise with the overview of what the assistant can help with.
"""

from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_text
from actions.fallback import (
    answer_did_not_help,
    note_english_once,
    offer_a_way_on,
    previous_topic,
    selected_answer,
    selection_confidence,
)
from actions.forms import intent_of
from actions.ticket_changes import change_on_ticket
from bot import answers, follow_up_questions
from actions.status import tell_status, ticket_of_this_conversation

GENERAL = "utter_consult/general"
PROCESS = "utter_consult/complaint_process"
# A follow-up whose own reading is at least this sure of a different topic asks about that topic.
ANOTHER_TOPIC = 0.6


class ActionAnswerConsultation(Action):
    def name(self) -> Text:
        return "action_answer_consultation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = await self._answer(dispatcher, tracker, domain)
        if intent_of(tracker) != "consult" and not tracker.active_loop_name:
            # Run for another reading (the fallback's "贵不贵" after an answer): no rule says what
            # comes next, and without an explicit end the policies ran this action again and again
            # until Rasa's circuit breaker stopped the conversation for good.
            if not any(e.get("event") == "followup" for e in events):
                events = [*events, FollowupAction("action_listen")]
        return events

    async def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if answers.is_wait(latest_text(tracker)):
            dispatcher.utter_message(response="utter_take_your_time")  # "稍等" is not a question
            return []
        changed = await change_on_ticket(dispatcher, tracker)
        if changed is not None:
            return changed
        note_english_once(dispatcher, tracker)
        if not tracker.active_loop_name and answer_did_not_help(tracker):
            offer_a_way_on(dispatcher)  # not another topic's answer to "那怎么办"
            return []
        answer = selected_answer(tracker)
        if await self._follow_up(dispatcher, tracker, domain, answer):
            return []
        if answer == PROCESS and not tracker.active_loop_name:
            recent = await ticket_of_this_conversation(tracker)
            if recent is not None:
                # "多久能处理完" right after a ticket: that ticket's own deadlines, not the general table.
                await tell_status(dispatcher, tracker, recent.number)
                return []
        known = set((domain or {}).get("responses") or {})
        if not answer or not answer.startswith("utter_consult/") or (known and answer not in known):
            answer = GENERAL
        dispatcher.utter_message(response=answer)
        return []

    @staticmethod
    async def _follow_up(
        dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, answer: Optional[str]
    ) -> bool:
        """"要多久", "多少钱", "在哪里点" right after an answer are about that answer's topic, unless
        the selector is sure the message names another one. True when answered."""
        previous = previous_topic(tracker)
        facet = follow_up_questions.facet_asked(latest_text(tracker)) if previous else None
        if previous is None or facet is None:
            return False
        if answer != previous and selection_confidence(tracker) >= ANOTHER_TOPIC:
            return False
        variants = ((domain or {}).get("responses") or {}).get(previous) or []
        text = (variants[0] or {}).get("text") if variants else None
        if not text:
            return False
        topic = previous.split("/", 1)[1]
        dispatcher.utter_message(
            text=follow_up_questions.reply(topic, text, facet), buttons=[{"title": "转人工客服", "payload": "/escalate"}]
        )
        return True
