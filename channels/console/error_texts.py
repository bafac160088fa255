"""The console's Chinese wording of a rejected request (InvalidInput): the domain raises short English
messages for logs and other systems; staff read Chinese only, never "'handler' is required".

Known messages are translated by pattern (field names as the console labels them); anything else
gets a general Chinese sentence rather than leaking English.
"""

from __future__ import annotations

import re
from typing import Callable, List, Tuple, Union

# Request fields as the console's forms name them.
FIELDS = {
    "text": "内容", "note": "备注", "message": "告知客户的内容", "reason": "原因", "handler": "处理人",
    "to": "目标坐席", "username": "账号", "password": "密码", "eta": "预计恢复时间", "eta_hours": "预计恢复时长",
    "resolution": "处理结果", "area": "区域", "symptom": "故障现象", "status": "状态", "limit": "数量",
    "outcome": "回电结果", "retry_at": "再次回电时间", "field": "更正项", "value": "新的值", "q": "搜索内容",
    "kind": "搜索方式", "notify": "是否通知客户",
}

Rule = Tuple[str, Union[str, Callable[["re.Match[str]"], str]]]

_RULES: List[Rule] = [
    (r"'(\w+)' is required", lambda m: f"请填写{_field(m.group(1))}"),
    (r"'(\w+)' must be a string", lambda m: f"{_field(m.group(1))}格式不正确"),
    (r"'(\w+)' must be .*", lambda m: f"{_field(m.group(1))}格式不正确"),
    (r"body is not JSON|body must be a JSON object", "请求格式不正确"),
    (r".*needs a reason|a reason is required|a correction needs a reason", "请填写原因"),
    (r"closing needs a resolution", "请填写处理结果"),
    (r"resolving needs a note or a message for the customer", "请填写告知客户的处理结果或内部备注"),
    (r"empty message|note is empty|progress update is empty|empty addition", "内容不能为空"),
    (r"(?:message|note|progress update) longer than (\d+) characters", lambda m: f"内容太长，请控制在{m.group(1)}字以内"),
    (r"cannot transfer a session to its current agent", "不能转交给当前接待的坐席"),
    (r"no such agent: .*", "没有这个坐席，或该坐席已停用"),
    (r"no such handler: .*", "没有这个处理人，或该账号已停用"),
    (r"a (\w+) ticket cannot become (\w+)", "工单当前状态不允许这样变更"),
    (r"not a mobile number or a landline with its area code|contact phone is not a mainland mobile number",
     "请填写11位手机号，或带区号的固定电话（如 0571-88886666）"),
    (r"not a ticket number|after must be a ticket number", "工单号格式不正确"),
    (r"unknown category .*", "没有这个工单类别"),
    (r"unknown severity .*", "没有这个严重程度"),
    (r"the ticket already has this category", "工单已经是这个类别"),
    (r"the ticket already has this severity", "工单已经是这个严重程度"),
    (r"field must be category, severity or contact_phone", "只能更正类别、严重程度或联系电话"),
    (r"outcome must be reached, no_answer or retry", "请选择回电结果：已联系、未接通或再次回电"),
    (r"retry_at must be a time within the next 14 days", "再次回电时间须在今后14天之内"),
    (r"kind must be number, text or phone", "请选择按工单号、内容或电话搜索"),
    (r"the search is empty", "请输入搜索内容"),
    (r"search with at least two characters", "请至少输入两个字"),
    (r"scope must be 'mine' or 'all'", "列表范围不正确"),
    (r"the expected recovery must be in the future", "预计恢复时间须晚于现在"),
    (r"the expected recovery is more than 30 days away", "预计恢复时间不能超过30天"),
    (r"an incident needs an area or a symptom", "请填写区域或故障现象"),
    (r"password.*", "密码不符合要求（至少8位，且包含字母、数字或符号中的两种）"),
    (r"username: .*", "账号只能由2到64位字母、数字、“_”、“.”或“-”组成"),
    (r"display name longer than 64 characters", "显示名称不能超过64个字"),
]
_COMPILED = [(re.compile(pattern), text) for pattern, text in _RULES]
_LATIN = re.compile(r"[A-Za-z]")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _field(key: str) -> str:
    return FIELDS.get(key, "必填项")


def chinese(message: str) -> str:
    """The Chinese for a domain message. Known English messages are translated first (they may quote
    Chinese input, e.g. an unknown agent's name); messages written in Chinese are kept, also when
    they show a format such as YYYY-MM-DD."""
    message = str(message or "")
    if message and not _LATIN.search(message):
        return message
    for pattern, text in _COMPILED:
        match = pattern.fullmatch(message)
        if match:
            return text(match) if callable(text) else text
    if _CJK.search(message):
        return message
    return "填写的内容有误，请检查后重试"
