"""Templates per label: the shapes of message customers write most, and the ones classifiers confuse.

Labels follow nlu/LABELS.md: a message is labelled by what the customer wants from us now, not by
the words it contains. The templates therefore come in contrasting groups, for instance

* a self-service command ("帮我查下流量", "给我换成畅享129") is ``consult/<topic>`` however curt;
* "我要投诉" plus a concrete grievance is the grievance's complaint category, not ``escalate``;
* a question of *where something stands* that mentions 退款/审核/投诉/报修 is ``check_ticket_status``,
  while saying that the same thing is late, as a grievance, is a complaint;
* anger, a hotline number or a deadline is still a complaint; only asking for a person or a
  higher level, or threatening the regulator, media or court, is ``escalate``.

Each template has a stable id: it is written into every generated example's metadata, so that
cross-validation can keep all variants of one template on one side of a split, and so that a
reviewer can find the template behind a bad line. Renaming an id changes the committed output.

Patterns use ``{slot}`` fields. A slot is looked up first in the template's own ``slots`` and then
in ``lexicon.LEXICON``; a slot value may itself contain fields (filled in a second pass), and a key
such as ``"family,pron"`` fills two fields from one tuple so that they agree.
"""

from __future__ import annotations

import random
import string
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from nlu.generate.lexicon import LEXICON

_FORMATTER = string.Formatter()


def _fields(pattern: str) -> List[str]:
    return [name for _, name, _, _ in _FORMATTER.parse(pattern) if name]


class Template:
    """One message shape for one label; ``fill`` draws a clean sentence from it."""

    def __init__(
        self,
        id: str,
        label: str,
        pattern: str,
        slots: Optional[Mapping[str, Any]] = None,
        noise: Optional[Sequence[str]] = None,
        **more_slots: Any,
    ) -> None:
        self.id = id
        self.label = label
        self.pattern = pattern
        self.slots: Dict[str, Any] = {**(slots or {}), **more_slots}
        self.noise = tuple(noise) if noise is not None else None

    def __repr__(self) -> str:
        return f"Template({self.id!r}, {self.label!r}, {self.pattern!r})"

    def _lookup(self, name: str, wanted: Sequence[str]) -> Tuple[List[str], Any]:
        """The field names a slot source fills, and the source, for field ``name``.

        A template's own combined slot ("who,watch") always wins, so its members agree; a shared
        combined slot ("family,pron") is used when the pattern asks for another of its members.
        """
        for key, value in self.slots.items():
            if name in key.split(","):
                return key.split(","), value
        for key, value in LEXICON.items():
            names = key.split(",")
            if len(names) > 1 and name in names and any(n in wanted for n in names if n != name):
                return names, value
        if name in LEXICON:
            return [name], LEXICON[name]
        for key, value in LEXICON.items():
            if name in key.split(","):
                return key.split(","), value
        raise KeyError(f"template {self.id}: no slot {name!r}")

    def fill(self, rng: random.Random) -> str:
        """A clean sentence; values chosen once are kept for fields that nested slots bring in."""
        text = self.pattern
        values: Dict[str, str] = {}
        for _ in range(4):
            wanted = _fields(text)
            if not wanted:
                return text
            for name in wanted:
                if name in values:
                    continue
                names, source = self._lookup(name, wanted)
                choice = source(rng) if callable(source) else rng.choice(source)
                if len(names) == 1:
                    values[name] = choice
                else:
                    values.update(zip(names, choice))
            text = text.format(**values)
        raise ValueError(f"template {self.id}: slots nest too deeply")


T = Template

# Shared per-group word lists --------------------------------------------------------------------

_STATUS_Q = ["到哪一步了", "有结果了吗", "处理得怎么样了", "现在什么进度", "有进展了吗", "处理到哪了"]
_GRIEVANCES = [
    "宽带断了{dur}", "话费被乱扣了{amount}", "装宽带的师傅放了我三次鸽子", "携号转网一直办不了",
    "光猫坏了一个礼拜没人管", "没订过的视频会员扣了我三个月的钱", "信号差了一个月了",
]
_DUR = ["三天", "一个星期", "半个月", "好几天", "两天"]

TEMPLATES: List[Template] = [
    # ============================================================ consult: balance
    T("balance-check-command", "consult/balance", "{please}{look}{whose}话费还剩多少{particle}",
      whose=["", "我", "我这个号", "我妈的", "这个号码的", "我爸"]),
    T("balance-enough", "consult/balance", "{please}{look}话费还够不够用到{until}",
      until=["月底", "下个月", "下周", "发工资", "月初"]),
    T("balance-after-alert", "consult/balance", "{lead}，{please}查下{acct}余额还有多少",
      lead=["刚收到余额不足的短信", "打电话提示余额不足", "我是不是快欠费了", "好久没交话费了"],
      acct=["", "话费", "账户"]),
    # ============================================================ consult: data usage
    T("usage-check-command", "consult/data_usage", "{please}{look}{period}用了多少流量{particle}"),
    T("usage-remaining", "consult/data_usage", "{please}{look}{kind}流量还剩{unit}",
      kind=["", "通用", "定向", "国内", "夜间"], unit=["多少", "几个G", "多少G"]),
    T("usage-worry", "consult/data_usage", "{want}看下{period}的流量用了多少，{why}",
      why=["怕超了", "快月底了", "最近刷视频多", "别又超出去了", "孩子老用我手机热点"]),
    # ============================================================ consult: plans
    T("plan-order-by-name", "consult/plans", "{please}{order}{plan}{particle}",
      order=["办个", "换成", "改成", "换到", "开个"]),
    T("plan-by-price", "consult/plans", "{lead}就要{plan_price}那个{kind}",
      slots={"lead,kind": [("", ""), ("", "套餐"), ("那", ""), ("嗯，", ""), ("我想换套餐，", ""),
                           ("换套餐的话，", ""), ("那我", "套餐")]}),
    T("plan-cheaper", "consult/plans", "{please}换个便宜点的套餐，{reason}",
      reason=["每个月流量都用不完", "我一个月就用五六个G", "现在这个用不了那么多", "平时就打打电话"]),
    T("plan-compare", "consult/plans", "{pa}跟{pb}的套餐差在哪，{q}",
      pa=["59", "39", "畅享129", "29块"], pb=["129", "199", "79", "5G畅享199"],
      q=["哪个更划算", "流量差多少", "我该选哪个", "通话分钟一样吗"]),
    # ============================================================ consult: broadband packages
    T("bb-order-command", "consult/broadband_packages", "{please}办个{broadband}{particle}"),
    T("bb-estate-install", "consult/broadband_packages", "我住{district}{estate}，{want}装宽带，{q}",
      q=["能装吗", "有哪些套餐", "多少钱一年", "怎么办理", "你们那边有覆盖吗"]),
    T("bb-price", "consult/broadband_packages", "{broadband}{q}",
      q=["一年多少钱", "一个月多少钱", "包年多少", "怎么收费", "送不送路由器", "安装费要多少"]),
    # ============================================================ consult: broadband repair
    T("repair-how", "consult/broadband_repair", "{thing}{broke}了{how}",
      thing=["宽带", "家里宽带", "网", "家里的网"], broke=["坏", "断", "连不上"],
      how=["怎么报修", "去哪报修", "要报修的话打哪个电话", "报修流程是啥", "在APP上能报修吗"]),
    T("repair-book", "consult/broadband_repair", "{please}约个师傅上门{fix}，{when}家里有人",
      fix=["修宽带", "看看宽带", "检修一下网络"], when=["明天上午", "周六", "工作日晚上", "下午两点以后", "这周末"]),
    T("repair-when-hypothetical", "consult/broadband_repair", "{when}报修的话{q}",
      when=["周末", "晚上", "节假日", "现在", "半夜"],
      q=["师傅什么时候能来", "第二天能修好吗", "要多久能上门", "有人上门吗"]),
    # ============================================================ consult: roaming
    T("roaming-trip", "consult/roaming", "{future}去{country}{purpose}，{please}开一下国际漫游",
      purpose=["玩", "出差", "旅游", ""]),
    T("roaming-pack", "consult/roaming", "去{country}{days}，{q}",
      days=["三天", "一周", "五天", "十来天"],
      q=["买哪个漫游流量包划算", "手机要开什么", "流量怎么收费", "帮我推荐个漫游包"]),
    T("roaming-fee-abroad", "consult/roaming", "在{country}{act}要收费吗",
      act=["接电话", "收短信", "用微信", "刷抖音", "打回国内的电话"]),
    # ============================================================ consult: SIM replacement
    T("sim-replace-command", "consult/sim_replacement", "{please}补张卡，{reason}",
      reason=["原来的卡坏了读不出来", "卡折断了", "换了个新手机卡槽不一样", "卡用太久接触不良了"]),
    T("sim-upgrade", "consult/sim_replacement", "{want}把{whose}卡换成{newcard}，{q}",
      whose=["我的", "我妈的", "老人的", "这张"], newcard=["5G卡", "小卡", "新卡"],
      q=["要带什么", "在哪办", "要钱吗", "多久能好"]),
    T("sim-proxy", "consult/sim_replacement", "{family}的卡坏了，我能帮{pron}去补吗"),
    # ============================================================ consult: number portability
    T("port-check-command", "consult/number_portability", "{please}查下我这个号能不能携号转网{particle}"),
    T("port-in", "consult/number_portability", "{want}把{whose}号从{carrier}转过来，{q}",
      whose=["我的", "我妈的", "家里的"], carrier=["移动", "联通", "电信", "别家"],
      q=["要准备什么", "要多久", "号码会变吗", "要去营业厅吗"]),
    T("port-how", "consult/number_portability", "携号转网{q}",
      q=["的授权码怎么拿", "要满足什么条件", "期间号码还能用吗", "在APP上能办吗", "要交钱吗", "以后还能转回去吗"]),
    # ============================================================ consult: invoices
    T("invoice-command", "consult/invoices", "{please}开一张{period}的话费发票，抬头写{title}",
      title=["公司名称", "个人", "我们单位"]),
    T("invoice-email", "consult/invoices", "{period}的{what}发票{please}发到邮箱{particle}",
      what=["话费", "宽带费", "充值"]),
    T("invoice-how", "consult/invoices", "{what}的发票{q}",
      what=["宽带费", "充值", "话费", "合约机"], q=["在哪开", "能开专票吗", "怎么开", "能补开吗"]),
    # ============================================================ consult: top-up
    T("topup-command", "consult/topup", "{please}充{topup}话费{particle}"),
    T("topup-family", "consult/topup", "{want}给{family}充{topup}话费，{q}",
      q=["怎么弄", "在APP上能充吗", "充完多久到账"]),
    T("topup-broadband", "consult/topup", "宽带费{q}",
      q=["在哪交", "能用微信交吗", "可以用支付宝交吗", "交完多久到账"]),
    # ============================================================ consult: bill details
    T("bill-check-command", "consult/bill_details", "{please}{look}{period}的{what}{particle}",
      what=["账单", "消费明细", "扣费明细", "通话详单", "流量详单"]),
    T("bill-where-money", "consult/bill_details", "{please}{look}{period}话费都花在哪了"),
    T("bill-print", "consult/bill_details", "{please}打一份{period}的{what}，{reason}",
      what=["通话详单", "账单明细"], reason=["要报销用", "公司要", "我对一下账"]),
    # ============================================================ consult: opening hours
    T("hours-district", "consult/opening_hours", "{district}{which}营业厅{q}",
      which=["的", "那个", "万达那个", "火车站附近的"],
      q=["几点关门", "周末开门吗", "晚上几点下班", "今天还开吗", "中午休息吗"]),
    T("hours-holiday", "consult/opening_hours", "{holiday}{q}",
      holiday=["国庆", "五一", "春节", "中秋", "元旦", "端午"],
      q=["营业厅上班吗", "营业厅开门吗", "营业厅几号开始营业", "期间营业厅几点关门"]),
    T("hours-nearest", "consult/opening_hours", "离{estate}最近的营业厅在哪，{q}",
      q=["几点下班", "现在去还来得及吗", "周日开不开"]),
    # ============================================================ consult: password reset
    T("pwd-command", "consult/password_reset", "{please}重置一下服务密码{particle}"),
    T("pwd-family", "consult/password_reset", "{family}的服务密码忘了，{q}",
      q=["怎么重置", "要本人去营业厅吗", "我能帮忙改吗", "在APP上能改吗"]),
    T("pwd-locked", "consult/password_reset", "服务密码输错{n}被锁了，{q}",
      n=["三次", "好几次", "5次", "几次"], q=["怎么解锁", "要等多久", "能马上解开吗"]),
    # ============================================================ consult: 5G
    T("5g-open", "consult/five_g", "{please}开通5G{particle}"),
    T("5g-phone", "consult/five_g", "我的{phone}能用5G吗，{q}", q=["要换卡吗", "要换套餐吗", "怎么设置"]),
    T("5g-coverage", "consult/five_g", "{district}{estate}有5G{cov}吗", cov=["覆盖", "信号"]),
    # ============================================================ consult: cancel service
    T("cancel-vas-command", "consult/cancel_service", "{please}把{vas}退了，{reason}",
      reason=["不想用了", "用不上了", "没什么用", "暂时不需要"]),
    T("cancel-number", "consult/cancel_service", "{want}注销{whose}号码，{q}",
      whose=["这个", "我妈的", "家里老人的", "一张不用的"],
      q=["要带什么", "能在网上办吗", "余额能退吗", "要去营业厅吗"]),
    T("cancel-broadband", "consult/cancel_service", "宽带不用了，{please}办一下拆机{tail}",
      tail=["", "吧", "，光猫要送回去吗", "，要去营业厅吗"]),
    # ============================================================ consult: value-added services
    T("vas-check-command", "consult/value_added", "{please}{look}我开了哪些{what}",
      what=["业务", "增值业务", "包月业务", "收费业务"]),
    T("vas-check-specific", "consult/value_added", "{please}{look}{whose}有没有开{vas}",
      whose=["我", "我妈", "这个号", "我爸"]),
    T("vas-order", "consult/value_added", "{want}开个{item}，{q}",
      item=["视频会员", "音乐包", "阅读包", "云盘会员", "游戏包"],
      q=["多少钱一个月", "怎么开通", "能用话费付吗"]),
    # ============================================================ consult: real name
    T("realname-count", "consult/real_name", "{please}{look}我身份证名下有几个号码"),
    T("realname-new", "consult/real_name", "新办的{what}{q}",
      what=["卡", "号码", "手机卡"], q=["怎么实名", "实名要带什么", "能在网上实名吗", "还没实名能用吗"]),
    T("realname-transfer", "consult/real_name", "{family}的号码{w}过户给我，{q}",
      w=["想", "要"], q=["要怎么办", "两个人都要去吗", "要带什么材料"]),
    # ============================================================ consult: eSIM and watches
    T("esim-watch-command", "consult/esim_watch", "{please}给{who}的{watch}办个号",
      slots={"who,watch": [("孩子", "儿童手表"), ("儿子", "电话手表"), ("女儿", "儿童手表"),
                           ("我爸", "智能手表"), ("我老婆", "苹果手表"), ("我自己", "手表")]}),
    T("esim-one-number", "consult/esim_watch", "{want}让手表和手机用同一个号，{q}",
      q=["怎么开", "多少钱", "我的手表支持吗"]),
    T("esim-sub-card", "consult/esim_watch", "{please}办张副卡，{q}",
      q=["给我老婆用", "共享我的流量", "多少钱一个月", "放平板里用"]),
    # ============================================================ consult: family plan
    T("family-add", "consult/family_plan", "{please}把{family}加到亲情号里{particle}"),
    T("family-fusion", "consult/family_plan", "我们家{n}口人，{q}",
      n=["三", "四", "五"], q=["办融合套餐划算吗", "有什么家庭套餐", "手机和宽带一起办怎么收费"]),
    T("family-share", "consult/family_plan", "{want}和{family}共享流量，{q}",
      q=["怎么办", "要怎么加", "有家庭套餐吗"]),
    # ============================================================ consult: contract
    T("contract-check", "consult/contract", "{please}{look}我的合约{q}",
      q=["什么时候到期", "还剩几个月", "是哪天签的", "里写的保底消费是多少"]),
    T("contract-break", "consult/contract", "合约还剩{n}，{q}",
      n=["三个月", "半年", "一年多", "两个月"],
      q=["提前解约要多少违约金", "能降套餐吗", "能销户吗", "违约金怎么算"]),
    # ============================================================ consult: suspend service
    T("suspend-abroad", "consult/suspend_service", "我要{why}{n}，{please}办个停机保号",
      why=["出国", "去外地工作", "出国留学", "去国外读书"], n=["一年", "半年", "两年", "三个月"]),
    T("suspend-q", "consult/suspend_service", "停机保号{q}",
      q=["期间能收验证码吗", "每个月扣多少", "最长能停多久", "到期了怎么恢复", "能在APP上办吗"]),
    T("suspend-broadband", "consult/suspend_service", "宽带能暂停{n}吗，{reason}",
      n=["几个月", "半年", "一段时间"], reason=["家里没人住", "要出差", "房子要装修"]),
    # ============================================================ consult: app help
    T("app-how", "consult/app_help", "掌上营业厅怎么{task}",
      task=["切换号码", "添加家人的号码", "开长辈版", "设置指纹登录", "退出登录", "绑定宽带账号", "改登录密码"]),
    T("app-trouble-question", "consult/app_help", "APP{issue}，{q}",
      issue=["登不上", "收不到验证码", "找不到账单入口", "不知道在哪切换账号"],
      q=["怎么弄", "是什么原因", "该怎么办"]),
    T("app-teach", "consult/app_help", "{lead}教{who}用APP{task}{tail}",
      slots={"lead,tail": [("能不能", ""), ("你能", "吗"), ("可以", "吗"), ("麻烦你", ""), ("想请你", "")]},
      who=["我", "我妈", "老人"], task=["查话费", "交话费", "查流量", "开发票"]),
    # ============================================================ consult: lost phone (new topic)
    T("lost-command", "consult/lost_phone", "手机{lost}，{please}{act}{particle}",
      lost=["丢了", "被偷了", "落在出租车上了", "找不到了", "掉了"],
      act=["挂失一下", "把号码停了", "先停机", "办个挂失"]),
    T("lost-family", "consult/lost_phone", "{family}的手机{lost}，{q}",
      lost=["丢了", "被偷了", "掉公交上了"], q=["怎么挂失", "号码怎么先停掉", "要去营业厅吗"]),
    T("lost-worry", "consult/lost_phone", "手机丢了，{q}",
      q=["号码会不会被别人盗用", "微信支付宝绑的号怎么办", "挂失以后号码还能要回来吗",
         "里面的话费会被人用掉吗", "先挂失还是先补卡"]),
    T("lost-found", "consult/lost_phone", "手机找回来了，{please}解除挂失{particle}"),
    # ============================================================ consult: broadband move (new topic)
    T("move-command", "consult/broadband_move", "{please}办个宽带移机，新地址是{district}{estate}{building}"),
    T("move-question", "consult/broadband_move", "我要搬家到{estate}，{q}",
      q=["宽带能移过去吗", "宽带怎么移机", "原来的宽带能带走吗", "移机要多久"]),
    T("move-fee", "consult/broadband_move", "宽带移机{q}",
      q=["要多少钱", "要多久能装好", "要重新签合约吗", "光猫要带走吗", "可以在APP上申请吗"]),
    # ============================================================ consult: points (new topic)
    T("points-check", "consult/points", "{please}{look}我有多少积分{particle}"),
    T("points-use", "consult/points", "积分{q}",
      q=["能换话费吗", "能兑换流量吗", "什么时候清零", "在哪兑换", "快过期了怎么用", "能给家人用吗"]),
    T("points-how-much", "consult/points", "{n}积分能换{what}",
      n=["两千", "5000", "一万多", "3000多"], what=["多少话费", "什么东西", "几个G流量"]),
    # ============================================================ consult: data packs (new topic)
    T("pack-order", "consult/data_packs", "{please}加个{pack}{particle}",
      pack=["10G的流量包", "流量加油包", "日租包", "5块1G的包", "夜间流量包", "视频定向流量包"]),
    T("pack-need", "consult/data_packs", "流量不够用了，{q}",
      q=["有什么流量包", "帮我订个加油包", "加个包多少钱", "能临时加点流量吗"]),
    T("pack-info", "consult/data_packs", "{pack}{q}",
      pack=["流量包", "加油包", "流量月包", "流量日包"],
      q=["多少钱一个", "当月有效吗", "有哪几种", "怎么订", "用不完能结转吗"]),
    # ============================================================ consult: call features (new topic)
    T("call-open", "consult/call_features", "{please}开通{call_feature}{particle}"),
    T("call-forward", "consult/call_features", "{how}把来电转移到{target}",
      how=["怎么", "帮我", "我想", "麻烦"], target=["我另一个号上", "办公室座机", "我老婆的手机", "我妈手机上"]),
    T("call-question", "consult/call_features", "{call_feature}{q}",
      q=["要收费吗", "怎么开", "在哪设置", "一个月多少钱"]),
    # ============================================================ consult: general (new topic)
    T("general-business", "consult/general", "{want}办个业务{tail}",
      tail=["", "，你们这能办吗", "，找谁", "，怎么弄"]),
    T("general-ask", "consult/general", "{hi}{ask}",
      hi=["", "你好，", "您好，", "在吗，"],
      ask=["我想咨询个事", "想问个问题", "咨询一下", "有个业务想问问", "问你点事"]),
    T("general-what", "consult/general", "你们{q}",
      q=["都能办哪些业务", "能帮我办什么", "在线能办什么业务", "这里能办业务吗"]),

    # ============================================================ complain_network
    T("net-bb-down-estate", "complain_network", "{estate}{building}的宽带{past}开始就{down}，{tail}",
      down=["断了", "连不上", "上不去网", "一直掉线"],
      tail=["到现在还没好", "邻居家也一样", "重启光猫也没用", "孩子网课都上不了"]),
    T("net-spot-no-signal", "complain_network", "{spot}{nosig}，{consequence}",
      nosig=["一点信号都没有", "信号只有一格", "老是没信号", "信号时有时无"],
      consequence=["电话都打不出去", "微信都发不出去", "扫码付款都付不了", "家里人联系不上我"]),
    T("net-slow-recurring", "complain_network", "{recurring}网速就{slow}，{activity}都{fail}",
      slow=["慢得要死", "掉到几十K", "卡得不行", "慢成蜗牛"],
      activity=["刷视频", "打游戏", "开视频会议", "孩子上网课", "看电视"],
      fail=["卡", "卡成PPT", "用不了", "一直转圈"]),
    T("net-call-quality", "complain_network", "打电话{calldesc}，{since}",
      calldesc=["老是断断续续的", "说着说着就断了", "对方听不清我说话", "有杂音", "总是掉线"],
      since=["一个星期了", "好几天了", "已经半个月了", "天天这样", "从昨天开始就这样"]),
    T("net-explicit-complaint", "complain_network", "{opener}，{thing}{fault}，{since}",
      opener=["我要投诉", "投诉", "我要投诉你们", "我要反映个问题"],
      slots={"thing,fault": [("家里宽带", "一直断网"), ("宽带", "又断了"), ("手机信号", "差得打不了电话"),
                             ("我们小区的网", "天天掉线"), ("网速", "慢得没法用")]},
      since=["三天了", "一个星期了", "这两天都这样", "修了也没用"]),
    T("net-hotline", "complain_network", "{thing}{fault}，打了{n}{hotline}都说在处理，{dur}了还是这样",
      thing=["宽带", "家里网", "手机信号"], fault=["老断", "差", "时好时坏"],
      n=["好几次", "十几次", "三次", "无数次"], dur=_DUR),
    T("net-why-question", "complain_network", "{why}{place}{issue}？",
      why=["凭什么", "为什么", "怎么"], place=["我家", "我们小区", "这边", "我这"],
      issue=["网这么卡", "一到晚上就没网", "信号这么差", "老是断网"]),
    T("net-5g-fake", "complain_network", "{shows}5G，{reality}",
      shows=["手机上显示", "明明是", "标着"],
      reality=["网速还不如4G", "下载才几百K", "网页都打不开", "视频一直缓冲"]),
    T("net-sms", "complain_network", "{sms}，{consequence}",
      sms=["收不到验证码短信", "短信老是发送失败", "验证码短信要等好久才到"],
      consequence=["银行卡都登不上", "快递取不了", "急死了", "网购付不了款"]),
    T("net-deadline", "complain_network", "{thing}{fault}{dur}了，{angry}",
      slots={"thing,fault": [("宽带", "断了"), ("网速", "慢"), ("信号", "没了"), ("家里网", "时断时续")]},
      dur=_DUR, angry=["到底什么时候能好", "你们到底管不管", "还让不让人用了", "每个月钱照交"]),

    # ============================================================ complain_billing
    T("bill-double-charge", "complain_billing", "{opener}{period}{fee}扣了两次，{detail}",
      opener=["我要投诉，", "投诉，", ""], fee=["月租", "套餐费", "宽带费", "话费"],
      detail=["多扣了一份钱", "钱得退给我", "一共扣了两份", "我就用了一个月"]),
    T("bill-vas-unordered", "complain_billing", "{vas}我{never}，{period}扣了我{amount}",
      never=["从来没开过", "根本没订过", "听都没听过", "没同意过"]),
    T("bill-vas-family", "complain_billing", "{family}的手机被开了个{vas}，{pron}{nouse}，每个月扣{amount}",
      nouse=["根本不会用", "从来没订过", "都不知道是啥"]),
    T("bill-promise", "complain_billing", "办的时候说{promise}，结果{reality}",
      slots={"promise,reality": [("每月39", "现在每个月扣59"), ("宽带送一年", "半年就开始扣钱了"),
                                 ("每月返30话费", "一分都没返"), ("老用户打八折", "账单还是原价"),
                                 ("首年半价", "第一个月就收全价"), ("副卡免费", "每个月扣10块功能费")]}),
    T("bill-overage", "complain_billing", "流量就超了{bit}，{charged}{amount}，{end}",
      bit=["一点点", "几百兆", "1个G"], charged=["扣了我", "一下收了"],
      end=["也不提醒一下", "这也太黑了吧", "凭什么", "抢钱啊"]),
    T("bill-roaming", "complain_billing", "去{country}{days}，回来{fee}扣了{big}{tail}",
      days=["三天", "五天", "一周"], fee=["漫游费", "流量费"], big=["一千多", "八百多", "1380", "两千多"],
      tail=["", "，也没个提醒", "，太坑了"]),
    T("bill-cancelled-still", "complain_billing", "{svc}{done}了，{period}还在扣{fee}",
      slots={"svc,done,fee": [("宽带", "都拆机", "宽带费"), ("彩铃", "早就退订", "彩铃费"),
                              ("副卡", "都注销", "副卡月租"), ("视频会员", "上个月就取消", "会员费"),
                              ("号码", "都办停机保号", "正常月租")]}),
    T("bill-question-grievance", "complain_billing", "{why}{period}{what}{how}？",
      why=["", "为什么", "凭什么", "怎么回事，"],
      slots={"what,how": [("话费", "扣了这么多"), ("账单", "比平时多了一百多"), ("话费", "多扣了{amount}"),
                          ("账单", "莫名其妙多了{amount}"), ("月租", "涨了")]}),
    T("bill-refund-refused", "complain_billing", "多扣的{amount}{said}，{dur}了一分钱没退",
      said=["打了好几遍{hotline}都说给退", "营业厅说给退", "客服答应退"], dur=["半个月", "一个月", "两周"]),
    T("bill-explicit-complaint", "complain_billing", "{opener}{detail}",
      opener=["我要投诉，", "投诉乱扣费：", "我要投诉你们乱收费，"],
      detail=["{period}无缘无故多扣了{amount}", "每个月都多扣几块钱", "充的{topup}话费没到账钱却扣了",
              "没用过的{vas}扣了我{amount}"]),
    T("bill-topup-lost", "complain_billing", "{channel}充的{topup}话费，钱扣了话费没到账，{tail}",
      channel=["微信上", "支付宝", "APP上", "银行卡"], tail=["{dur}了", "钱去哪了", "这算怎么回事"], dur=_DUR),

    # ============================================================ complain_business
    T("biz-install-late", "complain_business", "{past}约的装宽带，{dur}还没人来装{tail}",
      past=["上个月", "上礼拜", "月初", "上周一", "3月1号"], dur=["到现在", "到今天", "拖到现在"],
      tail=["", "，电话也打不通", "，也没人通知"]),
    T("biz-repair-missed", "complain_business", "约了{when}上门修宽带，{missed}",
      when=["今天上午", "昨天下午两点", "周六", "今天九点到十二点"],
      missed=["师傅没来也没个电话", "等了一天人影都没有", "师傅放我鸽子了", "到点了没人来，电话也不接"]),
    T("biz-change-late", "complain_business", "{app}申请了{dur}了还没{done}，你们怎么办事的",
      slots={"app,done": [("套餐变更", "生效"), ("降套餐", "办好"), ("宽带提速", "生效"),
                          ("亲情号添加", "生效"), ("停机保号恢复", "恢复")]},
      dur=["一个星期", "十天", "半个月", "两周"]),
    T("biz-plan-changed-unasked", "complain_business", "{who}没经过我同意就把我的套餐改成了{plan}{tail}",
      who=["营业员", "你们的人", "客服"], tail=["，我要改回去", "，谁让你们改的", ""]),
    T("biz-port-blocked", "complain_business", "{opener}携号转网{blocker}",
      opener=["我要投诉，", ""],
      blocker=["一直提示不符合条件，合约早到期了", "申请了三次都被驳回", "授权码一直拿不到",
               "转了一半卡住了，两边都用不了"]),
    T("biz-cancel-blocked", "complain_business", "{w}{what}，{blocker}",
      w=["想", "我要", "我就想"], what=["销户", "注销宽带", "退掉副卡", "取消合约"],
      blocker=["营业厅说办不了", "跑了三趟都没办成", "一直推销别的套餐就是不给办", "网上说去营业厅，营业厅又说网上办"]),
    T("biz-activation", "complain_business", "新办的{thing}{dur}了还{state}{tail}",
      thing=["卡", "号", "副卡"], state=["没激活", "用不了", "显示未开通"], dur=["三天", "一个星期", "好几天"],
      tail=["，到底什么情况", "", "，耽误事"]),
    T("biz-move-late", "complain_business", "宽带移机{dur}了还没{done}，{tail}",
      dur=["半个月", "二十天", "快一个月"], done=["移好", "装上", "弄好"],
      tail=["新家一直没网", "说好一周内弄好的", "每次打电话都说在排"]),
    T("biz-realname-stuck", "complain_business", "实名认证{stuck}，{tail}",
      stuck=["一直卡在审核中", "人脸识别老是不通过", "传了好几次照片都说不清晰"],
      tail=["号码到现在用不了", "{dur}了", "折腾死人了"], dur=_DUR),
    T("biz-explicit-complaint", "complain_business", "{opener}{issue}",
      opener=["我要投诉，", "投诉一下，", "我要投诉你们营业厅，"],
      issue=["补个卡跑了三趟都没办好", "说好三个工作日开通漫游，五天了还没开", "过户手续办了两周还没弄好",
             "退订个流量包怎么都退不掉"]),
    T("biz-hotline", "complain_business", "为了{biz}打了{n}{hotline}，每次都说{promise}，{dur}了还没办好",
      biz=["移机", "销户", "改套餐", "补卡"], n=["好几次", "十几次", "五次"],
      promise=["帮我催", "会有人联系", "已经提交了"], dur=_DUR),

    # ============================================================ complain_other
    T("other-modem-fault", "complain_other", "{device}{fault}，{tail}",
      device=["光猫", "家里的光猫", "你们装的光猫"],
      fault=["亮红灯了", "LOS灯一直闪红", "电源灯都不亮了", "烫得不敢摸", "老是自己重启"],
      tail=["重启了好几次也没用", "才用了半年", "换个插座也一样", "是不是坏了"]),
    T("other-router-broken", "complain_other", "{given}的路由器{fault}{tail}",
      given=["你们送", "装宽带时给", "营业厅换"],
      fault=["用了两个月就坏了", "用了一个月wifi灯就不亮了", "天线断了一根", "插上电一点反应都没有"],
      tail=["，这什么质量", "", "，能换一个吗"]),
    T("other-stb-fault", "complain_other", "机顶盒{fault}，{tail}",
      fault=["老是黑屏", "开机卡在logo界面", "隔一会儿就死机", "遥控器按了没反应", "声音和画面对不上"],
      tail=["{family}看不了电视", "拔电源才能好", "换过一个还是这样", "天天这样"]),
    T("other-hotline-hold", "complain_other", "{opener}打{hotline}{hold}",
      opener=["我要投诉，", "投诉你们热线，", ""],
      hold=["排队排了四十分钟都没接通", "等了半个小时一直放音乐", "按了七八层菜单最后自动挂断了",
            "打了一上午都打不进去"]),
    T("other-hotline-rant", "complain_other", "热线{wait}，{end}",
      wait=["等了二十分钟才接", "永远在排队", "每次都要等半个多小时", "一直占线"],
      end=["这服务也太差了", "你们是不是没人上班", "有急事根本找不到你们"]),
    T("other-shop-attitude", "complain_other", "{shop}营业厅的{staff}态度{bad}，{detail}",
      shop=["{district}", "人民路", "万达", "火车站"], staff=["营业员", "工作人员", "小姑娘", "柜员"],
      bad=["太差了", "很恶劣", "特别冲"],
      detail=["问两句就不耐烦", "对老人大呼小叫", "全程玩手机不理人", "还冲我翻白眼"]),
    T("other-phone-attitude", "complain_other", "{hl}的客服{bad}",
      hl=["10086", "10000", "10010", "10088", "热线"],
      bad=["说话很不耐烦，还挂我电话", "听我说一半就挂了", "一直打官腔，啥也不解决", "态度很冲，好像我欠她钱"]),
    T("other-marketing-call", "complain_other", "{freq}接到你们的推销电话，{detail}",
      freq=["一天能", "每天都", "这个礼拜天天", "上班时间老是"],
      detail=["说了不办还打", "换个号码接着打", "烦死了", "开会都被打断好几次"]),
    T("other-marketing-sms", "complain_other", "{sms}{freq}，{detail}",
      sms=["营销短信", "推销短信", "让我升级套餐的短信"], freq=["一天发好几条", "半夜还在发", "天天发"],
      detail=["回了TD退订也没用", "吵得人睡不着", "能不能别发了"]),
    T("other-privacy-leak", "complain_other", "刚{biz}就{spam}，{q}",
      biz=["办完宽带", "在营业厅办了卡", "换了套餐"],
      spam=["接到装修公司的电话", "天天接到贷款电话", "有陌生电话叫出我全名"],
      q=["是不是你们泄露了我的信息", "我的信息怎么泄露出去的", "你们怎么保护用户信息的"]),
    T("other-technician", "complain_other", "{who}{behaviour}",
      who=["上门装宽带的师傅", "修网的师傅", "装机师傅"],
      behaviour=["在我家抽烟，说了还不听", "把墙打得乱七八糟也不收拾", "问我要两百块辛苦费", "鞋套都不穿就进屋"]),
    T("other-bare-complaint", "complain_other", "{lead}{core}{tail}",
      lead=["", "喂，", "你好，", "那个，"], core=["我要投诉", "我想投诉一下", "我要投诉你们"],
      tail=["", "！", "，怎么投诉", "，对你们很不满意"]),
    T("other-misleading-sale", "complain_other", "营业员说{promise}，结果{reality}",
      slots={"promise,reality": [("合约机是全新的", "回家一看是翻新机"),
                                 ("送的路由器能覆盖三层楼", "上了二楼就搜不到wifi"),
                                 ("办宽带送智能音箱", "到现在也没见到"),
                                 ("这个老人机能视频", "买回去连微信都装不了")]}),
    T("other-app-bad", "complain_other", "你们这APP{bad}{tail}",
      bad=["一打开就闪退", "首页全是广告，找个余额要点五六层", "交费交到一半白屏了", "每次更新完都要重新登录"],
      tail=["，太烂了", ""]),

    # ============================================================ escalate
    T("esc-grievance-human", "escalate", "{grievance}，{human}",
      grievance=_GRIEVANCES, dur=_DUR,
      human=["转人工", "给我转人工客服", "我要找真人", "别让机器人回了，我要人工", "我要跟真人说"]),
    T("esc-grievance-supervisor", "escalate", "{grievance}，{boss}",
      grievance=_GRIEVANCES, dur=_DUR,
      boss=["叫你们主管出来", "把你们经理叫来", "我要找你们领导", "让你们负责人给我打电话"]),
    T("esc-regulator-threat", "escalate", "{grievance}，{deadline}{threat}",
      grievance=_GRIEVANCES, dur=_DUR,
      deadline=["再不解决", "今天不给说法", "这周还不处理", "再拖下去"],
      threat=["我就打12300", "我就去工信部投诉", "我就去消协", "我就找律师起诉你们", "我就发微博曝光你们"]),
    T("esc-regulator-done", "escalate", "{prefix}{action}",
      prefix=["", "跟你们说了多少遍了，", "这事没完，", "你们看着办，"],
      action=["我已经打了12300", "我已经在工信部网站上投诉了", "我已经咨询律师了", "我已经联系记者了",
              "材料都准备好了，明天去通管局"]),
    T("esc-upgrade", "escalate", "我要求投诉升级，{reason}",
      reason=["{dur}了还没解决", "同一个问题反映了四次", "你们的处理结果我不认", "每次都让我等"], dur=_DUR),
    T("esc-short-human", "escalate", "{ask}{post}",
      ask=["麻烦帮我转一下人工", "你好，我要人工服务", "在吗，转个人工", "能不能找个真人来", "人工客服在哪里",
           "帮我转真人客服"],
      post=["", "，谢谢", "，急事"]),
    T("esc-consult-then-human", "escalate", "{topic}，机器人说不明白，{human}",
      topic=["我想问下合约违约金怎么算", "携号转网的事", "我的账单有问题", "宽带移机的事情比较复杂"],
      human=["给我转人工", "找个人工客服", "换个人跟我说"]),
    T("esc-bot-useless", "escalate", "{bot}，{human}",
      bot=["你是机器人吧", "你说的都是模板", "问了三遍都答非所问", "机器人根本听不懂"],
      human=["我要找人工", "让活人来跟我说", "换个人来"]),
    T("esc-hotline-then-human", "escalate", "打{hotline}{fail}，这里{q}",
      fail=["打不通", "一直占线", "排不上队"], q=["能转人工吗", "有人工客服吗", "能找个真人吗"]),
    T("esc-senior", "escalate", "{family}年纪大了不会打字，{req}",
      slots={"family,pron": [("我妈", "她"), ("我爸", "他"), ("我奶奶", "她"), ("我爷爷", "他")]},
      req=["能不能让真人打个电话给{pron}", "麻烦安排人工客服跟{pron}说"]),

    # ============================================================ check_ticket_status
    T("status-refund", "check_ticket_status", "{past}申请的退款{q}",
      q=["到哪一步了", "有结果了吗", "审核通过了没", "什么时候能到账", "现在什么进度"]),
    T("status-refund-review", "check_ticket_status", "{lead}退款审核{q}",
      lead=["我那个", "之前说给退的", "多扣话费的"], q=["到哪一步了", "还要多久", "通过了吗", "有结果了吗"]),
    T("status-complaint", "check_ticket_status", "我{past}投诉的{issue}{q}",
      issue=["扣费问题", "信号问题", "推销电话", "宽带断网的事", "营业员态度的事"],
      q=["处理得怎么样了", "有结果了吗", "到哪一步了", "有人管了吗", "现在什么进度"]),
    T("status-repair", "check_ticket_status", "{past}报修的{thing}，{q}",
      thing=["宽带", "光猫", "网络故障"],
      q=["师傅什么时候来", "派单了没", "现在什么进度", "到哪一步了", "今天能修好吗"]),
    T("status-ticket-id", "check_ticket_status", "{kind}{ticket}{q}",
      kind=["工单", "单号", "投诉单", "报修单", ""],
      q=[" 进度", " 到哪一步了", "处理得怎么样了", "有结果了吗", "现在什么状态"]),
    T("status-application", "check_ticket_status", "{past}申请的{app}，{q}",
      app=["套餐变更", "携号转网", "宽带移机", "停机保号恢复", "过户"],
      q=["审核到哪一步了", "现在什么进度", "有结果了吗", "处理到哪了"]),
    T("status-why-not-yet", "check_ticket_status", "我那个{thing}怎么还没处理好？{q}",
      thing=["退款", "投诉", "报修单", "工单", "申请"],
      q=["到底到哪一步了", "现在是什么进度", "能帮我查下吗", "是谁在跟进"]),
    T("status-after-hotline", "check_ticket_status", "上次打{hotline}投诉的{issue}，{q}",
      issue=["多扣费", "断网", "骚扰电话", "携号转网"], q=["有结果了吗", "处理到哪了", "有进展没"]),
    T("status-by-phone", "check_ticket_status", "用{phone_number}查一下{what}",
      what=["投诉进度", "报修进度", "工单处理到哪了", "我的申请有结果没"]),
    T("status-promised-answer", "check_ticket_status", "说好{n}内给答复，{now}，{q}",
      n=["24小时", "48小时", "三天", "三个工作日"], now=["今天已经过了", "现在都过了", "到现在没人联系我"],
      q=["我的投诉到底怎么样了", "处理到哪一步了", "有结果了吗"]),

    # ============================================================ add_ticket_info
    T("add-detail", "add_ticket_info", "{lead}{detail}",
      lead=["补充一下：", "补充一点，", "再补充个情况，", "刚才忘了说，", "对了还有，"],
      detail=["{past}又断了两次", "光猫的LOS灯一直红着", "多扣的钱是{past}扣的", "我家在{building}",
              "一共多扣了{amount}", "推销电话都是晚上打来的"]),
    T("add-ticket-id", "add_ticket_info", "工单{ticket}{lead}{detail}",
      lead=["补充：", "再说一句，", "追加一下："],
      detail=["{past}又断了两次", "光猫的LOS灯一直红着", "扣费短信是{past}收到的", "重启路由器也没用"]),
    T("add-contact", "add_ticket_info", "{lead}联系电话{change}{phone_number}",
      lead=["补充一下，", "工单里的", "刚才投诉留的"], change=["改成", "换成", "写错了，应该是"]),
    T("add-to-complaint", "add_ticket_info", "{ref}的投诉{add}：{detail}",
      ref=["刚才", "上午", "之前", "昨天"], add=["再加一句", "补充一下", "再说明一下"],
      detail=["不只是我家，整栋楼都这样", "营业员工号后四位是0375", "扣费都是在凌晨", "机主是我爸，我是代他反映的"]),
    T("add-visit-note", "add_ticket_info", "{lead}师傅上门{when}",
      lead=["补充一下，", "工单再加个备注，", "另外说一下，"],
      when=["最好安排在周末", "前请先打电话", "下午五点以后家里才有人", "走小区北门近一点"]),

    # ============================================================ privacy
    T("privacy-see-command", "privacy_access", "{please}{look}你们存了我哪些{info}",
      info=["个人信息", "资料", "数据", "聊天记录"]),
    T("privacy-see-want", "privacy_access", "我想看看你们保存的我的{info}",
      info=["个人信息", "通话记录和联系方式", "资料都有哪些", "身份证信息"]),
    T("privacy-see-law", "privacy_access", "按个人信息保护法，{req}",
      req=["我要查阅你们处理的我的个人信息", "把你们收集的我的信息给我看看", "请告诉我你们存了我什么数据"]),
    T("privacy-delete-command", "privacy_delete", "{please}把我的{info}{act}",
      info=["个人信息", "聊天记录", "手机号和地址", "资料"], act=["删掉", "全部删除", "从系统里删了", "清空"]),
    T("privacy-delete-require", "privacy_delete", "{lead}我要求{act}",
      lead=["", "投诉处理完了，", "根据个人信息保护法，"],
      act=["删除你们保存的我的个人信息", "你们删掉我的所有记录", "清除我的个人数据"]),
    T("privacy-delete-stop", "privacy_delete", "以后别再存我的{info}了，{x}",
      info=["信息", "聊天记录", "资料"], x=["之前的也删掉", "全部删了吧", "麻烦都删除"]),

    # ============================================================ small talk
    T("greet-hello", "greet", "{g}{addr}{tail}",
      g=["你好", "您好", "哈喽", "嗨", "早上好", "下午好", "晚上好", "hello"],
      addr=["", "客服", "小助手", "呀"], tail=["", "，在吗", "，有人吗", "，打扰一下"]),
    T("greet-anyone", "greet", "{pre}有人{q}",
      pre=["喂，", "你好，", "亲，", "请问"], q=["在吗", "吗", "在线吗", "在不在"]),
    T("bye-done", "goodbye", "{ok}{done}，{bye}",
      ok=["好的，", "行，", "那", ""], done=["先这样", "我先下了", "没别的事了", "就这些"],
      bye=["拜拜", "再见", "回头聊", "88"]),
    T("bye-later", "goodbye", "{bye}{tail}",
      bye=["拜拜", "再见", "回头见"], tail=["，有事再找你", "，下次再聊", "啦", "咯"]),
    T("thank-basic", "thank", "{t}{tail}",
      t=["谢谢", "谢谢你", "谢谢客服", "太感谢你了", "多谢", "感谢"],
      tail=["", "，辛苦了", "，问题解决了", "，帮大忙了"]),
    T("thank-understood", "thank", "{ok}{t}",
      ok=["好的", "明白了", "知道了", "懂了", "行"], t=["，谢谢", "，谢谢啊", "，感谢", "，辛苦你了", "谢谢"]),
    T("thank-praise", "thank", "{praise}，{t}",
      praise=["你们效率挺高", "解释得很清楚", "总算弄明白了", "这么快就处理了"],
      t=["谢谢", "谢谢你", "太谢谢了", "感谢"]),
    T("affirm-yes-go", "affirm", "{y}，{t}",
      y=["嗯", "好的", "行", "可以", "对", "中", "是的", "没问题", "嗯嗯"],
      t=["就这样", "办吧", "提交吧", "就这个", "没错", "就按这个来", "确认"]),
    T("affirm-confirm-record", "affirm", "{y}，{ctx}",
      y=["要的", "对对", "可以的", "好嘞", "没错"],
      ctx=["就按刚才说的登记", "内容就是这些", "帮我登记上", "就是这个问题", "就这么提交", "是我本人"]),
    T("affirm-detail-right", "affirm", "{ok}，{what}没错",
      ok=["对", "是的", "嗯", "没问题"], what=["地址", "手机号", "信息", "号码", "内容"]),
    T("affirm-casual", "affirm", "{e}，{t}",
      e=["ok", "OK", "好嘞", "妥", "好滴", "yes"], t=["就这么办", "可以", "提交吧", "办吧"]),
    T("deny-not-now", "deny", "{n}，{t}",
      n=["不用了", "算了", "不了", "先不用"], t=["先不办了", "我再想想", "不需要", "以后再说"]),
    T("deny-wrong", "deny", "{n}{t}",
      n=["不对不对，", "不是，", "错了，", ""],
      t=["不是这个", "你说的不对", "不是我要的那个", "地址不对", "号码错了", "我说的不是这个"]),
    T("deny-with-reason", "deny", "{line}",
      line=["不用了，我自己去营业厅办", "不要，这个我不办", "不是，我问的是宽带", "别提交，我还没说完",
            "不需要，我再考虑考虑", "不用，我已经弄好了", "不对，我说的是上个月", "不是这个号，是我妈那个"]),

    # ============================================================ out_of_scope
    T("oos-train-ticket", "out_of_scope", "{please}订{a}{when}去{city}的{ticket}",
      a=["一张", "两张", ""], when=["明天", "周五", "下周一", "国庆"], ticket=["火车票", "高铁票", "机票"]),
    T("oos-ticket-question", "out_of_scope", "{when}去{city}的{ticket}{q}",
      when=["明天", "周末", "五一"], ticket=["高铁票", "火车票", "机票"], q=["还有吗", "多少钱", "怎么改签"]),
    T("oos-restaurant", "out_of_scope", "{district}附近有什么好吃的{food}{tail}",
      food=["火锅", "川菜", "烧烤", "", "日料"], tail=["", "，推荐一下", "？"]),
    T("oos-weather", "out_of_scope", "{when}{city}{q}",
      when=["明天", "周末", "后天", "今天下午"], q=["会下雨吗", "天气怎么样", "多少度", "要不要带伞"]),
    T("oos-homework", "out_of_scope", "{please}{hw}",
      hw=["写一篇500字的作文", "解一下这道方程", "翻译一段英文", "做一下数学作业", "写个请假条"]),
    T("oos-recipe", "out_of_scope", "{dish}怎么做{x}",
      dish=["糖醋排骨", "宫保鸡丁", "可乐鸡翅", "番茄牛腩", "麻婆豆腐"], x=["", "才好吃", "，要放糖吗"]),
    T("oos-taxi", "out_of_scope", "{please}叫个车去{place}", place=["火车站", "机场", "{city}南站", "人民医院"]),
    T("oos-courier", "out_of_scope", "{please}查下{courier}快递到哪了", courier=["顺丰", "京东", "中通", "圆通"]),
    T("oos-stock", "out_of_scope", "{stock}{q}",
      stock=["茅台", "宁德时代", "比亚迪", "腾讯"], q=["明天会涨吗", "现在能买吗", "还能拿吗"]),
    T("oos-keyboard-mash", "out_of_scope", "{mash}"),
]
