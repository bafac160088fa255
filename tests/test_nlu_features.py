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


def test_scorer_equals_sklearn_predict_proba():
    """The serving path's own tf-idf and one-vs-rest arithmetic gives sklearn's probabilities."""
    import numpy as np
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.constants import TEXT

    from nlu.linear import build_model, feature_input
    from nlu.scoring import Scorer

    texts = {
        "consult": ["帮我查下话费", "怎么办宽带", "流量还剩多少", "营业厅几点关门", "5G套餐有哪些"],
        "complain_network": ["宽带又断了", "家里没信号", "网速慢死了", "打电话老掉线", "光猫LOS红灯 网断了"],
        "complain_billing": ["乱扣我话费", "多收了我三十块", "没订的会员扣钱", "账单不对", "说好58怎么收88"],
        "affirm": ["好的", "嗯", "可以", "对", "行"],
    }
    inputs, labels = [], []
    for label, lines in texts.items():
        for line in lines:
            inputs.append(feature_input(Message(data={TEXT: line})) + "\x1f".join(line))
            labels.append(label)
    model = build_model(10.0).fit(inputs, labels)
    scorer = Scorer(model)
    probes = inputs + [feature_input(Message(data={TEXT: t})) for t in ["話費怎麼多了", "ok 👌", "zzz", "", "宽带 kuandai 断了"]]
    expected = model.predict_proba(probes)
    for packed, row in zip(probes, expected):
        got = scorer.probabilities(*scorer.columns(packed))
        assert np.allclose(got, row, atol=1e-12), packed
    # No feature at all: the intercepts alone, as sklearn does.
    columns, values = scorer.columns(feature_input(Message(data={TEXT: "зzж"})))
    assert np.allclose(scorer.probabilities(columns, values), model.predict_proba([feature_input(Message(data={TEXT: "зzж"}))])[0])
