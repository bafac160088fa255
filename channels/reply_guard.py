"""The assistant's reply to one customer message, checked on its way out, on every channel.

The dialogue is built so that these never happen (the forms read every message, the fallback
action ends the turn); this is the last line, and each correction is logged as an error because it
means a dialogue defect. For every turn the bot answers:

* **never empty**: a turn that sent nothing gets a short apology that offers a person;
* **never the same text twice** in one reply;
* **at most one "not understood"** message in one reply.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Set, Text

from rasa.core.channels.channel import OutputChannel

logger = logging.getLogger(__name__)

NOTHING_SENT = "抱歉，刚才没能处理好您的消息。您可以换个说法再发一次，或者发送“转人工”联系人工客服。"
# What every "not understood" message of the domain says (utter_ask_rephrase, utter_default, ...).
_NOT_UNDERSTOOD_MARKS = ("没太明白", "没看明白", "没能理解")


def is_not_understood(text: str) -> bool:
    return any(mark in text for mark in _NOT_UNDERSTOOD_MARKS)


class ReplyGuard(OutputChannel):
    """Wraps a turn's output channel; see the module docstring."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0
        self._texts: Set[str] = set()
        self._not_understood = 0

    def name(self) -> Text:  # type: ignore[override]
        return self.inner.name()

    def __getattr__(self, attribute: str) -> Any:
        # Channel-specific attributes (the REST collector's `messages`, a socket's `sid`) stay reachable.
        return getattr(self.inner, attribute)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        text = (message.get("text") or "").strip()
        if text:
            if text in self._texts:
                logger.error("dialogue defect: the same text twice in one reply (dropped the repeat)")
                return
            if is_not_understood(text):
                if self._not_understood:
                    logger.error("dialogue defect: a second 'not understood' in one reply (dropped)")
                    return
                self._not_understood += 1
            self._texts.add(text)
        self.sent += 1
        await self.inner.send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, **kwargs})

    async def finish(self, recipient_id: Text, intent: Optional[str] = None) -> None:
        """After the bot's turn: a turn that sent nothing still gets an answer."""
        if self.sent == 0:
            logger.error("dialogue defect: the bot sent nothing (intent %s); sent the apology", intent or "?")
            await self.send_response(recipient_id, {"text": NOTHING_SENT})
