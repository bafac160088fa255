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
        # Other voices: pinyin, English, Cantonese; petitions, consumer platforms, suing.
        "zhuan rengong",
        "can I talk to a real person",
        "能不能找个real person聊",
        "转human please",
        "搵个人同我讲啦",
        "叫你哋经理出嚟",
        "叫个客服来跟我说",
        "再不退钱我就去信访",
        "我要上黑猫投诉曝你们",
        "我要告你们",
        "再不给我退钱我会报警的",
        "你们这是诈骗，我报警了",
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
        "告诉我怎么查话费",
        "315元的套餐能便宜点吗",
        "the agent was rude to me",
        "客服来电说我的套餐要升级",
    ],
)
def test_not_escalation(text):
    assert signal(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "不用转人工",
        "按了十分钟都转不到人工",
        "一直提示坐席忙",
        "人工客服根本打不通",
        "店长换人了，11号店的联系人手机改成新号码",
        "环控报警器用的物联网卡昨晚没报警，一直没信号",
        "烟感报警系统走的是你们的卡，今天离线了",
        "打你们热线打了一上午都是忙音 人工根本接不进去",
        "按了好几遍0还是打不进人工",
        "转人工转不过去，一直在放音乐",
        "坐高铁一路断线，跟老板汇报工作汇报到一半就没声了",
        "我在村里做快手直播，晚上网卡得没法播",
        "请问法院立案庭几点上班",
        "上次转给工程师上门修的，又坏了",
        "二线城市的宽带资费是多少",
        "网老断，求你们派个人来查查线路",
        "找个人来修一下光猫",
        "你们那个智能客服是人工智障吧",
        "我是做自媒体的，上传视频老是断",
        "流媒体看着卡",
        "你们安排的工作人员态度很差",
        "上次投诉后安排专人处理了吗",
    ],
)
def test_a_person_or_an_outside_body_mentioned_in_passing_is_no_escalation(text):
    assert signal(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "帮我转人工，电话一直没人接",
        "请把我的投诉往上报，交给更高一级的部门处理",
        "再不解决我就去法院起诉你们",
        "叫你们经理出来",
        "这个问题你们一线处理不了，请转接二线技术支持",
        "麻烦转给懂网络的工程师",
        # A person asked for in the country's own verbs and words.
        "喊个人过来处理嘛",
        "快点整个人来跟我唠",
        "叫个懂行的人来",
        "我不想跟AI聊了",
        "我唔想同机器讲嘢",
        "叫恁頭家出來",
        "找你们说了算的来",
        "下面解决不了就给我转到上面去",
        "麻烦帮我转给能处理的工作人员",
        "我去找报社爆料",
    ],
)
def test_explicit_requests_still_escalate(text):
    assert signal(text) is not None


def _parsed(text, intent, confidence):
    from rasa.shared.nlu.training_data.message import Message

    from nlu.escalation import EscalationRules

    ranking = [{"name": intent, "confidence": confidence}, {"name": "escalate", "confidence": 1 - confidence}]
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": confidence}, "intent_ranking": ranking})
    EscalationRules().process([message])
    return message.get("intent")["name"]


@pytest.mark.parametrize(
    "text, intent, confidence, expected",
    [
        # A hotline grievance the classifier is sure of: the word 人工 does not make it a request.
        ("热线按0转人工根本没反应，按了几十次", "complain_other", 0.93, "complain_other"),
        ("补偿方案批了吗，客服说要上级审批", "check_ticket_status", 0.95, "check_ticket_status"),
        ("报警电话是110吗", "out_of_scope", 0.93, "out_of_scope"),
        # ... but an unsure reading, a request in so many words or a regulator threat still escalate.
        ("热线按0转人工根本没反应，按了几十次", "complain_other", 0.6, "escalate"),
        ("热线一直没人接，帮我转人工", "complain_other", 0.93, "escalate"),
        ("人工客服一直打不通 我要人工", "complain_other", 0.93, "escalate"),
        ("网断三天了，再不修我就打12300", "complain_network", 0.95, "escalate"),
    ],
)
def test_rules_weigh_a_sure_reading(text, intent, confidence, expected):
    assert _parsed(text, intent, confidence) == expected


def _classified(text, ranking):
    from rasa.shared.nlu.training_data.message import Message

    from nlu.escalation import EscalationRules

    top = dict(ranking[0])
    message = Message(data={"text": text, "intent": top, "intent_ranking": [dict(r) for r in ranking]})
    EscalationRules().process([message])
    return message.get("intent")["name"], [r["name"] for r in message.get("intent_ranking")]


def test_a_narrow_escalate_without_an_escalation_word_takes_the_next_reading():
    ranking = [{"name": "escalate", "confidence": 0.45}, {"name": "complain_billing", "confidence": 0.4},
               {"name": "consult", "confidence": 0.15}]
    intent, order = _classified("扣了我三个月的钱 你们看着办吧", ranking)
    assert intent == "complain_billing" and order[:2] == ["complain_billing", "escalate"]


def test_a_sure_escalate_or_one_with_an_escalation_word_stays():
    sure = [{"name": "escalate", "confidence": 0.8}, {"name": "complain_billing", "confidence": 0.2}]
    assert _classified("扣了我三个月的钱 你们看着办吧", sure)[0] == "escalate"
    narrow = [{"name": "escalate", "confidence": 0.45}, {"name": "complain_billing", "confidence": 0.4}]
    assert _classified("扣了我三个月的钱 叫你们领导来", narrow)[0] == "escalate"


@pytest.mark.parametrize("text", ["轉人工", "我要真人客服，唔該", "幫我轉接人工", "我要去消協投訴你們", "叫你們經理出來"])
def test_traditional_characters_are_read_as_simplified(text):
    assert signal(text) is not None


def test_traditional_reading_leaves_other_text_alone():
    from bot.simplified import simplified

    assert simplified("寬頻斷線，點解扣咗我咁多錢") == "宽频断线，点解扣咗我咁多钱"
    assert simplified("TS20261203ABC hello") == "TS20261203ABC hello" and simplified("") == ""
    assert simplified("我想查下话费") == "我想查下话费"
    # Simplified text stays as it is, even where OpenCC would read a character as a variant (坏 as 坯).
    assert simplified("装机师傅把我家墙打坏了，光猫也坏了，后来干脆不来了") == "装机师傅把我家墙打坏了，光猫也坏了，后来干脆不来了"
    assert simplified("我上个礼拜投诉嗰单") == "我上个礼拜投诉嗰单"
    assert signal("人工智能真厲害") is None


@pytest.mark.parametrize("text", ["哪里可以换人民币", "我想换人脸识别的手机", "换人参茶喝", "手机怎么换人像模式"])
def test_words_that_begin_with_ren_are_not_a_person(text):
    assert signal(text) is None


@pytest.mark.parametrize("text", ["换人", "换个人来", "换人吧 你不行", "能不能换个人跟我说"])
def test_asking_for_someone_else_is_a_person(text):
    assert signal(text) is not None


@pytest.mark.parametrize("text", ["阿拉要寻侬领导", "叫恁领导出来", "俺要找恁经理", "跟恁主管说", "你们上头的人呢", "叫恁頭家出來 我要找恁經理"])
def test_regional_words_for_you_and_the_people_above(text):
    assert signal(text) is not None


@pytest.mark.parametrize("text", ["你是真人吗", "你到底是不是真人啊", "现在是人工还是机器人在回复", "你是人工吗"])
def test_asking_what_the_assistant_is_is_no_request(text):
    assert signal(text) is None


@pytest.mark.parametrize("text", ["你是真人吗？给我转人工", "你是机器人吧，我要找人", "是真人就接一下，我要人工"])
def test_a_request_beside_the_question_still_escalates(text):
    assert signal(text) is not None
