"""The Telegram channel, as credentials.yml names it: ``channels.telegram.TelegramInput``.

    input.py      TelegramInput: the webhook, long polling, and claiming each update once
    dispatch.py   what a claimed update asks for (commands, buttons, text, evidence, groups)
    shape.py      an update's shape, checked before aiogram reads it
    api.py        TelegramApi: the Bot API through aiogram, with retries; splitting and keyboards
    delivery.py   TelegramOutput (replies within a turn) and TelegramCourier (agents' messages)

The underscore names are the package's own; they are re-exported here because the tests use them.
"""

from channels.telegram.api import DEFAULT_API_BASE, TelegramApi, _retryable, split_text
from channels.telegram.delivery import TelegramCourier, TelegramOutput
from channels.telegram.input import TelegramInput, _Busy

__all__ = [
    "DEFAULT_API_BASE",
    "TelegramApi",
    "TelegramCourier",
    "TelegramInput",
    "TelegramOutput",
    "_Busy",
    "_retryable",
    "split_text",
]
