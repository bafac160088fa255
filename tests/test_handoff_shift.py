"""The agent's shift in the domain: busy or on a break is not available (routing, estimates,
call-backs), the queue by kind and page, what a session says about unanswered messages, and the
hand-back at logout. On SQLite and PostgreSQL. Fixtures: tests/handoff_support.py."""

from __future__ import annotations


import pytest

from bot.errors import InvalidInput
from bot.handoff import Outcome, QueueQuery, SessionStatus
from bot.tickets import Customer
from tests.handoff_support import complaint, handoff_fixture, login, staff_fixture, tickets_fixture  # noqa: F401


def test_a_busy_agent_is_not_available(handoff, staff, tickets, alice, bob):
    wang = login(staff, "wang")
    assert staff.set_status("wang", "busy").available is False
    assert staff.get("wang").online and staff.online_count() == 0
    assert not handoff.available_now()
    assert handoff.request(alice, "转人工", complaint(tickets, alice)).outcome is Outcome.UNAVAILABLE
    staff.set_status("wang", "online")
    placement = handoff.request(bob, "转人工", complaint(tickets, bob))
    assert placement.outcome is Outcome.QUEUED and wang.username == "wang"
    # the responsible agent on a break: the customer waits in the queue instead of being routed to them
    handoff.accept(staff.get("wang"), placement.session.id)
    handoff.close(staff.get("wang"), placement.session.id)
    login(staff, "li")
    staff.set_status("wang", "break")
    again = handoff.request(bob, "再次转人工")
    assert again.outcome is Outcome.QUEUED and again.session.owner == "wang"
    with pytest.raises(InvalidInput):
        staff.set_status("wang", "asleep")


def test_queue_by_kind_in_the_order_customers_were_told(handoff, staff, tickets, alice, bob):
    late = handoff.request(alice, "转人工", complaint(tickets, alice))  # nobody online: a call-back
    login(staff, "wang")
    customers = [Customer("rest", f"c{n}") for n in range(3)]
    placed = [handoff.request(c, "转人工", complaint(tickets, c)) for c in customers]
    live, total = handoff.queue_page(None, QueueQuery(kind="live", limit=2))
    assert total == 3 and [s.id for s in live] == [p.session.id for p in placed][:2]
    assert [p.position for p in placed] == [1, 2, 3]
    rest, _ = handoff.queue_page(None, QueueQuery(kind="live", limit=2, offset=2))
    assert [s.id for s in rest] == [placed[2].session.id]
    callbacks, count = handoff.queue_page(None, QueueQuery(kind="callback"))
    assert count == 1 and callbacks[0].id == late.session.id and callbacks[0].status is SessionStatus.CALLBACK
    assert handoff.queue_page(None, QueueQuery(kind="callback", severity="urgent"))[1] == 0
    for bad in (QueueQuery(kind="x"), QueueQuery(limit=0), QueueQuery(offset=-1), QueueQuery(severity="x")):
        with pytest.raises(InvalidInput):
            handoff.queue_page(None, bad)


def test_unanswered_messages_and_the_last_line(handoff, staff, tickets, alice):
    wang = login(staff, "wang")
    placement = handoff.request(alice, "转人工", complaint(tickets, alice), [("customer", "宽带断了"), ("bot", "已登记")])
    assert placement.session.attention.unanswered == 0  # the bot history is not waiting for a reply
    handoff.accept(wang, placement.session.id)
    handoff.customer_message(alice, "喂？")
    handoff.customer_message(alice, "人呢？")
    [mine] = handoff.sessions(wang)
    assert mine.attention.unanswered == 2 and mine.attention.waiting_since is not None
    assert (mine.attention.last.sender, mine.attention.last.text) == ("customer", "人呢？")
    handoff.post(wang, placement.session.id, "在的，马上为您查")
    [mine] = handoff.sessions(wang)
    assert mine.attention.unanswered == 0 and mine.attention.waiting_since is None and mine.attention.last.sender == "agent"


def test_hand_back_requeues_at_once_and_tells_the_customer(handoff, staff, tickets, alice, bob):
    wang, li = login(staff, "wang"), login(staff, "li")
    mine = handoff.request(alice, "转人工", complaint(tickets, alice)).session.id
    offered = handoff.request(bob, "转人工", complaint(tickets, bob)).session.id
    handoff.accept(wang, mine)
    handoff.accept(li, offered)
    handoff.transfer(li, offered, "wang", "宽带组")
    assert handoff.hand_back(wang) == [mine]
    [waiting] = [s for s in handoff.queue(None) if s.id == mine]
    assert waiting.status is SessionStatus.WAITING and waiting.agent is None and waiting.owner == "wang"
    assert "重新排队" in handoff.messages_for_customer(alice, 0)[-1].text
    assert handoff.sessions(li)[0].transfer_to is None  # the offer to the leaving agent is withdrawn
    assert handoff.hand_back(wang) == []
