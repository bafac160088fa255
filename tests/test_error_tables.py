"""The two places that translate domain errors: `channels.http` (status codes, with each API's
messages) and `actions.replies` (the customer's reply). The bodies below are what the console and
the backend API answered before the tables existed, byte for byte.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.handoff import ActionRequestHuman
from actions.replies import REPLIES, TICKET_REPLIES, polite_errors, reply_for
from actions.status import ActionCheckTicketStatus
from actions.supplement import ActionPrepareSupplement
from bot.errors import (
    Conflict,
    CustomerInChat,
    Forbidden,
    IntakeError,
    InvalidInput,
    NotFound,
    NotOwner,
    RateLimited,
    StoreUnavailable,
    Taken,
    Unauthenticated,
    WrongState,
)
from bot.privacy import CustomerInChat as AnonymiseCustomerInChat
from bot.settings import Settings
from bot.text import MAX_MESSAGE_CHARS
from channels import backend_api
from channels.console.http import error_response
from channels.http import TooLong, status_of

CONSOLE = [
    (RateLimited(30), 429, {"error": "too_many_attempts", "message": "登录失败次数过多，请30秒后再试", "retry_after": 30}),
    (Unauthenticated("x"), 401, {"error": "unauthenticated", "message": "登录已失效，请重新登录"}),
    (WrongState("x"), 409, {"error": "wrong_state", "message": "会话或工单的状态已经变化（可能已被接入、转交或结束），请刷新后再试"}),
    (CustomerInChat("x"), 409, {"error": "wrong_state", "message": "会话或工单的状态已经变化（可能已被接入、转交或结束），请刷新后再试"}),
    (AnonymiseCustomerInChat("x"), 409, {"error": "wrong_state", "message": "会话或工单的状态已经变化（可能已被接入、转交或结束），请刷新后再试"}),
    (Forbidden("x"), 403, {"error": "forbidden", "message": "您无权处理这个会话"}),
    (Taken("li", "小李", "wang"), 409,
     {"error": "taken", "message": "该会话已由小李接入", "agent": "li", "agent_name": "小李", "owner": "wang"}),
    (Conflict("x"), 409, {"error": "conflict", "message": "操作冲突，请刷新后重试"}),
    (NotFound("x"), 404, {"error": "not_found", "message": "没有找到"}),
    (NotOwner("x"), 404, {"error": "not_found", "message": "没有找到"}),
    (InvalidInput("'to' is required"), 400, {"error": "invalid", "message": "请求有误：请填写目标坐席"}),
    (TooLong("text"), 413, {"error": "too_long", "message": f"内容太长（内容），请控制在{MAX_MESSAGE_CHARS}字以内"}),
    (StoreUnavailable("x"), 503, {"error": "unavailable", "message": "系统暂时不可用，请稍后重试"}),
    (IntakeError("x"), 400, {"error": "invalid", "message": "请求有误"}),
]


@pytest.mark.parametrize("error, status, body", CONSOLE, ids=[type(c[0]).__name__ for c in CONSOLE])
def test_the_console_answers_each_error_as_before(error, status, body):
    answer = error_response(error)
    assert answer.status == status
    assert json.loads(answer.body) == body
    assert list(json.loads(answer.body)) == list(body)  # the same keys in the same order


def test_the_most_specific_class_wins():
    assert status_of(Taken("a", "b")) == (409, "taken")
    assert status_of(CustomerInChat("x")) == (409, "wrong_state")
    assert status_of(RateLimited(1)) == (429, "too_many_attempts")
    assert status_of(NotOwner("x")) == (404, "not_found")


@pytest.mark.parametrize(
    "error, status, body",
    [
        (NotFound("x"), 404, {"error": "not_found", "message": "no such ticket"}),
        (StoreUnavailable("x"), 503, {"error": "unavailable", "message": "ticket store unavailable"}),
        (Unauthenticated("X-API-Key"), 401, {"error": "unauthenticated", "message": "missing or wrong X-API-Key"}),
        (InvalidInput("after must be a ticket number"), 400, {"error": "invalid", "message": "after must be a ticket number"}),
    ],
)
def test_the_backend_api_answers_each_error_as_before(error, status, body):
    async def handler(request):
        raise error

    answer = asyncio.run(backend_api._mapped(handler)(None))
    assert answer.status == status
    assert json.loads(answer.body) == body


def test_replies_table():
    assert reply_for(StoreUnavailable("x")) == "utter_store_unavailable"
    assert reply_for(NotOwner("x")) is None
    assert reply_for(NotOwner("x"), TICKET_REPLIES) == "utter_ticket_not_found"
    assert set(REPLIES) <= set(TICKET_REPLIES)


def test_polite_errors_answers_mapped_errors_and_passes_only_the_template_values():
    dispatcher = CollectingDispatcher()
    with polite_errors(dispatcher, TICKET_REPLIES, ticket_number="TS1") as failed:
        raise StoreUnavailable("down")
    assert failed and isinstance(failed.error, StoreUnavailable)
    assert dispatcher.messages[-1]["response"] == "utter_store_unavailable"
    assert "ticket_number" not in dispatcher.messages[-1]
    with polite_errors(dispatcher, TICKET_REPLIES, ticket_number="TS1") as failed:
        raise NotOwner("TS1")
    assert dispatcher.messages[-1]["response"] == "utter_ticket_not_found"
    assert dispatcher.messages[-1]["ticket_number"] == "TS1"
    with polite_errors(dispatcher) as failed:
        pass
    assert not failed
    with pytest.raises(InvalidInput), polite_errors(dispatcher):
        raise InvalidInput("not ours to answer")


@pytest.fixture
def store_down(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:x@127.0.0.1:1/none?connect_timeout=1")
    services.install(services.Services(Settings.from_env()))
    yield
    services.install(None)


def _tracker(text, intent):
    latest = {"intent": {"name": intent, "confidence": 0.99}, "entities": [], "text": text, "message_id": "m1"}
    events = [{"event": "user", "text": text, "message_id": "m1", "input_channel": "rest", "parse_data": latest}]
    return Tracker("customer-1", {}, latest, events, False, None, {}, "action_listen")


@pytest.mark.parametrize(
    "action, text, intent",
    [
        (ActionCheckTicketStatus(), "查一下工单 TS261122-K7Q4M9XD", "check_ticket_status"),
        (ActionCheckTicketStatus(), "我的投诉处理得怎么样了", "check_ticket_status"),
        (ActionPrepareSupplement(), "补充一下", "add_ticket_info"),
        (ActionRequestHuman(), "转人工", "request_human"),
    ],
)
def test_a_store_outage_gets_the_one_reply(store_down, action, text, intent):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, _tracker(text, intent), {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_store_unavailable"]
    assert "ticket_number" not in dispatcher.messages[0]
    if isinstance(action, ActionPrepareSupplement):
        assert FollowupAction("action_listen") in events
