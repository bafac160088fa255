"""The forms read each message against the question they asked (actions/forms.py).

Each test runs a form's validation action as Rasa calls it (with the real domain) and checks what the
form does with one message: fills, corrects, appends, asks to confirm a cancellation, or steps
aside for a rule (no slot set: Rasa then rejects the form and the rule answers).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.complaint_form import ValidateComplaintForm
from actions.handoff import ActionRequestHuman, ValidateCallbackForm
from actions.privacy import ActionRecordPrivacyRequest, ValidatePrivacyForm
from actions.supplement import ValidateSupplementForm
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "bot" / "dialogue" / "domain" / "main.yml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def store(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'forms.db'}")
    # What actions/server.py main() does at start; new services: each test is a new customer history.
    services.install(services.Services(Settings.from_env()))
    yield
    services.install(None)


def turn(form, loop: str, text: str, intent: str, slots: Dict[str, Any], confidence: float = 0.95):
    """One message to the form: (slot values set, responses uttered, requested slot next)."""
    parse = {"intent": {"name": intent, "confidence": confidence}, "entities": [], "text": text}
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": parse, "input_channel": "rest", "message_id": "m"},
        {"event": "action", "name": loop},  # Rasa's temporary tracker ends with the form's own action
    ]
    tracker = Tracker("c1", dict(slots), parse, events, False, None, {"name": loop}, "action_listen")
    dispatcher = CollectingDispatcher()
    result = asyncio.run(form.run(dispatcher, tracker, DOMAIN))
    values = {e["name"]: e["value"] for e in result if e.get("event") == "slot" and e["name"] != "requested_slot"}
    requested = [e["value"] for e in result if e.get("event") == "slot" and e["name"] == "requested_slot"]
    if requested:
        asked = requested[-1]
    else:  # the validation left it to Rasa, which asks for the first missing slot of the domain's list
        merged = {**slots, **values}
        asked = next((s for s in DOMAIN["forms"][loop]["required_slots"] if merged.get(s) is None), None)
    return values, [m.get("response") or m.get("text") for m in dispatcher.messages], asked


DESCRIBED = {"complaint_category": "network", "complaint_description": "家里宽带从昨晚开始断网"}
CONFIRMING = {**DESCRIBED, "contact_phone": "13812345678", "requested_slot": "complaint_confirmed"}


def complaint(text: str, intent: str, slots: Dict[str, Any], confidence: float = 0.95):
    return turn(ValidateComplaintForm(), "complaint_form", text, intent, slots, confidence)


# -- the complaint form -----------------------------------------------------------------------


def test_a_correction_at_the_confirmation_corrects_and_never_cancels():
    values, said, _ = complaint("不对不对 号码打错了 是139 1234 5678", "deny", CONFIRMING)
    assert values["contact_phone"] == "13912345678"
    assert values.get("complaint_confirmed") is None and "complaint_cancel_confirmed" not in values
    assert said == ["utter_phone_updated"]


def test_a_bare_no_at_the_confirmation_asks_what_is_wrong():
    values, said, _ = complaint("你说的不对", "deny", CONFIRMING)
    assert said == ["utter_what_is_wrong"]
    assert values["form_prompted"] is True and not values.get("complaint_cancel_pending")


def test_a_wish_to_cancel_is_confirmed_before_anything_is_dropped():
    values, _, requested = complaint("算了不投诉了", "deny", CONFIRMING)
    assert values == {"complaint_cancel_pending": True}
    assert requested == "complaint_cancel_confirmed"
    pending = {**CONFIRMING, "complaint_cancel_pending": True, "requested_slot": "complaint_cancel_confirmed"}
    values, _, requested = complaint("确定取消", "affirm", pending)
    assert values["complaint_cancel_confirmed"] is True and requested is None  # the form ends, filing cancels
    values, said, requested = complaint("继续登记", "affirm", pending)
    assert values["complaint_cancel_pending"] is None and said == ["utter_complaint_continue"]
    assert requested == "complaint_confirmed"


def test_more_story_while_asked_for_the_phone_is_added_to_the_description():
    asking = {"complaint_category": "other", "complaint_description": "我要投诉", "requested_slot": "contact_phone"}
    values, said, requested = complaint("这个月莫名其妙多扣了58块，我根本没订过视频会员", "complain_billing", asking)
    assert values["complaint_description"] == "我要投诉；这个月莫名其妙多扣了58块，我根本没订过视频会员"
    assert values["complaint_category"] == "billing"  # the story settles "other"
    assert said == ["utter_description_added"] and requested == "contact_phone"


def test_more_story_at_the_confirmation_is_added_and_shown_again():
    values, said, requested = complaint("而且晚上八点以后手机4G也没信号", "complain_network", CONFIRMING)
    assert values["complaint_description"].endswith("；而且晚上八点以后手机4G也没信号")
    assert said == ["utter_description_added"] and requested == "complaint_confirmed"


def test_the_category_can_be_corrected_at_the_confirmation():
    values, said, _ = complaint("类别不对，应该是扣费问题", "deny", CONFIRMING)
    assert values["complaint_category"] == "billing" and said == ["utter_category_updated"]


@pytest.mark.parametrize("intent", ["consult", "check_ticket_status", "escalate", "greet", "thank"])
def test_an_interruption_makes_the_form_step_aside(intent):
    asking = {**DESCRIBED, "requested_slot": "contact_phone"}
    values, said, _ = complaint("换套餐要去营业厅吗", intent, asking)
    assert values == {} and said == []  # Rasa rejects the form; a rule answers, then the form asks again


def test_a_phone_with_a_request_for_a_person_still_steps_aside_for_the_person():
    values, _, _ = complaint("转人工", "escalate", {**DESCRIBED, "requested_slot": "contact_phone"})
    assert values == {}


def test_a_vague_description_is_asked_again_once():
    values, said, requested = complaint("就是那个", "nlu_fallback", {"complaint_category": "other", "requested_slot": "complaint_description"})
    assert said == ["utter_description_too_vague"] and values["form_prompted"] is True
    assert requested == "complaint_description"


def test_the_message_that_starts_a_form_is_not_read_as_its_answer():
    """At activation nothing has been asked yet: "转人工" starts the call-back form, it does not decline it."""
    values, _, requested = turn(ValidateCallbackForm(), "callback_form", "转人工", "escalate", {})
    assert values == {} and requested == "contact_phone"


def test_a_yes_with_a_typo_confirms():
    values, _, requested = complaint("嗯呐 提交吧", "affirm", CONFIRMING)
    assert values == {"complaint_confirmed": True} and requested is None


# -- asking for a person -----------------------------------------------------------------------


def callback(text: str, intent: str, slots: Optional[Dict[str, Any]] = None):
    return turn(ValidateCallbackForm(), "callback_form", text, intent, {"requested_slot": "contact_phone", **(slots or {})})


def test_asking_for_a_person_again_puts_them_through_without_a_number():
    values, said, requested = callback("我说了要人工！！听不懂吗", "escalate")
    assert values == {"callback_declined": True} and said == [] and requested is None


def test_the_call_back_request_can_be_withdrawn_and_says_so():
    values, _, requested = callback("算了不用转人工了", "deny")
    assert values == {"callback_withdrawn": True} and requested is None
    messages = CollectingDispatcher()
    t = Tracker("c1", values, {"intent": {"name": "deny"}, "text": "算了"}, [], False, None, {}, "callback_form")
    events = asyncio.run(ActionRequestHuman().run(messages, t, DOMAIN))
    assert [m["response"] for m in messages.messages] == ["utter_callback_cancelled"]
    assert {"event": "slot", "timestamp": None, "name": "callback_withdrawn", "value": None} in events


def test_what_the_customer_adds_while_asked_for_a_number_is_kept_for_the_agent():
    values, said, requested = callback("宽带断了三天了，师傅一直不来", "complain_network")
    assert values == {"callback_note": "宽带断了三天了，师傅一直不来"}
    assert said == ["utter_callback_note_added"] and requested == "contact_phone"


# -- additions and personal data ---------------------------------------------------------------


def test_an_addition_that_is_too_short_is_asked_for_once():
    values, said, requested = turn(ValidateSupplementForm(), "supplement_form", "嗯", "affirm", {"requested_slot": "supplement_text"})
    assert said == []  # the form's own question follows; nothing is said twice
    assert values == {"supplement_text": None} and requested == "supplement_text"


def test_a_personal_data_request_waits_for_an_explicit_yes():
    asking = {"privacy_kind": "access", "privacy_needs_phone": False, "requested_slot": "privacy_confirmed"}
    values, said, requested = turn(ValidatePrivacyForm(), "privacy_form", "我想我想我想啊", "privacy_access", asking)
    assert values.get("privacy_confirmed") is None and said == ["utter_privacy_confirm_again"]
    values, _, requested = turn(ValidatePrivacyForm(), "privacy_form", "不用了", "deny", asking)
    assert values == {"privacy_confirmed": False} and requested is None
    messages = CollectingDispatcher()
    t = Tracker("c1", {**asking, **values}, {"intent": {"name": "deny"}, "text": "不用了"}, [], False, None, {}, "privacy_form")
    asyncio.run(ActionRecordPrivacyRequest().run(messages, t, DOMAIN))
    assert "已取消" in messages.messages[0]["text"]


def test_restarting_a_personal_data_request_gives_no_new_phone_checks():
    from rasa_sdk.events import FollowupAction

    from actions.privacy import LOCKED_TEXT, ActionStartPrivacyRequest
    from bot.categories import Category
    from bot.tickets import Customer

    services.current().ready().tickets.open_complaint(Customer("rest", "c1"), Category.NETWORK, "家里宽带断网", "13912345678")
    checking = {"privacy_kind": "delete", "privacy_needs_phone": True, "privacy_confirmed": True,
                "requested_slot": "privacy_phone", "privacy_attempts": 0}
    guesses = iter(["13800000001", "13800000002", "13800000003"])

    def guess(slots):
        return turn(ValidatePrivacyForm(), "privacy_form", next(guesses), "inform", slots)

    values, said, _ = guess(checking)
    values, said, _ = guess({**checking, **values})
    assert values == {"privacy_phone": None, "privacy_attempts": 2} and "还可以尝试1次" in said[0]
    # 删除我的个人信息 again: the conversation's count starts at 0, the store's does not.
    values, said, _ = guess(checking)
    assert values == {"privacy_phone": "failed", "privacy_attempts": 3}
    start = Tracker("c1", {}, {"intent": {"name": "privacy_delete"}, "text": "删除我的个人信息"},
                    [{"event": "user", "text": "删除我的个人信息", "input_channel": "rest"}], False, None, {}, "action_listen")
    messages = CollectingDispatcher()
    events = asyncio.run(ActionStartPrivacyRequest().run(messages, start, DOMAIN))
    assert messages.messages[0]["text"] == LOCKED_TEXT and FollowupAction("action_listen") in events
    # Even the right number is not compared any more today.
    values, _, _ = turn(ValidatePrivacyForm(), "privacy_form", "13912345678", "inform", checking)
    assert values["privacy_phone"] == "failed"
