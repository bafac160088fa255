"""Templates for small talk (greetings, thanks, yes and no) and for ``out_of_scope`` requests."""

from __future__ import annotations

from typing import List

from nlu.generate.templates.base import T, Template

CHAT: List[Template] = [
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
