"""A corpus of hostile inputs for every entry point of the assistant (issue 14, item 10).

Why: every door of the system is reachable by someone who does not play by the protocol: a customer
typing zero-width characters, a buggy integration posting a list, a stranger forging Telegram's secret
or replaying an update, a script guessing console tokens, something on the network posting to the
action server. Each such input must get a clear answer (a 4xx with a JSON error, or a real reply),
never a 5xx, never a crashed process, and a refused request must not change a stored row.

The corpus is fixed and deterministic: the same arguments give the same cases in the same order (no
randomness; the ids that must not collide with other tests are derived from `run`). Cases are grouped
by kind (`KINDS`) and by entry point (`ENTRY_POINTS`); `build` returns them all.

Each `Case` says what is expected:

* ``reject``: a 4xx with a JSON error (on socket.io: one rejection event, ``bot_uttered`` with a
  rejection text or ``error_message``); nothing stored changes.
* ``answer``: accepted and answered clearly: a non-empty bot reply, a Telegram status (and a message
  to the chat when the update was a private message), a JSON document. A 429 with a Chinese text is
  also a clear answer (the per-customer rate limits).
* ``either``: both are defensible (a Telegram update type aiogram may or may not parse); it must be
  one of the two, clearly.

This package holds the corpus by entry point: `cases` (what every case is, the hostile texts), `web`
(REST and socket.io), `telegram`, `agent` (the console's API) and `integrations` (the backend API and
the action server). `build` puts them together.
"""

from __future__ import annotations

from typing import List

from tests.hostile_corpus.agent import agent
from tests.hostile_corpus.cases import (
    ANSWER, EITHER, ENTRY_POINTS, HOSTILE_TEXTS, JSON, KINDS, REJECT, ROOT, WRONG_TYPES, Case, Secrets, dumps,
    nested_list, nested_object, texts,
)
from tests.hostile_corpus.integrations import actions, backend
from tests.hostile_corpus.telegram import telegram, telegram_replays
from tests.hostile_corpus.web import SOCKET_REJECTIONS, rest, socketio

__all__ = [
    "ANSWER", "EITHER", "ENTRY_POINTS", "HOSTILE_TEXTS", "JSON", "KINDS", "REJECT", "ROOT", "SOCKET_REJECTIONS",
    "WRONG_TYPES", "Case", "Secrets", "actions", "agent", "backend", "build", "dumps", "nested_list",
    "nested_object", "rest", "socketio", "telegram", "telegram_replays", "texts",
]


def build(run: str, secrets: Secrets, action_names: List[str], slots: List[str]) -> List[Case]:
    """Every case for every entry point (Telegram replays come separately: they need the first
    delivery done; see `telegram_replays`)."""
    return [
        *rest(run), *socketio(run), *telegram(run, secrets), *agent(run, secrets), *backend(run, secrets),
        *actions(run, action_names, slots),
    ]
