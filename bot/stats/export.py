"""The figures written out: as plain JSON types for the dashboard's API, and as CSV rows with a
Chinese description of each figure.
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from typing import Any, List, Tuple

from bot.categories import Category
from bot.stats.figures import LOW_CONFIDENCE, Figures, Period, Rate, Spread


def to_json(value: Any) -> Any:
    """Plain JSON types: dates as ISO strings, rates as {count, total, share}."""
    if isinstance(value, Rate):
        return {"count": value.count, "total": value.total, "share": value.share}
    if isinstance(value, Period):
        return {"from": value.first.isoformat(), "to": value.last.isoformat(), "channel": value.channel}
    if is_dataclass(value):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


CSV_HEADER = ("section", "metric", "key", "value", "说明")

_LABELS = {
    "filed": "受理工单数", "by_category": "按类别", "by_severity": "按严重程度", "by_day": "按日（类别）",
    "areas": "地区热点", "open": "本期工单中未办结", "overdue": "本期工单中已超时", "backlog_open": "当前全部未办结",
    "backlog_overdue": "当前全部已超时", "response_on_time": "首次响应及时率", "resolution_on_time": "处理及时率",
    "first_response": "首次响应时长（秒）", "first_response_buckets": "首次响应时长分布", "not_responded": "尚未响应",
    "surveyed": "已发送满意度调查", "rated": "已评价", "average": "平均满意度（1–5分）", "satisfied": "满意率（4–5分）",
    "scores": "评分分布", "repeat": "重复投诉率", "first_contact_resolution": "一次解决率",
    "conversations": "机器人会话数", "containment": "机器人独立完成率", "handoff": "转人工率",
    "handoff_requested": "转人工请求", "handoff_accepted": "人工已接入", "handoff_cancelled": "客户取消排队",
    "handoff_waiting": "仍在排队/待回电", "queue_wait": "排队等待时长（秒）", "messages": "客户消息数",
    "fallback": "未识别率（nlu_fallback）", "intents": "意图分布", "low_confidence_count": "低置信度消息数",
    "sessions": "负责会话数", "tickets": "负责工单数", "average_rating": "平均满意度",
}


def csv_rows(figures: Figures) -> List[Tuple[str, str, str, str, str]]:
    """One row per figure or series point: (section, metric, key, value, Chinese description).
    Rates give three rows (count, total, share); the low-confidence messages are not figures and stay
    on the dashboard."""
    rows: List[Tuple[str, str, str, str, str]] = []

    def add(section: str, metric: str, key: Any, value: Any, label: str = "") -> None:
        if isinstance(value, float):
            value = f"{value:.4f}".rstrip("0").rstrip(".") if math.isfinite(value) else ""
        rows.append((section, metric, "" if key is None else str(key), "" if value is None else str(value),
                     label or _LABELS.get(metric, metric)))

    def rate(section: str, metric: str, value: Rate, key: str = "") -> None:
        label = _LABELS.get(metric, metric)
        add(section, metric, f"{key}:count" if key else "count", value.count, label)
        add(section, metric, f"{key}:total" if key else "total", value.total, label)
        add(section, metric, f"{key}:share" if key else "share", value.share, label)

    def spread(section: str, metric: str, value: Spread, key: str = "") -> None:
        for part in ("count", "p50", "p90"):
            add(section, metric, f"{key}:{part}" if key else part, getattr(value, part))

    p = figures.period
    add("period", "from", "", p.first.isoformat(), "开始日期（北京时间）")
    add("period", "to", "", p.last.isoformat(), "结束日期（北京时间，含）")
    add("period", "channel", "", p.channel or "all", "渠道")
    add("period", "generated_at", "", figures.generated_at.isoformat(), "生成时间（UTC）")

    t = figures.tickets
    add("tickets", "filed", "", t.filed)
    for key, count in t.by_category.items():
        add("tickets", "by_category", key, count, f"按类别：{Category(key).label}" if key in Category._value2member_map_ else "")
    for key, count in t.by_severity.items():
        add("tickets", "by_severity", key, count)
    for day in t.by_day:
        add("tickets", "by_day", day.day.isoformat(), day.total, "按日合计")
        for key, count in day.by_category.items():
            add("tickets", "by_day", f"{day.day.isoformat()}:{key}", count)
    for area, count in t.areas:
        add("tickets", "areas", area, count)
    for name in ("open", "overdue", "backlog_open", "backlog_overdue"):
        add("tickets", name, "", getattr(t, name))

    d = figures.deadlines
    rate("deadlines", "response_on_time", d.response_on_time)
    rate("deadlines", "resolution_on_time", d.resolution_on_time)
    spread("deadlines", "first_response", d.first_response)
    for bucket in d.first_response_buckets:
        add("deadlines", "first_response_buckets", bucket.label, bucket.count)
    add("deadlines", "not_responded", "", d.not_responded)

    s = figures.satisfaction
    add("satisfaction", "surveyed", "", s.surveyed)
    rate("satisfaction", "rated", s.rated)
    add("satisfaction", "average", "", s.average)
    rate("satisfaction", "satisfied", s.satisfied)
    for score, count in s.scores.items():
        add("satisfaction", "scores", score, count)
    rate("satisfaction", "repeat", s.repeat)
    rate("satisfaction", "first_contact_resolution", s.first_contact_resolution)

    b = figures.bot
    add("bot", "available", "", "yes" if b.available else "no", "对话记录可用")
    add("bot", "conversations", "", b.conversations)
    rate("bot", "containment", b.containment)
    rate("bot", "handoff", b.handoff)
    for name in ("handoff_requested", "handoff_accepted", "handoff_cancelled", "handoff_waiting"):
        add("bot", name, "", getattr(b, name))
    spread("bot", "queue_wait", b.queue_wait)
    add("bot", "messages", "", b.messages)
    rate("bot", "fallback", b.fallback)
    for intent, count in b.intents:
        add("bot", "intents", intent, count)
    add("bot", "low_confidence_count", "", b.low_confidence_count, f"低置信度消息数（置信度<{LOW_CONFIDENCE}）")

    for a in figures.agents:
        key = a.username
        add("agents", "display_name", key, a.display_name, "姓名")
        add("agents", "sessions", key, a.sessions)
        add("agents", "tickets", key, a.tickets)
        rate("agents", "response_on_time", a.response_on_time, key)
        rate("agents", "resolution_on_time", a.resolution_on_time, key)
        add("agents", "rated", key, a.rated, "已评价")
        add("agents", "average_rating", key, a.average_rating)
        rate("agents", "satisfied", a.satisfied, key)
    return rows
