"""A ticket's history in Chinese, for staff: one label per event kind and a Chinese rendering of
each event's detail (status and category codes as their names, usernames as display names, times in
Beijing time).

Events keep their raw `kind` and `detail` in the store and in the API (the backend and other systems
read those); this is the one place that turns them into what the console shows, so the console
never translates codes itself. Every kind written anywhere in bot/ has a label here
(tests/test_ticket_history_labels.py checks it).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Dict, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.categories import Category
from bot.clock import beijing_time
from bot.severity import Severity
from bot.storage.models import AgentRow

EVENT_LABELS: Dict[str, str] = {
    "created": "登记",
    "dispatched": "派单",
    "assigned": "指派责任人",
    "transferred": "转交",
    "reassigned": "重新指派",
    "status_changed": "状态变更",
    "severity_changed": "严重程度变更",
    "category_changed": "类别更正",
    "contact_phone_changed": "联系电话更正",
    "customer_addition": "客户补充",
    "evidence": "客户证据",
    "human_requested": "客户要求转人工",
    "human_cancelled": "客户取消转人工",
    "callback_requested": "待回电",
    "callback_reached": "已回电联系",
    "callback_attempt": "回电未接通",
    "callback_rescheduled": "约定再次回电",
    "progress_update": "进度更新",
    "internal_note": "内部备注",
    "delivery_failed": "消息未送达",
    "survey_sent": "发送处理结果",
    "rated": "客户评价",
    "rating_comment": "客户意见",
    "follow_up_scheduled": "安排回访",
    "deadline_breached": "超过时限",
    "escalation_requested": "申请升级",
    "escalated": "升级主管",
    "escalation_declined": "驳回升级",
    "incident_linked": "关联区域故障",
    "incident_updated": "故障进展",
    "incident_closed": "故障已修复",
    "incident_unlinked": "取消关联故障",
    "anonymised": "个人信息已删除",
}

# Ticket statuses as staff name them (bot.tickets.model's labels are the customer's wording).
STATUS_NAMES = {
    "new": "新建",
    "assigned": "已指派",
    "in_progress": "处理中",
    "resolved": "已解决",
    "closed": "已关闭",
    "reopened": "重新打开",
}
ACTORS = {"customer": "客户", "bot": "机器人", "system": "系统", "staff": "工作人员"}
ESCALATION_SOURCES = {"agent": "坐席申请", "automatic": "系统自动", "customer": "客户要求"}
EVIDENCE_KINDS = {"photo": "图片", "document": "文件", "video": "视频", "voice": "语音"}
UPLOADED_KINDS = ("图片", "文件")  # bot.tickets.evidence.KIND_LABELS
_ATTACHMENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,48}\s*")
CODE_NAMES: Dict[str, str] = {
    **{c.value: c.label for c in Category},
    **{c.department.value: c.department.label for c in Category},
    **{s.value: s.label for s in Severity},
    **STATUS_NAMES,
}
_KEY_NAMES = {"category": "类别", "department": "处理部门", "severity": "严重程度"}

_UTC_TIME = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC")
# Bounded like usernames (64): unbounded runs made a search quadratic on long customer text.
_ARROW = re.compile(r"([\w.@-]{1,64}) -> ([\w.@-]{1,64})")
_PAIR = re.compile(r"(category|department|severity)=(\w+)")
_SOURCE = re.compile(r"^（(\w+)）")
_NAMED = re.compile(r"(处理人 |责任人仍为 |主管)([\w.@-]+)")
_DUPLICATE_TRANSFER = re.compile(r"^转交：[\w.@-]+ -> [\w.@-]+，")


def _evidence(text: str) -> str:
    """"图片 <id> 说明：红灯" -> "客户上传了图片，说明：红灯"; lines written before attachments were
    stored ("photo file_id=AgAD… 说明：…") keep their old reading ("图片，说明：…")."""
    first, _, rest = text.partition(" ")
    if first in UPLOADED_KINDS:
        rest = _ATTACHMENT_ID.sub("", rest, count=1)
        return f"客户上传了{first}" + (f"，{rest}" if rest else "")
    rest = re.sub(r"^file_id=\S+\s*", "", rest)
    return EVIDENCE_KINDS.get(first, "附件") + (f"，{rest}" if rest else "")


def label(kind: str) -> str:
    """The Chinese name of an event kind (an unknown kind is shown as 其他记录, never as a code)."""
    return EVENT_LABELS.get(kind, "其他记录")


def actor_name(actor: str, names: Mapping[str, str]) -> str:
    """客户, 机器人, 系统, or the staff member's display name."""
    return ACTORS.get(actor) or names.get(actor) or actor


def render(kind: str, detail: str, names: Mapping[str, str]) -> str:
    """The event's detail in Chinese, with display names and Beijing times."""
    text = detail or ""
    text = _UTC_TIME.sub(lambda m: _beijing(m.group(1)), text)
    if kind == "dispatched":
        text = _PAIR.sub(lambda m: f"{_KEY_NAMES[m.group(1)]}：{CODE_NAMES.get(m.group(2), m.group(2))}", text)
        text = re.sub(r"(：[^：\s]+) (?=类别|处理部门|严重程度)", r"\1，", text)
        text = re.sub(r" \((.*)\)$", r"（\1）", text)
    elif kind == "evidence":
        text = _evidence(text)
    elif kind == "category_changed":
        old, _, rest = text.partition(" -> ")
        new, _, reason = rest.partition(" ")
        if old in CODE_NAMES and new in CODE_NAMES:
            text = (f"类别：{CODE_NAMES[old]} → {CODE_NAMES[new]}，处理部门：{CODE_NAMES[Category(new).department.value]}"
                    + (f"（{reason.strip('()')}）" if reason else ""))
    elif kind == "escalation_requested":
        text = _SOURCE.sub(lambda m: f"（{ESCALATION_SOURCES.get(m.group(1), m.group(1))}）", text)
    if kind in ("transferred", "reassigned", "assigned"):
        head, sep, reason = text.partition(": ")
        text = head + (f"，{_DUPLICATE_TRANSFER.sub('', reason)}" if sep else "")
    text = _ARROW.sub(lambda m: f"{_name(m.group(1), names)} → {_name(m.group(2), names)}", text)
    text = re.sub(r" \(([^()]*)\)$", r"（\1）", text)
    text = _NAMED.sub(lambda m: m.group(1) + names.get(m.group(2), m.group(2)), text)
    if kind == "status_changed":
        text = text.replace(": ", "：", 1)
    return text


def _name(token: str, names: Mapping[str, str]) -> str:
    if token == "-":
        return "无"
    return CODE_NAMES.get(token) or names.get(token) or token


def _beijing(utc_text: str) -> str:
    moment = datetime.strptime(utc_text, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
    return beijing_time(moment)


def names_of(session: Session, usernames: Iterable[str]) -> Dict[str, str]:
    """Display names of the staff among `usernames` (unknown ones are left out). Cached for the
    transaction, so snapshotting a page of tickets asks the agents table once per new name."""
    cache: Dict[str, str] = session.info.setdefault("staff_display_names", {})
    wanted = {u for u in usernames if u and u not in ACTORS}
    missing = wanted - cache.keys()
    if missing:
        rows = session.execute(sa.select(AgentRow.username, AgentRow.display_name).where(AgentRow.username.in_(missing)))
        found = {username: name for username, name in rows}
        cache.update({u: found.get(u, "") for u in missing})
    return {u: cache[u] for u in wanted if cache[u]}


def usernames_in(actor: str, detail: str) -> set:
    """The tokens of an event that may be usernames (its actor, both sides of "a -> b", named people)."""
    found = {actor}
    for a, b in _ARROW.findall(detail or ""):
        found.update((a, b))
    found.update(name for _, name in _NAMED.findall(detail or ""))
    return found
