"""Templates for what a customer asks of a case under way or of us: ``escalate`` (a person, a higher level,
the regulator), ``check_ticket_status``, ``add_ticket_info`` and the two privacy requests.
"""

from __future__ import annotations

from typing import List

from nlu.generate.templates.base import _DUR, T, Template

_GRIEVANCES = [
    "宽带断了{dur}", "话费被乱扣了{amount}", "装宽带的师傅放了我三次鸽子", "携号转网一直办不了",
    "光猫坏了一个礼拜没人管", "没订过的视频会员扣了我三个月的钱", "信号差了一个月了",
]

FOLLOW_UP: List[Template] = [
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
]
