"""How a reply to a question is read (bot/answers.py): yes, no, cancel, wrong, a phone, or more facts."""

import pytest

from bot.answers import category_correction, facts, has_facts, is_vague_description, is_yes, reply_kind
from bot.categories import Category


@pytest.mark.parametrize("text", ["嗯", "好的", "嗯呐 提交吧", "对的呀", "是的吧", "👌", "ok", "确认提交", "没问题"])
def test_yes_in_many_words(text):
    assert is_yes(text) and reply_kind(text) == "yes"


@pytest.mark.parametrize("text", ["哈哈哈", "啊", "呵呵", "不好", "好像不对", "好的但是号码错了"])
def test_not_a_yes(text):
    assert not is_yes(text)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("不对不对 号码打错了 是13912345678", "phone"),
        ("算了不投诉了", "cancel"),
        ("不用了", "cancel"),
        ("取消", "cancel"),
        ("你说的不对", "wrong"),
        ("信息有误", "wrong"),
        ("号码好像不太对", "wrong"),
        ("不", "no"),
        ("宽带晚上也断，而且客服还挂我电话", "other"),
    ],
)
def test_reply_kinds(text, kind):
    assert reply_kind(text) == kind


def test_facts_leave_out_corrections_numbers_and_yes_words():
    assert facts("不对 是13912345678") == ""
    assert not has_facts("12345")
    assert has_facts("这个月多扣了58块")


@pytest.mark.parametrize(
    "text, category",
    [
        ("类别不对 应该是资费问题", Category.BILLING),
        ("不是网络问题，是扣费问题", Category.BILLING),
        ("应该算业务办理", Category.BUSINESS),
        ("宽带断了三天了", None),  # a description, not a correction
    ],
)
def test_category_corrections(text, category):
    assert category_correction(text) is category


@pytest.mark.parametrize("text, vague", [("我要投诉", True), ("就是那个", True), ("嗯嗯", True), ("宽带断了", False), ("网慢", False)])
def test_vague_descriptions(text, vague):
    assert is_vague_description(text) is vague
