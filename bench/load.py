"""The load generator: asyncio + aiohttp against the REST channel (`POST /webhooks/rest/webhook`).

- `closed_loop`: N virtual customers, each running dialogue after dialogue (a fresh sender id per
  dialogue) with no think time: a customer sends its next message as soon as it has the reply. Turns
  that start within the measurement window (after the warm-up) are measured; when the window closes no
  new turn starts and the ones in flight are waited for, so slow tails are never cut off.
- `storm`: open-loop arrivals, spread uniformly at random over the storm's duration; each customer walks
  one complaint through to its ticket.

A turn is one message and its full reply. It is *lost* if the request fails (connection error, timeout,
HTTP status other than 200) or the reply has no text; its latency is from sending the request to having
read the whole reply.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import aiohttp

from bench.dialogues import Deviation, Phrasebook, file_complaint, outage_messages, pick_dialogue


@dataclass(frozen=True)
class Turn:
    started: float  # time.perf_counter()
    latency: float  # seconds
    lost: bool
    error: str = ""


class Lost(Exception):
    """The turn failed; it is recorded, the dialogue ends."""


class TimeUp(Exception):
    """The measurement window closed; the customer stops."""


EXAMPLE_CHARS = 160


@dataclass
class Recorder:
    turns: List[Turn] = field(default_factory=list)
    notes: "Counter[str]" = field(default_factory=Counter)  # deviations, lost turns, completed dialogues
    examples: Dict[str, str] = field(default_factory=dict)  # the first exchange behind each reason

    def count(self, reason: str, example: str = "") -> None:
        self.notes[reason] += 1
        if example and reason not in self.examples:
            self.examples[reason] = example[:EXAMPLE_CHARS]


class RestClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, recorder: Recorder) -> None:
        self.session = session
        self.url = f"{base_url}/webhooks/rest/webhook"
        self.recorder = recorder

    async def send(self, sender: str, text: str) -> str:
        started = time.perf_counter()
        error = ""
        replies: List[Dict[str, object]] = []
        try:
            async with self.session.post(self.url, json={"sender": sender, "message": text}) as response:
                body = await response.read()
                if response.status != 200:
                    error = f"HTTP {response.status}"
                else:
                    parsed = json.loads(body)
                    replies = parsed if isinstance(parsed, list) else []
        except asyncio.TimeoutError:
            error = "timeout"
        except aiohttp.ClientError as e:
            error = type(e).__name__
        except ValueError:
            error = "reply is not JSON"
        latency = time.perf_counter() - started
        texts = [str(r["text"]) for r in replies if isinstance(r, dict) and r.get("text")]
        if not error and not texts:
            error = "empty reply"
        self.recorder.turns.append(Turn(started, latency, lost=bool(error), error=error))
        if error:
            self.recorder.count(f"lost: {error}", f"«{text}»")
            raise Lost(error)
        return "\n".join(texts)


class Conversation:
    """One customer under one sender id (implements `bench.dialogues.Customer`)."""

    def __init__(self, client: RestClient, sender: str, deadline: Optional[float] = None) -> None:
        self.client = client
        self.sender = sender
        self.deadline = deadline
        self.last = ""  # the latest exchange, as an example for deviations

    async def say(self, text: str) -> str:
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            raise TimeUp()
        reply = await self.client.send(self.sender, text)
        self.last = f"«{text}» → «{reply}»".replace("\n", " ")
        return reply

    def note(self, reason: str) -> None:
        self.client.recorder.count(reason, self.last)

    def deviated(self, deviation: Deviation) -> None:
        self.client.recorder.count(deviation.reason, self.last)


# How long an idle connection is kept for the next turn: shorter than any server's own keep-alive
# (sanic, which stock Rasa serves with: 5 s; nginx: 75 s), so the server never closes a connection
# just as a customer reuses it, and no such race is counted as a lost turn.
KEEPALIVE_SECONDS = 2.0


def _session(timeout: float) -> aiohttp.ClientSession:
    # Customers keep their connection between turns, as browsers and messaging platforms do. A new
    # connection per turn (as until 2026-12-04) cost the load generator and nginx a connect and a
    # teardown per turn, CPU taken from the system measured on the same two cores.
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_SECONDS),
        timeout=aiohttp.ClientTimeout(total=timeout),
    )


@dataclass(frozen=True)
class LevelRun:
    concurrency: int
    window_start: float
    window_end: float
    turns: List[Turn]
    notes: Dict[str, int]
    examples: Dict[str, str]


async def closed_loop(base_url: str, *, concurrency: int, warmup: float, duration: float, timeout: float,
                      seed: int, book: Phrasebook) -> LevelRun:
    recorder = Recorder()
    start = time.perf_counter()
    window_start, window_end = start + warmup, start + warmup + duration
    run = uuid.uuid4().hex[:8]

    async def customer(client: RestClient, index: int) -> None:
        rng = random.Random(f"{seed}/{index}")  # the same customers say the same things to every system
        for number in itertools.count():
            conversation = Conversation(client, f"bench-{run}-c{concurrency}-{index}-{number}", window_end)
            dialogue = pick_dialogue(rng)
            try:
                await dialogue(conversation, rng, book)
                recorder.count("dialogues completed")
            except TimeUp:
                return
            except Lost:
                pass
            except Deviation as deviation:
                conversation.deviated(deviation)

    async with _session(timeout) as session:
        client = RestClient(session, base_url, recorder)
        await asyncio.gather(*(customer(client, i) for i in range(concurrency)))
    return LevelRun(concurrency, window_start, window_end, recorder.turns, dict(recorder.notes), recorder.examples)


@dataclass(frozen=True)
class StormRun:
    customers: int
    seconds: float
    prefix: str  # every storm sender id starts with it
    senders: List[str]
    confirmed: Dict[str, str]  # sender -> ticket number in the confirmation
    turns: List[Turn]
    notes: Dict[str, int]
    examples: Dict[str, str]
    elapsed: float  # from the first arrival to the last customer done


async def storm(base_url: str, *, customers: int, seconds: float, timeout: float, seed: int) -> StormRun:
    rng = random.Random(f"{seed}/storm")
    arrivals = sorted(rng.uniform(0, seconds) for _ in range(customers))
    messages = outage_messages(customers, rng)
    run = uuid.uuid4().hex[:8]
    prefix = f"storm-{run}-"
    senders = [f"{prefix}{i:05d}" for i in range(customers)]
    recorder = Recorder()
    confirmed: Dict[str, str] = {}

    async def customer(client: RestClient, index: int, start: float) -> None:
        await asyncio.sleep(max(0.0, start + arrivals[index] - time.perf_counter()))
        conversation = Conversation(client, senders[index])
        try:
            confirmed[senders[index]] = await file_complaint(conversation, random.Random(f"{seed}/storm/{index}"),
                                                             messages[index])
        except Lost:
            pass
        except Deviation as deviation:
            conversation.deviated(deviation)

    async with _session(timeout) as session:
        client = RestClient(session, base_url, recorder)
        start = time.perf_counter()
        await asyncio.gather(*(customer(client, i, start) for i in range(customers)))
        elapsed = time.perf_counter() - start
    return StormRun(customers, seconds, prefix, senders, confirmed, recorder.turns, dict(recorder.notes),
                    recorder.examples, elapsed)
