"""Actions against a real SQLite store, with tracker fixtures and a collecting dispatcher."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest
import sqlalchemy as sa
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.complaint import ActionFileComplaint, ActionStartComplaint
from actions.complaint_form import ValidateComplaintForm
from actions.clarify import ActionResolveClarification
from actions.consult import ActionAnswerConsultation
from actions.fallback import ActionHandleFallback, ActionOutOfScope
from actions.handoff import ActionRequestHuman, ValidateCallbackForm
from actions.status import ActionCheckTicketStatus
from actions.supplement import ActionAddTicketInfo, ActionPrepareSupplement
from bot.categories import Category
from bot.settings import Settings
from bot.handoff import HandoffService
from bot.staff import Role, StaffService
from bot.storage.database import Database
from bot.tickets import Customer, TicketService

SENDER = "customer-1"


@pytest.fixture(autouse=True)
def fresh_service(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    # What actions/server.py main() does at start; new services: each test is a new customer history.
    services.install(services.Services(Settings.from_env()))
    yield Database(url)
    services.install(None)


def user(text: str, intent: str, message_id: str = "m1", entities: Optional[List[Dict[str, Any]]] = None) -> Dict:
    return {
        "event": "user",
        "text": text,
        "message_id": message_id,
        "input_channel": "rest",
        "parse_data": {"intent": {"name": intent, "confidence": 0.99}, "entities": entities or [], "text": text},
    }


def tracker(
    events: List[Dict], slots: Optional[Dict[str, Any]] = None, sender: str = SENDER, loop: Optional[str] = None
) -> Tracker:
    last = [e for e in events if e["event"] == "user"][-1]
    latest = dict(last["parse_data"], message_id=last["message_id"])
    return Tracker(sender, slots or {}, latest, events, False, None, {"name": loop} if loop else {}, "action_listen")


def bot(response: str, text: str = "…") -> Dict:
    return {"event": "bot", "text": text, "metadata": {"utter_action": response}}


def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


def slots_of(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def confirmed_complaint(message_id: str = "m9", sender: str = SENDER) -> Tracker:
    return tracker(
        [user("确认", "affirm", message_id)],
        {
            "complaint_category": "network",
            "complaint_description": "我家宽带三天两头断网",
            "contact_phone": "13812345678",
            "complaint_confirmed": True,
        },
        sender=sender,
    )


def count_tickets(db: Database) -> int:
    with db.engine.connect() as connection:
        return connection.execute(sa.text("select count(*) from tickets")).scalar()


def test_start_takes_what_the_first_message_says():
    messages, events = run(ActionStartComplaint(), tracker([user("宽带三天两头断网，电话13812345678", "complain_network")]))
    slots = slots_of(events)
    assert slots["complaint_category"] == "network"
    assert slots["complaint_description"].startswith("宽带三天两头断网")
    assert slots["contact_phone"] == "13812345678"
    # The customer is told they were heard, and as what, before anything is asked.
    assert [m["response"] for m in messages] == ["utter_complaint_heard_network"]


def test_start_leaves_a_vague_description_to_the_form():
    _, events = run(ActionStartComplaint(), tracker([user("我要投诉", "complain_other")]))
    slots = slots_of(events)
    assert slots["complaint_category"] == "other" and slots["complaint_description"] is None
    assert "contact_phone" not in slots  # nobody asked yet: nothing to judge
    assert not any(slots[s] for s in ("complaint_confirmed", "complaint_cancel_pending", "complaint_cancel_confirmed"))


def test_start_reuses_the_phone_of_an_earlier_ticket(fresh_service):
    run(ActionFileComplaint(), confirmed_complaint())
    _, events = run(ActionStartComplaint(), tracker([user("网速又慢了，晚上根本打不开网页", "complain_network", "m2")]))
    assert slots_of(events)["contact_phone"] == "13812345678"


def test_form_rejects_an_invalid_phone():
    dispatcher = CollectingDispatcher()
    asking = {"requested_slot": "contact_phone", "complaint_description": "宽带断了一天", "complaint_category": "network"}
    t = tracker([user("12345", "nlu_fallback")], asking, loop="complaint_form")
    result = asyncio.run(ValidateComplaintForm().read(dispatcher, t, {}))
    assert result["contact_phone"] is None
    assert dispatcher.messages[0]["response"] == "utter_invalid_phone"


def test_a_plain_yes_confirms_whatever_its_intent():
    asking = {"requested_slot": "complaint_confirmed", "complaint_description": "宽带断了一天", "contact_phone": "13812345678"}
    t = tracker([user("嗯嗯", "nlu_fallback")], asking, loop="complaint_form")
    assert asyncio.run(ValidateComplaintForm().read(CollectingDispatcher(), t, {})) == {"complaint_confirmed": True}


def test_filing_sends_the_confirmation_with_number_and_deadlines(fresh_service):
    messages, events = run(ActionFileComplaint(), confirmed_complaint())
    assert messages[0]["response"] == "utter_ticket_created"
    values = messages[0]
    assert values["ticket_number"].startswith("TS")
    assert values["department"] == "网络运维部"
    assert values["phone"] == "138****5678"
    assert slots_of(events)["complaint_description"] is None
    assert count_tickets(fresh_service) == 1


def test_a_retried_action_call_makes_no_second_ticket(fresh_service):
    first, _ = run(ActionFileComplaint(), confirmed_complaint("same"))
    second, _ = run(ActionFileComplaint(), confirmed_complaint("same"))
    assert first[0]["ticket_number"] == second[0]["ticket_number"]
    assert count_tickets(fresh_service) == 1


def test_store_down_keeps_the_complaint_and_asks_again(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:x@127.0.0.1:1/none?connect_timeout=1")
    services.install(services.Services(Settings.from_env()))
    messages, events = run(ActionFileComplaint(), confirmed_complaint())
    assert messages[0]["response"] == "utter_complaint_retry"
    assert SlotSet("complaint_confirmed", None) in events
    assert FollowupAction("complaint_form") in events
    assert "complaint_description" not in slots_of(events)  # nothing forgotten


def test_status_of_own_ticket_and_not_of_others(fresh_service):
    created, _ = run(ActionFileComplaint(), confirmed_complaint())
    number = created[0]["ticket_number"]
    mine, _ = run(ActionCheckTicketStatus(), tracker([user(f"查一下工单 {number}", "check_ticket_status")]))
    assert mine[0]["response"] == "utter_ticket_status" and mine[0]["ticket_number"] == number
    assert mine[0]["status"] == "已受理，待处理"
    theirs, _ = run(
        ActionCheckTicketStatus(), tracker([user(f"查一下工单 {number}", "check_ticket_status")], sender="intruder")
    )
    assert theirs[0]["response"] == "utter_ticket_not_found"
    assert "department" not in theirs[0]


def test_status_without_number_lists_own_tickets():
    run(ActionFileComplaint(), confirmed_complaint("a"))
    messages, _ = run(ActionCheckTicketStatus(), tracker([user("我的投诉处理得怎么样了", "check_ticket_status")]))
    assert messages[0]["response"] == "utter_ticket_status"
    nothing, _ = run(ActionCheckTicketStatus(), tracker([user("我的投诉处理得怎么样了", "check_ticket_status")], sender="new"))
    assert nothing[0]["response"] == "utter_no_tickets"


def test_supplement_is_added_to_the_open_ticket(fresh_service):
    created, _ = run(ActionFileComplaint(), confirmed_complaint())
    t = tracker([user("补充一下：路由器灯一直是红的", "add_ticket_info")])
    _, events = run(ActionPrepareSupplement(), t)
    slots = slots_of(events)
    assert slots["supplement_text"] == "路由器灯一直是红的"
    messages, _ = run(ActionAddTicketInfo(), tracker([user("补充一下：路由器灯一直是红的", "add_ticket_info")], slots))
    assert messages[0]["response"] == "utter_supplement_added"
    ticket = TicketService(fresh_service).get(Customer("rest", SENDER), created[0]["ticket_number"])
    assert ticket.events[-1].kind == "customer_addition" and ticket.events[-1].detail == "路由器灯一直是红的"


def test_supplement_without_open_ticket_says_so():
    messages, events = run(ActionPrepareSupplement(), tracker([user("补充一下：还是不行", "add_ticket_info")]))
    assert messages[0]["response"] == "utter_no_open_ticket"
    assert FollowupAction("action_listen") in events


def test_request_for_a_human_is_recorded_on_the_ticket(fresh_service):
    created, _ = run(ActionFileComplaint(), confirmed_complaint())
    messages, _ = run(ActionRequestHuman(), tracker([user("再不处理我就打12300", "escalate")]))
    # nobody is logged in to the console: a call-back is promised on the ticket
    assert messages[0]["response"] == "utter_handoff_unavailable"
    assert messages[0]["ticket_number"] == created[0]["ticket_number"]
    assert messages[0]["contact"] == "通过 138****5678 联系您"
    ticket = TicketService(fresh_service).get(Customer("rest", SENDER), created[0]["ticket_number"])
    assert ticket.human_requested_at is not None
    assert ticket.severity.value == "major"


def test_complaint_interrupted_by_a_human_request_is_its_own_ticket(fresh_service):
    run(ActionFileComplaint(), confirmed_complaint())  # an older, unrelated open ticket
    slots = {"complaint_category": "billing", "complaint_description": "这个月多扣了50块", "contact_phone": "13812345678"}
    messages, events = run(ActionRequestHuman(), tracker([user("转人工", "escalate", "m5")], slots))
    tickets = TicketService(fresh_service).list_for(Customer("rest", SENDER))
    assert len(tickets) == 2
    newest = tickets[0]
    assert newest.category is Category.BILLING and newest.human_requested_at is not None
    assert messages[0]["ticket_number"] == newest.number
    assert slots_of(events)["complaint_description"] is None


def test_request_for_a_human_without_ticket_opens_one(fresh_service):
    t = tracker([user("转人工", "escalate")], {"contact_phone": "13900001111"})
    messages, _ = run(ActionRequestHuman(), t)
    assert messages[0]["response"] == "utter_handoff_unavailable"
    tickets = TicketService(fresh_service).list_for(Customer("rest", SENDER))
    assert len(tickets) == 1 and tickets[0].category is Category.OTHER


def online_agent(db: Database, username: str = "wang") -> None:
    db.migrate()
    staff = StaffService(db)
    staff.add(username, "小王", "wang-pass-1")
    staff.login(username, "wang-pass-1")


def test_request_for_a_human_queues_when_an_agent_is_online(fresh_service):
    online_agent(fresh_service)
    history = [user("宽带断了", "complain_network", "m1"), {"event": "bot", "text": "请问您的联系电话？"}]
    t = tracker(history + [user("转人工", "escalate", "m2")])
    messages, _ = run(ActionRequestHuman(), t)
    assert messages[0]["response"] == "utter_handoff_queued"
    assert messages[0]["position"] == "1" and messages[0]["wait"].startswith("约")
    fresh_service.migrate()
    session = HandoffService(fresh_service, StaffService(fresh_service)).session_for(Customer("rest", SENDER))
    assert session is not None and session.status.value == "waiting"
    boss = StaffService(fresh_service)
    boss.add("boss", "主管", "boss-pass-1", Role.SUPERVISOR)
    viewer = boss.login("boss", "boss-pass-1")[2]
    transcript = HandoffService(fresh_service, boss).transcript(viewer, session.id)
    assert [(m.sender, m.text) for m in transcript][:3] == [
        ("customer", "宽带断了"), ("bot", "请问您的联系电话？"), ("customer", "转人工")
    ]
    assert transcript[3].sender == "system" and "正在转接人工客服" in transcript[3].text


def test_callback_form_skips_the_phone_when_someone_can_take_the_chat(fresh_service):
    form = ValidateCallbackForm()
    t = tracker([user("转人工", "escalate")])
    assert asyncio.run(form.required_slots(["contact_phone"], CollectingDispatcher(), t, {})) == ["contact_phone"]
    online_agent(fresh_service)
    assert asyncio.run(form.required_slots(["contact_phone"], CollectingDispatcher(), t, {})) == []


def test_major_complaint_goes_to_a_person_at_once(fresh_service):
    online_agent(fresh_service)
    slots = {
        "complaint_category": "network",
        "complaint_description": "整个小区都断网了，已经一天了",
        "contact_phone": "13812345678",
        "complaint_confirmed": True,
    }
    messages, _ = run(ActionFileComplaint(), tracker([user("确认", "affirm")], slots))
    # An urgent complaint also goes to the supervisors' queue, and the customer is told in this reply.
    assert [m["response"] for m in messages] == ["utter_ticket_created", "utter_handoff_queued", None]
    assert "已提交升级申请" in messages[2]["text"]


def test_second_failure_goes_to_a_person_when_someone_is_online(fresh_service):
    online_agent(fresh_service)
    messages, _ = run(
        ActionHandleFallback(),
        tracker([user("呜呜呜", "nlu_fallback", "1"), bot("utter_ask_rephrase"), user("啦啦啦", "nlu_fallback", "2")]),
    )
    assert [m["response"] for m in messages] == ["utter_not_understood_to_human", "utter_handoff_queued"]


def test_fallback_asks_to_rephrase_once_then_offers_a_human():
    first, events = run(ActionHandleFallback(), tracker([user("呜呜呜", "nlu_fallback", "1")]))
    assert first[0]["response"] == "utter_ask_rephrase"
    assert FollowupAction("action_listen") in events  # one message, and the turn ends
    second, _ = run(
        ActionHandleFallback(),
        tracker([user("呜呜呜", "nlu_fallback", "1"), bot("utter_ask_rephrase"), user("啦啦啦", "nlu_fallback", "2")]),
    )
    assert second[0]["response"] == "utter_offer_human"
    reset, _ = run(
        ActionHandleFallback(),
        tracker([
            user("呜呜呜", "nlu_fallback", "1"), bot("utter_ask_rephrase"), user("查话费", "consult", "2"),
            bot("utter_consult/balance"), user("啦", "nlu_fallback", "3"),
        ]),
    )
    assert reset[0]["response"] == "utter_ask_rephrase"


def ranked(text: str, ranking, message_id: str = "m1", selected: Optional[str] = None) -> Dict:
    """A user event that fell back, with the model's readings (and the FAQ answer picked, if any)."""
    event = user(text, "nlu_fallback", message_id)
    event["parse_data"]["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.3}] + [
        {"name": name, "confidence": confidence} for name, confidence in ranking
    ]
    if selected:
        event["parse_data"]["response_selector"] = {"consult": {"response": {"utter_action": selected}}}
    return event


def test_two_close_readings_get_a_question_with_a_button_for_each():
    t = tracker([ranked("上个月话费怎么比平时多了一倍", [("consult", 0.41), ("complain_billing", 0.40)], selected="utter_consult/bill_details")])
    messages, events = run(ActionHandleFallback(), t)
    assert [m["response"] for m in messages] == ["utter_clarify"]
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ['/clarify{"choice": "consult"}', '/clarify{"choice": "complain_billing"}']
    assert slots_of(events) == {"pending_text": "上个月话费怎么比平时多了一倍", "pending_answer": "utter_consult/bill_details"}


def test_two_complaint_categories_start_the_likelier_complaint_without_asking():
    t = tracker([ranked("营业员给我改了套餐还多扣了钱", [("complain_business", 0.42), ("complain_billing", 0.40)])])
    messages, events = run(ActionHandleFallback(), t)
    assert messages == []
    assert slots_of(events)["complaint_category"] == "business"
    assert FollowupAction("complaint_form") in events


def test_the_chosen_reading_is_carried_out_on_the_original_words():
    pending = {"pending_text": "上个月话费怎么比平时多了一倍", "pending_answer": "utter_consult/bill_details"}
    press = user('/clarify{"choice": "complain_billing"}', "clarify")
    press["parse_data"]["entities"] = [{"entity": "choice", "value": "complain_billing"}]
    _, events = run(ActionResolveClarification(), tracker([press], pending))
    slots = slots_of(events)
    assert slots["complaint_category"] == "billing" and slots["complaint_description"] == "上个月话费怎么比平时多了一倍"
    assert FollowupAction("complaint_form") in events and slots["pending_text"] is None
    press["parse_data"]["entities"] = [{"entity": "choice", "value": "consult"}]
    messages, _ = run(ActionResolveClarification(), tracker([press], pending))
    assert [m["response"] for m in messages] == ["utter_consult/bill_details"]


def test_a_stale_clarification_button_still_gets_an_answer():
    press = user('/clarify{"choice": "nonsense"}', "clarify")
    press["parse_data"]["entities"] = [{"entity": "choice", "value": "nonsense"}]
    messages, _ = run(ActionResolveClarification(), tracker([press]))
    assert [m["response"] for m in messages] == ["utter_consult/general"]


def test_off_topic_gets_the_scope_answer_and_the_second_time_a_person_is_offered():
    first, _ = run(ActionOutOfScope(), tracker([user("帮我订张去上海的火车票", "out_of_scope")]))
    assert [m["response"] for m in first] == ["utter_out_of_scope"]
    again, _ = run(
        ActionOutOfScope(),
        tracker([user("帮我订张去上海的火车票", "out_of_scope", "1"), bot("utter_out_of_scope"), user("附近有啥好吃的", "out_of_scope", "2")]),
    )
    assert [m["response"] for m in again] == ["utter_out_of_scope_again"]
    noise, _ = run(ActionOutOfScope(), tracker([user("<b>hi</b>", "out_of_scope")]))
    assert [m["response"] for m in noise] == ["utter_ask_rephrase"]  # no words to decline: please rephrase


def test_a_consultation_without_a_selected_answer_gets_the_overview():
    messages, _ = run(ActionAnswerConsultation(), tracker([user("/consult", "consult")]))
    assert [m["response"] for m in messages] == ["utter_consult/general"]
