"""Explicit escalation signals (投诉升级/转人工) in what a customer writes.

The handbook defines an escalation request by its content: the customer asks for a human, for a
supervisor, or threatens the regulator, the consumer association, the media or the courts. Those
words are unambiguous, so they are matched by rule on top of the statistical classifier: a customer
who writes "转人工" or "我要打12300" is escalated whatever the model thinks. Each signal has a reason.
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

from bot.simplified import simplified

HUMAN = (
    r"人工(?!智能|智障|费|成本|降雨)|人公|仁工|任工|人攻|真人|真的人|活人|坐席|转接客服|"
    r"(不要|别让|别用|不想跟|不跟|不和)机器|你是机器人吧|换(个)?人(?!民|口|生|气|情|事|家|参|物|设|像|脸|了)|(找|叫)(个|一个)?人来(?!.{0,4}(修|装|上门|来家|到家|看线|测|查|检|看看))|叫个人|"
    r"(不想|唔想|无想|不愿意?|懒得)(再)?(跟|同|和)(你|你们)?(这个)?(机器|机械|ai|AI|智能客服|自动回复)|"
    # "Send a person over" in the country's many verbs (喊 southwest, 整 northeast, 摇 Sichuan), with what
    # kind of person the customer wants; not a technician (找个人来修, 派个人上门).
    r"(找|叫|喊|整|摇|派|让|换|接|要)(一)?个(懂行的|懂的|能管事的|管事的|能处理的|会说人话的|说了算的|负责的|真的|活的|正经)?人"
    r"(?!.{0,4}(修|装|上门|来家|到家|看线|测|查|检|看看))(来|过来|出来|跟我|和我|同我|给我|处理|说话|唠|聊|讲)|"
    r"(转给|转接|接通)(.{0,6})(工作人员|客服人员|专人)(?!.{0,4}(上门|来修|来家))|"
    r"能(做主|解决问题)的(人)?|(上面|上头)的人|(转到|转给|交给|报到|提交到|转去)(你们)?(上面|上头)|"
    # The same request typed in pinyin or English, or in Cantonese (揾 = 找, 嚟 = 来; 搵 is read as 揾).
    r"(?<![a-z])(zhuan ?)?ren ?gong(?![a-z])|(?<![a-z])zhen ?ren(?![a-z])|"
    # Letter lookarounds, not \b: in "找个real person" the Chinese character before is a word character too.
    r"(?<![a-z])(real|live) (person|human|agent)(?![a-z])|(?<![a-z])human (agent|being|please)(?![a-z])|"
    r"(?<![a-z])(talk|speak|chat) (to|with) (a|an|some|your) ?(one|person|human|agent|supervisor|manager)(?![a-z])|"
    r"揾(个|一个)?人(嚟|来|同我|跟我)|"
    # A transfer to a more expert person: "请转接二线技术支持", "转给你们的网络专家".
    r"(转接|转给|转到|接到|接给)(.{0,8})(二线|专家|专员|技术人员|技术支持|工程师)(?!.{0,3}(上门|来修|来家))|"
    # "让客服来跟我说": in a chat with the bot, a request for the people behind it.
    r"(找|叫|要|让|喊|换)(个|一个)?(真的|正经的?)?客服(来|出来|过来|跟我|和我|同我)",
    "要求人工服务",
)
# "You" as customers across the country write it: 恁 (Henan, Shandong), 侬 (Shanghai), 你哋 (Cantonese).
_YOU = r"你们|恁们|恁|你哋|侬|您|你"
_BOSS = (
    r"(值班|客服|技术)?(主管|主关|(?<!客户)经理|(?<!客户)经里|领导|负责人|上级|老板|老总|店长|主任|值班长|班长|管事的|"
    r"能管事的|当官的|说了算的|能拍板的|头儿|头头|头家)"
)
SUPERVISOR = (
    rf"(找|揾|寻|叫|要|让|喊|请|换|给我|接通|转接|联系|要求|投诉到)(一下)?({_YOU}|他们|佢哋|他|她)?(的|嘅)?(营业厅|店里)?(的|嘅)?{_BOSS}"
    rf"|(和|跟|同)({_YOU})(的|嘅)?(营业厅|店里)?(的|嘅)?{_BOSS}"
    rf"|{_BOSS}(呢|在哪|出来|出嚟|来|嚟|说话|通话|对话|的电话|的名字|名字|电话|是谁)|把(你们)?(的)?{_BOSS}(叫|喊|请|找)"
    r"|投诉升级|升级(投诉|处理)|越级投诉|把(这个)?投诉升级|不接受(这个|你们的)?处理结果"
    r"|往上(报|提交|递交)|交给(更高|上)一级|(更高|上)一级(的)?(部门|领导|单位)|上级部门",
    "要求主管或投诉升级",
)
REGULATOR = (
    r"工信部|工信布|工业和信息化部|(?<!\d)(12300|12345|12315)(?!\d)|市长热线|通管局|通关局|通信管理局|电信管理局|消协|消费者协会|"
    r"市场监管|(?<!多|自|流|融)媒体|曝光|记者|电视台|报社|找报纸|上报纸|爆料|消委会|(微博|抖音|快手|小红书|网上|朋友圈)上?(发帖|曝|挂)|(发|挂|曝|放)到?(微博|抖音|快手|小红书|网上|朋友圈)|律师|起诉|(去|上|告到|告上|到|找)法院|法院见|打官司|仲裁|(?<![没未不])报警(?!器|系统|装置|功能|信息|短信)|"
    r"(总部|集团|省公司)(去)?投诉|投诉到(你们)?(集团|总部|省公司)|往上(反映|投诉)|实名举报|"
    # Where else Chinese customers take a grievance: petitions, the consumer platforms, suing.
    r"信访|上访|黑猫投诉|(?<!\d)315(晚会|平台|热线|投诉)|领导留言板|人民网留言|"
    r"(我要|我就|我去|去|就去|要去|我会)告(你们|你|死你们|到底)|告到(你们)?(倒闭|关门|底)",
    "表示将向监管部门、媒体或法律途径反映",
)
SIGNALS: Tuple[Tuple[str, str], ...] = (REGULATOR, SUPERVISOR, HUMAN)
_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), reason) for pattern, reason in SIGNALS)


# Words about a person that are not a request for one: "不用转人工", "按了十分钟都转不到人工",
# "一直提示坐席忙", "人工客服根本打不通", "人工根本接不进去" (the hotline failing is a complaint, not an
# escalation).
NOT_A_REQUEST = re.compile(
    r"(不用|不要|不需要|无需|别|没必要|用不着)(帮我|给我)?(转|找|接)?(人工|真人|坐席)"
    # Asking what the assistant is ("你是真人吗", "是人工还是机器人在回复"): a question, not a request.
    r"|(你|您)(是|到底是|究竟是)(不是)?(真人|活人|人工|真的人)(吗|么|啊|呀|嘛|还是)"
    r"|(是)?(真人|人工|活人)还是机器人?|(是)?机器人?还是(真人|人工|活人)"
    r"|(找不到|转不到|转不了|接不通|打不通|没人接|排不上|等不到|找不着|按不到|听不到|接不进|打不进|转不进|进不了)(.{0,6})(人工|真人|坐席)"
    r"|(人工|坐席)(客服|服务|热线|电话)?(的)?(.{0,6})(打不通|没人接|没有人接|没人理|接不通|接不进|打不进|转不进|转不过去|进不去|"
    r"占线|排队|忙|要等|等了|option|选项)"
)


# ... unless the customer asks in so many words: "帮我转人工，电话一直没人接".
EXPLICIT_REQUEST = re.compile(r"(帮我|给我|我要|我想|请|麻烦|快)(转|找|接|要|换)?(个|一个)?(人工|真人)(?!.{0,2}(打不通|没人接))")


def explicit_request(text: str) -> bool:
    """A request for a person in so many words ("帮我转人工"), whatever else the message says."""
    return bool(EXPLICIT_REQUEST.search(simplified(text or "")))


def signal(text: str) -> Optional[str]:
    """The reason the message is an escalation request, or None (Traditional characters read as
    Simplified: 轉人工 is 转人工)."""
    text = simplified(text or "")
    if explicit_request(text):
        return HUMAN[1]
    text = NOT_A_REQUEST.sub(" ", text or "")
    for pattern, reason in _COMPILED:
        if pattern.search(text):
            return reason
    return None
