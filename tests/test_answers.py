"""How a reply to a question is read (bot/answers.py): yes, no, cancel, wrong, a phone, or more facts."""

import pytest

from bot.answers import (
    asks_about_call_back,
    category_correction,
    category_named,
    changes_phone,
    declines_phone,
    facts,
    has_facts,
    is_vague_description,
    is_wait,
    is_yes,
    reply_kind,
    same_phone,
    withdraws,
    withdraws_human,
    without_decline,
)
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


@pytest.mark.parametrize(
    "text, same",
    [
        ("还是刚才那个号码", True),
        ("就用原来的手机号", True),
        ("号码不变", True),
        ("跟上次留的电话一样", True),
        ("用之前那个号", True),
        ("不对 号码是13912345678", False),  # a new number is a correction, not "the same"
        ("刚才那个问题还没说完", False),
        ("我上次打你们电话打了一个小时都没人接，今天又打还是这样，你们的号码是不是停用了", False),
    ],
)
def test_keeping_the_phone_given_before(text, same):
    assert same_phone(text) is same


@pytest.mark.parametrize(
    "text, category",
    [("网络", Category.NETWORK), ("扣费的事", Category.BILLING), ("办业务", Category.BUSINESS), ("服务", None), ("嗯", None)],
)
def test_category_named_in_a_short_answer(text, category):
    assert category_named(text) == category


@pytest.mark.parametrize(
    "text, declines",
    [("不留了", True), ("我没手机 只有座机", True), ("不方便给号码", True), ("在这里回复我就行", True),
     ("不留了 13812345678", False), ("留这个 13812345678", False), ("手机没信号", False)],
)
def test_declining_to_leave_a_number(text, declines):
    assert declines_phone(text) is declines


def test_what_is_left_beside_a_declined_number_may_be_story():
    assert not has_facts(without_decline("我没手机 只有座机"))
    assert has_facts(without_decline("不留了，反正宽带晚上一直断"))


@pytest.mark.parametrize("text", ["那不删了", "先不删", "不查了", "别删"])
def test_not_deleting_after_all_is_a_wish_to_stop(text):
    assert reply_kind(text) == "cancel"


@pytest.mark.parametrize(
    "text, category",
    [
        ("类别是其他吧？热线排队不算网络问题", Category.OTHER),
        ("不是网络问题是扣费问题", Category.BILLING),
        ("算了还是改回其他吧", Category.OTHER),
        ("类别换成业务办理", Category.BUSINESS),
    ],
)
def test_category_corrections_read_what_it_is_not(text, category):
    assert category_correction(text) is category


@pytest.mark.parametrize("text", ["我只是问问为啥，不是要投诉", "我没要投诉啊", "先不说了 我要去开会 回头再聊"])
def test_not_a_complaint_or_leaving_for_now_is_a_wish_to_stop(text):
    assert reply_kind(text) == "cancel"


@pytest.mark.parametrize("text", ["不给", "不给！！！", "凭什么给你电话 不给"])
def test_refusing_the_number_outright_declines_it(text):
    assert declines_phone(text)


@pytest.mark.parametrize("text", ["你们可别又不给我退钱", "不给我办就投诉", "我白天上班不方便接"])
def test_other_words_of_giving_are_not_a_refusal(text):
    assert not declines_phone(text)


@pytest.mark.parametrize("text", ["等一下", "稍等 我找找", "好的 等下", "等一下我看看"])
def test_a_moment_please(text):
    assert is_wait(text)


@pytest.mark.parametrize("text", ["等一下再说吧", "等了三天了还没人来"])
def test_waiting_as_a_story_is_not_a_moment_please(text):
    assert not is_wait(text)


@pytest.mark.parametrize(
    "text", ["电话留错了 最后几位是5423", "正确的是13698765423", "联系电话改成13912345678", "刚才的号码不对 换成13800001111"]
)
def test_a_change_of_the_number_on_file(text):
    assert changes_phone(text) and not withdraws(text)


@pytest.mark.parametrize("text", ["撤销投诉", "这个投诉撤回吧 不用处理了", "我要撤销这个投诉", "工单取消吧"])
def test_a_withdrawal(text):
    assert withdraws(text)


@pytest.mark.parametrize("text", ["算了 不要人工了 不用给我回电话", "人工回电就不用了", "不用转人工了 你帮我登记就行", "取消人工"])
def test_taking_back_a_request_for_a_person(text):
    assert withdraws_human(text)


@pytest.mark.parametrize("text", ["不要机器人 要人工", "我不要跟机器人说 转人工", "不用了", "转人工"])
def test_asking_for_a_person_is_not_taking_it_back(text):
    assert not withdraws_human(text)


@pytest.mark.parametrize("text", ["人工还会给我打电话吗", "人工会打哪个号给我", "客服几点打给我"])
def test_a_question_about_the_call_back(text):
    assert asks_about_call_back(text)


@pytest.mark.parametrize("text", ["转人工", "我要人工客服给我打电话"])
def test_a_request_for_a_call_is_not_a_question_about_one(text):
    assert not asks_about_call_back(text)


@pytest.mark.parametrize("text", ["改成18822224444", "我办公室座机也可以 021-58881234"])
def test_a_new_number_said_briefly_is_a_change_of_the_number(text):
    assert changes_phone(text)


@pytest.mark.parametrize("text", ["我不找人工了", "不要转人工了"])
def test_more_ways_of_taking_back_a_request_for_a_person(text):
    assert withdraws_human(text)
