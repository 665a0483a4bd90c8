"""Demo notices: a quarter's accounts, a party meeting, a fire warning and a 公示 still running (amounts drawn
from the demo's shared random stream)."""
from datetime import timedelta

from ..clock import today
from .data import create_notice


def build(db, village, ctx):
    rnd, day = ctx.rnd, today()
    quarter = (day.month - 1) // 3 + 1
    samples = [
        ("财务", f"{day.year}年第{quarter}季度村级财务收支公开",
         (f"本季度村集体收入 {rnd.randint(8, 30)} 万元，其中产业分红、项目资金等；支出 {rnd.randint(5, 20)} 万元，"
          "主要用于村道维修、环境卫生、困难群众慰问。明细表张贴在村委会公开栏，欢迎监督。"), 12, None),
        ("党务", "召开主题党日活动的通知",
         f"{village['name']}党支部定于本月 25 日上午 9 点在村委会会议室召开主题党日活动，学习村规民约修订稿，请全体党员准时参加。",
         5, None),
        ("村务", "冬季森林防火告知书",
         "进入冬季，天干物燥。严禁野外用火、烧荒、烧田坎、上坟烧纸。发现火情请立即拨打 12119 或告诉村委会。", 3, None),
        ("公示", f"{day.year}年度星级文明户拟评名单公示",
         ("经农户申报、村民代表评议、村两委审核，拟评定以下农户为本年度星级文明户（名单见附件）。"
          "公示期内如有异议，请点下方“我有异议”或到村委会反映。"), 2, 5),
    ]
    for category, title, body, ago, runs in samples:
        start = day - timedelta(days=ago)
        create_notice(db, village["code"], {"title": title, "category": category, "body": body,
                                            "publish_date": start.isoformat(),
                                            "end_date": (day + timedelta(days=runs)).isoformat() if runs else None},
                      [], ctx.actor)
