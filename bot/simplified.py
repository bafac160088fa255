"""Traditional Chinese read as Simplified, for the classifier and the rules only.

Customers from Hong Kong, Macau and Taiwan, and anyone whose phone keyboard is set to Traditional
characters, write 轉人工, 寬頻斷線, 點解扣咗我咁多錢. The training data and every rule are written in
Simplified characters, so to the classifier such a message is mostly unknown characters and to the
rules 轉 is not 转. OpenCC (the conversion tables Chinese input methods and Wikipedia use) maps them
onto the characters we know.

Character by character, and only characters that are not Simplified themselves: OpenCC's ``t2s``
reads some Simplified characters as Traditional variants of others (坏 as 坯, as in "打坏" becoming
"打坯"), which would garble the Simplified text nearly every customer writes. A character that has a
Traditional form of its own (坏 → 壞) is therefore kept, and so is one whose Simplified form lies
outside the Basic Multilingual Plane (嗰 stays 嗰). One character for one keeps the length, so token
offsets still fit the original text.

What the customer wrote is never changed: tickets, transcripts and the agent's console keep the
original text. Only the features the NLU reads (nlu/tokenizer.py, nlu/linear.py) and the escalation
rules (bot/escalation.py) see the converted text.
"""

from __future__ import annotations

import functools
from typing import Dict

# Where CJK characters live: the unified ideographs, extension A and the compatibility ideographs.
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))


@functools.lru_cache(maxsize=1)
def _table() -> Dict[int, str]:
    """Built on first use (about 0.1 s), not at import time."""
    import opencc

    to_simplified, to_traditional = opencc.OpenCC("t2s.json"), opencc.OpenCC("s2t.json")
    table: Dict[int, str] = {}
    for low, high in _CJK_RANGES:
        for point in range(low, high + 1):
            char = chr(point)
            reading = to_simplified.convert(char)
            if (len(reading) == 1 and reading != char and ord(reading) < 0x10000
                    and to_traditional.convert(char) == char):
                table[point] = reading
    return table


def simplified(text: str) -> str:
    """`text` with Traditional characters written as Simplified ones; ASCII comes back as it is."""
    if not text or text.isascii():
        return text or ""
    return text.translate(_table())
