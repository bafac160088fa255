"""What every form shares: it reads each message against the question it just asked.

Rasa fills a form's slots from its own mappings and rejects the form when none was filled, so the
rules can answer an interruption. Our forms' slots use custom mappings only, so the reading happens
in one place, the form's `read` method, which returns either

* the slots the message fills or corrects (the form then asks its next question), or
* nothing, for an interruption (a question, a status query, a request for a person, a greeting):
  the form is rejected, a rule answers, and the form asks its question again.

A message is never dropped on the floor: whatever the form does not reject, it answers.
"""

from __future__ import annotations

import abc
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_text

# Answered by a rule while a form waits; the form then asks its question again.
INTERRUPTIONS = frozenset({"consult", "check_ticket_status", "escalate", "greet", "thank"})
# Confidence above which a complaint category read from a follow-up message may replace "other".
RECATEGORISE_CONFIDENCE = 0.6


def intent_of(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def confidence_of(tracker: Tracker) -> float:
    return float(((tracker.latest_message or {}).get("intent") or {}).get("confidence") or 0.0)


def is_payload(tracker: Tracker) -> bool:
    """A button press (`/intent…`), not words the customer typed."""
    return latest_text(tracker).strip().startswith("/")


def is_interruption(tracker: Tracker) -> bool:
    return intent_of(tracker) in INTERRUPTIONS


_QUESTION = re.compile(r"[？?]|吗|(?<!什)么|呢|怎么|怎样|如何|为什么|为啥|咋|几|多少|多久|是不是|能不能|可不可以|有没有")


def is_more_story(tracker: Tracker) -> bool:
    """A statement the classifier reads as a consultation with no topic of its own (the overview
    answer): inside a form that asked about a grievance it is more of the story ("我也没开什么东西啊
    就是打打电话"), not a question to answer with the menu."""
    if intent_of(tracker) != "consult":
        return False
    selector = ((tracker.latest_message or {}).get("response_selector") or {}).get("consult") or {}
    topic = (selector.get("response") or {}).get("utter_action")
    return topic in (None, "utter_consult/general") and not _QUESTION.search(latest_text(tracker))


class ReadingForm(FormValidationAction):
    """A form validation whose slots are all filled by `read` (see the module docstring)."""

    #: the slots `read` may set, besides the form's required slots
    extra_slots: tuple = ("form_prompted",)

    @abc.abstractmethod
    async def read(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        """The slots this message fills or corrects; {} for an interruption (see the module docstring)."""

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if (
            tracker.active_loop_name != self.form_name()
            or not tracker.get_slot("requested_slot")
            or not answers_a_message(tracker)
        ):
            # Activation (nothing asked yet: the message started the form), or a re-run after an
            # interruption: there is no answer to read.
            return []
        values = await self.read(dispatcher, tracker, domain)
        return [SlotSet(slot, value) for slot, value in values.items()]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """`read` has validated everything it set; pass its slots on unchanged."""
        wanted = set(await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain))
        wanted |= set(self.domain_slots(domain)) | set(self.extra_slots)
        return [SlotSet(slot, value) for slot, value in tracker.slots_to_validate().items() if slot in wanted]


def answers_a_message(tracker: Tracker) -> bool:
    """The form runs right after the customer's message (not after a rule's answer or a follow-up).

    Rasa hands the validation action a tracker that ends with the form's own `action` event; the
    action before it tells how the form was reached.
    """
    actions = [e.get("name") for e in reversed(tracker.events) if e.get("event") == "action"]
    return len(actions) >= 2 and actions[1] == "action_listen"


def prompted() -> Dict[Text, Any]:
    """The form's question was already asked by `read` this turn; its ask action stays silent once."""
    return {"form_prompted": True}


def take_prompt(tracker: Tracker) -> Optional[List[EventType]]:
    """For an ask action: the events to return silently when `read` already asked, else None."""
    if tracker.get_slot("form_prompted"):
        return [SlotSet("form_prompted", None)]
    return None


class AskForSlot(Action, abc.ABC):
    """A form's question (`action_ask_<slot>`), silent when `read` already asked it this turn.

    By default it utters the response named after the action (`utter_ask_<slot>`); `ask` can say more.
    """

    @abc.abstractmethod
    def name(self) -> Text:
        """action_ask_<slot>"""

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        dispatcher.utter_message(response=self.name().replace("action_", "utter_", 1))

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        silent = take_prompt(tracker)
        if silent is not None:
            return silent
        self.ask(dispatcher, tracker)
        return []
