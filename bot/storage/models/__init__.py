"""Tables of the ticket store, one module per area, all on the one declarative `Base` (its
metadata is what Alembic compares the migrations with). Times are stored as naive UTC and
returned timezone-aware (`UTCDateTime`).

    base.py            Base, UTCDateTime
    tickets.py         TicketRow, TicketEventRow, ChangeCounterRow, EscalationRow
    incidents.py       IncidentRow
    staff.py           AgentRow, AgentTokenRow, LoginFailureRow
    handoff.py         HandoffSessionRow, HandoffMessageRow, HandoffEventRow
    channel_state.py   InboundUpdateRow, DeliveryFailureRow, ChatSessionRow
    attachments.py     AttachmentRow, AttachmentBlobRow, AttachmentLinkUseRow
    outbox.py          OutboxEventRow
    privacy.py         PrivacyRequestRow, PrivacyPhoneCheckRow, PrivacyNoticeRow, AccessLogRow
    wechat.py          WeChatInboxRow, WeChatContactRow, WeChatTokenRow

Callers import every row class from `bot.storage.models`; importing it registers every table.
"""

from bot.storage.models.base import Base, UTCDateTime
from bot.storage.models.attachments import AttachmentBlobRow, AttachmentLinkUseRow, AttachmentRow
from bot.storage.models.channel_state import ChatSessionRow, DeliveryFailureRow, InboundUpdateRow
from bot.storage.models.handoff import HandoffEventRow, HandoffMessageRow, HandoffSessionRow
from bot.storage.models.incidents import IncidentRow
from bot.storage.models.outbox import OutboxEventRow
from bot.storage.models.privacy import AccessLogRow, PrivacyNoticeRow, PrivacyPhoneCheckRow, PrivacyRequestRow
from bot.storage.models.staff import AgentRow, AgentTokenRow, LoginFailureRow
from bot.storage.models.tickets import ChangeCounterRow, EscalationRow, TicketEventRow, TicketRow
from bot.storage.models.wechat import WeChatContactRow, WeChatInboxRow, WeChatTokenRow

__all__ = [
    "AccessLogRow",
    "AgentRow",
    "AgentTokenRow",
    "AttachmentBlobRow",
    "AttachmentLinkUseRow",
    "AttachmentRow",
    "Base",
    "ChangeCounterRow",
    "ChatSessionRow",
    "DeliveryFailureRow",
    "EscalationRow",
    "HandoffEventRow",
    "HandoffMessageRow",
    "HandoffSessionRow",
    "InboundUpdateRow",
    "IncidentRow",
    "LoginFailureRow",
    "OutboxEventRow",
    "PrivacyNoticeRow",
    "PrivacyPhoneCheckRow",
    "PrivacyRequestRow",
    "TicketEventRow",
    "TicketRow",
    "UTCDateTime",
    "WeChatContactRow",
    "WeChatInboxRow",
    "WeChatTokenRow",
]
