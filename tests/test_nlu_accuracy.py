"""Accuracy floors on the project's own held-out set (written apart from the training data)."""

import pytest

from nlu.evaluate import evaluate


@pytest.fixture(scope="module")
def report(trained_model):
    return evaluate(trained_model)


def test_heldout_accuracy(report):
    assert report.accuracy >= 0.93, f"accuracy {report.accuracy:.3f}; errors: {report.errors}"


def test_escalate_recall(report):
    assert report.recall("escalate") >= 0.97, [e for e in report.errors if e[1] == "escalate"]


@pytest.fixture(scope="module")
def agent(trained_model):
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model))


@pytest.mark.parametrize(
    "text, topic",
    [("我的话费还剩多少钱啊", "consult/balance"), ("出国去日本玩手机要怎么开漫游", "consult/roaming")],
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
