"""The hub of a Rasa process: the gate in front of the bot and delivery across processes (real store)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import List, Set, Tuple

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.handoff import DELIVERY_LEASE, WorkingHours
from bot.staff import StaffService
from bot.tickets import Customer
from channels.hub import WAITING_RECEIPT, Hub


class RecordingCourier:
    """A channel that can reach the customers listed in `here` and records what it sent."""

    def __init__(self, channel: str, here: Set[str], fail: bool = False) -> None:
        self.channel = channel
        self.here = here
        self.fail = fail
        self.sent: List[Tuple[str, str]] = []

    def holds(self, user_id: str) -> bool:
        return user_id in self.here

    def connected(self) -> List[str]:
        return sorted(self.here)

    async def deliver(self, user_id: str, message) -> bool:
        if self.fail:
            return False
        self.sent.append((user_id, message.text))
        return True


@pytest.fixture
def hubs(db):
    """Two hubs on one store: two Rasa server processes."""
    return Hub(db, WorkingHours()), Hub(db, WorkingHours())


def agent_on(hub: Hub):
    staff: StaffService = hub.staff
    staff.add("wang", "小王", "wang-pass-1")
    return staff.login("wang", "wang-pass-1")[2]


def test_a_message_is_delivered_once_by_the_process_holding_the_customer(hubs):
    first, second = hubs
    here, elsewhere = RecordingCourier("webchat", {"c1"}), RecordingCourier("webchat", set())
    first.register(here)
    second.register(elsewhere)
    wang = agent_on(second)
    customer = Customer("webchat", "c1")
    session = second.handoff.request(customer, "转人工").session
    second.handoff.accept(wang, session.id)
    second.handoff.post(wang, session.id, "您好，请讲")  # the agent's request landed on the other process

    async def rounds():
        return await second.deliver_pending(), await first.deliver_pending(), await first.deliver_pending()

    assert asyncio.run(rounds()) == (0, 2, 0)
    assert [text for _, text in here.sent] == ["客服小王已接入，正在为您服务。", "您好，请讲"]
    assert elsewhere.sent == []


def test_a_failed_delivery_stays_pending(hubs):
    hub, _ = hubs
    broken = RecordingCourier("webchat", {"c1"}, fail=True)
    hub.register(broken)
    wang = agent_on(hub)
    customer = Customer("webchat", "c1")
    session = hub.handoff.request(customer, "转人工").session
    hub.handoff.accept(wang, session.id)
    assert asyncio.run(hub.deliver_pending()) == 0
    assert len(hub.handoff.pending_deliveries("webchat", "c1")) == 1


class HangingCourier(RecordingCourier):
    """Takes the message and never comes back: the process stops mid-send."""

    def __init__(self, channel: str, here: Set[str]) -> None:
        super().__init__(channel, here)
        self.entered = asyncio.Event()

    async def deliver(self, user_id: str, message) -> bool:
        self.entered.set()
        await asyncio.sleep(3600)
        return True


def test_a_message_is_not_lost_when_its_process_stops_mid_send(hubs, clock):
    first, second = hubs
    for hub in hubs:
        hub.handoff.clock = clock
    stuck, here = HangingCourier("webchat", {"c1"}), RecordingCourier("webchat", {"c1"})
    first.register(stuck)
    second.register(here)
    wang = agent_on(second)
    session = second.handoff.request(Customer("webchat", "c1"), "转人工").session
    second.handoff.accept(wang, session.id)  # "客服小王已接入": one message for the customer

    async def scenario():
        sending = asyncio.get_running_loop().create_task(first.deliver_pending())
        await asyncio.wait_for(stuck.entered.wait(), 10)
        sending.cancel()  # the first process stops with the message in hand
        with pytest.raises(asyncio.CancelledError):
            await sending
        held = await second.deliver_pending()  # its claim still holds: nobody sends it twice meanwhile
        clock.now += DELIVERY_LEASE + timedelta(seconds=1)
        again = await second.deliver_pending()
        clock.now += DELIVERY_LEASE * 2  # delivered for good: never offered again
        return held, again, await second.deliver_pending()

    assert asyncio.run(scenario()) == (0, 1, 0)
    assert here.sent == [("c1", "客服小王已接入，正在为您服务。")]


def test_a_flushed_message_is_not_lost_when_the_turn_stops_mid_send(hubs, clock):
    """Messages handed over with the customer's next message (REST) follow the same rule."""
    hub, _ = hubs
    hub.handoff.clock = clock
    wang = agent_on(hub)
    alice = Customer("rest", "alice")
    session = hub.handoff.request(alice, "转人工").session
    hub.handoff.accept(wang, session.id)

    class Stopping(CollectingOutputChannel):
        async def _persist_message(self, message) -> None:
            raise asyncio.CancelledError  # the process stops while the reply is being written

    async def scenario():
        with pytest.raises(asyncio.CancelledError):
            await hub.flush(alice, Stopping())
        output = CollectingOutputChannel()
        await hub.flush(alice, output)  # held by the stopped turn
        clock.now += DELIVERY_LEASE + timedelta(seconds=1)
        await hub.flush(alice, output)
        clock.now += DELIVERY_LEASE * 2  # delivered for good: never handed over again
        await hub.flush(alice, output)
        return [m["text"] for m in output.messages]

    assert asyncio.run(scenario()) == ["客服小王已接入，正在为您服务。"]


def test_a_rest_answer_counts_as_delivered_only_when_the_turn_ends(hubs, clock):
    """REST sends nothing until the turn's answer is returned: an agent message put into that answer
    by a turn that was then cut off (the client hung up) is handed over again, not lost."""
    hub, _ = hubs
    hub.handoff.clock = clock
    wang = agent_on(hub)
    alice = Customer("rest", "alice")
    session = hub.handoff.request(alice, "转人工").session
    hub.handoff.accept(wang, session.id)
    hub.handoff.close(wang, session.id)  # the bot answers again; the agent's messages still wait

    async def hangs_up(message):
        raise asyncio.CancelledError

    async def answers(message):
        await message.output_channel.send_text_message(message.sender_id, "好的")

    async def scenario():
        cut = CollectingOutputChannel()
        with pytest.raises(asyncio.CancelledError):
            await hub.gated(hangs_up)(UserMessage("在吗", cut, "alice", input_channel="rest"))
        assert any("小王" in m["text"] for m in cut.messages)  # in the answer that was never returned
        clock.now += DELIVERY_LEASE + timedelta(seconds=1)
        first = CollectingOutputChannel()
        await hub.gated(answers)(UserMessage("在吗", first, "alice", input_channel="rest"))
        clock.now += DELIVERY_LEASE * 2
        second = CollectingOutputChannel()
        await hub.gated(answers)(UserMessage("在吗", second, "alice", input_channel="rest"))
        return [m["text"] for m in first.messages], [m["text"] for m in second.messages]

    first, second = asyncio.run(scenario())
    assert any("小王" in t for t in first), first
    assert not any("小王" in t for t in second), second


def test_customers_who_are_away_do_not_block_those_who_are_here(hubs):
    hub, _ = hubs
    courier = RecordingCourier("webchat", {"here"})
    hub.register(courier)
    wang = agent_on(hub)
    for n in range(210):  # more undelivered messages for absent customers than one round fetches
        session = hub.handoff.request(Customer("rest", f"away{n}"), "转人工").session
        hub.handoff.accept(wang, session.id)
    session = hub.handoff.request(Customer("webchat", "here"), "转人工").session
    hub.handoff.accept(wang, session.id)
    assert asyncio.run(hub.deliver_pending()) == 1 and courier.sent[0][0] == "here"


def gate(hub: Hub, customer: Customer, text: str):
    output = CollectingOutputChannel()
    reached_bot = []

    async def bot(message: UserMessage):
        reached_bot.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, BOT_REPLY)

    handle = hub.gated(bot)
    asyncio.run(handle(UserMessage(text, output, customer.user_id, input_channel=customer.channel)))
    # What the gate itself said (the notice, queue reminders); the bot's own answer is left out.
    return reached_bot, [m["text"] for m in output.messages if m["text"] != BOT_REPLY]


BOT_REPLY = "（机器人的回答）"


def test_the_gate_keeps_the_bot_silent_while_a_human_has_the_conversation(hubs):
    hub, _ = hubs
    wang = agent_on(hub)
    alice = Customer("rest", "alice")
    reached, said = gate(hub, alice, "查话费")
    assert reached == ["查话费"] and len(said) == 1 and "个人信息保护提示" in said[0]  # first contact: the notice
    assert gate(hub, alice, "查话费") == (["查话费"], [])
    session = hub.handoff.request(alice, "转人工").session
    assert gate(hub, alice, "我等着") == ([], [WAITING_RECEIPT])  # just told their place: a receipt, no reminder yet
    hub.handoff.accept(wang, session.id)
    hub.handoff.post(wang, session.id, "您好")
    reached, told = gate(hub, alice, "宽带断了")
    assert reached == [] and told == ["客服小王已接入，正在为您服务。", "客服小王：您好"]  # REST: handed over now
    assert gate(hub, alice, "/cancel_handoff")[0] == []  # a stale button does not end the chat
    reached, told = gate(hub, alice, "返回机器人")
    assert reached == [] and "智能助手" in told[-1]
    assert gate(hub, alice, "查话费")[0] == ["查话费"]
    assert gate(hub, alice, "/cancel_handoff") == ([], ["您目前没有在等待人工客服。有问题可以直接问我；需要人工服务请发送“转人工”。"])


def test_the_gate_lets_the_bot_answer_when_the_store_is_down(tmp_path):
    from bot.storage.database import Database

    hub = Hub(Database("postgresql://nobody@127.0.0.1:1/none"), WorkingHours())
    assert gate(hub, Customer("rest", "alice"), "查话费") == (["查话费"], [])


def test_survey_buttons_are_answered_even_during_a_live_chat(hubs):
    from bot.categories import Category
    from bot.tickets import Status

    hub, _ = hubs
    wang = agent_on(hub)
    alice = Customer("rest", "alice")
    ticket = hub.tickets.open_complaint(alice, Category.NETWORK, "宽带断网了", "13800001111")[0]
    session = hub.handoff.request(alice, "转人工").session
    hub.handoff.accept(wang, session.id)
    hub.handoff.resolve_ticket(wang, ticket.number, "已恢复")
    reached, told = gate(hub, alice, "/rate_4")
    assert reached == [] and any("感谢您的评价" in t for t in told)
    assert hub.tickets.get(alice, ticket.number).status is Status.CLOSED
    assert gate(hub, alice, "/rate_1")[1][-1].startswith("这次满意度调查已经结束")  # answered once


def test_a_live_chat_stays_with_the_agent_while_the_store_is_down(hubs, monkeypatch):
    from contextlib import contextmanager

    from bot.errors import StoreUnavailable
    from channels import held_messages
    from channels.held_messages import HELD_TEXT

    hub, _ = hubs
    wang = agent_on(hub)
    alice, bob = Customer("rest", "alice"), Customer("rest", "bob")
    gate(hub, bob, "你好")
    session = hub.handoff.request(alice, "转人工").session
    hub.handoff.accept(wang, session.id)
    assert gate(hub, alice, "我家宽带断了")[0] == []  # the gate sees alice with the agent

    @contextmanager
    def down():
        raise StoreUnavailable("OperationalError")
        yield

    monkeypatch.setattr(hub.db, "transaction", down)
    monkeypatch.setattr(hub.db, "reading", down)
    assert gate(hub, alice, "现在连手机热点也上不了") == ([], [HELD_TEXT])  # not the bot in the agent's place
    assert gate(hub, alice, "还在吗") == ([], [HELD_TEXT])
    assert gate(hub, bob, "查话费")[0] == ["查话费"]  # not in a live chat: the bot answers as before
    monkeypatch.undo()

    # Back: the held messages reach the transcript first, in order, then the new one.
    assert gate(hub, alice, "好了吗")[0] == []
    said = [m.text for m in hub.handoff.transcript(wang, session.id) if m.sender == "customer"]
    assert said[-4:] == ["我家宽带断了", "现在连手机热点也上不了", "还在吗", "好了吗"]

    # A customer who writes nothing more gets their held message handed over all the same.
    monkeypatch.setattr(hub.db, "transaction", down)
    monkeypatch.setattr(hub.db, "reading", down)
    assert gate(hub, alice, "我先去忙了") == ([], [HELD_TEXT])
    monkeypatch.undo()
    monkeypatch.setattr(held_messages, "RETRY_SECONDS", 0.0)
    monkeypatch.setattr("channels.hub.gate.HELD_RETRY_SECONDS", 0.0)
    asyncio.run(hub._drain_held())
    assert [m.text for m in hub.handoff.transcript(wang, session.id) if m.sender == "customer"][-1] == "我先去忙了"
