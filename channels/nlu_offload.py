"""Rasa parses a customer message on the server's event loop; here it is parsed in a thread.

Why: the NLU pipeline (Jieba, the character and word vectorizers, two linear models) is plain CPU
work that Rasa 3.6 runs inside ``MessageProcessor.parse_message``, on the one event loop every
customer of the process shares. A short message takes a few milliseconds, but the 5,000 characters
a customer may send take 45 ms here (120 ms with debug logging), and while they are parsed no other
customer's message, agent console request or delivery moves (issue 14, item 1). In a thread the loop keeps serving: the GIL is
handed over every few milliseconds, so other requests are delayed by a switch interval, not by the
whole parse. The graph's components keep no per-message state, so parses may run side by side.

Everything else `parse_message` does (the retrieval intent's full name, Rasa's debug line, the
unseen-features warning) is kept as in Rasa 3.6.21.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
from typing import Any, Dict, Optional, Text

_installed = False


def install() -> None:
    """Patch once per process (before channels.metrics wraps parse_message); safe to call again."""
    global _installed
    if _installed:
        return
    from rasa.core.processor import MessageProcessor, structlogger
    from rasa.shared.core.trackers import DialogueStateTracker

    original = MessageProcessor.parse_message

    async def parse_message(
        self: Any, message: Any, tracker: Optional[Any] = None, only_output_properties: bool = True
    ) -> Dict[Text, Any]:
        if self.http_interpreter:
            return await original(self, message, tracker, only_output_properties)
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        context = contextvars.copy_context()  # the parse's log lines keep the turn's ids
        parse_data = await asyncio.get_running_loop().run_in_executor(
            None, context.run, self._parse_message_with_graph, message, tracker, only_output_properties
        )
        self._update_full_retrieval_intent(parse_data)
        structlogger.debug(
            "processor.message.parse",
            parse_data_text=copy.deepcopy(parse_data["text"]),
            parse_data_intent=parse_data["intent"],
            parse_data_entities=copy.deepcopy(parse_data["entities"]),
        )
        self._check_for_unseen_features(parse_data)
        return parse_data

    parse_message.__wrapped__ = original  # type: ignore[attr-defined]
    MessageProcessor.parse_message = parse_message
    _installed = True
