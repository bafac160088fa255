"""Consultations: the FAQ answer the response selector picked (nlu/linear.py).

Rasa's own `utter_consult` fails when a message carries no selection (a typed "/consult" payload
skips the NLU pipeline), which would leave the customer without an answer. This action answers with
the selected topic and otherwise with the overview of what the assistant can help with.
"""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.fallback import answer_did_not_help, offer_a_way_on, selected_answer
from actions.status import tell_status, ticket_of_this_conversation

GENERAL = "utter_consult/general"
PROCESS = "utter_consult/complaint_process"


class ActionAnswerConsultation(Action):
    def name(self) -> Text:
        return "action_answer_consultation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not tracker.active_loop_name and answer_did_not_help(tracker):
            offer_a_way_on(dispatcher)  # not another topic's answer to "那怎么办"
            return []
        answer = selected_answer(tracker)
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
