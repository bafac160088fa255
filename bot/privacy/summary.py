"""What is held about a customer, as counts and facts (phones masked): the answer to an access
request, as data for the console and as text for the customer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.categories import Category
from bot.storage.models import AttachmentRow, HandoffMessageRow, TicketRow
from bot.text import beijing_time, iso, mask_phone
from bot.tickets import Customer, Status


def _summary(session: Session, customer: Customer, conversation_events_count: int) -> Dict[str, Any]:
    tickets = session.execute(
        sa.select(TicketRow)
        .where(TicketRow.channel == customer.channel, TicketRow.channel_user_id == customer.user_id)
        .order_by(TicketRow.id)
    ).scalars().all()
    messages = session.execute(
        sa.select(sa.func.count(), sa.func.min(HandoffMessageRow.at), sa.func.max(HandoffMessageRow.at)).where(
            HandoffMessageRow.channel == customer.channel, HandoffMessageRow.channel_user_id == customer.user_id
        )
    ).one()
    evidence = session.execute(
        sa.select(sa.func.count()).select_from(AttachmentRow).where(
            AttachmentRow.channel == customer.channel, AttachmentRow.channel_user_id == customer.user_id
        )
    ).scalar_one()
    return {
        "channel": customer.channel,
        "phones": sorted({mask_phone(t.contact_phone) for t in tickets if t.contact_phone}),
        "tickets": [
            {"number": t.number, "category": t.category, "status": t.status, "created_at": iso(t.created_at)}
            for t in tickets
        ],
        "transcript_messages": messages[0] or 0,
        "first_contact": iso(messages[1]),
        "last_contact": iso(messages[2]),
        "conversation_events": conversation_events_count,
        "evidence_files": evidence,
    }


def _summary_text(summary: Dict[str, Any]) -> str:
    lines = [f"· 联系电话：{'、'.join(summary['phones']) or '无'}"]
    if summary["tickets"]:
        lines.append(f"· 工单 {len(summary['tickets'])} 张：")
        for t in summary["tickets"][:20]:
            created = datetime.fromisoformat(t["created_at"])
            lines.append(f"  {t['number']}（{Category(t['category']).label}，{Status(t['status']).label}，{beijing_time(created)}）")
    else:
        lines.append("· 工单：无")
    lines.append(f"· 人工客服对话和通知消息：{summary['transcript_messages']} 条")
    lines.append(f"· 智能客服对话记录：{summary['conversation_events']} 条")
    lines.append(f"· 您发送的截图、照片和 PDF 文件：{summary.get('evidence_files', 0)} 个")
    lines.append("用途：受理和处理您的咨询与投诉、回访及服务质量统计。")
    return "\n".join(lines)
