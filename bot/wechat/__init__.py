"""The WeChat Official Account channel's bookkeeping in the ticket store (no HTTP here: the
channel's adapter, channels/wechat/, calls WeChat).

    inbox.py      WeChatInbox: messages taken in, claimed with a lease, run again if a turn died
    contacts.py   WeChatContacts: the 48-hour customer-service window, and numbered choices
    tokens.py     AccessTokens: the one access token every process shares, refreshed by one of them
"""

from bot.wechat.contacts import SERVICE_WINDOW, WeChatContacts, numbered
from bot.wechat.inbox import InboxClaim, WeChatInbox
from bot.wechat.tokens import AccessTokens, TokenBusy

__all__ = ["SERVICE_WINDOW", "AccessTokens", "InboxClaim", "TokenBusy", "WeChatContacts", "WeChatInbox", "numbered"]
