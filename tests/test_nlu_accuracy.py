"""Accuracy floors on the held-out sets (nlu/heldout/, never trained on; `make eval` prints the figures).

The floors sit a little below the measured figures, so that a change to the data or the model that
makes customers less understood goes red; the targets themselves are checked by `make eval`.
"""

import pytest

from nlu.evaluate import evaluate_sets, heldout_sets

FLOOR_PER_SET = 0.93
FLOOR_ALL = 0.96


@pytest.fixture(scope="module")
def reports(trained_model):
    return evaluate_sets(trained_model, heldout_sets())


def test_every_heldout_set_is_read_well(reports):
    low = {name: round(r.accuracy, 3) for name, r in reports.items() if r.accuracy < FLOOR_PER_SET}
    assert not low, {name: reports[name].errors for name in low}
    assert reports["all"].accuracy >= FLOOR_ALL, reports["all"].confusions[:10]


def test_escalation_means_what_it_says(reports):
    everything = reports["all"]
    assert everything.escalate_recall >= 0.98, [e for e in everything.errors if e[1] == "escalate"]
    assert everything.escalate_precision >= 0.90, [e for e in everything.errors if e[2] == "escalate"]


def test_few_messages_fall_back(reports):
    assert reports["all"].fallback_rate <= 0.03


@pytest.fixture(scope="module")
def agent(trained_model):
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model))


@pytest.mark.parametrize(
    "text, topic",
    [
        ("我的话费还剩多少钱啊", "consult/balance"),
        ("出国去日本玩手机要怎么开漫游", "consult/roaming"),
        ("有人打电话自称你们客服让我报验证码，是真的吗", "consult/fraud"),
        ("你们这边投诉的话一般多久能给答复", "consult/complaint_process"),
    ],
)
def test_consultations_get_a_selected_answer(agent, text, topic):
    import asyncio

    parsed = asyncio.run(agent.parse_message(text))
    assert parsed["intent"]["name"] == "consult"
    assert parsed["response_selector"]["consult"]["response"]["intent_response_key"] == topic


def test_other_messages_skip_the_response_selector(agent):
    """nlu/selectors.py: no second network pass when the answer would never be used."""
    import asyncio

    parsed = asyncio.run(agent.parse_message("家里宽带这两天老是断网，晚上根本没法用"))
    assert parsed["intent"]["name"] == "complain_network"
    assert "consult" not in parsed.get("response_selector", {})


@pytest.mark.parametrize("text", ["нет", "Привет", "ไม่ใช่", "Ｑｗｅｒｔｙ"])
def test_text_the_model_has_no_features_for_falls_back(agent, text):
    """A message with nothing the model knows is not read as its most common class (it was "affirm",
    which confirmed a complaint on "нет")."""
    import asyncio

    parsed = asyncio.run(agent.parse_message(text))
    assert parsed["intent"]["name"] == "nlu_fallback", parsed["intent"]


@pytest.mark.parametrize("text", ["😡😡", "😭😭😭", "🙂"])
def test_a_bare_mood_emoji_is_neither_an_answer_nor_a_complaint(agent, text):
    """Emoji are known to the model (customers add them to real messages), so a bare one may be read
    as off-topic; it must not confirm, cancel or file anything."""
    import asyncio

    parsed = asyncio.run(agent.parse_message(text))
    assert parsed["intent"]["name"] in {"nlu_fallback", "out_of_scope"}, parsed["intent"]
