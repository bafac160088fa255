"""Follow-up questions about the answer just given: "要多久", "多少钱", "在哪里点", "要带啥".

Customers ask about the topic of the last answer without naming it again. Read on their own, such
messages have no topic, and the FAQ selector guesses one (after a porting answer, "要多久" got the
SIM replacement text). Said right after an answer, they are about that answer's topic; and because
the customer has just read that text, sending it again is no answer either. What they ask for is
one facet of it (cost, time, where, documents, who may do it), so the reply quotes the sentences of
that answer about the facet, or says plainly that it does not say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from bot.text import clean


@dataclass(frozen=True)
class Facet:
    heading: str  # how the reply names it, for a topic: "{topic}的费用"
    asked: "re.Pattern[str]"  # how a follow-up asks for it
    said: "re.Pattern[str]"  # how an answer's sentence speaks of it


FACETS: Tuple[Facet, ...] = (
    Facet(
        "{topic}需要带的材料",
        re.compile(r"带(啥|什么|哪些)|什么(材料|资料|证件)|材料|资料|证件|身份证|户口本"),
        re.compile(r"身份证|证件|资料|材料|原件|户口"),
    ),
    Facet(
        "{topic}能不能代办",
        re.compile(r"代办|代缴|代充|别人(办|帮)|帮(她|他|家人|我妈|我爸|老人|父母)|替(她|他|家人)|家人(能|可以)"),
        re.compile(r"代办|代缴|家人|他人|机主"),
    ),
    Facet(
        "{topic}的费用",
        re.compile(r"多少钱|几块|几元|贵不贵|贵吗|便宜|收费|要钱|花钱|免费|费用|资费|价格|价钱|怎么算|优惠|月租"),
        re.compile(r"\d元|免费|收费|资费|价格|费|优惠"),
    ),
    Facet(
        "{topic}需要的时间",
        re.compile(r"多久|多长时间|几天|几个小时|什么时候|啥时候|多快|要等|生效|到账|几点|加急|快点"),
        re.compile(r"[0-9一二两三四五六七八九十几半～~]{1,4}个?(小时|天|分钟|工作日|秒)|次月|生效|立即|当天|当场|马上|到账|\d[:：]\d"),
    ),
    Facet(
        "{topic}的办理渠道",
        re.compile(r"在哪|去哪|哪里|那里办|哪儿|哪个(地方|页面|菜单)|怎么(办|弄|操作|开通|设置|查|申请|点|搞)|咋(办|弄|查|整|搞)|入口|在哪点|能线上|网上"),
        re.compile(r"APP|营业厅|短信|10088|拨打|拨号|「"),
    ),
)

# What a follow-up may say besides its question: fillers, pronouns, "还有".
_LEAD = re.compile(r"^(那|那么|那个|那要|那这个|这个|那请问|请问|还有|另外|对了|嗯+|哦+|好的|好|行|所以|然后|就是)+")
_HAN = re.compile(r"[\u4e00-\u9fff]")
FOLLOW_UP_MAX_HAN = 10  # longer messages say what they are about; the selector reads those itself
_SENTENCE = re.compile(r"[^。！？\n；]+[。！？；]?")


def facet_asked(text: str) -> Optional[Facet]:
    """The facet a short follow-up asks about, or None when it is not one."""
    said = _LEAD.sub("", clean(text))
    if not said or len(_HAN.findall(said)) > FOLLOW_UP_MAX_HAN:
        return None
    for facet in FACETS:
        if facet.asked.search(said):
            return facet
    return None


def about(answer: str, facet: Facet) -> str:
    """The sentences of `answer` that speak of `facet`, in their order ("" when none does)."""
    found = []
    for sentence in _SENTENCE.findall(answer):
        sentence = sentence.strip().lstrip("·0123456789. ")
        if sentence and facet.said.search(sentence) and sentence not in found:
            found.append(sentence)
    return "\n".join(found)


TOPIC_NAMES: Dict[str, str] = {
    "balance": "查余额",
    "data_usage": "查流量",
    "plans": "套餐变更",
    "broadband_packages": "办宽带",
    "broadband_repair": "宽带报修",
    "roaming": "国际及港澳台漫游",
    "sim_replacement": "补卡换卡",
    "number_portability": "携号转网",
    "invoices": "开发票",
    "topup": "充值缴费",
    "bill_details": "账单查询",
    "opening_hours": "营业厅",
    "password_reset": "服务密码重置",
    "five_g": "5G",
    "cancel_service": "销户",
    "value_added": "增值业务退订",
    "real_name": "实名登记",
    "esim_watch": "副卡和手表号",
    "family_plan": "亲情号和融合套餐",
    "contract": "合约",
    "suspend_service": "停机保号",
    "app_help": "掌上营业厅APP",
    "lost_phone": "手机丢失",
    "broadband_move": "宽带移机",
    "points": "积分",
    "data_packs": "流量包",
    "call_features": "通话功能",
    "fraud": "防诈骗",
    "complaint_process": "投诉处理",
    "hotline": "客服热线",
    "contact_use": "联系电话的用途",
    "suspended": "停机",
    "attachments": "发图片",
    "marketing_opt_out": "关闭营销信息",
}
"""FAQ topic (`consult/<topic>`) -> how a reply names it."""


def reply(topic: str, answer: str, facet: Facet) -> str:
    """The reply to a follow-up about `facet` of the answer on `topic` the customer has just read."""
    name = TOPIC_NAMES.get(topic, "这个问题")
    found = about(answer, facet)
    if found:
        return (
            f"{facet.heading.format(topic=name)}：\n{found}\n"
            "具体到您号码的情况我这里看不到，如需确认可以拨打客服热线10088，或回复“转人工”。"
        )
    return (
        f"{facet.heading.format(topic=name)}，我这里没有更具体的信息，刚才的说明就是我能提供的全部了。"
        "您可以拨打客服热线10088详细咨询，或回复“转人工”由客服为您解答。"
    )
