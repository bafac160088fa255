"""Parsing and cleaning of what customers write: phone numbers, descriptions, masking for logs."""

from __future__ import annotations

import re
import unicodedata
from typing import Optional

from bot import ticket_numbers
from bot.clock import beijing_time, iso  # noqa: F401 - re-exported: callers import them from here

# Mainland mobile numbers, optionally with +86 and separators: 13812345678, 138 1234 5678, +86-138-1234-5678.
# The NLU regex entity `phone_number` uses PHONE_PATTERN (the compact form).
PHONE_PATTERN = r"1[3-9]\d{9}"
_PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
PHONE_NUMBER = _PHONE
_ID_CARD = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")

MAX_DESCRIPTION = 4000
# Longest message a channel accepts; longer ones get a clear answer asking to split them.
MAX_MESSAGE_CHARS = 5000

# Words that carry no facts of their own: "我要投诉网络问题" says nothing about what happened.
_FILLER = re.compile(
    r"我们|我要|我想|我|要|想|投诉|举报|反映|反馈|申请|一下|你们|你|这个|那个|问题|情况|事情|"
    r"网络|宽带|话费|账单|资费|业务|办理|服务|其他|其它|态度|客服|帮忙|帮我|处理|请|麻烦|"
    r"的|啊|吧|呢|关于"
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


# Numbers read out digit by digit, as voice input writes them: 一三八一二三四五六七八九, 幺三八…,
# also mixed with figures (一八九 1234 5678) or typed one digit at a time (1 3 9 0 5 5 5 1 2 3 4).
_SPOKEN_RUN = re.compile(r"[零〇一二三四五六七八九幺0-9](?:[ -]?[零〇一二三四五六七八九幺0-9]){6,}")
_SPOKEN_DIGITS = str.maketrans("零〇一二三四五六七八九幺", "001234567891")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_SEPARATORS = re.compile(r"[ -]")


def _as_figures(run: str) -> str:
    figures = run.translate(_SPOKEN_DIGITS)
    digits = _SEPARATORS.sub("", figures)
    # Eleven digits (thirteen with 86) however they were spaced are one number; a longer run may be
    # two numbers side by side, whose spaces are kept.
    return digits if len(digits) in (11, 13) else figures


def spoken_digits(text: str) -> str:
    """Runs of seven or more digits said aloud or typed apart (single spaces or hyphens between them
    allowed: 一三九 零七八一 二二六五, １３９…) written as figures, a phone number said aloud; shorter
    runs are left alone, they are words (一一, 三五天)."""
    return _SPOKEN_RUN.sub(lambda m: _as_figures(m.group(0)), (text or "").translate(_FULL_WIDTH_DIGITS))


def find_phone(text: str) -> Optional[str]:
    """The first mainland mobile number in the text (in figures or read out), digits only."""
    match = _PHONE.search(spoken_digits(text))
    return "".join(match.groups()) if match else None


def is_valid_phone(value: str) -> bool:
    return bool(re.fullmatch(PHONE_PATTERN, value or ""))


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678; no number at all -> 未提供 (not ***, which reads as "on file but hidden")."""
    if not phone:
        return "未提供"
    if len(phone) < 7:
        return "***"
    return f"{phone[:3]}****{phone[-4:]}"


# A landline with its area code: 0571-88886666, 010 6666 8888, 057188886666.
_LANDLINE = re.compile(r"(0\d{2,3})[\s-]?(\d{3,4})[\s-]?(\d{4})")


LANDLINE_IN_TEXT = _LANDLINE_IN_TEXT = re.compile(r"(?<![0-9])(0\d{2,3})[\s-]?(\d{3,4})[\s-]?(\d{4})(?![0-9])")


def find_landline(text: str) -> Optional[str]:
    """The first landline with its area code in a message ("我只有座机 010-62345678"), written as
    staff keep it (010-62345678); None when there is none. Elderly customers often have no mobile."""
    for match in _LANDLINE_IN_TEXT.finditer(spoken_digits(text)):
        written = _landline("".join(match.groups()))
        if written:
            return written
    return None


def _landline(digits: str) -> Optional[str]:
    """0106234567 8 -> 010-62345678: Beijing, Shanghai, Tianjin, Chongqing and the 02x cities have
    three-digit area codes, the rest four; the local number has seven or eight digits."""
    area = digits[:3] if digits[1] in "12" else digits[:4]
    local = digits[len(area):]
    return f"{area}-{local}" if 7 <= len(local) <= 8 else None


def is_valid_contact_phone(value: str) -> bool:
    """A mainland mobile (digits only) or a landline as `contact_phone_from` writes it."""
    return bool(value) and contact_phone_from(value) == value


def contact_phone_from(value: str) -> Optional[str]:
    """A contact phone as staff type it: a mainland mobile (digits only) or a landline with its area
    code (kept as 0571-88886666); None when it is neither."""
    value = (value or "").strip()
    mobile = _PHONE.fullmatch(value)
    if mobile:
        return "".join(mobile.groups())
    landline = _LANDLINE.fullmatch(value)
    if landline and 10 <= len("".join(landline.groups())) <= 12:
        return _landline("".join(landline.groups()))
    return None


# A name the customer introduces: 我叫张三, 我是李四，…, 姓名：王五, 联系人 赵六, 名字叫孙七, 我姓周.
# Conservative: only right after these phrases, and 我是 only when a short word ends there (我是张三，
# but not 我是移动老用户). Names elsewhere in free text are not recognised.
_NAME_AFTER = re.compile(
    r"(?P<lead>我叫|叫我|我的名字是|名字是|名字叫|我姓|(?:客户|用户|机主)?(?:姓名|联系人|称呼)(?:是|为)?)"
    r"(?P<sep>[\s:：]*)(?P<name>[\u4e00-\u9fff·]{1,4})"
)
_NAME_AFTER_I_AM = re.compile(r"(?P<lead>我是)(?P<sep>\s*)(?P<name>[\u4e00-\u9fff]{2,3})(?=$|[\s，,。.！!？?；;、：:（(]|电话|手机|号码)")


def mask_names(text: str) -> str:
    """Mask a name that follows an introduction phrase (我叫张三 -> 我叫**)."""

    def hide(match: "re.Match[str]") -> str:
        return match.group("lead") + match.group("sep") + "*" * len(match.group("name"))

    return _NAME_AFTER_I_AM.sub(hide, _NAME_AFTER.sub(hide, text))


def mask_personal_data(text: str) -> str:
    """Mask phone and ID-card numbers, and introduced names, in free text before it reaches a log."""
    text = _ID_CARD.sub(lambda m: m.group(0)[:4] + "*" * 10 + m.group(0)[-4:], text)
    text = _PHONE.sub(lambda m: mask_phone("".join(m.groups())), spoken_digits(text))
    text = _LANDLINE_IN_TEXT.sub(_masked_landline, text)  # a contact number too since the bot keeps landlines
    return mask_names(text)


def _masked_landline(match: "re.Match[str]") -> str:
    written = _landline("".join(match.groups()))
    return mask_phone(written) if written else match.group(0)


# Nothing to see: controls, format characters (zero-width spaces, byte-order marks, bidirectional
# overrides), lone surrogates, unassigned code points, separators, combining marks on nothing.
_INVISIBLE = {"Cc", "Cf", "Cs", "Cn", "Zs", "Zl", "Zp", "Mn", "Mc", "Me"}


def is_blank(text: Optional[str]) -> bool:
    """True when a message shows nothing at all (str.strip() keeps U+200B, U+FEFF, U+202E, ...)."""
    return all(unicodedata.category(c) in _INVISIBLE for c in text or "")


def clean(text: Optional[str]) -> str:
    """Trim and collapse runs of whitespace; never None."""
    return re.sub(r"\s+", " ", (text or "")).strip()


def substance(text: str) -> str:
    """What is left of a message once filler words, phone numbers and punctuation are removed."""
    text = _PHONE.sub("", spoken_digits(text))
    text = _NON_WORD.sub("", text)
    return _FILLER.sub("", text)


def is_vague(description: str) -> bool:
    """True when the message says *that* the customer complains but not *what* happened."""
    return len(substance(description)) < 2


def description_from(text: str) -> str:
    """A complaint description as stored: cleaned and bounded (the full text stays in the transcript)."""
    cleaned = clean(text)
    if len(cleaned) > MAX_DESCRIPTION:
        cleaned = cleaned[: MAX_DESCRIPTION - 1] + "…"
    return cleaned


_SUPPLEMENT_PREFIX = re.compile(
    r"^\s*(?:[我想要再还]*(?:补充|追加|再说|加)(?:一下|一点|点|一句|几句|说明|情况|信息|内容|下)*"
    r"|(?:刚才|之前|上次)?(?:那个|的)?(?:投诉|工单|单子)(?:再)?(?:补充|追加|加)(?:一下|一点|点|一句|说明|下)*)"
    r"\s*[:：,，。.、\s]*"
)


def supplement_content(text: str) -> str:
    """The information a customer adds, without the "补充一下：" lead-in and the ticket number."""
    text = clean(text)
    number = ticket_numbers.find(text)
    if number:
        text = re.sub(ticket_numbers.PATTERN, " ", text, flags=re.IGNORECASE)
        text = re.sub(r"^\s*(?:工单|单号|投诉单|编号)?\s*", "", text)
    text = _SUPPLEMENT_PREFIX.sub("", clean(text), count=1)
    return clean(text)


# Answers to a yes/no question (the complaint confirmation). A closed question gets a closed
# vocabulary, so "嗯嗯" or "对的" confirm whatever the intent classifier makes of two characters.
_YES = {
    "是", "是的", "是滴", "是啊", "对", "对的", "对对", "对对对", "对啊", "嗯", "嗯嗯", "嗯呢", "恩", "恩恩", "好", "好的",
    "好滴", "好嘞", "好啊", "行", "行的", "可以", "可以的", "没问题", "没错", "确认", "确定", "提交", "确认提交", "ok",
    "okay", "okk", "yes", "yep", "y", "1",
}
_NO = {
    "不", "不是", "不对", "不用", "不用了", "不要", "不要了", "算了", "算了吧", "取消", "否", "错了", "不提交", "先不",
    "先不用", "no", "nope", "n", "2",
}


def yes_or_no(text: str) -> Optional[bool]:
    """True/False for a plain yes or no, None for anything else."""
    word = _NON_WORD.sub("", clean(text)).lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None
