"""Requests to see or delete one's personal data ("删除我的个人信息"): verify, record, tell the customer."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import call, customer_of, latest_text
from bot.errors import IntakeError
from bot.privacy import Kind, PrivacyRequests
from bot.text import find_phone

logger = logging.getLogger(__name__)

RESET = [SlotSet("privacy_kind", None), SlotSet("privacy_phone", None), SlotSet("privacy_attempts", 0)]
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
FAILED_TEXT = "抱歉，联系电话核对未通过，为保护您的信息，本次申请未能受理。您可以携带身份证件到营业厅办理，或拨打客服热线。"
CANCELLED_TEXT = "好的，已取消本次个人信息申请。"
UNAVAILABLE_TEXT = "抱歉，系统暂时繁忙，您的申请没有记录成功，请稍后再发一次。"


def _kind(tracker: Tracker) -> Kind:
    value = tracker.get_slot("privacy_kind")
    if value:
        return Kind(value)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return Kind.DELETE if intent == "privacy_delete" else Kind.ACCESS


class ActionStartPrivacyRequest(Action):
    """Asks for the phone on file; with none on file, the channel account is the identity we hold."""

    def name(self) -> Text:
        return "action_start_privacy_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        kind = _kind(tracker)
        customer = customer_of(tracker)
        try:
            phones = await call(PrivacyRequests.phones_on_file, customer)
        except IntakeError:
            dispatcher.utter_message(text=UNAVAILABLE_TEXT)
            return [*RESET, FollowupAction("action_listen")]
        if not phones:
            # Everything we hold about this customer was written from this channel account.
            await record(dispatcher, tracker, kind, "channel")
            return [*RESET, FollowupAction("action_listen")]
        return [*RESET, SlotSet("privacy_kind", kind.value)]


class ValidatePrivacyForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_privacy_form"

    async def validate_privacy_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or latest_text(tracker))
        if find_phone(text) is None:
            dispatcher.utter_message(text=INVALID_PHONE_TEXT)
            return {"privacy_phone": None}
        try:
            ok = await call(PrivacyRequests.verify, customer_of(tracker), text)
        except IntakeError:
            dispatcher.utter_message(text=UNAVAILABLE_TEXT)
            return {"privacy_phone": "unavailable"}
        if ok:
            return {"privacy_phone": VERIFIED}
        attempts = int(tracker.get_slot("privacy_attempts") or 0) + 1
        if attempts >= PrivacyRequests.MAX_ATTEMPTS:
            logger.warning("privacy request of %s: phone verification failed %s times", tracker.sender_id, attempts)
            return {"privacy_phone": "failed", "privacy_attempts": attempts}
        dispatcher.utter_message(text=WRONG_PHONE_TEXT.format(left=PrivacyRequests.MAX_ATTEMPTS - attempts))
        return {"privacy_phone": None, "privacy_attempts": attempts}


class ActionRecordPrivacyRequest(Action):
    def name(self) -> Text:
        return "action_record_privacy_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
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


class ActionCancelPrivacyRequest(Action):
    def name(self) -> Text:
        return "action_cancel_privacy_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=CANCELLED_TEXT)
        return RESET
