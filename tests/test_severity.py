import pytest

from bot.categories import Category
from bot.severity import Severity, assess


@pytest.mark.parametrize(
    "text, category, expected",
    [
        ("我家宽带三天两头断网", Category.NETWORK, Severity.GENERAL),
        ("整个小区都没网了，邻居也一样", Category.NETWORK, Severity.URGENT),
        ("整栋楼都连不上网，从中午开始的", Category.NETWORK, Severity.URGENT),
        ("我们楼里的人都没信号，打不了电话", Category.NETWORK, Severity.URGENT),
        ("从早上到现在完全没信号，打不了电话", Category.NETWORK, Severity.URGENT),
        ("再不处理我就打12300投诉你们", Category.NETWORK, Severity.MAJOR),
        ("我要找媒体曝光", Category.OTHER, Severity.MAJOR),
        ("这个月多扣了我800块", Category.BILLING, Severity.MAJOR),
        ("多扣了我5块钱", Category.BILLING, Severity.GENERAL),
        ("账单多出来1,000元", Category.BILLING, Severity.MAJOR),
        ("莫名其妙扣了两千块", Category.BILLING, Severity.MAJOR),
        ("这是我第12次打电话了", Category.OTHER, Severity.MAJOR),
        ("这是我第三次投诉了", Category.BUSINESS, Severity.MAJOR),
        ("我上周已经投诉过一次了，到现在没人联系我", Category.NETWORK, Severity.MAJOR),
        ("之前报修过，师傅来看了一眼就走了", Category.NETWORK, Severity.MAJOR),
        ("我没投诉过，第一次找你们", Category.BILLING, Severity.GENERAL),
        ("换了手机后通讯录数据全丢了", Category.OTHER, Severity.URGENT),
        # one line down keeps the network deadlines (24 h / 48 h); "urgent" is a whole area or a
        # complete loss of service, said so (an operator may decide otherwise: bot/severity.py)
        ("家里宽带断了 孩子在上网课", Category.NETWORK, Severity.GENERAL),
        ("宽带晚上老掉线", Category.NETWORK, Severity.GENERAL),
        ("网速太慢了", Category.NETWORK, Severity.GENERAL),
        # area words only make a network complaint urgent
        ("整个小区的快递柜都坏了", Category.OTHER, Severity.GENERAL),
    ],
)
def test_severity_rules(text, category, expected):
    assessment = assess(text, category)
    assert assessment.severity is expected
    assert assessment.reason  # every decision says why


def test_highest_severity_wins():
    assert assess("整个小区断网，不修好我就找记者", Category.NETWORK).severity is Severity.URGENT
