"""Token buckets and in-flight caps (bot/limits.py) on a settable clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.limits import (
    ADDRESS,
    CUSTOMER,
    HUMAN,
    MESSAGE,
    SESSION,
    Buckets,
    Limits,
    Rate,
    address_ref,
    describe_retry,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limits(clock: Clock, **rates) -> Limits:
    table = {
        (MESSAGE, CUSTOMER): Rate(3, 30),
        (MESSAGE, ADDRESS): Rate(5, 10),
        (SESSION, ADDRESS): Rate(2, 60),
        (HUMAN, CUSTOMER): Rate(1, 600),
    }
    table.update(rates)
    return Limits(table, in_flight=3, in_flight_customer=2, clock=clock)


def test_a_customer_gets_the_burst_then_waits_for_the_refill():
    clock = Clock()
    lim = limits(clock)
    assert [lim.admit(MESSAGE, "c1") for _ in range(3)] == [None, None, None]
    refusal = lim.admit(MESSAGE, "c1")
    assert refusal is not None and refusal.scope == CUSTOMER
    assert refusal.retry_after == pytest.approx(10.0)  # 3 per 30 s: one token every 10 s
    clock.now += 10
    assert lim.admit(MESSAGE, "c1") is None
    assert lim.admit(MESSAGE, "c1") is not None


def test_other_customers_are_not_affected_but_their_shared_address_is():
    clock = Clock()
    lim = limits(clock)
    for i in range(5):
        assert lim.admit(MESSAGE, f"c{i}", "a1") is None
    refusal = lim.admit(MESSAGE, "c9", "a1")
    assert refusal is not None and refusal.scope == ADDRESS
    assert lim.admit(MESSAGE, "c9", "a2") is None


def test_a_refusal_takes_nothing():
    """A client refused by its address does not also drain its own bucket (and vice versa)."""
    clock = Clock()
    lim = limits(clock)
    for i in range(5):
        lim.admit(MESSAGE, f"c{i}", "a1")
    for _ in range(10):
        assert lim.admit(MESSAGE, "victim", "a1") is not None
    # Same customer from another address: the full customer burst is still there.
    assert [lim.admit(MESSAGE, "victim", "a2") for _ in range(3)] == [None, None, None]


def test_new_conversations_count_against_the_address():
    clock = Clock()
    lim = limits(clock)
    assert lim.admit_message("new1", "a1") is None
    assert lim.admit_message("new2", "a1") is None
    refusal = lim.admit_message("new3", "a1")
    assert refusal is not None and refusal.kind == SESSION
    # A conversation already going on is not a new one.
    assert lim.admit_message("new1", "a1") is None
    # Refused conversations were not remembered as seen: they stay new.
    clock.now += 30
    assert lim.admit_message("new3", "a1") is None


def test_the_customer_is_told_once_in_a_while_not_per_message():
    clock = Clock()
    lim = limits(clock)
    for _ in range(3):
        lim.admit(MESSAGE, "c1")
    notices = [lim.admit(MESSAGE, "c1").notify for _ in range(5)]
    assert notices == [True, False, False, False, False]
    clock.now += 31
    for _ in range(3):
        lim.admit(MESSAGE, "c1")
    assert lim.admit(MESSAGE, "c1").notify is True


def test_a_rate_switched_off_never_refuses():
    clock = Clock()
    lim = Limits({(MESSAGE, CUSTOMER): None}, clock=clock)
    assert all(lim.admit(MESSAGE, "c1", "a1") is None for _ in range(1000))


def test_rates_come_from_the_environment():
    lim = Limits.from_env({"LIMIT_MESSAGE_CUSTOMER": "2/10", "LIMIT_SESSION_ADDRESS": "off", "LIMIT_IN_FLIGHT": "7"})
    assert lim.buckets[(MESSAGE, CUSTOMER)].rate == Rate(2, 10)
    assert (SESSION, ADDRESS) not in lim.buckets
    assert (HUMAN, CUSTOMER) in lim.buckets  # untouched defaults stay
    assert lim.in_flight_limit == 7
    with pytest.raises(ValueError):
        Limits.from_env({"LIMIT_MESSAGE_CUSTOMER": "0.5/10"})


def test_memory_is_bounded():
    clock = Clock()
    buckets = Buckets(Rate(1, 60), max_keys=100, clock=clock)
    for i in range(10_000):
        buckets.take(f"k{i}")
    assert len(buckets._buckets) == 100
    assert "k9999" in buckets and "k0" not in buckets


def test_turns_in_flight_are_capped_per_customer_and_per_process():
    lim = limits(Clock())
    assert lim.enter("c1") is None
    assert lim.enter("c1") is None
    assert lim.enter("c1") == CUSTOMER
    assert lim.enter("c2") is None
    assert lim.enter("c3") == "process"
    assert lim.in_flight() == 3
    lim.leave("c1")
    assert lim.enter("c3") is None
    for key in ("c1", "c2", "c3"):
        lim.leave(key)
    lim.leave("never-entered")  # a stray leave must not make room that is not there
    assert lim.in_flight() == 0
    assert [lim.enter(k) for k in ("a", "b", "c", "d")] == [None, None, None, "process"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(min_value=0, max_value=20), st.integers(min_value=0, max_value=3)), max_size=60))
def test_a_bucket_never_grants_more_than_its_burst_plus_refill(steps):
    """Over any sequence of waits and attempts, granted <= burst + elapsed * rate."""
    clock = Clock()
    start = clock.now
    lim = Limits({(MESSAGE, CUSTOMER): Rate(4, 20)}, clock=clock)
    granted = 0
    for wait, attempts in steps:
        clock.now += wait
        for _ in range(attempts):
            if lim.admit(MESSAGE, "c") is None:
                granted += 1
    assert granted <= 4 + (clock.now - start) * (4 / 20) + 1e-9


def test_retry_is_described_for_people():
    assert describe_retry(0.2) == "1秒"
    assert describe_retry(9.1) == "10秒"
    assert describe_retry(61) == "2分钟"


def test_addresses_are_kept_as_pseudonyms():
    ref = address_ref("203.0.113.7")
    assert ref and ref.startswith("a:") and "203" not in ref
    assert ref == address_ref("203.0.113.7") != address_ref("203.0.113.8")
    assert address_ref(None) is None and address_ref("") is None
