"""Demo 一约四会 and minutes: every council with a roster drawn from the village's adult residents, three minutes
(two confirmed, one draft) and, in a 示范村, a 四议两公开 trail begun. It draws from its own random stream (seeded by
the village's code), so that the households of later villages stay as they were."""
import random
from datetime import timedelta

from .. import attachments, records
from ..clock import today
from ..councils import data as councils
from . import data as meetings
from . import trails
from .forms import formdata, make_meeting_form, meeting_columns

ROSTERS = {  # council: positions in order (the first residents picked take the first positions)
    "红白理事会": ["会长", "副会长", "成员", "成员"], "道德评议会": ["会长", "副会长", "成员", "成员"],
    "禁毒禁赌会": ["会长", "成员", "成员"], "村民议事会": ["会长", "副会长", "成员", "成员"],
    "村“两委”会": ["书记", "主任", "委员", "委员", "监委会主任"], "党支部委员会": ["书记", "副书记", "委员"],
    "党员大会": ["党员"] * 6, "村民代表会议": ["村民代表"] * 8,
}


def picture(seed):
    """A photo of the paper minutes for the demo: a page with ruled lines and a red seal, as a JPEG (drawn, no file)."""
    import io

    from PIL import Image, ImageDraw
    rnd = random.Random(seed)
    image = Image.new("RGB", (640, 480), (rnd.randint(200, 235), rnd.randint(195, 225), rnd.randint(170, 205)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((70, 30, 570, 450), fill=(250, 248, 240), outline=(120, 110, 90), width=3)
    for y in range(80, 420, 28):
        draw.line((100, y, 100 + rnd.randint(250, 440), y), fill=(60, 60, 70), width=3)
    draw.ellipse((430, 330, 530, 430), outline=(190, 30, 30), width=6)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


def record_minutes(db, village_code, payload, actor):
    """Minutes made from a payload as the page's form sends it (validated by the same form); a draft."""
    form = make_meeting_form(db, village_code, formdata(payload))
    if not form.validate():
        raise ValueError(form.errors)
    return records.create(db, "meetings", {**meeting_columns(form), "village_code": village_code}, actor)[0]


def build(db, village, ctx):
    code, actor = village["code"], ctx.actor
    rnd = random.Random(code)  # its own stream: the households of later villages stay as they were
    day = today()
    since = day.replace(year=day.year - 2, month=1, day=15)
    rows = {c["name"]: c for c in councils.ensure_councils(db, code, actor)}
    adults = [r for r in db["residents"].rows_where("village_code = ? and birth_year <= ?", [code, day.year - 18])]
    roster = {}
    for name, positions in ROSTERS.items():
        picked = rnd.sample(adults, min(len(positions), len(adults)))
        roster[name] = [councils.add_member(db, rows[name], actor, None, position, resident_uuid=r["uuid"], since=since)[0]
                        for r, position in zip(picked, positions, strict=False)]  # a tiny village fills fewer seats
    councils.add_member(db, rows["村民议事会"], actor, "王守仁", "成员", since=since, note="乡贤，退休教师")
    councils.end_member(db, roster["红白理事会"][-1], day - timedelta(days=40), actor, "外出务工")
    two = roster["村“两委”会"]
    host, recorder = two[0]["name"], two[2]["name"] if len(two) > 2 else two[0]["name"]

    def minutes(council, ago, pairs, members):
        eligible = meetings.default_eligible(db, code, rows[council], "members", day - timedelta(days=ago))
        return record_minutes(db, code, [
            ["council", rows[council]["uuid"]], ["date", (day - timedelta(days=ago)).isoformat()],
            ["eligible", str(eligible or "")], ["time", "09:30"], ["place", "村委会会议室"], ["host", host],
            ["recorder", recorder], *[["attendees", m["uuid"]] for m in members], *pairs], actor)

    road = [["agenda-0-title", "三组村道硬化"], ["agenda-0-discussion", "三组村道 1.2 公里，雨天泥泞，群众多次反映。"],
            ["agenda-0-decision", "同意实施，按四议两公开程序办理；先请镇交通站测算造价。"],
            ["agenda-0-votes_for", str(len(two))], ["agenda-0-votes_against", "0"], ["agenda-0-votes_abstain", "0"],
            ["agenda-0-actions-0-task", "联系镇交通站测算造价"], ["agenda-0-actions-0-owner", two[1]["name"]],
            ["agenda-0-actions-0-due", (day + timedelta(days=10)).isoformat()]]
    branch = roster["党支部委员会"]
    proposal = minutes("党支部委员会", 25, [["agenda-0-title", "提议三组村道硬化"],
                                          ["agenda-0-decision", "支部提议实施三组村道硬化，提交两委会商议。"]], branch)
    proposal, _ = meetings.confirm(db, proposal, actor)
    pictures = [attachments.store_photo(db, code, f"现场{n}.jpg", picture(f"{code}-{n}"), actor) for n in (1, 2)]
    deliberation = minutes("村“两委”会", 20, road + [["photos", sha] for sha in pictures], two)
    attachments.link(db, "meetings", deliberation["uuid"], code, pictures, actor)
    deliberation, _ = meetings.confirm(db, deliberation, actor)
    thrift = roster["红白理事会"]
    old = minutes("红白理事会", 80, [["agenda-0-title", "修订红白事操办标准"],
                                    ["agenda-0-discussion", "婚事宴席不超过 15 桌，丧事从简，礼金不超过 200 元。"],
                                    ["agenda-0-decision", "提交村民代表会议表决后写入村规民约。"],
                                    ["agenda-0-votes_for", str(len(thrift) - 1)], ["agenda-0-votes_against", "1"],
                                    ["agenda-0-votes_abstain", "0"]], thrift)  # the member who left later was there
    meetings.confirm(db, old, actor)
    review = roster["道德评议会"]
    minutes("道德评议会", 2, [["agenda-0-title", "下半年道德评议"], ["agenda-0-discussion", "各组推荐孝老爱亲、邻里和睦典型。"],
                             ["absentees-0-name", review[-1]["name"]], ["absentees-0-reason", "外出务工"]], review[:-1])
    if village["model"]:
        trail, _ = trails.create_trail(db, code, "三组村道硬化", "三组村道 1.2 公里硬化，预计投资 40 万元。", actor)
        for step, meeting, council, note in ((1, proposal, "党支部委员会", "支部提议"),
                                             (2, deliberation, "村“两委”会", "两委会一致同意")):
            problem = trails.record_meeting_step(db, trail, step, meeting, council, note, actor)
            if problem:
                raise ValueError(problem)
