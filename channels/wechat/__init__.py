"""The WeChat Official Account channel, as credentials.yml names it: ``channels.wechat.WeChatInput``.

    input.py      WeChatInput: the webhook (handshake, signatures, safe mode), claiming each message
                  once and running its turn after the answer (the 5-second rule); the sweep
    shape.py      a message's shape and its repeat key (MsgId, or FromUserName + CreateTime)
    dispatch.py   what a claimed message asks for (subscribe, menu, text, voice, image, the rest)
    api.py        WeChatApi: the shared access token, customer-service and template messages, the menu
    delivery.py   WeChatOutput (the bot's replies) and WeChatCourier (agents' messages, notices)
    menu.py       the CLI that creates the custom menu
"""

from channels.wechat.input import WeChatInput

__all__ = ["WeChatInput"]
