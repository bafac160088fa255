import pytest

from bot.escalation import signal


@pytest.mark.parametrize(
    "text",
    [
        "转人工",
        "人工客服在吗",
        "别让机器人回复了，找个人来",
        "叫你们领导出来",
        "把你们主管叫来",
        "帮我把投诉升级一下",
        "网断了三天，再不处理我就打12300",
        "我要去工信部投诉你们",
        "我要找媒体曝光",
        "我已经咨询律师了",
        "发到抖音上让大家看看",
    ],
)
def test_escalation_requests(text):
    assert signal(text)


@pytest.mark.parametrize(
    "text",
    [
        "我家宽带三天两头断网",
        "营业厅经理态度很差",
        "装机的人工费怎么收",
        "人工智能客服是怎么回事",
        "我13812345678这个号码之前报的故障修到哪一步了",
        "我在家做直播，宽带老断",
        "接线员语气很冲",
        "多媒体短信收不到",
        "家里的烟雾报警器用的是你们的物联网卡",
        "客户经理电话是多少",
        "客户经理来家里装宽带",
    ],
)
def test_not_escalation(text):
    assert signal(text) is None
