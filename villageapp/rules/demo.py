"""Demo 村规民约: version 1 filed and published (with its 村民代表会议 vote, which needs the councils of the meetings'
demo), and version 2, an amendment, waiting for the legal adviser."""
from datetime import timedelta

from ..clock import today
from ..councils import data as councils
from ..meetings import data as meetings
from ..meetings.demo import record_minutes
from ..steps import Actor
from . import data as rules
from . import procedure

ARTICLES = [
    ("总则", "宗旨", "为推进村民自治，弘扬社会主义核心价值观，根据有关法律法规，经村民代表会议讨论通过，制定本村规民约。", None),
    ("社会治安", "禁赌禁毒", "村民应自觉遵守法律法规，不参与赌博、吸毒、贩毒，发现线索及时向村委会或派出所报告。", None),
    ("村风民俗", "红白事从简", "婚丧喜庆事宜提前向红白理事会报备，婚事宴席不超过 20 桌，人情礼金不超过 300 元，反对高价彩礼。",
     {"banquet_tables": 20, "gift_amount": 300}),
    ("邻里关系", "邻里和睦", "邻里之间互谅互让，发生纠纷先协商，协商不成可申请村调委会调解。", None),
    ("婚姻家庭", "孝老爱亲", "子女应履行赡养义务，关心老人生活，不得虐待、遗弃老人。", None),
    ("环境卫生", "垃圾分类", "生活垃圾分类投放到指定地点，不乱倒垃圾、不焚烧秸秆，门前三包。", None),
    ("奖惩", "奖惩办法", "遵守本公约表现突出的，评为星级文明户；违反的，由村委会批评教育，并在道德评议会上评议。", None),
]


# 红岩村 has just started with the app: its 村规民约 is still on paper (try 导入现有的村规民约 with docs/sample-rulebook.txt)
ON_PAPER = {("610922100202", "红岩村")}  # (code, name): the county-size demo reuses the code for another village


def build(db, village, ctx):
    code, actor = village["code"], ctx.actor
    if (code, village["name"]) in ON_PAPER:
        return
    cadre, town, adviser = (Actor(ctx.account(role, code), role) for role in ("cadre", "town", "adviser"))
    day = today()
    v1, _ = rules.start_cycle(db, village, actor, "依据民政部等七部门指导意见，制定本村村规民约。")
    for chapter, title, body, limits in ARTICLES:
        rules.save_article(db, v1, {"chapter": chapter, "title": title, "body": body, **(limits or {})}, actor)
    long_ago = (day - timedelta(days=400)).isoformat()
    for step, outcome in (("consultation", "done"), ("draft", "done"), ("review", "passed"), ("approval", "approved")):
        v1 = procedure.take_step(db, v1, step, {"review": adviser, "approval": town}.get(step, cadre), outcome=outcome,
                                 done_on=long_ago, note="示例")
    body = councils.council_by_name(db, code, "村民代表会议")
    reps = councils.members(db, body["uuid"], current_only=True)
    meeting = record_minutes(db, code, [
        ["council", body["uuid"]], ["date", long_ago], ["time", "14:00"], ["place", "村委会会议室"],
        ["host", reps[0]["name"]], ["recorder", reps[-1]["name"]], ["eligible", str(len(reps))],
        ["eligible_basis", "representatives"], *[["attendees", m["uuid"]] for m in reps],
        ["agenda-0-title", "表决村规民约"], ["agenda-0-decision", "村规民约草案表决通过。"],
        ["agenda-0-votes_for", str(len(reps))], ["agenda-0-votes_against", "0"], ["agenda-0-votes_abstain", "0"]], actor)
    meetings.confirm(db, meeting, actor)
    v1 = procedure.take_step(db, v1, "vote", cadre, done_on=long_ago, meeting_uuid=meeting["uuid"], agenda_item=0)
    v1 = procedure.take_step(db, v1, "filing", town, done_on=long_ago, filing_no=f"村规备〔{day.year - 1}〕{code[-3:]}号")
    procedure.take_step(db, v1, "publish", cadre, done_on=long_ago)
    v2, _ = rules.start_cycle(db, village, actor, "落实移风易俗，降低宴席桌数和礼金标准。")
    rules.add_opinion(db, v2, "三组村民", "建议礼金再降一点，200 元就够了。")
    procedure.take_step(db, v2, "consultation", cadre, note="张贴征求意见稿，收到意见 1 条")
    thrift = next(a for a in rules.articles(db, v2["uuid"]) if a["limit_values"])
    rules.save_article(db, v2, {"chapter": thrift["chapter"], "title": thrift["title"],
                                "body": "婚丧喜庆事宜提前向红白理事会报备，婚事宴席不超过 15 桌，人情礼金不超过 200 元，反对高价彩礼。",
                                "banquet_tables": 15, "gift_amount": 200}, actor, thrift)
    procedure.take_step(db, db["rule_versions"].get(v2["uuid"]), "draft", cadre, note="两委会讨论形成草案")
