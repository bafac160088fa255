import re

import pytest

from bot import ticket_numbers
from bot.text import find_landline, find_phone, is_vague, mask_personal_data, mask_phone, spoken_digits, supplement_content, yes_or_no
from datetime import datetime, timezone


@pytest.mark.parametrize(
    "text, phone",
    [
        ("我的电话13812345678", "13812345678"),
        ("手机 138 1234 5678 谢谢", "13812345678"),
        ("+86-139-0000-1111", "13900001111"),
        ("12345678901", None),  # not a mobile prefix
        ("138123456789", None),  # too long
        ("没有号码", None),
    ],
)
def test_find_phone(text, phone):
    assert find_phone(text) == phone


def test_masking():
    assert mask_phone("13812345678") == "138****5678"
    masked = mask_personal_data("客户13812345678，身份证110101199003071234")
    assert "13812345678" not in masked and "138****5678" in masked
    assert "110101199003071234" not in masked


@pytest.mark.parametrize(
    "text, vague",
    [
        ("我要投诉", True),
        ("我要投诉网络问题", True),
        ("投诉你们", True),
        ("我家宽带三天两头断网", False),
        ("乱扣费", False),
        ("为什么又扣我钱", False),
        ("宽带很慢", False),
        ("网络断了", False),
        ("话费多扣了", False),
        ("停机了", False),
    ],
)
def test_vague_descriptions(text, vague):
    assert is_vague(text) is vague


def test_ticket_numbers_carry_the_beijing_date():
    assert ticket_numbers.new_number(datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)).startswith("TS261123-")


def test_ticket_numbers_are_random_and_parseable():
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    numbers = {ticket_numbers.new_number(now) for _ in range(500)}
    assert len(numbers) == 500
    for number in numbers:
        assert re.fullmatch(r"TS261122-[0-9A-HJKMNP-TV-Z]{8}", number)
        assert ticket_numbers.find(f"查一下工单 {number.lower().replace('-', '')} 谢谢") == number


@pytest.mark.parametrize(
    "text, content",
    [
        ("补充一下：路由器灯一直是红的", "路由器灯一直是红的"),
        ("我再补充点情况", ""),
        ("工单TS261120-7MX4KQ2D补充：昨天晚上8点又断了", "昨天晚上8点又断了"),
        ("补充", ""),
    ],
)
def test_supplement_content(text, content):
    assert supplement_content(text) == content


@pytest.mark.parametrize(
    "text, answer",
    [("嗯嗯", True), ("对的！", True), ("OK", True), (" 确认提交 ", True), ("不用了", False), ("算了吧。", False),
     ("我再想想", None), ("电话写错了", None), ("", None)],
)
def test_yes_or_no(text, answer):
    assert yes_or_no(text) is answer


@pytest.mark.parametrize(
    "text, phone",
    [
        ("号码错了 是一五九一二三四五六七八", "15912345678"),
        ("幺三八零零一三八零零零", "13800138000"),
        ("电话一三九 一二三四 五六七八", "13912345678"),
        ("一三九-零七八一-二二六五", "13907812265"),
        ("一三九，一二三四，五六七八", None),  # commas split it into words, not one number
        ("三五天了还没修好，一一都说了", None),
    ],
)
def test_find_phone_read_out_in_chinese_digits(text, phone):
    assert find_phone(text) == phone


def test_spoken_numbers_are_masked_in_logs():
    masked = mask_personal_data("我的手机是幺三八一二三四五六七八，三五天了")
    assert "138****5678" in masked and "一二三四" not in masked and "三五天" in masked
    assert spoken_digits("一一") == "一一"


@pytest.mark.parametrize(
    "text, phone",
    [
        ("1 3 9 0 5 5 5 1 2 3 4", "13905551234"),  # typed one digit at a time
        ("１３９１２３４５６７８", "13912345678"),  # full-width figures
        ("一八九 1234 5678", "18912345678"),  # read out and typed, mixed
        ("13566667777 15866667777", "13566667777"),  # two numbers side by side stay two
        ("订单号 1234 5678 9012 3456", None),
    ],
)
def test_find_phone_typed_apart_or_in_full_width(text, phone):
    assert find_phone(text) == phone


@pytest.mark.parametrize(
    "text, landline",
    [
        ("我只有座机 010-62345678", "010-62345678"),
        ("座机0571 8888 6666", "0571-88886666"),
        ("打这个 02088886666 白天有人", "020-88886666"),
        ("手机13812345678", None),
        ("2024年12月3日下午", None),
    ],
)
def test_find_landline_keeps_the_area_code(text, landline):
    assert find_landline(text) == landline


def test_landlines_are_masked_in_logs():
    masked = mask_personal_data("我只有座机 010-62345678，订单号 20241203")
    assert "62345678" not in masked and "010****5678" in masked and "20241203" in masked
