"""How a customer's reply to a question is read: yes, no, "cancel it", a correction, or more facts.

The intent classifier reads a message on its own; a form reads it against the question it just
asked. "不对不对 号码打错了 是139…" at the confirmation step is a correction, not a "no"; "算了不投诉了"
is a wish to cancel, which the form confirms before it drops anything; a sentence with facts sent
when the form asked for a phone number is more description. These readings are vocabulary, not
statistics, so they live here and are tested on their own (tests/test_answers.py).
"""

from __future__ import annotations

import re
from typing import Optional

from bot.categories import Category
from bot.text import PHONE_NUMBER, clean, find_phone, spoken_digits, substance, yes_or_no

# Explicit wishes to stop what is being done. A bare "不" or "不对" is not one of them: at a
# confirmation it means something is wrong, and the customer is asked what.
# Not a complaint at all ("我只是问问，不是要投诉"), or not now ("先不说了 回头再聊", "我再想想").
_NOT_NOW_WORDS = (
    r"不是(要|想|来)?投诉|没(有)?(要|想|说要)投诉|不投诉(?!了吗)|先不说了|(回头|晚点|改天|有空|下次|以后)再(说|聊|弄|投诉)|"
    r"先放着|先放一放|我再想想|再考虑(一下)?"
)
_CANCEL = re.compile(
    r"取消|算了|不登了|不报了|不投诉了?|不想投诉|不要投诉|不用投诉|不登记|别登记|不办了|不弄了|不搞了|不提交|别提交|不用了|不要了|"
    r"不需要了|不用麻烦|先不(用|要|弄|办|提交|投诉|删|查)|没事了|没事儿了|撤销|撤回|放弃|不想(弄|办|删|查)了|不删了?|别删|不查了|不看了|"
    + _NOT_NOW_WORDS
)
_NOT_NOW = re.compile(_NOT_NOW_WORDS)


def not_a_complaint(text: str) -> bool:
    """"不是要投诉，就问问", "先不说了 回头再聊": whatever else the message says, the form asks before
    it drops anything (the rest may be a question, answered after)."""
    return bool(_NOT_NOW.search(clean(text)))
# Words of a correction that carry no facts of their own.
_CORRECTION_WORDS = re.compile(
    r"不对|不是|错了|搞错|打错|写错|输错|弄错|记错|说错|少打|多打|漏打|打漏|少了?一位|多了?一位|一位|号码|电话|手机号?|联系方式|应该|改成|改为|换成|更正|修改|"
    r"重新|是这个|用这个|留这个|这个号|新号|我的|正确的|刚才|上面|那个|不好意思|抱歉|好像|感觉|似乎|不太|不大|有点|"
    r"信息|内容|有误|错误|哦|噢|啊|呀|吧|呢|了|的|是"
)
_WRONG = re.compile(r"不对|不太对|不大对|不是|错了|搞错|弄错|不正确|有误|有问题|你说的|理解错|写错|记错")


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)

# A yes in many words ("嗯呐 提交吧", "好的好的 就这样"): nothing left once these are taken out.
_YES_CORE = re.compile(
    r"是的|是滴|是啊|对的|对啊|对头|对对|没错|没问题|没毛病|可以|行的|好的|好滴|好嘞|好啊|好吧|得嘞|要得|办吧|就这样|"
    r"就这个|确认|确定|提交|ok|okay|yes|yep|嗯+|恩+|好|行|对|是|中|成|妥"
)
_PARTICLES = re.compile(r"吧|啊|哈|呀|了|的|滴|呗|哦|噢|呐|啦")
_YES_WORDS = re.compile(f"{_YES_CORE.pattern}|{_PARTICLES.pattern}")
_YES_SIGNS = {"👌", "👍", "🙆", "✅", "👌🏻", "👍🏻", "ok👌"}


def is_yes(text: str) -> bool:
    """A plain yes, however many words it takes (no negation, nothing else said)."""
    stripped = clean(text).lower()
    if stripped in _YES_SIGNS or yes_or_no(stripped) is True:
        return True
    word = _NON_WORD.sub("", stripped)
    return bool(_YES_CORE.search(word)) and not _YES_WORDS.sub("", word)


# "我没说取消", "别给我取消": the cancel word negated.
_NOT_CANCEL = re.compile(r"(没|没有|别|不要|不用|不是|并没|哪)(说|要|想|给我|帮我)?(过)?(要)?(取消|算了)|不取消")


def is_cancel(text: str) -> bool:
    """The customer wants to stop what the form is doing (to be confirmed before anything is dropped)."""
    cleaned = clean(text)
    return bool(_CANCEL.search(cleaned)) and not _NOT_CANCEL.search(cleaned)


def without_not_cancelling(text: str) -> str:
    return _NOT_CANCEL.sub("", clean(text))


def not_cancelling(text: str) -> bool:
    """"我没说取消", "别给我取消": the customer says they are not cancelling."""
    return bool(_NOT_CANCEL.search(clean(text)))


# "没有要改的", "哦没事 我看错了 是对的": nothing to change at the confirmation, which is a yes.
_NOTHING_TO_CHANGE = re.compile(
    r"没有?(什么|啥)?(要|需要|可)?(改|修改)的?|不用改|不需要改|(是|都|全)对的|都对|看错了|没问题了|信息没错|没错了"
)


def nothing_to_change(text: str) -> bool:
    cleaned = clean(text)
    return len(cleaned) <= 20 and bool(_NOTHING_TO_CHANGE.search(cleaned)) and not find_phone(cleaned)


def is_wrong(text: str) -> bool:
    """The customer says something shown to them is wrong ("不对", "你说的不对", "信息有误")."""
    return bool(_WRONG.search(clean(text)))


def phone_correction(text: str) -> Optional[str]:
    """The phone number in a message that corrects one ("不对 是13912345678"), else None."""
    return find_phone(text or "")


def facts(text: str) -> str:
    """What a message says beyond a yes/no, a correction's own words and a phone number."""
    remainder = PHONE_NUMBER.sub("", spoken_digits(text))
    remainder = _CORRECTION_WORDS.sub("", remainder)
    remainder = re.sub(r"\d+", "", remainder)  # a number alone is not a story
    return _YES_WORDS.sub("", substance(remainder))


def has_facts(text: str, minimum: int = 4) -> bool:
    """Enough words of substance to be worth adding to a complaint's description."""
    return len(facts(text)) >= minimum


def reply_kind(text: str) -> str:
    """'yes', 'no', 'cancel', 'wrong', 'phone' or 'other': the first reading that applies."""
    if phone_correction(text):
        return "phone"
    answer = yes_or_no(text)
    if answer is True or is_yes(text):
        return "yes"
    if is_cancel(text):
        return "cancel"
    if is_wrong(text) and not has_facts(text):
        return "wrong"
    if answer is False:
        return "no"
    return "other"


# "类别不对，应该是资费问题": a correction of the category names the category and says it is one.
_CATEGORY_WORDS = (
    (Category.NETWORK, re.compile(r"网络|信号|网速|断网|宽带故障|上网")),
    (Category.BILLING, re.compile(r"资费|账单|扣费|收费|计费|话费|费用|扣钱|多收")),
    (Category.BUSINESS, re.compile(r"业务办理|办理|业务|携号|销户|安装|开通")),
    (Category.OTHER, re.compile(r"其他|其它|态度|设备|光猫|骚扰|服务")),
)
_CATEGORY_CORRECTION = re.compile(r"类别|类型|分类|属于|应该(是|算)|改成|改为|改回|换成|归到|不是.{0,6}(问题|投诉|类)|算是")


def category_correction(text: str) -> Optional[Category]:
    """The category a short correction asks for ("类别改成资费"), or None."""
    cleaned = clean(text)
    if len(cleaned) > 40 or not _CATEGORY_CORRECTION.search(cleaned):
        return None
    # What the customer says it is not does not count ("不是网络问题，是扣费问题", "热线排队不算网络问题");
    # of the rest, the category named first wins ("类别是其他吧？…").
    positive = _NEGATED.sub(" ", cleaned)
    found = [(m.start(), category) for category, words in _CATEGORY_WORDS for m in [words.search(positive)] if m]
    return min(found, key=lambda pair: pair[0])[1] if found else None


_NEGATED = re.compile(r"(不是|不算|不属于|并非|不应该是|不该是)[^，,。；;？?！!是]{0,10}")


# "还是刚才那个号码", "就用原来的手机号", "号码不变": the contact phone already given stays.
_SAME_PHONE = re.compile(
    r"(刚才|刚刚|之前|上次|上回|前面|原来|以前|一开始|同一个|同样的?|一样的?)(的|那个|那|留的|给的|说的)?(号码|手机号?|电话|号)"
    r"|(号码|手机号?|电话)(不变|不用改|没变|一样|还是那个|照旧)"
)


# Not leaving a number: 不留了, 没有手机只有座机, 不方便给, 在这里回复我就行.
_DECLINE_PHONE = re.compile(
    r"不留|不想留|不方便留|不流了|唔留|唔想留|不(想|愿意|方便)?给(你们?)?(号码|电话|手机号|联系方式)|没有手机|没手机|只有座机|"
    r"不方便说|直接(转|接)|就在这(里|儿)?(说|聊|回)|在这里回复|别打电话|不要打电话|不想接电话|"
    r"^(我|就|我就|偏)?(不给|不想给|不方便|不愿意)(你们?)?了?[!！。~～?？]*$|凭(什么|啥)(要)?给你"  # "不给！！！", "凭什么给你电话" (not "又不给我退钱")
)


def declines_phone(text: str) -> bool:
    """The customer will not (or cannot) leave a mobile number."""
    return bool(_DECLINE_PHONE.search(clean(text))) and not find_phone(text)


def without_decline(text: str) -> str:
    """The message without its words about not leaving a number (what is left may be more story)."""
    return _DECLINE_PHONE.sub("", clean(text))


def same_phone(text: str) -> bool:
    """The customer says to keep the phone number they gave before (no new number in the message)."""
    cleaned = clean(text)
    return len(cleaned) <= 20 and not find_phone(cleaned) and bool(_SAME_PHONE.search(cleaned))


def category_named(text: str) -> Optional[Category]:
    """The complaint category a short answer names ("网络", "扣费的事"), or None; "other" is never
    guessed from words like 服务, which every complaint uses."""
    cleaned = clean(text)
    for category, words in _CATEGORY_WORDS:
        if category is not Category.OTHER and words.search(cleaned):
            return category
    return None


_EMPTY_WORDS = re.compile(r"就是|然后|嗯+|恩+|呃+|额+|啊+|哦+|那|这|个|就|是|吧|呢|哈|呀|么|吗")


def is_vague_description(text: str) -> bool:
    """Says *that* something is wrong but not *what* ("我要投诉", "就是那个", "嗯…")."""
    return len(_EMPTY_WORDS.sub("", substance(text))) < 2


# "等一下", "稍等 我找找": the customer needs a moment; nothing is asked or answered yet.
_WAIT = re.compile(
    r"(好的?|嗯|那|ok|OK)?[，, ]?(等一下|等下|等一等|稍等|等等|等会儿?|等一会儿?|稍等一下|等我一下|等我下|稍等片刻|我找找|我找一下|我看看|"
    r"我看一下|我查一下|我想想|我翻一下|我去看看)(哈|啊|哦|嗯|呀|片刻|一下)?[，, ]?"
    r"(我(去|再)?(找|看|拿|查|翻|问|发|试|想|问问|找找|看看|查查)[^，。,.?？]{0,10}|我?马上(发|回来|找)?|我?就回来)?[。.!！~～…]*"
)


def is_wait(text: str) -> bool:
    """A request to wait a moment ("稍等", "等下 我找找单号"), with nothing else said."""
    return bool(_WAIT.fullmatch(clean(text)))


# A ticket already filed: its call-back number changed ("电话留错了 正确的是139…"), or withdrawn.
_PHONE_CHANGE = re.compile(
    r"(电话|号码|手机号|联系方式)[^，。,.]{0,6}(留错|写错|打错|输错|填错|错了|不对|改|换|更正)|"
    r"(留错|写错|打错|输错|填错|改|换|更正)[^，。,.]{0,6}(电话|号码|手机号|联系方式)|正确的(号码|电话|手机号)?是|"
    r"(打|联系|找|回)我(这个|这)个?(号|电话|手机)|还是留一个|(联系|回拨|回电)(电话|号码)(是|用)|"
    r"(改成|换成|改为|更正为)[^，。,.]{0,3}(1[3-9]|0\d)|座机[^，。,.]{0,4}(可以|也行|是|打)"
)
_WITHDRAW = re.compile(
    r"(撤销|撤回|撤掉|撤了|取消|作废)[^，。,.]{0,3}(投诉|工单|这个单|单子)|"
    r"(投诉|工单|单子)[^，。,.]{0,4}(撤销|撤回|撤了|撤掉|取消|不用处理|不需要处理|作废)|撤诉"
)


def changes_phone(text: str) -> bool:
    """The customer says the number on file is wrong or should change (with or without the new one)."""
    return bool(_PHONE_CHANGE.search(clean(text)))


def withdraws(text: str) -> bool:
    """The customer wants a complaint already filed withdrawn ("投诉撤了吧 不用处理了")."""
    return bool(_WITHDRAW.search(clean(text)))


# "算了 不要人工了 不用给我回电话": the request for a person (a call-back) is withdrawn.
_NO_HUMAN = re.compile(
    r"(不要|不用|不需要|别|取消|不想|不找)(再)?(转|找)?(人工|真人|客服|回电)|不用(给我)?(回电话|回电|打电话|打给我|联系我)|"
    r"(人工|回电|回访)[^，。,.]{0,4}(不用了|不要了|取消)"
)

_WANTS_HUMAN = re.compile(r"(?<![不别])(要|找)(转)?人工|(?<!不要)(?<!不用)(?<![不别])转人工|还是(要|找)?人工")


def withdraws_human(text: str) -> bool:
    """The customer takes back a request for a person; "不要机器人 要人工" is not one."""
    cleaned = clean(text)
    return bool(_NO_HUMAN.search(cleaned)) and not _WANTS_HUMAN.search(cleaned)


# "人工还会给我打电话吗", "客服几点打给我": a question about the call-back, not a new request for one.
_ABOUT_CALL_BACK = re.compile(
    r"(还会|会不会|会|几点|什么时候|啥时候|多久|哪天)[^，。,.]{0,6}(打电话|来电话|回电|回电话|联系我|打给我|打我电话)[^，。,.]{0,4}(吗|么|嘛|呢|\?|？|$)|"
    r"(打|回)(哪个|几号|什么)(号码?|电话)"
)


def asks_about_call_back(text: str) -> bool:
    return bool(_ABOUT_CALL_BACK.search(clean(text)))
