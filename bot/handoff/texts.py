"""Words of the handoff: what the domain itself tells the customer (agent actions reach them
through channels), the console's canned replies, how a customer's "cancel" or "back to the bot"
is recognised, and the short labels shown for a wait and for a customer.

Kept apart so that the wording can be read and reviewed in one place, away from the rules.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from bot.text import mask_personal_data
from bot.tickets import Customer

# -- what the customer is told by the domain itself (agent actions reach them through channels) --

ACCEPTED_TEXT = "客服{name}已接入，正在为您服务。"
TRANSFERRED_TEXT = "已为您转接客服{name}，请稍候。"
RELEASED_TEXT = "人工服务已结束，接下来由智能助手继续为您服务。如需再次联系人工客服，请发送“转人工”。"
CLOSED_TEXT = "本次人工服务已结束，感谢您的耐心。如还有其他问题，随时给我发消息。"
CANCELLED_TEXT = "已取消排队，智能助手继续为您服务。"

REQUEUED_TEXT = "刚才接待您的客服暂时离线，已为您重新排队，其他客服会尽快接入。"
UNAVAILABLE_TEXT = "目前没有人工客服在线，您的请求已登记，客服会在{due}前联系您。在此期间智能助手继续为您服务，直接发消息即可。"
WAITING_TEXT = "您正在排队等待人工客服，目前排在第{position}位，预计等待{wait}。您的留言客服接入后都能看到。发送“取消”可返回智能助手。"
IN_CHAT_TEXT = "客服已经在为您服务了，直接发消息即可。如需回到智能助手，请发送“返回机器人”。"

# What agents paste into a reply; the console fills {坐席姓名} and {工单号} when inserting one.
CANNED_REPLIES = (
    ("问候", "您好，我是客服{坐席姓名}，这次的问题由我负责，请问有什么可以帮您？"),
    ("核实信息", "为了帮您核实，请提供办理业务的手机号码，以及问题开始出现的大致时间。"),
    ("已记录", "您反映的情况我已经详细记录，正在联系相关部门处理，请您耐心等待。"),
    ("进度说明", "您的工单{工单号}正在处理中，我会在24小时内把最新进展告诉您。"),
    ("致歉", "给您带来不便，非常抱歉，我们会尽快为您解决。"),
    ("结束", "请问还有其他可以帮您的吗？如没有，本次服务就先到这里，感谢您的耐心。"),
)

_CANCEL = re.compile(
    r"^(?:/cancel_handoff|取消|取消排队|取消等待|取消转人工|不等了|算了不等了|算了|不用了|不用人工了|"
    r"退出排队|返回机器人|回到机器人|返回智能助手|我不等了)$"
)
_PUNCTUATION = re.compile(r"[\s。，！？!?,.~～…]+")


_LEAVE = re.compile(r"^(?:返回机器人|回到机器人|返回智能助手|转回机器人|结束人工|结束人工服务|退出人工|退出人工服务)$")


def is_cancel(text: str) -> bool:
    """Whether a waiting customer's message asks to leave the queue."""
    return bool(_CANCEL.match(_PUNCTUATION.sub("", text or "")))


def is_leave(text: str) -> bool:
    """Whether a customer talking to an agent explicitly asks to go back to the bot."""
    return bool(_LEAVE.match(_PUNCTUATION.sub("", text or "")))


def describe_wait(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return f"约{minutes}分钟"


def masked_customer(customer: Customer) -> str:
    """A short label for the console that does not spell out the customer's id."""
    uid = mask_personal_data(customer.user_id)
    if len(uid) > 8:
        uid = f"{uid[:4]}…{uid[-2:]}"
    elif len(uid) > 4:  # short ids too (a Telegram id can have 8 digits): never the whole id
        uid = f"{uid[:2]}…{uid[-2:]}"
    return f"{customer.channel}:{uid}"
