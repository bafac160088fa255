"""Every regular expression applied to customer or agent text runs in linear time.

A pattern with overlapping alternatives under a quantifier (the classic `(a|ab|b)*`) makes Python's
backtracking engine try exponentially many splits of a long enough input; one such message froze the
action server's event loop (issue 14, H1). This test runs each pattern that meets customer or agent
text over an adversarial corpus built from the pattern's own literals: each literal repeated to 5,000
characters, all literals cycled, and both followed by a character that cannot match, the shape that
makes backtracking engines explode. Every search must finish within 50 ms.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Iterator, List, Tuple

import pytest

LENGTH = 5_000
BUDGET_SECONDS = 0.050


def customer_text_patterns() -> List[Tuple[str, "re.Pattern[str]"]]:
    """(name, compiled pattern) for every regex that reads what customers or agents write."""
    from actions import complaint, complaint_form, fallback, forms, handoff, privacy, thanks
    from bot import answers, escalation, follow_up_questions, logs, severity, text, ticket_numbers
    from bot.handoff import texts as handoff_texts
    from bot.lifecycle import survey as lifecycle
    from bot.tickets import history
    from bot.wechat import contacts as wechat_contacts
    import yaml

    from bot.incidents.rules import DEFAULT_RULES, Rules

    found: List[Tuple[str, re.Pattern]] = []

    def take(module, prefix: str) -> None:
        for name, value in sorted(vars(module).items()):
            if isinstance(value, re.Pattern):
                found.append((f"{prefix}.{name}", value))

    for module, prefix in (
        (text, "bot.text"),
        (answers, "bot.answers"),
        (escalation, "bot.escalation"),
        (severity, "bot.severity"),
        (ticket_numbers, "bot.ticket_numbers"),
        (handoff_texts, "bot.handoff.texts"),
        (lifecycle, "bot.lifecycle.survey"),
        (logs, "bot.logs"),
        (complaint, "actions.complaint"),
        (complaint_form, "actions.complaint_form"),
        (fallback, "actions.fallback"),
        (forms, "actions.forms"),
        (handoff, "actions.handoff"),
        (thanks, "actions.thanks"),
        (privacy, "actions.privacy"),
        (follow_up_questions, "bot.follow_up_questions"),
        (history, "bot.tickets.history"),  # ticket history details carry customers' and agents' words
        (wechat_contacts, "bot.wechat.contacts"),  # a customer's answer to a numbered list
    ):
        take(module, prefix)
    found += [(f"bot.escalation.{reason}", pattern) for pattern, reason in escalation._COMPILED]
    found += [
        (f"bot.severity.rule{i}", re.compile(rule[2], re.IGNORECASE)) for i, rule in enumerate(severity._RULES)
    ]
    found += [(f"bot.answers.category.{c.value}", p) for c, p in answers._CATEGORY_WORDS]
    for facet in follow_up_questions.FACETS:
        found += [(f"bot.follow_up_questions.{facet.heading}.asked", facet.asked), (f"bot.follow_up_questions.{facet.heading}.said", facet.said)]
    rules = Rules.parse(yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8")))
    found += [(f"outage.address{i}", p) for i, p in enumerate(rules.patterns)]
    return found


_LITERAL = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z]{2,}")


def adversarial_inputs(pattern: str) -> Iterator[str]:
    """Long inputs made of the pattern's own pieces, ending in something that cannot match."""
    literals = sorted(set(_LITERAL.findall(pattern))) or ["a"]
    pieces = literals + ["1", "9", " ", "，", "-", "我", "想"]
    for piece in pieces:
        yield (piece * (LENGTH // len(piece) + 1))[:LENGTH] + "啊"
    cycled = "".join(itertools.islice(itertools.cycle(pieces), LENGTH))[:LENGTH]
    yield cycled + "啊"
    yield "1" * LENGTH + "元"[:0] + "x"
    yield ("1," * LENGTH)[:LENGTH] + "x"
    yield ("我想" * LENGTH)[:LENGTH] + "啊"


def slowest(pattern: "re.Pattern[str]") -> Tuple[float, str]:
    """The longest search-and-substitute over the adversarial inputs, and the input it was on."""
    worst = (0.0, "")
    for text in adversarial_inputs(pattern.pattern):
        started = time.perf_counter()
        pattern.search(text)
        pattern.sub("", text)
        worst = max(worst, (time.perf_counter() - started, text[:20]))
    return worst


def _worker() -> None:
    """Runs in a child process: one line per pattern, flushed, so a hang names its pattern."""
    for name, pattern in customer_text_patterns():
        print(f"start {name}", flush=True)
        elapsed, sample = slowest(pattern)
        print(f"done {name} {elapsed * 1000:.1f} {sample!r}", flush=True)


def test_every_pattern_on_customer_text_runs_in_linear_time():
    """In a child process with a deadline: an exponential pattern hangs instead of failing."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    try:
        result = subprocess.run(
            [sys.executable, "-c", "from tests.test_regex_safety import _worker; _worker()"],
            cwd=root, capture_output=True, text=True, timeout=120,
        )
        lines = result.stdout.splitlines()
        assert result.returncode == 0, result.stderr[-3000:]
    except subprocess.TimeoutExpired as timeout:
        lines = (timeout.stdout or b"").decode() if isinstance(timeout.stdout, bytes) else (timeout.stdout or "")
        lines = lines.splitlines()
        stuck = [line for line in lines if line.startswith("start ")][-1:]
        pytest.fail(f"a pattern did not finish within 120 s: {stuck}")
    done = [line.split(" ", 3) for line in lines if line.startswith("done ")]
    assert len(done) >= 40, lines  # the patterns were found
    slow = [f"{name}: {ms} ms on {sample}" for _, name, ms, sample in done if float(ms) > BUDGET_SECONDS * 1000]
    assert not slow, slow


def test_the_supplement_lead_in_that_froze_the_action_server():
    from bot.text import supplement_content

    started = time.perf_counter()
    assert supplement_content("我想" * 23 + "啊") == "我想" * 23 + "啊"  # seconds with the old pattern, not hours
    assert time.perf_counter() - started < BUDGET_SECONDS
    assert supplement_content("我想补充一下：昨晚又断了两次") == "昨晚又断了两次"
    assert supplement_content("补充一下 TS261122-K7Q4M9XD 路由器红灯") == "路由器红灯"
