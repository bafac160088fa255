"""Requests to see or delete one's personal data ("删除我的个人信息"): verify, record, tell the customer."""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, customer_of, latest_text
from actions.forms import AskForSlot, ReadingForm, intent_of, is_interruption, prompted
from actions.complaint import reset_complaint, start_complaint
from bot.answers import reply_kind
from bot.categories import Category
from bot.errors import IntakeError
from bot.privacy import Kind, PrivacyRequests

logger = logging.getLogger(__name__)

RESET = [
    SlotSet("privacy_kind", None),
    SlotSet("privacy_confirmed", None),
    SlotSet("privacy_needs_phone", None),
    SlotSet("privacy_phone", None),
    SlotSet("privacy_attempts", 0),
    SlotSet("privacy_set_aside", None),
    SlotSet("form_prompted", None),
]
VERIFIED = "verified"

RECORDED_TEXT = (
    "已记录您的{label}申请（编号 {id}），{verified}。我们会在15个工作日内处理，"
    "结果会通过本渠道通知您。{extra}"
)
VERIFIED_BY = {"phone": "联系电话已核实", "channel": "您没有登记过联系电话，我们以当前账号确认是您本人"}
ALREADY_TEXT = "您的{label}申请（编号 {id}）已在处理中，请耐心等待，结果会通过本渠道通知您。"
DELETE_EXTRA = "删除后，您的联系电话、问题描述和对话记录将无法恢复；已有工单只保留不含身份信息的统计数据。"
WRONG_PHONE_TEXT = "这个号码与我们登记的联系电话不一致，请再核对一下（还可以尝试{left}次）。"
INVALID_PHONE_TEXT = "请输入11位手机号码，例如 138 0000 0000。"
FAILED_TEXT = (
    "抱歉，联系电话核对未通过，今天的核对次数已经用完。为保护您的信息，本次申请未能受理。"
    "您可以明天再试，也可以携带身份证件到营业厅办理，或拨打客服热线。"
)
LOCKED_TEXT = (
    "今天核对联系电话的次数已经用完，为保护您的信息，今天暂时不能再受理查看或删除个人信息的申请。"
    "您可以明天再试，也可以携带身份证件到营业厅办理，或拨打客服热线。"
)
CANCELLED_TEXT = "好的，已取消本次个人信息申请。"
COMPLAINT_LEFT_TEXT = "好的，先办理您的个人信息申请；刚才的投诉还没有提交，需要的话稍后直接告诉我。"
SET_ASIDE_TEXT = "个人信息申请还没有提交，先为您登记投诉；需要时可以再发送“查看我的个人信息”或“删除我的个人信息”。"
CONFIRM_TEXT = "您是要申请{verb}我们保存的您的个人信息，对吗？{extra}确认后我们会在15个工作日内处理。"
UNAVAILABLE_TEXT = "抱歉，系统暂时繁忙，您的申请没有记录成功，请稍后再发一次。"


def _kind(tracker: Tracker) -> Kind:
    value = tracker.get_slot("privacy_kind")
    if value:
        return Kind(value)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return Kind.DELETE if intent == "privacy_delete" else Kind.ACCESS


# What a request about personal data names; an edit of a complaint's text names none of it.
_PERSONAL_DATA = re.compile(r"个人信息|个人资料|个人数据|我的信息|我的资料|我的数据|聊天记录|对话记录|通话记录|记录|隐私|身份证|信息|资料|数据")


class ActionStartPrivacyRequest(Action):
    """Notes what is asked and how the customer can be verified; the form asks for a confirmation first.

    Nothing is recorded before the customer confirms: a request to see or delete personal data is
    not to be started by a misread message.
    """

    def name(self) -> Text:
        return "action_start_privacy_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        kind = _kind(tracker)
        customer = customer_of(tracker)
        left: List[EventType] = []
        if tracker.get_slot("complaint_category") and not _PERSONAL_DATA.search(latest_text(tracker)):
            # "把后面那两句删了" while the complaint is being filled in: an edit of its description,
            # not a request to delete personal data (which names the data: 个人信息, 聊天记录…).
            dispatcher.utter_message(response="utter_how_to_edit_description")
            return [FollowupAction("complaint_form")]
        if tracker.get_slot("complaint_category"):
            # Asked inside the complaint form: that complaint was never confirmed, and is not filed.
            dispatcher.utter_message(text=COMPLAINT_LEFT_TEXT)
            left = reset_complaint()
        try:
            phones = await call(PrivacyRequests.phones_on_file, customer)
            # Failed checks count per customer and day in the store: starting again gives no new tries.
            locked = bool(phones) and await call(PrivacyRequests.tries_left, customer) == 0
        except IntakeError:
            dispatcher.utter_message(text=UNAVAILABLE_TEXT)
            return [*left, *RESET, FollowupAction("action_listen")]
        if locked:
            dispatcher.utter_message(text=LOCKED_TEXT)
            return [*left, *RESET, FollowupAction("action_listen")]
        # With no phone on file, everything we hold was written from this channel account.
        return [*left, *RESET, SlotSet("privacy_kind", kind.value), SlotSet("privacy_needs_phone", bool(phones))]


class ActionAskPrivacyConfirmed(AskForSlot):
    def name(self) -> Text:
        return "action_ask_privacy_confirmed"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        kind = _kind(tracker)
        text = CONFIRM_TEXT.format(verb="删除" if kind is Kind.DELETE else "查看", extra=DELETE_EXTRA if kind is Kind.DELETE else "")
        dispatcher.utter_message(
            text=text,
            buttons=[{"title": "确认申请", "payload": "确认申请"}, {"title": "不用了", "payload": "不用了"}],
        )


class ValidatePrivacyForm(ReadingForm):
    """Reads the answers to the confirmation and to the phone check.

    The other kind of request ("删除…" while "查看…" waits) replaces the one asked about, and a
    complaint sets the unconfirmed request aside and is taken: neither is lost to a "请回复确认"."""

    extra_slots = ("form_prompted", "privacy_attempts", "privacy_kind", "privacy_set_aside")

    def name(self) -> Text:
        return "validate_privacy_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if tracker.get_slot("privacy_confirmed") is False:
            return []
        if not tracker.get_slot("privacy_needs_phone"):
            return ["privacy_confirmed"]
        return domain_slots

    async def read(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = latest_text(tracker)
        intent = intent_of(tracker)
        kind = reply_kind(text)
        if intent in ("privacy_access", "privacy_delete") and kind not in ("yes", "no", "cancel"):
            wanted = Kind.DELETE if intent == "privacy_delete" else Kind.ACCESS
            if wanted is not _kind(tracker):
                return {"privacy_kind": wanted.value, "privacy_confirmed": None, "privacy_phone": None}
        if Category.from_intent(intent) is not None and kind not in ("yes", "phone"):
            return {"privacy_confirmed": False, "privacy_set_aside": True}
        if tracker.get_slot("requested_slot") != "privacy_phone":
            if kind == "yes" or intent == "affirm" or "确认" in text:
                return {"privacy_confirmed": True}
            if kind in ("no", "cancel", "wrong") or intent in ("deny", "goodbye"):
                return {"privacy_confirmed": False}
            if is_interruption(tracker):
                return {}
            dispatcher.utter_message(response="utter_privacy_confirm_again")
            return {"privacy_confirmed": None, **prompted()}
        if kind == "phone":
            return await self._verify(dispatcher, tracker, text)
        if kind in ("no", "cancel") or intent in ("deny", "goodbye"):
            return {"privacy_confirmed": False}
        if is_interruption(tracker):
            return {}
        dispatcher.utter_message(text=INVALID_PHONE_TEXT)
        return {"privacy_phone": None}

    async def _verify(self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> Dict[Text, Any]:
        try:
            check = await call(PrivacyRequests.check_phone, customer_of(tracker), text)
        except IntakeError:
            dispatcher.utter_message(text=UNAVAILABLE_TEXT)
            return {"privacy_phone": "unavailable"}
        if check.ok:
            return {"privacy_phone": VERIFIED}
        attempts = PrivacyRequests.MAX_ATTEMPTS - check.tries_left  # failed today, this request or earlier ones
        if check.tries_left <= 0:
            # The line carries the conversation's pseudonym (bot/logs.py), never the sender id itself.
            logger.warning("privacy request: phone verification failed %s times today", attempts)
            return {"privacy_phone": "failed", "privacy_attempts": attempts}
        dispatcher.utter_message(text=WRONG_PHONE_TEXT.format(left=check.tries_left))
        return {"privacy_phone": None, "privacy_attempts": attempts}


class ActionRecordPrivacyRequest(Action):
    def name(self) -> Text:
        return "action_record_privacy_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("privacy_set_aside"):
            dispatcher.utter_message(text=SET_ASIDE_TEXT)
            category = Category.from_intent(intent_of(tracker)) or Category.OTHER
            started = await start_complaint(tracker, category, latest_text(tracker))
            return [*RESET, *started, FollowupAction("complaint_form")]
        if tracker.get_slot("privacy_confirmed") is not True:
            dispatcher.utter_message(text=CANCELLED_TEXT)
            return RESET
        if not tracker.get_slot("privacy_needs_phone"):
            await record(dispatcher, tracker, _kind(tracker), "channel")
            return RESET
        outcome = tracker.get_slot("privacy_phone")
        if outcome == "failed":
            dispatcher.utter_message(text=FAILED_TEXT)
            return RESET
        if outcome != VERIFIED:
            return RESET  # the store was down: already told
        await record(dispatcher, tracker, _kind(tracker), "phone")
        return RESET


async def record(dispatcher: CollectingDispatcher, tracker: Tracker, kind: Kind, verified_by: str) -> None:
    try:
        request, created = await call(PrivacyRequests.submit, customer_of(tracker), kind, verified_by)
    except IntakeError:
        dispatcher.utter_message(text=UNAVAILABLE_TEXT)
        return
    if created:
        extra = DELETE_EXTRA if kind is Kind.DELETE else ""
        dispatcher.utter_message(
            text=RECORDED_TEXT.format(label=kind.label, id=request.id, verified=VERIFIED_BY[verified_by], extra=extra)
        )
    else:
        dispatcher.utter_message(text=ALREADY_TEXT.format(label=kind.label, id=request.id))
