"""The demo county: two real 石泉县 towns, three villages each, households and residents with
generated names, one account per role, a few notices, and each village's councils with rosters and minutes.
Building it twice changes nothing."""
import random
from datetime import timedelta

from faker import Faker

from . import auth, records, registry
from . import store
from .clock import now_iso, today
from .meetings.forms import formdata, make_meeting_form, meeting_columns
from .notices import data as notices

PASSWORD = "shiquan2026"
ACTOR = "demo"
TOWNS = [
    ("610922100", "城关镇", [("610922100201", "古堰村", "村", True), ("610922100202", "红岩村", "村", False),
                          ("610922100003", "新春社区", "社区", False)]),
    ("610922104", "池河镇", [("610922104201", "明星村", "村", True), ("610922104202", "五爱村", "村", False),
                          ("610922104203", "谭家湾村", "村", False)]),
]
GROUPS = ["一组", "二组", "三组", "四组", "五组", "六组"]
ACCOUNTS = [  # username, name, role, town, villages, position
    ("admin", "王建国", "county", None, [], None),
    ("chengguan", "李秀英", "town", "610922100", [], None),
    ("chihe", "陈志强", "town", "610922104", [], None),
    ("mingxing", "张德明", "cadre", "610922104", ["610922104201"], "书记"),
    ("guyan", "刘桂兰", "cadre", "610922100", ["610922100201"], "主任"),
    ("lawyer", "赵敏", "adviser", "610922104", ["610922104201", "610922104202"], None),
]


def build(app, households=40, seed=2026, log=print):
    """Create whatever part of the demo county is missing. Returns the list of demo logins."""
    fake = Faker("zh_CN")
    Faker.seed(seed)
    rnd = random.Random(seed)
    with app.app_context():
        directory = store.open_directory(app)
        try:
            for code, name, villages in TOWNS:
                _town(app, directory, code, name, villages, households, fake, rnd, log)
            for username, name, role, town, villages, position in ACCOUNTS:
                if not directory.execute("select 1 from users where username = ?", [username]).fetchone():
                    auth.create_user(directory, username, PASSWORD, name, role, ACTOR, town_code=town,
                                     villages=villages, position=position,
                                     phone=f"139{rnd.randrange(10**8):08d}")
        finally:
            directory.close()
    return [(u, PASSWORD, role, f"{name} · {describe(role, town, villages, position)}")
            for u, name, role, town, villages, position in ACCOUNTS]


def describe(role, town, villages, position):
    """Who an account is, in the words of the interface (for the printed logins)."""
    towns = {code: name for code, name, _v in TOWNS}
    names = {code: name for _c, _n, vs in TOWNS for code, name, *_ in vs}
    return {"county": "县级管理员（全县）", "town": f"{towns.get(town)}干部",
            "cadre": f"{'、'.join(names[v] for v in villages)}{position}",
            "adviser": f"法律顾问（{'、'.join(names[v] for v in villages)}）"}[role]


def _town(app, directory, code, name, villages, households, fake, rnd, log):
    if not directory.execute("select 1 from towns where code = ?", [code]).fetchone():
        directory["towns"].insert({"code": code, "name": name, "created_at": now_iso()})
    db = store.create_town_store(code, app)
    try:
        for vcode, vname, kind, model in villages:
            if db.execute("select 1 from villages where code = ?", [vcode]).fetchone():
                if not db.execute("select 1 from councils where village_code = ?", [vcode]).fetchone():
                    with store.write(db):  # a demo built before councils existed gets them now
                        _councils(db, vcode, model)
                if not db.execute("select 1 from rulebooks where village_code = ?", [vcode]).fetchone():
                    with store.write(db):  # …and before 村规民约 existed
                        _rules(db, vcode)
                continue
            with store.write(db):
                registry.add_village(db, vcode, vname, ACTOR, kind=kind, model=model)
                _households(db, vcode, households, fake, rnd)
                _notices(db, vcode, vname, rnd)
                _councils(db, vcode, model)
                _rules(db, vcode)
            log(f"  {name} {vname}: {households} 户")
    finally:
        db.close()


def _households(db, village, count, fake, rnd):
    for _ in range(count):
        surname = fake.last_name()
        head_male = rnd.random() < 0.85
        head = surname + (fake.first_name_male() if head_male else fake.first_name_female())
        group = rnd.choice(GROUPS[:rnd.randint(4, 6)])
        house = registry.add_household(db, village, group, head, ACTOR, address=f"{group}{rnd.randint(1, 60)}号",
                                       phone=f"1{rnd.choice('35789')}{rnd.randrange(10**9):09d}")
        born = rnd.randint(1948, 1985)
        members = [(head, "男" if head_male else "女", born, "户主")]
        if rnd.random() < 0.8:
            spouse_male = not head_male
            members.append((fake.last_name() + (fake.first_name_male() if spouse_male else fake.first_name_female()),
                            "男" if spouse_male else "女", born + rnd.randint(-4, 4), "配偶"))
        for _child in range(rnd.randint(0, 3)):
            male = rnd.random() < 0.5
            members.append((surname + (fake.first_name_male() if male else fake.first_name_female()),
                            "男" if male else "女", min(born + rnd.randint(20, 32), 2020), "子" if male else "女"))
        for name, gender, year, relation in members:
            registry.add_resident(db, house["uuid"], name, ACTOR, gender=gender, birth_year=year, relation=relation)


def _notices(db, village, vname, rnd):
    day = today()
    quarter = (day.month - 1) // 3 + 1
    samples = [
        ("财务", f"{day.year}年第{quarter}季度村级财务收支公开",
         f"本季度村集体收入 {rnd.randint(8, 30)} 万元，其中产业分红、项目资金等；支出 {rnd.randint(5, 20)} 万元，"
         "主要用于村道维修、环境卫生、困难群众慰问。明细表张贴在村委会公开栏，欢迎监督。", 12, None),
        ("党务", "召开主题党日活动的通知",
         f"{vname}党支部定于本月 25 日上午 9 点在村委会会议室召开主题党日活动，学习村规民约修订稿，请全体党员准时参加。", 5, None),
        ("村务", "冬季森林防火告知书",
         "进入冬季，天干物燥。严禁野外用火、烧荒、烧田坎、上坟烧纸。发现火情请立即拨打 12119 或告诉村委会。", 3, None),
        ("公示", f"{day.year}年度星级文明户拟评名单公示",
         "经农户申报、村民代表评议、村两委审核，拟评定以下农户为本年度星级文明户（名单见附件）。"
         "公示期内如有异议，请点下方“我有异议”或到村委会反映。", 2, 5),
    ]
    for category, title, body, ago, runs in samples:
        start = day - timedelta(days=ago)
        notices.create_notice(db, village, {"title": title, "category": category, "body": body,
                                            "publish_date": start.isoformat(),
                                            "end_date": (day + timedelta(days=runs)).isoformat() if runs else None},
                              [], ACTOR)


# ---- 一约四会: rosters drawn from the village's residents, and a few minutes ------------------------------

ROSTERS = {  # council: positions in order (the first residents picked take the first positions)
    "红白理事会": ["会长", "副会长", "成员", "成员"], "道德评议会": ["会长", "副会长", "成员", "成员"],
    "禁毒禁赌会": ["会长", "成员", "成员"], "村民议事会": ["会长", "副会长", "成员", "成员"],
    "村“两委”会": ["书记", "主任", "委员", "委员", "监委会主任"], "党支部委员会": ["书记", "副书记", "委员"],
    "党员大会": ["党员"] * 6, "村民代表会议": ["村民代表"] * 8,
}


def _councils(db, village, model):
    """Councils with rosters, three meetings (two confirmed, one draft) and, in a 示范村, a 四议两公开 trail begun."""
    from .councils import data as councils
    from .meetings import data as meetings
    from .meetings import trails

    rnd = random.Random(village)  # its own stream: the households of later villages stay as they were
    day = today()
    since = day.replace(year=day.year - 2, month=1, day=15)
    rows = {c["name"]: c for c in councils.ensure_councils(db, village, ACTOR)}
    adults = [r for r in db["residents"].rows_where("village_code = ? and birth_year <= ?", [village, day.year - 18])]
    roster = {}
    for name, positions in ROSTERS.items():
        picked = rnd.sample(adults, min(len(positions), len(adults)))
        roster[name] = [councils.add_member(db, rows[name], ACTOR, None, position, resident_uuid=r["uuid"], since=since)[0]
                        for r, position in zip(picked, positions, strict=False)]  # a tiny village fills fewer seats
    councils.add_member(db, rows["村民议事会"], ACTOR, "王守仁", "成员", since=since, note="乡贤，退休教师")
    councils.end_member(db, roster["红白理事会"][-1], day - timedelta(days=40), ACTOR, "外出务工")
    two = roster["村“两委”会"]
    host, recorder = two[0]["name"], two[2]["name"] if len(two) > 2 else two[0]["name"]

    def minutes(council, ago, pairs, members):
        eligible = meetings.default_eligible(db, village, rows[council], "members", day - timedelta(days=ago))
        payload = [["council", rows[council]["uuid"]], ["date", (day - timedelta(days=ago)).isoformat()],
                   ["eligible", str(eligible or "")],
                   ["time", "09:30"], ["place", "村委会会议室"], ["host", host], ["recorder", recorder],
                   *[["attendees", m["uuid"]] for m in members], *pairs]
        form = make_meeting_form(db, village, formdata(payload))
        if not form.validate():
            raise ValueError(form.errors)
        return records.create(db, "meetings", {**meeting_columns(form), "village_code": village}, ACTOR)[0]

    road = [["agenda-0-title", "三组村道硬化"], ["agenda-0-discussion", "三组村道 1.2 公里，雨天泥泞，群众多次反映。"],
            ["agenda-0-decision", "同意实施，按四议两公开程序办理；先请镇交通站测算造价。"],
            ["agenda-0-votes_for", str(len(two))], ["agenda-0-votes_against", "0"], ["agenda-0-votes_abstain", "0"],
            ["agenda-0-actions-0-task", "联系镇交通站测算造价"], ["agenda-0-actions-0-owner", two[1]["name"]],
            ["agenda-0-actions-0-due", (day + timedelta(days=10)).isoformat()]]
    branch = roster["党支部委员会"]
    proposal = minutes("党支部委员会", 25, [["agenda-0-title", "提议三组村道硬化"],
                                          ["agenda-0-decision", "支部提议实施三组村道硬化，提交两委会商议。"]], branch)
    proposal, _ = meetings.confirm(db, proposal, ACTOR)
    deliberation, _ = meetings.confirm(db, minutes("村“两委”会", 20, road, two), ACTOR)
    thrift = roster["红白理事会"]
    old = minutes("红白理事会", 80, [["agenda-0-title", "修订红白事操办标准"],
                                    ["agenda-0-discussion", "婚事宴席不超过 15 桌，丧事从简，礼金不超过 200 元。"],
                                    ["agenda-0-decision", "提交村民代表会议表决后写入村规民约。"],
                                    ["agenda-0-votes_for", str(len(thrift) - 1)], ["agenda-0-votes_against", "1"],
                                    ["agenda-0-votes_abstain", "0"]], thrift)  # the member who left later was there
    meetings.confirm(db, old, ACTOR)
    review = roster["道德评议会"]
    minutes("道德评议会", 2, [["agenda-0-title", "下半年道德评议"], ["agenda-0-discussion", "各组推荐孝老爱亲、邻里和睦典型。"],
                             ["absentees-0-name", review[-1]["name"]], ["absentees-0-reason", "外出务工"]], review[:-1])
    if model:
        trail, _ = trails.create_trail(db, village, "三组村道硬化", "三组村道 1.2 公里硬化，预计投资 40 万元。", ACTOR)
        for step, meeting, council, note in ((1, proposal, "党支部委员会", "支部提议"),
                                             (2, deliberation, "村“两委”会", "两委会一致同意")):
            problem = trails.record_meeting_step(db, trail, step, meeting, council, note, ACTOR)
            if problem:
                raise ValueError(problem)


# ---- 村规民约: version 1 filed and published, version 2 (an amendment) waiting for the legal adviser ----------

RULE_ARTICLES = [
    ("总则", "宗旨", "为推进村民自治，弘扬社会主义核心价值观，根据有关法律法规，经村民代表会议讨论通过，制定本村规民约。", None),
    ("社会治安", "禁赌禁毒", "村民应自觉遵守法律法规，不参与赌博、吸毒、贩毒，发现线索及时向村委会或派出所报告。", None),
    ("村风民俗", "红白事从简", "婚丧喜庆事宜提前向红白理事会报备，婚事宴席不超过 20 桌，人情礼金不超过 300 元，反对高价彩礼。",
     {"banquet_tables": 20, "gift_amount": 300}),
    ("邻里关系", "邻里和睦", "邻里之间互谅互让，发生纠纷先协商，协商不成可申请村调委会调解。", None),
    ("婚姻家庭", "孝老爱亲", "子女应履行赡养义务，关心老人生活，不得虐待、遗弃老人。", None),
    ("环境卫生", "垃圾分类", "生活垃圾分类投放到指定地点，不乱倒垃圾、不焚烧秸秆，门前三包。", None),
    ("奖惩", "奖惩办法", "遵守本公约表现突出的，评为星级文明户；违反的，由村委会批评教育，并在道德评议会上评议。", None),
]


def _account(role, village):
    """The demo login that would take a step of the procedure in this village (the system's name where none would)."""
    return next((u for u, _n, r, town, villages, _p in ACCOUNTS
                 if r == role and (village in villages or (role == "town" and town == village[:9]))), ACTOR)


class _DemoUser:
    def __init__(self, username, role):
        self.username, self.role = username, role


def _rules(db, village):
    """A filed and published first version with its 村民代表会议 vote, and an amendment at the adviser's review."""
    from .councils import data as councils
    from .rules import data as rules
    from .rules import procedure

    row = db["villages"].get(village)
    cadre, town, adviser = (_DemoUser(_account(role, village), role) for role in ("cadre", "town", "adviser"))
    day = today()
    v1, _ = rules.start_cycle(db, row, ACTOR, "依据民政部等七部门指导意见，制定本村村规民约。")
    for chapter, title, body, limits in RULE_ARTICLES:
        rules.save_article(db, v1, {"chapter": chapter, "title": title, "body": body, **(limits or {})}, ACTOR)
    long_ago = (day - timedelta(days=400)).isoformat()
    for step, outcome in (("consultation", "done"), ("draft", "done"), ("review", "passed"), ("approval", "approved")):
        v1 = procedure.take_step(db, v1, step, {"review": adviser, "approval": town}.get(step, cadre), outcome=outcome,
                                 done_on=long_ago, note="示例")
    body = councils.council_by_name(db, village, "村民代表会议")
    reps = councils.members(db, body["uuid"], current_only=True)
    payload = [["council", body["uuid"]], ["date", long_ago], ["time", "14:00"], ["place", "村委会会议室"],
               ["host", reps[0]["name"]], ["recorder", reps[-1]["name"]], ["eligible", str(len(reps))],
               ["eligible_basis", "representatives"], *[["attendees", m["uuid"]] for m in reps],
               ["agenda-0-title", "表决村规民约"], ["agenda-0-decision", "村规民约草案表决通过。"],
               ["agenda-0-votes_for", str(len(reps))], ["agenda-0-votes_against", "0"], ["agenda-0-votes_abstain", "0"]]
    form = make_meeting_form(db, village, formdata(payload))
    if not form.validate():
        raise ValueError(form.errors)
    from .meetings import data as meetings
    meeting = records.create(db, "meetings", {**meeting_columns(form), "village_code": village}, ACTOR)[0]
    meetings.confirm(db, meeting, ACTOR)
    v1 = procedure.take_step(db, v1, "vote", cadre, done_on=long_ago, meeting_uuid=meeting["uuid"], agenda_item=0)
    v1 = procedure.take_step(db, v1, "filing", town, done_on=long_ago, filing_no=f"村规备〔{day.year - 1}〕{village[-3:]}号")
    procedure.take_step(db, v1, "publish", cadre, done_on=long_ago)
    v2, _ = rules.start_cycle(db, row, ACTOR, "落实移风易俗，降低宴席桌数和礼金标准。")
    rules.add_opinion(db, v2, "三组村民", "建议礼金再降一点，200 元就够了。")
    procedure.take_step(db, v2, "consultation", cadre, note="张贴征求意见稿，收到意见 1 条")
    thrift = next(a for a in rules.articles(db, v2["uuid"]) if a["limit_values"])
    rules.save_article(db, v2, {"chapter": thrift["chapter"], "title": thrift["title"],
                                "body": "婚丧喜庆事宜提前向红白理事会报备，婚事宴席不超过 15 桌，人情礼金不超过 200 元，反对高价彩礼。",
                                "banquet_tables": 15, "gift_amount": 200}, ACTOR, thrift)
    procedure.take_step(db, db["rule_versions"].get(v2["uuid"]), "draft", cadre, note="两委会讨论形成草案")
