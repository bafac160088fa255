"""Severity rules (一般 / 重大 / 紧急), kept in one readable table.

Each rule is (severity, pattern, reason). The first matching rule of the highest severity wins,
and the reason is recorded on the ticket so that every decision can be audited.
Repeat complaints (same customer, same category, 30 days) are detected from the store by the
ticket service and raise the severity to major there.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Iterable, Optional, Tuple

from bot import escalation
from bot.categories import Category
from bot.simplified import simplified


class Severity(str, enum.Enum):
    GENERAL = "general"
    MAJOR = "major"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return {"general": "一般", "major": "重大", "urgent": "紧急"}[self.value]

    @property
    def rank(self) -> int:
        return {"general": 0, "major": 1, "urgent": 2}[self.value]


@dataclass(frozen=True)
class Assessment:
    severity: Severity
    reason: str


# A complaint this large (in yuan) touches "large customer interest": major.
LARGE_AMOUNT_YUAN = 500

_RULES: Tuple[Tuple[Severity, Optional[Category], str, str], ...] = (
    # (severity, only for this category or None for all, regex, reason)
    (
        Severity.URGENT,
        Category.NETWORK,
        r"(整个|全)(小区|栋|楼|村|片区|区域|单元|镇)|整(栋|幢|层|条街)|大面积|一片都|邻居(也|都)|周围(的人)?都"
        r"|附近(的人)?都|楼里(的人)?都|楼上楼下都|好多人都|大家都",
        "多人受影响，疑似区域性故障",
    ),
    (
        Severity.URGENT,
        Category.NETWORK,
        r"(完全|彻底|根本|一直|整天|全天)(断网|没网|没信号|无信号|上不了网|打不了电话|打不出|用不了)"
        r"|一点信号都没有|一格信号都没有",
        "服务完全中断",
    ),
    (Severity.URGENT, None, r"数据(全|都)?(丢|没)了|(资料|数据|照片|通讯录)(全部)?丢失", "客户数据丢失"),
    (Severity.MAJOR, None, escalation.REGULATOR[0], "客户表示将向监管部门、媒体或法律途径反映"),
    (
        Severity.MAJOR,
        None,
        r"第([二三四五六七八九十]|[2-9]|\d{2,})次|又投诉|多次投诉|反复投诉|投诉(过)?(好|很)?(几|多)次|投诉了(好|很)?(几|多)次"
        r"|(已经|之前|上次|上回|上周|上礼拜|上个月|前几天|前天|昨天|早就)(已经|都)?(投诉|反映|报修|报障)过",
        "客户反映为重复投诉",
    ),
)

_AMOUNT = re.compile(
    r"(?<![\d,.])(\d[\d,]*(?:\.\d+)?)\s*([千万])?\s*(?:多)?(?:块|元|rmb|RMB)|[¥￥]\s*(\d[\d,]*(?:\.\d+)?)|([一二两三四五六七八九])\s*([千万])\s*(?:多)?(?:块|元)"
)
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"千": 1_000, "万": 10_000, "": 1}


def _largest_amount(text: str) -> float:
    """The largest sum of money mentioned, in yuan: 800块, 1,000元, ¥50, 5万元, 两千块."""
    amounts = []
    for number, unit, yen, cn_number, cn_unit in _AMOUNT.findall(text):
        if cn_number:
            amounts.append(_CN_DIGITS[cn_number] * _UNITS[cn_unit])
        else:
            amounts.append(float((number or yen).replace(",", "")) * _UNITS[unit or ""])
    return max(amounts, default=0.0)


def assess(text: str, category: Category) -> Assessment:
    """Severity of a new complaint from what the customer wrote."""
    text = simplified(text)  # 完全沒有訊號 reads as 完全没有信号
    best = Assessment(Severity.GENERAL, "一般问题")
    for severity, only_for, pattern, reason in _RULES:
        if only_for is not None and only_for is not category:
            continue
        if severity.rank > best.severity.rank and re.search(pattern, text, re.IGNORECASE):
            best = Assessment(severity, reason)
    if best.severity is Severity.GENERAL and _largest_amount(text) >= LARGE_AMOUNT_YUAN:
        best = Assessment(Severity.MAJOR, f"涉及金额较大（≥{LARGE_AMOUNT_YUAN}元）")
    return best


def strongest(assessments: Iterable[Assessment]) -> Assessment:
    """The most severe of several assessments (the earliest wins a tie)."""
    result: Optional[Assessment] = None
    for a in assessments:
        if result is None or a.severity.rank > result.severity.rank:
            result = a
    if result is None:
        return Assessment(Severity.GENERAL, "一般问题")
    return result
