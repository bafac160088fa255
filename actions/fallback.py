"""Messages the assistant did not understand, could read two ways, or that are not its business.

* Two close readings (a complaint or a question? a complaint or a progress query?): one short
  question with a button for each, instead of a guess (actions/clarify.py takes the answer).
  Two complaint categories are not asked about: the complaint starts with the likelier one and the
  confirmation shows it, where the customer can change it.
* Not understood: ask to rephrase once. Never twice in a row: the second time the customer is put
  through to a person when someone can take the chat, or offered one.
* Inside a form: say so once and ask the form's question again.
* Off-topic (`out_of_scope`): a polite answer saying what the assistant can do.

Every path ends the turn (or resumes the form), so a turn has at most one such message.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, customer_of, idempotency_key, latest_text, previous_bot_actions
from actions.complaint import start_complaint
from actions.handover import agents_available, hand_over
from actions.ticket_changes import change_on_ticket
from bot import answers, follow_up_questions, ticket_numbers
from bot.categories import Category
from bot.errors import IntakeError, StoreUnavailable
from bot.handoff import HandoffService
from bot.tickets import TicketService
from bot.text import clean, find_phone, is_blank, mask_phone

logger = logging.getLogger(__name__)
NOT_UNDERSTOOD_TWICE = "客户连续两次未被理解，转人工"

FALLBACK = "nlu_fallback"
_CJK = re.compile(r"[\u4e00-\u9fff]")
# A sentence in English (two words, one of them a common one), not keyboard mashing or a code.
_ENGLISH = re.compile(
    r"(?i)\b(i|you|your|my|me|the|is|are|can|could|do|does|how|what|why|where|when|please|want|need|help|"
    r"english|speak|reply|to|in|of|for|with|it|not|don't)\b[^A-Za-z]{1,3}[A-Za-z]{2}|[A-Za-z]{2}[^A-Za-z]{1,3}"
    r"(?i:\b(i|you|your|my|me|the|is|are|can|do|how|what|please|english|speak|reply|to|in|it|not)\b)"
)
NOT_UNDERSTOOD = {FALLBACK, "out_of_scope"}
REPHRASE = "utter_ask_rephrase"
OFF_TOPIC = ("utter_out_of_scope", "utter_out_of_scope_again")

# Something typed as a ticket number that is not one of ours (a digit short, an old format).
_TICKET_LIKE = re.compile(r"(?<![0-9A-Za-z])TS[\s-]?\d[0-9A-Za-z-]{5,20}(?![0-9A-Za-z])", re.IGNORECASE)
# "那怎么办" after an answer: it did not help.
_STILL_STUCK = re.compile(
    r"(那|那我|那要|那该|那现在|然后|可是|但是)?(怎么办|咋办|咋整|怎么弄|咋弄|怎么搞|该怎么办|然后呢|"
    r"还是不行|还是没用|试了不行|试过了|没用|不管用|没解决)[啊呀呢哇啦吧？?。！!…]*"
)

# "你是真人吗", "你是机器人吗", "你叫什么名字": the assistant says what it is (and how to reach a person).
_WHO_ARE_YOU = re.compile(r"(你|您)(是|到底是|究竟是)(不是)?(真人|活人|人工|机器人?|AI|ai|智能客服)|真人还是机器|机器人?还是真人|你叫什么|你是谁")

# "帮我办了", "就要这个", "办吧", "39的": asking the assistant to do what an answer described.
_DO_IT = re.compile(
    r"(帮|给|替)我(办|开|换|弄|改|订|退|取消|关|交|充|查|申请)|就(要|选|办|订|换)(这|那)?个|就这个吧|这个吧|"
    r"办(了|一下)?吧|开通吧|办理吧|\d{1,4}(块|元)?的(那个|套餐)?(吧|呗)?$"
)

# Readings worth a clarifying question, with the button title for each.
CHOICES: Dict[str, str] = {
    "consult": "咨询业务问题",
    "complain_network": "投诉网络问题",
    "complain_billing": "投诉扣费问题",
    "complain_business": "投诉业务办理",
    "complain_other": "投诉其他问题",
    "check_ticket_status": "查询工单进度",
    "escalate": "转人工客服",
}
# Together the two readings must carry most of the model's belief, or a question would be a guess too.
CLARIFY_MIN_MASS = 0.5
CLARIFY_MIN_SECOND = 0.15


def ranking(tracker: Tracker) -> List[Tuple[str, float]]:
    """The model's readings of the latest message, best first, without the fallback itself."""
    ranked = (tracker.latest_message or {}).get("intent_ranking") or []
    return [(r.get("name") or "", float(r.get("confidence") or 0.0)) for r in ranked if r.get("name") != FALLBACK]


def close_readings(tracker: Tracker) -> Optional[Tuple[str, str]]:
    """The two readings to ask about, or None when the message is simply not understood."""
    ranked = ranking(tracker)
    if len(ranked) < 2:
        return None
    (first, p1), (second, p2) = ranked[0], ranked[1]
    if first not in CHOICES or second not in CHOICES or p1 + p2 < CLARIFY_MIN_MASS or p2 < CLARIFY_MIN_SECOND:
        return None
    return first, second


def _selection(tracker: Tracker) -> Dict[str, Any]:
    """The response selector's pick for the latest message ({} if it did not run)."""
    selector = ((tracker.latest_message or {}).get("response_selector") or {}).get("consult") or {}
    return selector.get("response") or {}


def selection_confidence(tracker: Tracker) -> float:
    """How sure the response selector was of its pick for the latest message (0 if it did not run)."""
    return float(_selection(tracker).get("confidence") or 0.0)


def selected_answer(tracker: Tracker) -> Optional[str]:
    """The FAQ answer the response selector picked for the latest message, if it ran."""
    return _selection(tracker).get("utter_action")


class ActionHandleFallback(Action):
    def name(self) -> Text:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        loop = (tracker.active_loop or {}).get("name")
        if is_blank(latest_text(tracker)):  # also zero-width / bidi-only messages, not only whitespace
            dispatcher.utter_message(response="utter_empty_message")
            return [FollowupAction(loop)] if loop else [FollowupAction("action_listen")]
        if loop and answers.is_wait(latest_text(tracker)):
            dispatcher.utter_message(response="utter_take_your_time")  # the form then stays silent
            return [FollowupAction(loop)]
        if loop:
            # A form was waiting for an answer: say so once, and ask its question again.
            dispatcher.utter_message(response="utter_resume_form")
            return [FollowupAction(loop)]
        understood = await self._by_its_shape(dispatcher, tracker)
        if understood is not None:
            return understood
        readings = close_readings(tracker)
        if readings is not None:
            return await self._clarify(dispatcher, tracker, readings)
        if REPHRASE in previous_bot_actions(tracker):
            if not await self._hand_over(dispatcher, tracker):
                dispatcher.utter_message(response="utter_offer_human")
            return [FollowupAction("action_listen")]
        dispatcher.utter_message(response=REPHRASE)
        return [FollowupAction("action_listen")]

    @staticmethod
    async def _by_its_shape(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
        """Messages the classifier cannot read but whose shape says what they are: a ticket number
        on its own (a progress query), a phone number on its own (the number to call back on), or
        "那怎么办" right after an answer (the answer did not help). None for anything else."""
        text = latest_text(tracker)
        if ticket_numbers.find(text):
            return [FollowupAction("action_check_ticket_status")]
        malformed = _TICKET_LIKE.search(text)
        if malformed:
            dispatcher.utter_message(response="utter_ticket_number_malformed", ticket_number=malformed.group(0).upper())
            return [FollowupAction("action_listen")]
        if is_english(text) and "utter_english_only" not in previous_bot_actions(tracker):
            # "can you reply in English?": said once, in both languages; a second time it is not understood.
            dispatcher.utter_message(response="utter_english_only", buttons=[{"title": "转人工客服", "payload": "/escalate"}])
            return [FollowupAction("action_listen")]
        changed = await change_on_ticket(dispatcher, tracker)
        if changed is not None:
            return changed
        if answers.is_wait(text):
            dispatcher.utter_message(response="utter_take_your_time")
            return [FollowupAction("action_listen")]
        phone = find_phone(text)
        if phone and not answers.has_facts(text):
            return await phone_given(dispatcher, tracker, phone)
        if answer_did_not_help(tracker):
            offer_a_way_on(dispatcher)
            return [FollowupAction("action_listen")]
        if previous_topic(tracker) and follow_up_questions.facet_asked(text):
            return [FollowupAction("action_answer_consultation")]  # "打美国呢要多少钱" after an answer
        return None

    @staticmethod
    async def _clarify(
        dispatcher: CollectingDispatcher, tracker: Tracker, readings: Tuple[str, str]
    ) -> List[EventType]:
        categories = [Category.from_intent(r) for r in readings]
        if all(categories):
            # Which kind of complaint is for the confirmation step, where it can be changed.
            events = await start_complaint(tracker, categories[0], latest_text(tracker))  # type: ignore[arg-type]
            return [*events, FollowupAction("complaint_form")]
        buttons = [{"title": CHOICES[r], "payload": f'/clarify{{"choice": "{r}"}}'} for r in readings]
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return [
            SlotSet("pending_text", latest_text(tracker)),
            SlotSet("pending_answer", selected_answer(tracker)),
            FollowupAction("action_listen"),
        ]

    @staticmethod
    async def _hand_over(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        """Straight to a person when someone can take the chat now; False otherwise."""
        try:
            if not await agents_available():
                return False
            customer = customer_of(tracker)
            ticket, _ = await call(
                TicketService.request_human,
                customer,
                f"{NOT_UNDERSTOOD_TWICE}。客户原话：{latest_text(tracker)}",
                category=Category.OTHER,
                idempotency_key=idempotency_key(tracker, "human-fallback"),
            )
            dispatcher.utter_message(response="utter_not_understood_to_human")
            await hand_over(dispatcher, tracker, ticket, NOT_UNDERSTOOD_TWICE)
            return True
        except StoreUnavailable:
            logger.error("fallback handover failed: ticket store unavailable")
            return False


def is_english(text: str) -> bool:
    """A sentence in English with no Chinese in it."""
    return bool(_ENGLISH.search(text)) and not _CJK.search(text)


def note_english_once(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Before the first answer to a message in English, say (in both languages) that answers come
    in Chinese; once per conversation."""
    if not is_english(latest_text(tracker)):
        return
    said = {"utter_english_only", "utter_english_only_answered"}
    if any((e.get("metadata") or {}).get("utter_action") in said for e in tracker.events if e.get("event") == "bot"):
        return
    dispatcher.utter_message(response="utter_english_only_answered")


def previous_topic(tracker: Tracker) -> Optional[str]:
    """The FAQ answer (`utter_consult/<topic>`) the assistant gave in its previous turn, if any
    (the overview of what it can do is not a topic)."""
    for action in previous_bot_actions(tracker):
        if action.startswith("utter_consult/") and action != "utter_consult/general":
            return action
    return None


def answer_did_not_help(tracker: Tracker) -> bool:
    """"那怎么办", "还是不行" right after an FAQ answer: however it is classified, that answer did not help."""
    return bool(_STILL_STUCK.fullmatch(clean(latest_text(tracker)))) and any(
        a.startswith("utter_consult/") for a in previous_bot_actions(tracker)
    )


def offer_a_way_on(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(response="utter_answer_did_not_help", buttons=[{"title": "转人工客服", "payload": "/escalate"}])


async def phone_given(dispatcher: CollectingDispatcher, tracker: Tracker, phone: str) -> List[EventType]:
    """A phone number sent on its own outside any form: for the waiting request for a person, it is
    the number to call back on; otherwise it is kept for a complaint and the customer is asked what
    they need (never "没太明白": the number was understood)."""
    customer = customer_of(tracker)
    masked = mask_phone(phone)
    try:
        pending = await call(HandoffService.pending_for, customer)
        if pending is not None and pending.ticket_number:
            ticket, _changed = await call(TicketService.set_contact_phone, customer, pending.ticket_number, phone)
            dispatcher.utter_message(response="utter_callback_phone_recorded", phone=masked, ticket_number=ticket.number)
            return [SlotSet("contact_phone", phone), FollowupAction("action_listen")]
    except IntakeError as error:
        logger.warning("call-back number not recorded: %s", error.__class__.__name__)
    dispatcher.utter_message(response="utter_phone_noted", phone=masked)
    return [SlotSet("contact_phone", phone), FollowupAction("action_listen")]


class ActionOutOfScope(Action):
    """Off-topic requests: what the assistant can do instead; the second time in a row, a person."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if is_english(latest_text(tracker)):
            return await ActionHandleFallback().run(dispatcher, tracker, domain)  # says it answers in Chinese
        if answers.is_wait(latest_text(tracker)):
            dispatcher.utter_message(response="utter_take_your_time")
            return [FollowupAction("action_listen")]
        if not _CJK.search(latest_text(tracker)):
            # Emoji, markup, keyboard mashing: nothing was asked that we could decline; "please
            # rephrase" (and a person the second time) fits better than "I can't help with that".
            return await ActionHandleFallback().run(dispatcher, tracker, domain)
        if _WHO_ARE_YOU.search(latest_text(tracker)):
            dispatcher.utter_message(response="utter_bot_identity", buttons=[{"title": "转人工客服", "payload": "/escalate"}])
            return [FollowupAction("action_listen")]
        before: Sequence[Any] = previous_bot_actions(tracker)
        again = any(a in OFF_TOPIC or a == REPHRASE for a in before)
        dispatcher.utter_message(response=OFF_TOPIC[1] if again else OFF_TOPIC[0])
        return [FollowupAction("action_listen")]


class ActionAffirm(Action):
    """A yes outside any form: to "需要为您转接人工客服吗？" (offered after two misunderstandings) it
    is the request for a person; otherwise there was no question, and the customer is asked what
    else they need."""

    def name(self) -> Text:
        return "action_affirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if "utter_offer_human" in previous_bot_actions(tracker):
            return [FollowupAction("callback_form")]
        if _DO_IT.search(clean(latest_text(tracker))):
            # "那就这个吧 帮我办了" after a plan answer: "好的" would read as if it had been done.
            known = previous_topic(tracker) is not None
            dispatcher.utter_message(response="utter_cannot_do_it_here" if known else "utter_cannot_do_it_here_which")
            return []
        dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionDeny(Action):
    """A no outside any question ("没了", "不用了"), or one that says what is wrong with the
    complaint just filed ("电话留错了", "投诉撤了吧"), which is carried out."""

    def name(self) -> Text:
        return "action_deny"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        changed = await change_on_ticket(dispatcher, tracker)
        if changed is not None:
            return changed
        dispatcher.utter_message(response="utter_no_more")
        return []
