"""The dialogue fuzzer (tests/dialogue_fuzz.py) against the real servers.

`make test` runs FUZZ_CONVERSATIONS (default 200) conversations drawn with a fixed seed, so CI sees
the same ones every run; `make fuzz` runs thousands of fresh ones and prints the counts.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.dialogue_fuzz import Tally, conversations, run_conversation

pytestmark = pytest.mark.e2e

CONVERSATIONS = int(os.environ.get("FUZZ_CONVERSATIONS") or 200)
FRESH = os.environ.get("FUZZ_FRESH") == "1"
TALLY = Tally()


class DefectLog:
    """New 'dialogue defect' lines in the Rasa server's log since the last call."""

    def __init__(self, path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def __call__(self):
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            new = log.read()
            self.offset += len(new)
        return [line for line in new.decode("utf-8", "replace").splitlines() if "dialogue defect" in line]


@pytest.fixture(scope="module")
def fuzz_stack(stack):
    stack.defects = DefectLog(stack.workdir / "rasa.log")
    yield stack
    print(
        f"\nfuzzer: {TALLY.conversations} conversations, {TALLY.turns} turns, {TALLY.violations} violations; "
        f"turns by kind: {dict(sorted(TALLY.by_kind.items()))}"
    )


@settings(
    max_examples=CONVERSATIONS,
    deadline=None,
    derandomize=not FRESH,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(conversation=conversations())
def test_random_conversations_keep_the_dialogue_invariants(fuzz_stack, conversation):
    try:
        run_conversation(fuzz_stack.say, conversation, TALLY, fuzz_stack.defects)
    except AssertionError:
        TALLY.violations += 1
        raise
