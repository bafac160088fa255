"""Shared word lists the templates draw their slots from.

The lists are ordinary Python lists (never sets) so that the generator's choices depend only on
the fixed seed and not on PYTHONHASHSEED. Entries are what customers actually type: plan names as
the adverts and bills spell them, amounts both in digits and in Chinese numerals, places down to
the estate, the floor and the car park, vague and exact times.

A template refers to a list by its key in ``LEXICON``; a template's own ``slots`` take precedence,
so a per-template list can narrow or replace a shared one where the shared one would not read well.
"""

from __future__ import annotations

import random
from typing import Any, Dict

# --- requests ---------------------------------------------------------------------------------

#: Openers of a self-service command. Customers write these far more often than "请问…怎么…".
PLEASE = ["帮我", "麻烦帮我", "给我", "你帮我", "请帮我", "麻烦你帮我", "快帮我"]
#: "have a look" verbs that follow PLEASE.
LOOK = ["看看", "查查", "查一下", "看一下", "查下", "看下"]
#: Sentence-final softeners of a request.
PARTICLE = ["", "", "吧", "呗", "啊", "哈"]
#: "I want to …" openers.
WANT = ["我想", "我要", "我想要", "想"]

# --- products -------------------------------------------------------------------------------

#: Mobile plans by the name customers read on adverts and bills.
PLANS = [
    "畅享套餐", "5G套餐", "无限流量套餐", "39元套餐", "59元的套餐", "129元套餐", "199元套餐",
    "畅享129", "5G畅享199", "融合套餐", "大流量卡", "29元的保号套餐", "校园卡套餐", "长辈套餐",
]
#: Plans referred to by price only ("就要月费一百多那个").
PLAN_PRICES = [
    "39的", "59块的", "一百多的", "129的", "199那个", "月费一百多", "三十九块", "五十九", "七八十块", "最便宜",
]
#: Broadband speeds and products.
BROADBAND = ["千兆宽带", "100M宽带", "300M的宽带", "500M宽带", "千兆的", "两百兆宽带", "融合宽带"]

#: Value-added services, the usual suspects of 乱扣费.
VAS = ["视频会员", "彩铃", "视频彩铃", "游戏包", "阅读包", "音乐包", "来电提醒", "手机报", "流量加油包", "云盘会员"]

#: Call features (consult/call_features).
CALL_FEATURES = ["来电显示", "呼叫转移", "呼叫等待", "骚扰电话拦截", "国际长途", "语音信箱"]

# --- money ----------------------------------------------------------------------------------

#: Amounts as customers write them: digits, Chinese numerals, approximations, decimals.
AMOUNTS = [
    "50块", "五十块", "一百多", "129元", "12.5元", "38块", "两百多", "二十块", "15元", "9块9",
    "三十多块", "80块钱", "一百二", "300块", "六十多", "25块",
]
#: Top-up amounts (round numbers).
TOPUP = ["50块", "一百块", "100", "五十", "200块", "30块钱", "两百"]

# --- places ---------------------------------------------------------------------------------

CITIES = ["北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "西安", "郑州", "长沙", "南京", "重庆", "昆明", "合肥"]
DISTRICTS = ["朝阳区", "海淀区", "浦东", "天河区", "武侯区", "西湖区", "江夏区", "雁塔区", "金水区", "雨花区", "高新区", "经开区"]
ESTATES = [
    "阳光花园", "幸福里小区", "锦绣家园", "翠湖苑", "东方名城", "滨江一号", "和平新村", "金色港湾", "绿地世纪城",
    "碧桂园", "万科城", "红星小区",
]
BUILDINGS = ["3号楼", "12栋", "5单元", "18楼", "顶楼", "一楼", "7号楼2单元", "B座"]
#: Spots where the signal is typically bad.
SPOTS = ["地下车库", "电梯里", "卧室", "厨房", "阳台", "楼道里", "村里", "老家", "办公室", "地下室", "公司楼里", "厕所"]
COUNTRIES = ["日本", "泰国", "香港", "澳门", "韩国", "新加坡", "美国", "欧洲", "马来西亚", "越南"]

# --- time -----------------------------------------------------------------------------------

#: Points in the past.
PAST = ["昨晚", "昨天下午", "今天早上", "上周三", "前天", "3月12号", "周末", "刚才", "上个月", "上礼拜", "前几天", "10号"]
#: Durations that make a complaint sound long-standing ("一个星期了").
DURATION = ["这两天", "一个星期了", "三天了", "半个月了", "好几天了", "一整天了", "两天了", "快一个月了"]
#: Recurring periods.
RECURRING = ["晚上八点以后", "一到晚上", "一下雨", "每天晚上", "高峰期", "周末", "每天下午"]
#: Billing periods.
PERIOD = ["这个月", "本月", "上个月", "这个月到现在"]
#: The future, for trips and appointments.
FUTURE = ["下周", "下个月", "过两天", "国庆", "月底", "春节"]

# --- people and devices ---------------------------------------------------------------------

#: Family members, with the pronoun that refers back to them.
FAMILY = ["我妈", "我爸", "家里老人", "孩子", "我老婆", "我老公", "我奶奶", "我爷爷"]
FAMILY_PRONOUN = [
    ("我妈", "她"), ("我爸", "他"), ("家里老人", "老人家"), ("我奶奶", "她"), ("我爷爷", "他"), ("孩子", "孩子"),
]
#: Operator-supplied devices (a fault in one of them is complain_other, not complain_network).
OPERATOR_DEVICES = ["光猫", "路由器", "机顶盒"]
#: Customer devices.
USER_DEVICES = ["手机", "手表", "平板", "老人机"]
PHONES = ["华为Mate60", "苹果13", "小米14", "荣耀X50", "OPPO手机", "vivo的手机", "iPhone 15"]

#: Hotlines customers quote (the operator's own and the big three's).
HOTLINES = ["10086", "10000", "10010", "10088", "客服热线"]

#: Phone numbers for contact details and lookups (valid mainland mobile numbers).
PHONE_NUMBERS = ["13812345678", "15920348817", "18677120934", "13705516248", "17731298806", "19903872145"]

# --- generated identifiers ------------------------------------------------------------------

#: Characters of the random part of a ticket number (Crockford base32: no I, L, O, U), as in
#: bot/ticket_numbers.py and the ticket_id regex in nlu/data/entities.yml.
_TICKET_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ticket_id(rng: random.Random) -> str:
    """A ticket number in one of the spellings customers paste: TS261105-Q7HX2M9K, ts261105q7hx2m9k."""
    day = f"26{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    tail = "".join(rng.choice(_TICKET_ALPHABET) for _ in range(8))
    text = f"TS{day}{rng.choice(['-', '-', ''])}{tail}"
    return text.lower() if rng.random() < 0.3 else text


_MASH_ROWS = ["asdfghjkl", "qwertyuiop", "zxcvbnm", "jkl;", "hjkl"]


def keyboard_mash(rng: random.Random) -> str:
    """What a cat or a pocket types: a run along one keyboard row, sometimes repeated."""
    row = rng.choice(_MASH_ROWS)
    start = rng.randrange(len(row) - 2)
    run = row[start:start + rng.randint(3, len(row) - start)]
    return run * rng.choice([1, 2, 2, 3])


LEXICON: Dict[str, Any] = {
    "please": PLEASE,
    "look": LOOK,
    "particle": PARTICLE,
    "want": WANT,
    "plan": PLANS,
    "plan_price": PLAN_PRICES,
    "broadband": BROADBAND,
    "vas": VAS,
    "call_feature": CALL_FEATURES,
    "amount": AMOUNTS,
    "topup": TOPUP,
    "city": CITIES,
    "district": DISTRICTS,
    "estate": ESTATES,
    "building": BUILDINGS,
    "spot": SPOTS,
    "country": COUNTRIES,
    "past": PAST,
    "duration": DURATION,
    "recurring": RECURRING,
    "period": PERIOD,
    "future": FUTURE,
    "family": FAMILY,
    "family,pron": FAMILY_PRONOUN,
    "device": OPERATOR_DEVICES,
    "user_device": USER_DEVICES,
    "phone": PHONES,
    "hotline": HOTLINES,
    "phone_number": PHONE_NUMBERS,
    "ticket": ticket_id,
    "mash": keyboard_mash,
}
