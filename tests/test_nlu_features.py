"""The linear classifier's feature preprocessing: emoji spelt out, pinyin typed without converting."""

import pytest

from nlu.linear import text_part, typed_pinyin


@pytest.mark.parametrize(
    "typed, syllables",
    [
        ("nihao", ["ni", "hao"]),
        ("zhuan rengong", ["zhuan", "ren", "gong"]),
        ("宽带 kuandai duanle 了", ["kuan", "dai", "duan", "le"]),
        ("XieXie", []),  # text_part lower-cases first; typed_pinyin sees what the vectorizer sees
        ("wifi ok app hello 886", []),  # Latin that is not pinyin throughout gives nothing
    ],
)
def test_typed_pinyin(typed, syllables):
    assert typed_pinyin(typed) == syllables


def test_typed_pinyin_after_lower_casing():
    assert typed_pinyin(text_part("XieXie")) == ["xie", "xie"]


@pytest.mark.parametrize("reply, words", [("❌", "叉号"), ("好的👌", "好的"), ("🙅", "禁止")])
def test_emoji_are_spelt_out(reply, words):
    spelt = text_part(reply)
    assert words in spelt and not any(ord(c) > 0x2000 and not ("\u4e00" <= c <= "\u9fff") for c in spelt.strip())
