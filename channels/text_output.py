"""`TextOutput`: the Rasa output channel of a messaging app that sends one thing, text with optional
buttons, to one customer. Rasa calls four send methods (text, buttons, quick replies, image URL);
each app's channel only says how to send (`_send`), so the four stay written once for all of them.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel


class TextOutput(OutputChannel):
    """Maps Rasa's send methods onto `_send(recipient, text, buttons)`, which subclasses write."""

    async def _send(self, recipient_id: Text, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        raise NotImplementedError

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, buttons)

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, image)
