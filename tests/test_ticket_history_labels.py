"""Every ticket-history line in Chinese: a label for every event kind written anywhere in bot/, the
details rendered with names, display names and Beijing time (bot/tickets/history.py), and the
console's error messages in Chinese only (channels/console/error_texts.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.handoff.followup import _OUTCOME_KINDS
from bot.text import contact_phone_from, mask_phone
from bot.tickets import RESPONSIBILITY_KINDS, history
from channels.console.error_texts import chinese

BOT = Path(__file__).resolve().parent.parent / "bot"

# The ways bot/ writes a ticket event with a literal kind.
_WRITERS = (
    re.compile(r"TicketEventRow\((?:[^()]|\([^()]*\))*?kind=\"(\w+)\"", re.S),
    re.compile(r"add_event\(\s*[^,]+,\s*[^,]+,\s*[^,]+,\s*\"(\w+)\""),
    re.compile(r"_note_on_tickets\([^\"]*\"(\w+)\""),
)


def kinds_written_in_bot():
    found = set(RESPONSIBILITY_KINDS) | set(_OUTCOME_KINDS.values())
    for path in BOT.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for pattern in _WRITERS:
            found.update(pattern.findall(source))
    return found


def test_the_scan_finds_the_kinds_written_in_bot():
    kinds = kinds_written_in_bot()
    # Kinds from every writer: the ticket service, rows, resolution, lifecycle, incidents, privacy, handoff.
    assert {"created", "dispatched", "status_changed", "severity_changed", "survey_sent", "rated", "incident_linked",
            "anonymised", "escalation_requested", "callback_requested", "progress_update", "internal_note",
            "category_changed", "contact_phone_changed", "callback_reached", "transferred"} <= kinds


def test_every_kind_written_in_bot_has_a_chinese_label():
    missing = sorted(kind for kind in kinds_written_in_bot() if kind not in history.EVENT_LABELS)
    assert missing == []
    assert all(re.search(r"[\u4e00-\u9fff]", label) and not re.search(r"[A-Za-z_]", label) for label in history.EVENT_LABELS.values())
    assert history.label("something_new") == "其他记录"


NAMES = {"wang": "小王", "li": "小李", "admin": "赵主管"}


@pytest.mark.parametrize(
    "kind, detail, shown",
    [
        ("dispatched", "category=network department=network_operations severity=major (30天内同类重复投诉)",
         "类别：服务质量投诉（网络），处理部门：网络运维部，严重程度：重大（30天内同类重复投诉）"),
        ("status_changed", "new -> assigned", "新建 → 已指派"),
        ("status_changed", "assigned -> resolved: 已更换光猫", "已指派 → 已解决：已更换光猫"),
        ("severity_changed", "major -> urgent (投诉升级：客户威胁投诉工信部)", "重大 → 紧急（投诉升级：客户威胁投诉工信部）"),
        ("escalation_requested", "（agent）客户要求主管处理", "（坐席申请）客户要求主管处理"),
        ("escalation_requested", "（automatic）重复投诉", "（系统自动）重复投诉"),
        ("assigned", "- -> wang: 首问负责：接入人工会话 #3", "无 → 小王，首问负责：接入人工会话 #3"),
        ("transferred", "wang -> li: 转交：wang -> li，原因：宽带装维问题转专席", "小王 → 小李，原因：宽带装维问题转专席"),
        ("callback_requested", "待回电，最迟 2026-12-02 16:19 UTC", "待回电，最迟 12月3日 00:19"),
        ("escalated", "升级至第1级，处理人 admin，原因：紧急；责任人仍为 wang", "升级至第1级，处理人 赵主管，原因：紧急；责任人仍为 小王"),
        ("category_changed", "other -> business (其实是套餐变更)", "类别：其他投诉 → 业务办理投诉，处理部门：营业受理中心（其实是套餐变更）"),
        ("evidence", "photo file_id=AgADBAAD 说明：红灯", "图片，说明：红灯"),
    ],
)
def test_details_are_rendered_in_chinese(kind, detail, shown):
    assert history.render(kind, detail, NAMES) == shown


def test_actors_are_named():
    assert [history.actor_name(a, NAMES) for a in ("customer", "bot", "system", "wang", "gone")] == ["客户", "机器人", "系统", "小王", "gone"]


def test_phones_no_phone_is_not_stars_and_landlines_are_accepted():
    assert mask_phone("") == "未提供" and mask_phone("13812345678") == "138****5678"
    assert contact_phone_from("0571-88886666") == "0571-88886666"
    assert contact_phone_from("0571-8888 6666") == "0571-88886666"
    assert contact_phone_from("010 6666 8888") == "010-66668888"
    assert contact_phone_from("+86 138 1234 5678") == "13812345678"
    assert contact_phone_from("12345") is None and contact_phone_from("110") is None


@pytest.mark.parametrize(
    "message, shown",
    [
        ("'handler' is required", "请填写处理人"),
        ("a correction needs a reason", "请填写原因"),
        ("not a mobile number or a landline with its area code", "请填写11位手机号，或带区号的固定电话（如 0571-88886666）"),
        ("something nobody translated", "填写的内容有误，请检查后重试"),
        ("开始日期不能晚于结束日期", "开始日期不能晚于结束日期"),
        ("开始日期格式应为 YYYY-MM-DD", "开始日期格式应为 YYYY-MM-DD"),  # Chinese with a format in it
        ("no such agent: '小王'", "没有这个坐席，或该坐席已停用"),  # English quoting Chinese input
    ],
)
def test_console_error_messages_are_chinese_only(message, shown):
    assert chinese(message) == shown
