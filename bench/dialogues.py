"""What the virtual customers say, and the flows they walk.

Phrasings are real customer messages from the held-out set (`nlu/heldout/heldout.yml`, never trained
on): consultations, complaints of every category, status questions and small talk. Each dialogue checks
the replies it depends on (as `tests/e2e/test_conversations.py` does); a reply that does not lead on
ends the dialogue as a *deviation* (the bot answered, but not as the flow needs), which is counted per
reason and is not a lost turn.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Awaitable, Callable, Dict, List, Protocol, Sequence, Tuple

import yaml

from bench.paths import ROOT

HELDOUT = ROOT / "nlu" / "heldout" / "heldout.yml"
NUMBER = re.compile(r"TS\d{6}-[0-9A-Z]{8}")
NOT_UNDERSTOOD = ("换个说法", "没太明白", "没能理解")

DESCRIPTIONS = (
    "从昨天开始一直这样，影响很大",
    "已经好几天了，每天晚上都这样，重启也没用",
    "今天早上发现的，到现在还没好",
    "上周就开始了，打过一次电话也没人处理",
)
LONGER_DESCRIPTION = "从昨天晚上八点开始，家里宽带每隔半小时就断一次，重启光猫也没用，到现在还是这样"


class Deviation(Exception):
    """The bot answered, but not in a way the flow can continue from."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Customer(Protocol):
    """One customer in one conversation (one sender id)."""

    async def say(self, text: str) -> str:
        """The bot's reply texts joined by newlines; raises when the turn is lost or time is up."""

    def note(self, reason: str) -> None:
        """Counts a soft deviation (e.g. a consultation the bot did not understand) and goes on."""


@dataclass(frozen=True)
class Phrasebook:
    consult: Sequence[str]
    complaints: Sequence[str]
    status: Sequence[str]
    greet: Sequence[str]
    thank: Sequence[str]
    goodbye: Sequence[str]

    @classmethod
    def load(cls) -> "Phrasebook":
        examples: Dict[str, List[str]] = {}
        for block in yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["nlu"]:
            lines = [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
            examples[block["intent"]] = lines
        # Status questions about "my ticket", without a number (a made-up number is never the customer's).
        status = ["我的工单处理得怎么样了", "我的投诉处理到哪一步了"] + [
            text for text in examples["check_ticket_status"]
            if not re.search(r"\d|ts", text, re.IGNORECASE) and re.search("工单|投诉|单子|进度", text)
        ]
        return cls(
            consult=examples["consult"],
            complaints=[text for intent in ("complain_network", "complain_billing", "complain_business",
                                            "complain_other") for text in examples[intent]],
            status=status,
            greet=examples["greet"],
            thank=examples["thank"],
            goodbye=examples["goodbye"],
        )


def mobile_number(rng: random.Random) -> str:
    return "138" + "".join(rng.choice("0123456789") for _ in range(8))


async def file_complaint(customer: Customer, rng: random.Random, first_message: str) -> str:
    """A complaint through to the confirmation (登记成功); returns the ticket number."""
    reply = await customer.say(first_message)
    if "描述" in reply:
        reply = await customer.say(rng.choice(DESCRIPTIONS))
    if "简略" in reply:
        reply = await customer.say(LONGER_DESCRIPTION)
    if "手机号" not in reply:
        raise Deviation("complaint: not taken as a complaint")
    reply = await customer.say(mobile_number(rng))
    if "请确认" not in reply:
        raise Deviation("complaint: no confirmation question after the phone number")
    reply = await customer.say("确认")
    number = NUMBER.search(reply)
    if "登记成功" not in reply or number is None:
        raise Deviation("complaint: no 登记成功 with a ticket number")
    return number.group(0)


async def consultation(customer: Customer, rng: random.Random, book: Phrasebook) -> None:
    """Maybe a greeting, one to three FAQ questions, thanks or goodbye."""
    if rng.random() < 0.5:
        await customer.say(rng.choice(book.greet))
    for _ in range(rng.randint(1, 3)):
        reply = await customer.say(rng.choice(book.consult))
        if any(marker in reply for marker in NOT_UNDERSTOOD):
            customer.note("consultation: not understood")
    await customer.say(rng.choice([*book.thank, *book.goodbye]))


async def complaint_then_status(customer: Customer, rng: random.Random, book: Phrasebook) -> None:
    """A complaint to its ticket, then the customer asks how it is going, thanks and leaves."""
    number = await file_complaint(customer, rng, rng.choice(book.complaints))
    if number not in await customer.say(rng.choice(book.status)):
        raise Deviation("status: the new ticket not shown")
    await customer.say(rng.choice(book.thank))
    await customer.say(rng.choice(book.goodbye))


async def status_without_ticket(customer: Customer, rng: random.Random, book: Phrasebook) -> None:
    """A greeting, then a status question from someone who never complained."""
    await customer.say(rng.choice(book.greet))
    if "没有查到" not in await customer.say(rng.choice(book.status)):
        raise Deviation("status: no 没有查到 for a customer without tickets")
    await customer.say(rng.choice(book.goodbye))


Dialogue = Callable[[Customer, random.Random, Phrasebook], Awaitable[None]]

# The mix: half consultations, four in ten complaints with a status lookup, one in ten status only.
MIX: Tuple[Tuple[Dialogue, float], ...] = (
    (consultation, 0.5),
    (complaint_then_status, 0.4),
    (status_without_ticket, 0.1),
)


def pick_dialogue(rng: random.Random) -> Dialogue:
    dialogues, weights = zip(*MIX)
    return rng.choices(dialogues, weights=weights)[0]


# --- the outage storm: many customers, one outage ----------------------------------------------------

_PLACES = ("翠湖花园小区", "我们翠湖花园这边", "翠湖花园", "我家翠湖花园")
_SINCE = ("从中午开始", "中午到现在", "从中午十二点多开始", "今天中午起")
_SYMPTOMS = (
    "就没网了", "一直没网", "宽带断了上不了网", "手机一点信号都没有", "手机没信号 电话也打不出去",
    "家里宽带和手机都上不了网", "整栋楼都连不上网",
)
_ENDINGS = ("", "，怎么回事", "，到现在还没恢复", "！！", "，赶紧修一下吧", "，在家办公啥也干不了")


def outage_messages(count: int, rng: random.Random) -> List[str]:
    """`count` varied phrasings of the same outage (XX小区从中午开始没网了/手机没信号)."""
    return [rng.choice(_PLACES) + rng.choice(_SINCE) + rng.choice(_SYMPTOMS) + rng.choice(_ENDINGS)
            for _ in range(count)]
