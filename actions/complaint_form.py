"""The complaint form: it reads every message against the question it just asked (actions/forms.py)
and asks only for what is missing: a description, a contact number, then the confirmation."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, customer_of, latest_text, previous_bot_actions, said_this_turn
from actions.forms import (
    RECATEGORISE_CONFIDENCE,
    AskForSlot,
    ReadingForm,
    confidence_of,
    intent_of,
    is_interruption,
    is_more_story,
    is_payload,
    prompted,
)
from bot import answers
from bot.answers import reply_kind
from bot.categories import Category
from bot.errors import StoreUnavailable
from bot.text import LANDLINE_IN_TEXT, PHONE_NUMBER, clean, description_from, find_landline, find_phone, mask_phone, spoken_digits, yes_or_no
from bot.tickets import TicketService

# At 确定不登记…？ the customer goes on with the complaint.
_CONTINUE = re.compile(
    r"继续|不取消|别取消|不要取消|还是(要)?(登记|投诉|提交|投)|要投诉|接着|要登记|帮我登记|(?<![不别])提交|"
    r"(没|没有|不是|并没|哪)(说|要|想)?(过)?(要)?取消|不用取消|不确定|不是要取消|没说不"  # "我没说要取消啊", "不确定"
)
# A question ("…还能再投诉吗？"): answered at the cancel question, never read as its yes.
_QUESTION = re.compile(r"(吗|么|嘛|呢|[?？])[。！!~～]*$|(能不能|可不可以|会不会|还能|怎么办)")
CANCEL_BUTTONS = [{"title": "确定取消", "payload": "确定取消"}, {"title": "继续登记", "payload": "继续登记"}]
# "是类别", "类别不对": the category is wrong, but which one it should be is not said.
_ABOUT_THE_CATEGORY = re.compile(r"(是|就是)?(类别|分类|类型)(不对|错了|有误|有问题|要改|改一下)?[了啊吧呀。！!]*")
CATEGORY_BUTTONS = [
    {"title": "网络问题", "payload": "类别改成网络"},
    {"title": "扣费问题", "payload": "类别改成资费"},
    {"title": "业务办理", "payload": "类别改成业务办理"},
    {"title": "其他问题", "payload": "类别改成其他"},
]
# At the confirmation a decline must be about the number ("号码还是不留了"), not "不给我处理".
_ABOUT_THE_NUMBER = re.compile(r"号码|电话|手机号|联系方式|不留|座机")
# "那就提交吧", "帮我提交": a yes to the confirmation in more words than a yes.
_SUBMIT = re.compile(
    r"(?<![不别])(就|那就|帮我|确认|可以|直接)提交|(?<![不别])提交吧|\bsubmit\b"
    r"|^(算了|好了|行了|得了|那|嗯|哎)?[\s，,。！!]*提交(啊|呀|就行|就好|好了)?[!！。~～]*$|说的?是提交",  # "算了 提交"
    re.IGNORECASE,
)
# "描述改成：…": the description is replaced, not added to.
_NEW_DESCRIPTION = re.compile(
    r"^(?:把)?(?:问题)?(?:描述|内容|情况)(?:不对|有误|写错了|错了)?[，,\s]*(?:改成|改为|换成|应该是|写成)[:：，,\s]*(?P<text>.{4,})$"
)


class ValidateComplaintForm(ReadingForm):
    """Reads every message of the complaint form against its question (see actions/forms.py).

    At any step: a phone number corrects the phone; a sentence with facts is added to the
    description (and may settle the category); a wish to stop is confirmed before anything is
    dropped; a question, a status query, a greeting or a request for a person is answered by a rule,
    and the form then asks its question again.
    """

    extra_slots = (
        "form_prompted", "complaint_category", "complaint_cancel_pending", "complaint_cancel_confirmed", "complaint_no_phone",
    )

    def name(self) -> Text:
        return "validate_complaint_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if tracker.get_slot("complaint_cancel_confirmed"):
            return []  # the form ends; action_file_complaint sees no confirmation and cancels
        # Without a number (declined, or only a landline) the ticket is answered in this chat.
        slots = [s for s in domain_slots if s != "contact_phone" or not tracker.get_slot("complaint_no_phone")]
        if tracker.get_slot("complaint_cancel_pending"):
            return ["complaint_cancel_confirmed", *slots]
        return slots

    async def read(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = latest_text(tracker)
        intent = intent_of(tracker)
        if tracker.get_slot("complaint_cancel_pending"):
            return self._read_cancel_answer(dispatcher, tracker, text, intent)
        if answers.is_wait(text):
            # "稍等 我找下号码": nothing to read yet, and the question is not asked again.
            if not said_this_turn(tracker, "utter_take_your_time"):
                dispatcher.utter_message(response="utter_take_your_time")
            return prompted()
        if answers.same_phone(text):
            return await self._keep_phone(dispatcher, tracker)
        if answers.not_a_complaint(text) and not find_phone(text):
            return {"complaint_cancel_pending": True}
        requested = tracker.get_slot("requested_slot")
        if requested == "complaint_confirmed":
            # Changes to what the confirmation shows come first, whatever the classifier reads them as.
            changed = self._read_change(dispatcher, tracker, text)
            if changed is not None:
                return changed
        if is_interruption(tracker) and not find_phone(text) and not (is_more_story(tracker) and answers.has_facts(text)):
            return {}
        if intent in ("privacy_access", "privacy_delete") and not find_phone(text):
            return {}  # a rule leaves the complaint for the personal-data request
        if intent == "goodbye" and not find_phone(text) and not answers.has_facts(text):
            return {"complaint_cancel_pending": True}  # leaving with the complaint unsent: ask first
        if requested == "complaint_description" or not tracker.get_slot("complaint_description"):
            return self._read_description(dispatcher, tracker, text, intent)
        if requested == "complaint_confirmed":
            return self._read_confirmation(dispatcher, tracker, text, intent)
        return self._read_phone(dispatcher, tracker, text, intent)

    # -- the steps ----------------------------------------------------------------------------

    def _read_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str
    ) -> Dict[Text, Any]:
        values: Dict[Text, Any] = {}
        phone = find_phone(text)
        if phone:
            values["contact_phone"] = phone
        kind = reply_kind(text)
        if kind in ("cancel", "no") and not answers.has_facts(text):
            return {"complaint_cancel_pending": True}
        if (
            is_payload(tracker)
            or answers.is_vague_description(PHONE_NUMBER.sub("", spoken_digits(text)))
            or (kind == "yes" and not answers.has_facts(text))  # "确认" is not what happened
        ):
            # Too little to file, but a category it names ("网络") is kept for the confirmation.
            named = Category.from_intent(intent) or answers.category_named(text)
            if named is not None and tracker.get_slot("complaint_category") == Category.OTHER.value:
                values["complaint_category"] = named.value
            if phone:
                return values  # the phone is kept; the form asks for the description
            dispatcher.utter_message(response="utter_description_too_vague")
            return {**values, "complaint_description": None, **prompted()}
        values["complaint_description"] = description_from(text)
        category = Category.from_intent(intent)
        if category is not None:
            # "我要投诉" gave no category; the description does.
            values["complaint_category"] = category.value
        return values

    def _read_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str) -> Dict[Text, Any]:
        phone = find_phone(text) or find_landline(text)  # "我只有座机 010-62345678": that is the number
        values: Dict[Text, Any] = {}
        if answers.declines_phone(text) and not phone:
            values = {"complaint_no_phone": True, "contact_phone": None}
            story = answers.without_decline(text)
            if answers.has_facts(story) and not is_payload(tracker):  # "不留了，反正晚上一直断", the rest is story
                values.update(self._added(dispatcher, tracker, story, intent, tell=False))
            return values
        if phone:
            values["contact_phone"] = phone
            values["complaint_no_phone"] = None
            story = answers.without_decline(without_phone(text))  # "我只有座机 010-…" says no more
            if answers.has_facts(story) and not is_payload(tracker):
                values.update(self._added(dispatcher, tracker, without_phone(text), intent, tell=False))
            return values
        kind = reply_kind(text)
        if kind in ("cancel", "no"):
            return {"complaint_cancel_pending": True}
        if not is_payload(tracker) and answers.has_facts(text):
            # More of the story while we asked for a number: it belongs to the description.
            return self._added(dispatcher, tracker, text, intent)
        if Category.from_intent(intent) is not None:
            return {"contact_phone": None}  # "我要投诉" again: it is being filed; the number is asked again
        again = {"utter_invalid_phone", "utter_invalid_phone_again"} & set(previous_bot_actions(tracker))
        # The second time, the ways out too: an elderly customer typed "嗯", "好" after the first.
        dispatcher.utter_message(response="utter_invalid_phone_again" if again else "utter_invalid_phone")
        return {"contact_phone": None, **prompted()}

    def _read_confirmation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str
    ) -> Dict[Text, Any]:
        if is_payload(tracker) and intent in ("affirm", "deny"):
            # The buttons of the confirmation: 确认提交 (/affirm) and 需要修改 (/deny).
            if intent == "affirm":
                return {"complaint_confirmed": True}
            dispatcher.utter_message(response="utter_what_is_wrong")
            return {"complaint_confirmed": None, **prompted()}
        kind = reply_kind(text)
        if kind == "phone":
            phone = find_phone(text)
            values: Dict[Text, Any] = {"contact_phone": phone, "complaint_confirmed": None, "complaint_no_phone": None}
            if answers.has_facts(text) and not is_payload(tracker):
                values.update(self._added(dispatcher, tracker, without_phone(text), intent, tell=False))
            if phone != tracker.get_slot("contact_phone"):
                dispatcher.utter_message(response="utter_phone_updated", phone=mask_phone(phone or ""))
            return values
        asked = {"utter_what_is_wrong", "utter_which_category"} & set(previous_bot_actions(tracker))
        named = answers.category_named(text) if asked and len(clean(text)) <= 12 else None
        if named is not None and named.value != tracker.get_slot("complaint_category") and not find_phone(text):
            # "是扣费问题" to "请问哪里需要修改？": the category, not a yes.
            dispatcher.utter_message(response="utter_category_updated", category=named.label)
            return {"complaint_category": named.value, "complaint_confirmed": None}
        if _ABOUT_THE_CATEGORY.fullmatch(clean(text)):
            dispatcher.utter_message(response="utter_which_category", buttons=CATEGORY_BUTTONS)
            return {"complaint_confirmed": None, **prompted()}
        if (
            kind == "yes"
            or (intent == "affirm" and kind == "other" and not answers.has_facts(text))
            or _SUBMIT.search(text)
            or answers.nothing_to_change(text)  # "没有要改的", "我看错了 是对的"
        ):
            return {"complaint_confirmed": True}
        changed = self._read_change(dispatcher, tracker, text)
        if changed is not None:
            return changed
        if answers.not_cancelling(text) and not answers.has_facts(answers.without_not_cancelling(text)):
            dispatcher.utter_message(response="utter_complaint_continue")  # "我没说取消": the card again
            return {"complaint_confirmed": None}
        if kind in ("cancel", "no"):
            return {"complaint_cancel_pending": True}
        if kind == "wrong" or (intent == "deny" and not answers.has_facts(text)):
            dispatcher.utter_message(response="utter_what_is_wrong")
            return {"complaint_confirmed": None, **prompted()}
        if not is_payload(tracker) and answers.has_facts(text):
            return {**self._added(dispatcher, tracker, text, intent), "complaint_confirmed": None}
        dispatcher.utter_message(response="utter_confirm_or_change")
        return {"complaint_confirmed": None, **prompted()}

    @staticmethod
    def _read_change(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> Optional[Dict[Text, Any]]:
        """A change to the confirmation: its description, its category, or no number after all."""
        replaced = _NEW_DESCRIPTION.match(clean(text))
        if replaced and not find_phone(text):  # first: a new description may name a category itself
            dispatcher.utter_message(response="utter_description_replaced")
            return {"complaint_description": description_from(replaced.group("text")), "complaint_confirmed": None}
        corrected = answers.category_correction(text)
        if corrected is not None:
            dispatcher.utter_message(response="utter_category_updated", category=corrected.label)
            return {"complaint_category": corrected.value, "complaint_confirmed": None}
        if answers.declines_phone(text) and _ABOUT_THE_NUMBER.search(text):
            return {"contact_phone": None, "complaint_no_phone": True, "complaint_confirmed": None}
        return None

    def _read_cancel_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str
    ) -> Dict[Text, Any]:
        resume = {"complaint_cancel_pending": None, "complaint_cancel_confirmed": None}
        if _CONTINUE.search(text):
            dispatcher.utter_message(response="utter_complaint_continue")
            return resume
        if _QUESTION.search(clean(text)) and yes_or_no(text) is None and not find_phone(text):
            # "取消了的话以后还能再投诉吗": a question about cancelling is not a yes to it.
            dispatcher.utter_message(response="utter_cancel_question_answered", buttons=CANCEL_BUTTONS)
            return {"complaint_cancel_confirmed": None, **prompted()}
        # "对 取消", "我说取消": the cancel words decide before a bare yes/no reading of the message.
        if yes_or_no(text) is True or "确定" in text or answers.is_cancel(text) or intent in ("affirm", "goodbye"):
            return {"complaint_cancel_confirmed": True}
        if yes_or_no(text) is False or intent == "deny":
            dispatcher.utter_message(response="utter_complaint_continue")
            return resume
        if is_interruption(tracker) and not find_phone(text):
            return {}
        if find_phone(text) or answers.has_facts(text):
            # Not an answer to "cancel?": the customer goes on with the complaint.
            requested_before = [s for s in ("complaint_description", "contact_phone", "complaint_confirmed")
                                if tracker.get_slot(s) is None
                                and not (s == "contact_phone" and tracker.get_slot("complaint_no_phone"))]
            tracker.slots.update(resume)
            if requested_before and requested_before[0] == "complaint_description":
                return {**resume, **self._read_description(dispatcher, tracker, text, intent)}
            if requested_before and requested_before[0] == "contact_phone":
                return {**resume, **self._read_phone(dispatcher, tracker, text, intent)}
            return {**resume, **self._read_confirmation(dispatcher, tracker, text, intent)}
        return {"complaint_cancel_confirmed": None}

    @staticmethod
    async def _keep_phone(dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        """"还是刚才那个号码": the phone given before (this session, or on the last ticket) stays."""
        phone = tracker.get_slot("contact_phone")
        if not phone:
            try:
                phone = await call(TicketService.known_phone, customer_of(tracker))
            except StoreUnavailable:
                phone = None
        if not phone:
            dispatcher.utter_message(response="utter_no_phone_on_file")
            return {"contact_phone": None, **prompted()}
        dispatcher.utter_message(response="utter_phone_kept", phone=mask_phone(phone))
        values: Dict[Text, Any] = {"contact_phone": phone}
        if tracker.get_slot("requested_slot") == "complaint_confirmed":
            values["complaint_confirmed"] = None  # asked again, now that the number is settled
        return values

    @staticmethod
    def _added(
        dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str, tell: bool = True
    ) -> Dict[Text, Any]:
        """Appends a follow-up to the description; a confident complaint reading may settle "other"."""
        before = tracker.get_slot("complaint_description") or ""
        added = description_from(text)
        if added and added in before.split("；"):  # the same message sent twice is kept once
            if tell:
                dispatcher.utter_message(response="utter_description_added")
            return {"complaint_description": before}
        values: Dict[Text, Any] = {"complaint_description": description_from(f"{before}；{added}" if before else added)}
        category = Category.from_intent(intent)
        current = tracker.get_slot("complaint_category") or Category.OTHER.value
        if category is not None and current == Category.OTHER.value and confidence_of(tracker) >= RECATEGORISE_CONFIDENCE:
            values["complaint_category"] = category.value
        if tell:
            dispatcher.utter_message(response="utter_description_added")
        return values


class ActionAskComplaintDescription(AskForSlot):
    """Asks what happened; after an answered question or a thank-you ("我其实就是想问问…"), the
    customer may not have a complaint at all, so the question again says how to leave it."""

    def name(self) -> Text:
        return "action_ask_complaint_description"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        if is_interruption(tracker) and not started_this_turn(tracker):
            dispatcher.utter_message(response="utter_ask_complaint_description_again")
        else:
            dispatcher.utter_message(response="utter_ask_complaint_description")


def started_this_turn(tracker: Tracker) -> bool:
    """The complaint was started by the latest message (not resumed after an interruption)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == "action_start_complaint":
            return True
    return False


class ActionAskContactPhone(AskForSlot):
    """Asks for the phone in the complaint form and in the call-back form."""

    def name(self) -> Text:
        return "action_ask_contact_phone"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        callback = (tracker.active_loop or {}).get("name") == "callback_form"
        dispatcher.utter_message(response="utter_ask_callback_phone" if callback else "utter_ask_contact_phone")


class ActionAskComplaintCancelConfirmed(AskForSlot):
    def name(self) -> Text:
        return "action_ask_complaint_cancel_confirmed"


class ActionAskComplaintConfirmed(AskForSlot):
    """Shows what will be filed and asks for a yes/no with buttons."""

    def name(self) -> Text:
        return "action_ask_complaint_confirmed"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        category = Category(tracker.get_slot("complaint_category") or Category.OTHER.value)
        description = tracker.get_slot("complaint_description") or ""
        if len(description) > 200:
            description = description[:200] + "…"
        dispatcher.utter_message(
            text=(
                "请确认以下投诉信息：\n"
                f"类别：{category.label}\n"
                f"问题描述：{description}\n"
                f"联系电话：{shown_phone(tracker)}\n"
                "确认无误就提交吗？"
            ),
            buttons=[
                {"title": "确认提交", "payload": "/affirm"},
                {"title": "需要修改", "payload": "/deny"},
            ],
        )


def without_phone(text: str) -> str:
    """A message given with the contact phone, without the number (it is shown masked, apart)."""
    return LANDLINE_IN_TEXT.sub("", PHONE_NUMBER.sub("", spoken_digits(text)))


def shown_phone(tracker: Tracker) -> str:
    phone = tracker.get_slot("contact_phone")
    if phone:
        return mask_phone(phone)
    return "未留（处理进展会在这里通知您）"
