"""Follow-up questions about the answer just given (bot/follow_up_questions.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import follow_up_questions

FAQ = Path(__file__).resolve().parent.parent / "bot" / "dialogue" / "domain" / "faq.yml"


def answer(topic: str) -> str:
    return yaml.safe_load(FAQ.read_text(encoding="utf-8"))["responses"][f"utter_consult/{topic}"][0]["text"]


@pytest.mark.parametrize(
    "text, heading",
    [
        ("要多久", "{topic}需要的时间"),
        ("那要多长时间啊", "{topic}需要的时间"),
        ("多少钱", "{topic}的费用"),
        ("一个月多少钱", "{topic}的费用"),
        ("超出的怎么收费", "{topic}的费用"),
        ("在哪里点", "{topic}的办理渠道"),
        ("那怎么查", "{topic}的办理渠道"),
        ("要带啥", "{topic}需要带的材料"),
        ("需要什么资料？", "{topic}需要带的材料"),
        ("能别人代办吗", "{topic}能不能代办"),
    ],
)
def test_a_short_question_without_a_topic_asks_for_a_facet(text, heading):
    facet = follow_up_questions.facet_asked(text)
    assert facet is not None and facet.heading == heading


@pytest.mark.parametrize("text", ["好的", "谢谢", "那香港呢", "宽带断了", "", "我家宽带从昨天开始一直断网到底要多久才能修好"])
def test_other_messages_are_not_follow_ups(text):
    assert follow_up_questions.facet_asked(text) is None


def test_the_reply_quotes_the_sentences_about_the_facet():
    said = follow_up_questions.reply("number_portability", answer("number_portability"), follow_up_questions.facet_asked("要多久"))
    assert said.startswith("携号转网需要的时间：")
    assert "24小时内完成转网" in said
    assert "授权码" not in said  # a sentence about something else is left out


def test_a_facet_the_answer_does_not_speak_of_is_said_to_be_missing():
    said = follow_up_questions.reply("opening_hours", "营业厅每天9:00～18:00营业。", follow_up_questions.facet_asked("能别人代办吗"))
    assert "没有更具体的信息" in said and "10088" in said


def test_every_faq_topic_has_a_name():
    topics = {
        name.split("/", 1)[1]
        for name in yaml.safe_load(FAQ.read_text(encoding="utf-8"))["responses"]
        if name.startswith("utter_consult/")
    }
    assert topics - {"general"} <= set(follow_up_questions.TOPIC_NAMES)
