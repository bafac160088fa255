"""Deterministic noise: what real chat input does to a clean sentence.

Customers type on phones with pinyin input methods, dictate through speech-to-text, write in
dialect, mix in English and emoji, and hammer the punctuation keys. A classifier trained only on
clean sentences is brittle on all of that, so every generated variant goes through 0-2 of the noise
functions below. Each function takes the text and a seeded ``random.Random`` and returns the new
text, or ``None`` when it does not apply (then another one is tried); nothing here reads global
random state, so the output depends only on the seed.

The kinds are named so that a template can restrict them: a one-word "好的" must not get a
speech-recognition restart, and a greeting must not get an angry emoji.
"""

from __future__ import annotations

import random
import re
import unicodedata
from typing import Callable, Dict, List, Optional, Sequence, Tuple

# --- typos and homophones (pinyin input picks the wrong candidate) ----------------------------

#: (correct, [typos]); only the first occurrence is replaced.
HOMOPHONES: List[Tuple[str, List[str]]] = [
    ("流量", ["刘量", "流亮", "流浪"]),
    ("宽带", ["宽代", "款带"]),
    ("套餐", ["套参", "套惨"]),
    ("话费", ["话废", "话非"]),
    ("信号", ["信后"]),
    ("营业厅", ["营业听", "营业亭"]),
    ("发票", ["发漂"]),
    ("账单", ["帐单"]),
    ("充值", ["冲值"]),
    ("在吗", ["在嘛", "在么"]),
    ("投诉", ["投述"]),
    ("密码", ["秘码"]),
    ("退款", ["退宽"]),
    ("漫游", ["慢游"]),
    ("携号转网", ["携号专网", "鞋号转网"]),
    ("已经", ["以经"]),
    ("怎么", ["怎莫"]),
    ("师傅", ["师父"]),
    ("网速", ["往速"]),
]


def typo(text: str, rng: random.Random) -> Optional[str]:
    """Replace one telecom word by a homophone the pinyin IME offers next to it."""
    present = [(word, typos) for word, typos in HOMOPHONES if word in text]
    if not present:
        return None
    word, typos = rng.choice(present)
    return text.replace(word, rng.choice(typos), 1)


# --- transcript style (speech-to-text, or typing while talking) -------------------------------

FILLERS = ["喂", "嗯", "那个", "就是", "喂喂", "嗯那个", "呃", "然后"]
_PUNCT = "，。！？、,.!?；;：:"
_RESTART_HEADS = ["我想", "我要", "帮我", "你们", "麻烦", "我家", "我那个", "给我", "我的"]


def _drop_punctuation(text: str) -> str:
    out = re.sub(f"[{re.escape(_PUNCT)}]+", " ", text).strip()
    return re.sub(r"\s+", " ", out)


def transcript(text: str, rng: random.Random) -> Optional[str]:
    """Speech-to-text style: no punctuation, a filler (喂/嗯/那个/就是/然后), a restart "我想 我想…"."""
    options: List[Callable[[], Optional[str]]] = []
    if any(p in text for p in _PUNCT):
        options.append(lambda: _drop_punctuation(text))
    options.append(lambda: f"{rng.choice(FILLERS)} {_drop_punctuation(text)}")
    heads = [h for h in _RESTART_HEADS if text.startswith(h)]
    if heads:
        head = heads[0]
        options.append(lambda: f"{head} {_drop_punctuation(text)}")
    return rng.choice(options)()


# --- dialect particles ------------------------------------------------------------------------

_END_PARTICLES = ["嘞", "咯", "哈", "噻"]


def _append_particle(text: str, particle: str) -> str:
    m = re.search(f"[{re.escape(_PUNCT)}]+$", text)
    if m:
        return text[: m.start()] + particle + text[m.start():]
    return text + particle


def _ends_with_emoji(text: str) -> bool:
    return bool(text) and unicodedata.category(text[-1]) == "So"


_ENDS_WITH_PARTICLE = re.compile(f"[吗呢吧啊呀嘛哈啦咯嘞噻呗滴][{re.escape(_PUNCT)}]*$")


def dialect(text: str, rng: random.Random, mood: str = "polite") -> Optional[str]:
    """Northern and south-western colloquial forms: 咋, 啥, 俺, sentence-final 嘞/噻/咯/哈/滴.

    The sentence-final particles soften a request; they read wrong on an angry complaint, so
    angry messages only get the word substitutions.
    """
    options: List[Callable[[], str]] = []
    if "怎么" in text:
        options.append(lambda: text.replace("怎么", "咋", 1))
    if "什么" in text:
        options.append(lambda: text.replace("什么", "啥", 1))
    if re.search(r"^我(?!们)", text):
        options.append(lambda: "俺" + text[1:])
    soft = mood != "angry" and not _ends_with_emoji(text)
    if soft and re.search(r"的([，。！？!?]*)$", text):
        options.append(lambda: re.sub(r"的([，。！？!?]*)$", r"滴\1", text))
    if soft and not _ENDS_WITH_PARTICLE.search(text):
        options.append(lambda: _append_particle(text, rng.choice(_END_PARTICLES)))
    if not options:
        return None
    return rng.choice(options)()


# --- half-English -----------------------------------------------------------------------------

#: (regular expression, [replacements]); only the first match is replaced.
ENGLISH: List[Tuple[str, List[str]]] = [
    (r"查一下", ["check一下"]),
    (r"查下", ["check下"]),
    (r"看一下", ["check一下"]),
    (r"无线网", ["wifi", "WiFi"]),
    (r"WiFi", ["wifi", "wi-fi"]),
    (r"APP", ["app", "App"]),
    (r"^好的", ["ok", "OK", "好的ok"]),
    (r"流量(?=还|用|剩|不够|都|快)", ["data"]),
    (r"账单(?!明细)", ["bill"]),
    (r"谢谢", ["thx", "thanks"]),
    (r"没问题", ["no problem", "np"]),
    (r"再见", ["bye", "拜拜bye"]),
]


def english(text: str, rng: random.Random) -> Optional[str]:
    """Code-switching as younger customers write: check一下, wifi, data, app, ok."""
    present = [(pattern, subs) for pattern, subs in ENGLISH if re.search(pattern, text)]
    if not present:
        return None
    pattern, subs = rng.choice(present)
    return re.sub(pattern, rng.choice(subs), text, count=1)


# --- emoji ------------------------------------------------------------------------------------

#: Emoji by the mood of the label family; "none" for labels where an emoji would mislead.
EMOJI: Dict[str, List[str]] = {
    "angry": ["😡", "😭", "😤", "🤬", "😡😡", "😭😭😭"],
    "greet": ["😊", "👋", "🙂"],
    "polite": ["🙏", "😊", "🙏🙏"],
    "happy": ["👍", "🙏", "😊", "👌", "👍👍"],
    "neutral": ["😂", "🤔", "😅"],
}


def emoji(text: str, rng: random.Random, mood: str = "polite") -> Optional[str]:
    """Append (sometimes prepend) an emoji that fits the mood of the message."""
    choices = EMOJI.get(mood)
    if not choices:
        return None
    e = rng.choice(choices)
    if rng.random() < 0.15:
        return e + text
    return text + e


# --- numbers: digits <-> Chinese numerals -----------------------------------------------------

_DIGITS = "零一二三四五六七八九"
_UNITS_AFTER = "(?:块|元|个|天|号|月|分钟|小时|次|遍|兆|年|岁|多)"


def to_chinese(n: int) -> str:
    """0..9999 as a Chinese numeral the way people write amounts (两百, 一百二十九, 十五)."""
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    out = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = (n // value) % 10
        if d == 0:
            if out:
                zero = True
            continue
        if zero:
            out += "零"
            zero = False
        digit = "两" if d == 2 and unit in ("千", "百") and not out else _DIGITS[d]
        out += digit + unit
    return out


_CN_VALUES = {c: i for i, c in enumerate(_DIGITS)}
_CN_VALUES["两"] = 2


def from_chinese(s: str) -> Optional[int]:
    """Inverse of ``to_chinese`` for the simple forms it produces; None when unsure."""
    if not s:
        return None
    total, current = 0, 0
    for ch in s:
        if ch in _CN_VALUES:
            current = _CN_VALUES[ch]
        elif ch in "十百千":
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (current or 1) * unit
            current = 0
        else:
            return None
    return total + current


def numerals(text: str, rng: random.Random) -> Optional[str]:
    """Rewrite one amount or count: "50块" <-> "五十块", "一百多" <-> "100多".

    Long digit runs (phone numbers, hotlines, ticket numbers) and decimals are never touched.
    """
    spans = []
    for m in re.finditer(rf"(?<![\d.A-Za-z月-])(\d{{1,4}})(?={_UNITS_AFTER})", text):
        spans.append((m.start(1), m.end(1), to_chinese(int(m.group(1)))))
    for m in re.finditer(rf"(?<![零一二两三四五六七八九十百千月])([零一二两三四五六七八九十百千]+)(?={_UNITS_AFTER})", text):
        value = from_chinese(m.group(1))
        if value is not None and value >= 2:
            spans.append((m.start(1), m.end(1), str(value)))
    if not spans:
        return None
    start, end, repl = rng.choice(spans)
    return text[:start] + repl + text[end:]


# --- punctuation width and repetition ---------------------------------------------------------

_FULL_TO_HALF = {"，": ",", "？": "?", "！": "!", "：": ":", "；": ";", "（": "(", "）": ")"}
_HALF_TO_FULL = {v: k for k, v in _FULL_TO_HALF.items()}


def width(text: str, rng: random.Random) -> Optional[str]:
    """Full-width punctuation to half-width or back: phones and PCs disagree."""
    if any(c in text for c in _FULL_TO_HALF):
        return "".join(_FULL_TO_HALF.get(c, c) for c in text)
    if any(c in text for c in ",?!:;"):
        return "".join(_HALF_TO_FULL.get(c, c) if c in ",?!:;" else c for c in text)
    return None


_QUESTION = re.compile(
    r"([吗呢没不][{p}]*$|[？?]$|怎么(?!办事)|咋|什么|啥|多少|几[个天次点号月]|哪|是不是|能不能|有没有|要不要|够不够)".format(p=re.escape(_PUNCT))
)


def repeat(text: str, rng: random.Random) -> Optional[str]:
    """Hammered punctuation: ！！！ for anger and urgency, ？？？ for questions."""
    if _ends_with_emoji(text):
        return None
    base = re.sub(f"[{re.escape(_PUNCT)}]+$", "", text)
    if not base:
        return None
    marks = ["？？？", "??", "？？", "???"] if _QUESTION.search(text) else ["！！！", "!!", "！！", "!!!"]
    return base + rng.choice(marks)


# --- application ------------------------------------------------------------------------------

KINDS: Dict[str, Callable[..., Optional[str]]] = {
    "typo": typo,
    "transcript": transcript,
    "dialect": dialect,
    "english": english,
    "emoji": emoji,
    "numerals": numerals,
    "width": width,
    "repeat": repeat,
}
ALL_KINDS: Tuple[str, ...] = tuple(KINDS)

#: How many noise functions a variant gets: 0-2, with one the most common.
NOISE_COUNTS = [0, 0, 0, 1, 1, 1, 1, 2, 2]


def apply_noise(text: str, rng: random.Random, kinds: Sequence[str], mood: str) -> Tuple[str, List[str]]:
    """Apply 0-2 of the allowed noise kinds; return the new text and the kinds applied."""
    count = rng.choice(NOISE_COUNTS)
    available = [k for k in ALL_KINDS if k in kinds]
    applied: List[str] = []
    for _ in range(count):
        candidates = [k for k in available if k not in applied]
        rng.shuffle(candidates)
        for kind in candidates:
            fn = KINDS[kind]
            new = fn(text, rng, mood) if kind in ("emoji", "dialect") else fn(text, rng)
            if new and new != text:
                text = new
                applied.append(kind)
                break
    return text, applied
