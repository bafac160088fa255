"""Prometheus metrics of one Rasa server process, served at ``GET /metrics`` by the ops channel.

Every process has its own registry and is scraped on its own port (no multiprocess mode; one Sanic
worker per process). Counters and histograms count what this process did:

    intake_turns_total{channel, route}        customer messages; route "bot" (answered by the
                                              assistant) or "human" (handoff gate, survey answer)
    intake_turn_errors_total{channel}         messages whose handling raised
    intake_turn_duration_seconds{channel}     bot turns, message in -> replies ready (histogram)
    intake_intents_total{intent}              intents predicted for customer messages (the domain's
                                              intents; retrieval intents as their base, e.g. consult;
                                              anything else, e.g. a typed "/something", as "other")
    intake_handoff_accepts_total              waiting sessions taken by an agent in the console
    intake_outbox_deliveries_total{outcome}   pushes to the backend: delivered, failed, dead
    intake_action_call_retries_total          calls to the action server made again because it could
                                              not be reached (restarting; channels/action_calls.py)
    intake_limited_total{kind, scope}         customer events refused by a traffic limit (bot/limits.py):
                                              kind message, session, session_request or turn; scope
                                              customer, address (or process: the in-flight cap)
    intake_turns_in_flight                    customer messages this process is working on now
    intake_turns_waiting                      of those, the ones waiting for a turn slot
    intake_turn_slot_timeouts_total           turns that waited TURN_SLOT_WAIT and ran without a slot
                                              (the running turns were slow or hung: channels/hub/turns.py)

Gauges are read from the ticket store at scrape time (bot.monitoring, cached 5 s, 2 s timeout); they
are the same on every process (aggregate with max):

    intake_store_up                           1 when the ticket store answered, else 0 (and no
                                              store gauges below)
    intake_tickets{status}                    tickets by status
    intake_handoff_sessions{status}           handoff sessions by status
    intake_handoff_queue_length               customers waiting for an agent or a call-back
    intake_outbox_pending                     events not yet delivered (nor dead)
    intake_outbox_dead                        events parked as dead
    intake_outbox_oldest_pending_age_seconds  age of the oldest pending event
    intake_store_read_seconds                 how long the store's figures took to read

plus the process collectors of prometheus_client (CPU, memory, open files, GC).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterator, Optional, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from bot import logs
from bot.monitoring import FiguresCache, StoreFigures
from bot.storage.database import Database

T = TypeVar("T")

disable_created_metrics()  # no *_created series: counters start with the process
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

# Message in -> replies ready: the assistant's turns take 0.1-2 s; an action server or store outage
# shows up in the long buckets.
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

TURNS = Counter("intake_turns", "Customer messages handled, by channel and route (bot or human).",
                ["channel", "route"], registry=REGISTRY)
TURN_ERRORS = Counter("intake_turn_errors", "Customer messages whose handling raised.", ["channel"], registry=REGISTRY)
TURN_SECONDS = Histogram("intake_turn_duration_seconds", "Bot turns: customer message in to replies ready.",
                         ["channel"], buckets=TURN_BUCKETS, registry=REGISTRY)
INTENTS = Counter("intake_intents", "Intents predicted for customer messages.", ["intent"], registry=REGISTRY)
HANDOFF_ACCEPTS = Counter("intake_handoff_accepts", "Waiting handoff sessions taken by an agent.", registry=REGISTRY)
OUTBOX_DELIVERIES = Counter("intake_outbox_deliveries", "Ticket events pushed to the backend, by outcome.",
                            ["outcome"], registry=REGISTRY)
for _outcome in ("delivered", "failed", "dead"):
    OUTBOX_DELIVERIES.labels(_outcome)
ACTION_CALL_RETRIES = Counter("intake_action_call_retries", "Calls to the action server made again because it "
                              "could not be reached.", registry=REGISTRY)
LIMITED = Counter("intake_limited", "Customer events refused by a traffic limit, by kind and scope.",
                  ["kind", "scope"], registry=REGISTRY)
IN_FLIGHT = Gauge("intake_turns_in_flight", "Customer messages this process is working on now.", registry=REGISTRY)
WAITING = Gauge("intake_turns_waiting", "Of those, the ones waiting for a turn slot.", registry=REGISTRY)
SLOT_TIMEOUTS = Counter("intake_turn_slot_timeouts", "Turns that waited TURN_SLOT_WAIT for a slot and ran without one.",
                        registry=REGISTRY)


@dataclass
class Turn:
    channel: str
    route: str = "bot"


_TURN: contextvars.ContextVar[Optional[Turn]] = contextvars.ContextVar("turn", default=None)


def observe_turns(handle: Callable[[Any], Awaitable[T]]) -> Callable[[Any], Awaitable[T]]:
    """Wrap a channel's message handler (`Hub.gated`): ids for the logs, counts and latency."""

    @functools.wraps(handle)
    async def observed(message: Any) -> T:
        channel = message.input_channel or "unknown"
        logs.bind(sender_id=message.sender_id, channel=channel)
        turn = Turn(channel)
        token = _TURN.set(turn)
        started = time.perf_counter()
        try:
            return await handle(message)
        except BaseException:
            TURN_ERRORS.labels(channel).inc()
            raise
        finally:
            _TURN.reset(token)
            TURNS.labels(channel, turn.route).inc()
            if turn.route == "bot":
                TURN_SECONDS.labels(channel).observe(time.perf_counter() - started)

    return observed


def routed_to_human() -> None:
    """The message of the current turn went to a person (or was a survey answer), not to the bot."""
    turn = _TURN.get()
    if turn is not None:
        turn.route = "human"


def intent_predicted(parse_data: Any, known: Any) -> None:
    """Count the intent of a customer message (not of /model/parse calls: those are no turn)."""
    if _TURN.get() is None or not isinstance(parse_data, dict):
        return
    name = (parse_data.get("intent") or {}).get("name")
    INTENTS.labels(name if name in known else ("none" if not name else "other")).inc()


def limited(kind: str, scope: str) -> None:
    LIMITED.labels(kind, scope).inc()


def track_in_flight(read: Callable[[], int]) -> None:
    """The in-flight gauge reads the hub's count at scrape time."""
    IN_FLIGHT.set_function(read)


def track_waiting(read: Callable[[], int]) -> None:
    """The waiting gauge reads the hub's turn queue (channels/hub/turns.py) at scrape time."""
    WAITING.set_function(read)


def turn_slot_timed_out() -> None:
    SLOT_TIMEOUTS.inc()


def action_call_retried() -> None:
    ACTION_CALL_RETRIES.inc()


def outbox_round(delivered: int, failed: int, dead: int) -> None:
    for outcome, count in (("delivered", delivered), ("failed", failed), ("dead", dead)):
        if count:
            OUTBOX_DELIVERIES.labels(outcome).inc(count)


class StoreCollector:
    """Gauges from the ticket store, computed at scrape time."""

    def __init__(self, figures: Callable[[], Optional[StoreFigures]]) -> None:
        self._figures = figures

    def describe(self) -> Iterator[Any]:
        return iter(())  # unchecked collector: the store may be down when it is registered

    def collect(self) -> Iterator[Any]:
        figures = self._figures()
        up = GaugeMetricFamily("intake_store_up", "1 when the ticket store answered the last scrape, else 0.")
        up.add_metric([], 0 if figures is None else 1)
        yield up
        if figures is None:
            return
        tickets = GaugeMetricFamily("intake_tickets", "Tickets by status.", labels=["status"])
        for status, count in sorted(figures.tickets.items()):
            tickets.add_metric([status], count)
        yield tickets
        sessions = GaugeMetricFamily("intake_handoff_sessions", "Handoff sessions by status.", labels=["status"])
        for status, count in sorted(figures.handoff_sessions.items()):
            sessions.add_metric([status], count)
        yield sessions
        yield GaugeMetricFamily("intake_handoff_queue_length", "Customers waiting for an agent or a call-back.",
                                value=figures.queue_length)
        yield GaugeMetricFamily("intake_outbox_pending", "Ticket events not yet delivered to the backend (nor dead).",
                                value=figures.outbox_pending)
        yield GaugeMetricFamily("intake_outbox_dead", "Ticket events parked as dead.", value=figures.outbox_dead)
        yield GaugeMetricFamily("intake_outbox_oldest_pending_age_seconds", "Age of the oldest pending ticket event.",
                                value=figures.outbox_oldest_pending_seconds)
        yield GaugeMetricFamily("intake_store_read_seconds", "Time taken to read the store's figures.",
                                value=figures.read_seconds)


_store: Optional[StoreCollector] = None


def watch_store(db: Database, max_age: float = 5.0, timeout: float = 2.0) -> None:
    """Report the store's figures from this process (once per process)."""
    global _store
    if _store is None:
        cache = FiguresCache(lambda: StoreFigures.read(db), max_age=max_age, timeout=timeout)
        _store = StoreCollector(cache.get)
        REGISTRY.register(_store)


async def exposition() -> bytes:
    """The registry in Prometheus' text format (collected off the event loop: the store may be slow)."""
    return await asyncio.get_running_loop().run_in_executor(None, generate_latest, REGISTRY)


CONTENT_TYPE = CONTENT_TYPE_LATEST

_installed = False


def install() -> None:
    """Count the intent of every customer message where Rasa parses it (once per process)."""
    global _installed
    if _installed:
        return
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.parse_message

    async def parse_message(self: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
        parse_data = await original(self, message, *args, **kwargs)
        try:
            intent_predicted(parse_data, self.domain.intents if self.domain is not None else ())
        except Exception:  # noqa: BLE001 - counting must never break a turn
            pass
        return parse_data

    parse_message.__wrapped__ = original  # type: ignore[attr-defined]
    MessageProcessor.parse_message = parse_message
    _installed = True
