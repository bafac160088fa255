"""Limits on customer traffic: token buckets per customer and per network address, and a cap on the
turns a process works on at once.

Why: every customer message costs a model inference, a tracker load and store writes; every new
sender costs a privacy-notice row and a tracker; every request for a human costs a ticket and a queue
entry an agent has to look at. Without limits one anonymous client can bury real customers (review
finding M3). The buckets are generous for people (a customer types at most a message every few
seconds; many customers share one address behind carrier-grade NAT) and tight for scripts.

A bucket holds ``burst`` tokens and refills ``burst`` tokens every ``seconds``; each event takes one.
Buckets live in the memory of one process (each Rasa process and the action server keep their own),
so a client spread over N processes gets at most N times the budget: a bound, not an exact quota.
Memory is bounded too: the least recently used keys are dropped past `MAX_KEYS` (a dropped key
starts again with a full bucket, which only ever favours the client).

Every rate can be changed from the environment, e.g. ``LIMIT_MESSAGE_CUSTOMER=12/30`` (12 messages,
refilled over 30 seconds) or ``LIMIT_MESSAGE_ADDRESS=off``; ``LIMIT_IN_FLIGHT=200`` and
``LIMIT_IN_FLIGHT_CUSTOMER=5`` cap the turns in progress. Of those, ``TURN_SLOTS=6`` run at a
time per process, in the order they came, none waiting for a slot longer than ``TURN_SLOT_WAIT=2``
seconds (channels/hub/turns.py says why; ``TURN_SLOTS=0`` admits all at once).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Dict, Mapping, Optional, Tuple

MAX_KEYS = 100_000
NOTICE_EVERY = 30.0  # seconds between two "slow down" answers to one customer (no amplification)

MESSAGE = "message"  # a customer message on any channel
SESSION = "session"  # a conversation this process has not seen before (new sender, new web chat id)
HUMAN = "human"  # a request for a human agent (a ticket and a queue entry)
SESSION_REQUEST = "session_request"  # a web chat page (re)joining its conversation

CUSTOMER = "customer"
ADDRESS = "address"


@dataclass(frozen=True)
class Rate:
    burst: float
    seconds: float

    @property
    def per_second(self) -> float:
        return self.burst / self.seconds

    @classmethod
    def parse(cls, text: str) -> Optional["Rate"]:
        """``"12/30"`` -> 12 per 30 seconds; ``"off"`` -> no limit."""
        text = text.strip().lower()
        if text in ("off", "none", "0"):
            return None
        burst, _, seconds = text.partition("/")
        rate = cls(float(burst), float(seconds or 1))
        if rate.burst < 1 or rate.seconds <= 0:
            raise ValueError(f"a limit needs at least 1 event per positive period, not {text!r}")
        return rate


DEFAULT_RATES: Dict[Tuple[str, str], Rate] = {
    # People: a burst of a dozen messages, then one every 2.5 s on average.
    (MESSAGE, CUSTOMER): Rate(12, 30),
    # One address may be a whole campus or a mobile carrier's NAT: 10 messages a second.
    (MESSAGE, ADDRESS): Rate(600, 60),
    (SESSION, ADDRESS): Rate(60, 60),
    # 转人工 files a ticket and queues the customer: three times in ten minutes is plenty for a person.
    (HUMAN, CUSTOMER): Rate(3, 600),
    (HUMAN, ADDRESS): Rate(60, 600),
    # A page reconnecting (network change, tab restore) rejoins its session a few times a minute.
    (SESSION_REQUEST, CUSTOMER): Rate(10, 60),
    (SESSION_REQUEST, ADDRESS): Rate(300, 60),
}


def rates_from(env: Mapping[str, str]) -> Dict[Tuple[str, str], Optional[Rate]]:
    """The rates named by ``LIMIT_<KIND>_<SCOPE>`` variables, the defaults for the others."""
    rates: Dict[Tuple[str, str], Optional[Rate]] = dict(DEFAULT_RATES)
    for kind, scope in DEFAULT_RATES:
        name = f"LIMIT_{kind}_{scope}".upper()
        value = (env.get(name) or "").strip()
        if value:
            try:
                rates[(kind, scope)] = Rate.parse(value)
            except ValueError as error:
                raise ValueError(f"{name} must be 'burst/seconds' (e.g. 12/30) or 'off': {error}") from None
    return rates


DEFAULT_IN_FLIGHT = 200
DEFAULT_IN_FLIGHT_CUSTOMER = 5
DEFAULT_TURN_SLOTS = 6
DEFAULT_TURN_SLOT_WAIT = 2.0


@dataclass(frozen=True)
class Refusal:
    """An event over its limit: which one, and when to try again."""

    kind: str
    scope: str
    retry_after: float
    notify: bool  # False when the customer was told a moment ago (do not answer every flood message)


class Buckets:
    """Token buckets by key (thread-safe; the least recently used keys are forgotten past max_keys)."""

    def __init__(self, rate: Rate, max_keys: int = MAX_KEYS, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.rate.burst, now))
        return min(self.rate.burst, tokens + (now - at) * self.rate.per_second)

    def wait(self, key: str) -> float:
        """Seconds until `key` may take a token (0: now)."""
        with self._lock:
            level = self._level(key, self.clock())
        return 0.0 if level >= 1 else (1 - level) / self.rate.per_second

    def take(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._buckets[key] = (self._level(key, now) - 1, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._buckets


class Limits:
    """The limits of one process."""

    def __init__(
        self,
        rates: Optional[Mapping[Tuple[str, str], Optional[Rate]]] = None,
        in_flight: int = DEFAULT_IN_FLIGHT,
        in_flight_customer: int = DEFAULT_IN_FLIGHT_CUSTOMER,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.clock = clock
        self.buckets: Dict[Tuple[str, str], Buckets] = {
            pair: Buckets(rate, max_keys, clock)
            for pair, rate in (DEFAULT_RATES if rates is None else rates).items()
            if rate is not None
        }
        self.in_flight_limit = in_flight
        self.in_flight_customer_limit = in_flight_customer
        self._in_flight: Dict[str, int] = {}
        self._total = 0
        self._notified: "OrderedDict[str, float]" = OrderedDict()
        self._seen: "OrderedDict[str, None]" = OrderedDict()
        self.max_keys = max_keys
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Limits":
        env = os.environ if env is None else env
        return cls(
            rates_from(env),
            in_flight=int(env.get("LIMIT_IN_FLIGHT") or DEFAULT_IN_FLIGHT),
            in_flight_customer=int(env.get("LIMIT_IN_FLIGHT_CUSTOMER") or DEFAULT_IN_FLIGHT_CUSTOMER),
        )

    # -- rates ----------------------------------------------------------------------------

    def admit(self, kind: str, customer: Optional[str], address: Optional[str] = None) -> Optional[Refusal]:
        """Take a token of `kind` for the customer and their address, or refuse (taking nothing)."""
        keys = [(scope, key) for scope, key in ((CUSTOMER, customer), (ADDRESS, address)) if key]
        waits = []
        for scope, key in keys:
            buckets = self.buckets.get((kind, scope))
            if buckets is not None:
                waits.append((buckets.wait(key), scope))
        worst = max(waits, default=(0.0, CUSTOMER))
        if worst[0] > 0:
            return Refusal(kind, worst[1], worst[0], self._notify(f"{kind}\x1f{customer or address}"))
        for scope, key in keys:
            buckets = self.buckets.get((kind, scope))
            if buckets is not None:
                buckets.take(key)
        return None

    def admit_message(self, customer: str, address: Optional[str] = None) -> Optional[Refusal]:
        """A customer message; the first one of a conversation also counts as a new session of the address."""
        with self._lock:
            new = customer not in self._seen
        if new and address:
            refusal = self.admit(SESSION, None, address)
            if refusal is not None:
                return refusal
        refusal = self.admit(MESSAGE, customer, address)
        if refusal is None:
            with self._lock:
                self._seen[customer] = None
                self._seen.move_to_end(customer)
                while len(self._seen) > self.max_keys:
                    self._seen.popitem(last=False)
        return refusal

    def _notify(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            last = self._notified.get(key)
            if last is not None and now - last < NOTICE_EVERY:
                return False
            self._notified[key] = now
            self._notified.move_to_end(key)
            while len(self._notified) > self.max_keys:
                self._notified.popitem(last=False)
            return True

    # -- turns in flight (the bounded queue) ----------------------------------------------

    def enter(self, customer: str) -> Optional[str]:
        """Start a turn, or say which cap is full ("customer" or "process"); `leave` after an entered turn."""
        with self._lock:
            mine = self._in_flight.get(customer, 0)
            if mine >= self.in_flight_customer_limit:
                return CUSTOMER
            if self._total >= self.in_flight_limit:
                return "process"
            self._in_flight[customer] = mine + 1
            self._total += 1
            return None

    def leave(self, customer: str) -> None:
        with self._lock:
            mine = self._in_flight.get(customer, 0)
            if mine == 0:
                return
            self._total -= 1
            left = mine - 1
            if left > 0:
                self._in_flight[customer] = left
            else:
                self._in_flight.pop(customer, None)

    def in_flight(self) -> int:
        with self._lock:
            return self._total


def describe_retry(seconds: float) -> str:
    """'5秒' / '2分钟': how long a limited customer should wait, rounded up (for the customer's notice)."""
    if seconds < 60:
        return f"{max(1, int(seconds + 0.999))}秒"
    return f"{int(seconds / 60 + 0.999)}分钟"


def address_ref(address: Optional[str]) -> Optional[str]:
    """A keyed pseudonym of a network address: what limits and trackers keep instead of the address
    (an IP address is personal data and never needs to be read back)."""
    if not address:
        return None
    key = os.environ.get("LOG_ID_KEY", "intake-logs").encode()
    return "a:" + hashlib.blake2b(address.encode(), digest_size=8, key=key[:64]).hexdigest()
