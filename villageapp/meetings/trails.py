"""四议两公开 decision trails: a village-wide matter and its six steps, in order. Steps 1–4 link the confirmed
minutes of the meeting where the step happened; 决议公开 and 结果公开 publish a notice on the public village page."""
import json
from datetime import timedelta

from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import audit, records
from ..clock import now_iso, today
from ..store import write
from ..forms import Form, client_uuid
from ..notices import data as notices
from . import data, quorum

# (step, label, bodies whose meeting may stand for the step; None = a notice is published)
STEPS = [
    (1, "党支部提议", ["党支部委员会", "村“两委”会"]),
    (2, "两委会商议", ["村“两委”会"]),
    (3, "党员大会审议", ["党员大会"]),
    (4, "村民（代表）会议决议", ["村民会议", "村民代表会议"]),
    (5, "决议公开", None),
    (6, "实施结果公开", None),
]
LABELS = {n: label for n, label, _b in STEPS}
BODIES = {n: bodies for n, _l, bodies in STEPS}
NOTICE_DAYS = 7  # a 决议公开 runs as a 公示 for a week by default: villagers may object


class TrailForm(Form):
    uuid = HiddenField(validators=[client_uuid])
    title = StringField("事项名称", validators=[DataRequired("请写是什么事，如：三组村道硬化"), Length(max=60, message="不超过 60 个字")])
    matter = TextAreaField("事项说明（可不填）", validators=[Optional(), Length(max=2000, message="不超过 2000 个字")])


class MeetingStepForm(Form):
    meeting = SelectField("在哪次会上", choices=[], validators=[DataRequired("请选择是哪次会")],
                          validate_choice=False)  # the view says why a meeting does not fit
    note = TextAreaField("说明（可不填，如：提议内容、表决结果）", validators=[Optional(), Length(max=1000, message="不超过 1000 个字")])


class NoticeStepForm(Form):
    uuid = HiddenField(validators=[client_uuid])
    title = StringField("公开的标题", validators=[DataRequired("请写标题"), Length(max=60, message="标题不超过 60 个字")])
    body = TextAreaField("公开的内容", validators=[DataRequired("请写公开的内容"), Length(max=10000, message="内容太长")])
    end_date = DateField("公示截止日期（可不填；填了村民可以在截止前提异议）", validators=[Optional()], format="%Y-%m-%d")

    def validate_end_date(self, field):
        if field.data and field.data < today():
            from wtforms.validators import ValidationError
            raise ValidationError("截止日期不能早于今天")


def create_trail(db, village_code, title, matter, actor, uuid=None):
    row, created = records.create(db, "trails", {"uuid": uuid, "village_code": village_code, "title": title,
                                                 "matter": matter or None}, actor, summary=f"四议两公开：{title}")
    return row, created


def trail(db, village_code, uuid):
    return next(db["trails"].rows_where("uuid = ? and village_code = ?", [uuid, village_code]), None)


def steps(db, trail_uuid):
    return {r["step"]: r for r in db["trail_steps"].rows_where("trail_uuid = ?", [trail_uuid])}


def next_step(done):
    return next((n for n, _l, _b in STEPS if n not in done), None)


def trails(db, village_code):
    rows = list(db.query("""select t.*, (select count(*) from trail_steps s where s.trail_uuid = t.uuid) as done
        from trails t where t.village_code = ? order by t.created_at desc""", [village_code]))
    for r in rows:
        r["next_label"] = LABELS.get(r["done"] + 1)
    return rows


def step_meetings(db, village_code, step, done):
    """Confirmed minutes that may stand for a step: of the right body, not before the step before it."""
    after = done[step - 1]["done_on"] if step > 1 and step - 1 in done else "0000"
    marks = ",".join("?" * len(BODIES[step]))
    return list(db.query(f"""select m.*, c.name as council_name from meetings m join councils c on c.uuid = m.council_uuid
        where m.village_code = ? and m.state != 'draft' and c.name in ({marks}) and substr(m.starts_at, 1, 10) >= ?
        order by m.starts_at desc limit 50""", [village_code, *BODIES[step], after]))


def record_meeting_step(db, trail_row, step, meeting_row, council_name, note, actor):
    """Link the minutes of step 1–4. Returns a Chinese reason when the link would break the procedure, else None.
    Decided under the write lock: two cadres recording the same step at once record it once."""
    with write(db):
        done = steps(db, trail_row["uuid"])
        if step in done:
            return f"“{LABELS[step]}”已经记过了"
        if step != next_step(done):
            return f"要先完成“{LABELS[next_step(done)]}”" if next_step(done) else "六个步骤都已完成"
        if BODIES[step] is None or council_name not in BODIES[step]:
            return f"“{LABELS[step]}”要用{'或'.join(BODIES[step] or [])}的会议记录"
        if meeting_row["state"] == "draft":
            return "这次会的记录还没确认，确认后才能作为依据"
        day = meeting_row["starts_at"][:10]
        if step > 1 and day < done[step - 1]["done_on"]:
            return f"这次会比上一步（{LABELS[step - 1]}）还早，顺序不对"
        if step == 4:
            check = quorum.quorum(council_name, meeting_row["eligible_basis"], meeting_row["eligible"],
                                 meeting_row["present"])
            if check and not check["met"]:
                return "这次会议到会人数没有达到法定人数，所作决定无效，不能作为决议：" + check["text"]
        _insert(db, trail_row, step, actor, meeting_uuid=meeting_row["uuid"], note=note or None, done_on=day)
    return None


def publish_step(db, trail_row, step, fields, actor):
    """决议公开 / 结果公开: publish a notice (a 公示 when it has an end date) and link it. Returns (notice, problem).
    Decided under the write lock: two cadres publishing the same step at once publish one notice."""
    with write(db):
        done = steps(db, trail_row["uuid"])
        if step in done:
            return db["notices"].get(done[step]["notice_uuid"]), None  # a re-sent form: already published
        if step != next_step(done):
            return None, f"要先完成“{LABELS[next_step(done)]}”"
        notice, _created = notices.create_notice(db, trail_row["village_code"], {
            "uuid": fields.get("uuid") or None, "title": fields["title"], "body": fields["body"],
            "category": "公示" if fields.get("end_date") else "村务", "publish_date": today().isoformat(),
            "end_date": fields["end_date"].isoformat() if fields.get("end_date") else None}, [], actor)
        _insert(db, trail_row, step, actor, notice_uuid=notice["uuid"], done_on=today().isoformat())
    return notice, None


def _insert(db, trail_row, step, actor, **columns):
    with write(db):
        db["trail_steps"].insert({"trail_uuid": trail_row["uuid"], "step": step, "created_at": now_iso(),
                                  "created_by": actor, **columns})
        audit.record(db, actor, "update", "trails", trail_row["uuid"], trail_row["village_code"],
                     summary=f"四议两公开 第{step}步 {LABELS[step]}：{trail_row['title']}")


def notice_defaults(db, trail_row, step, done):
    """The text a 决议公开 / 结果公开 starts with: the matter and the decisions of the step-4 minutes."""
    if step == 5:
        decisions = []
        link = done.get(4)
        meeting = db["meetings"].get(link["meeting_uuid"]) if link and link["meeting_uuid"] else None
        if meeting:
            council = db["councils"].get(meeting["council_uuid"])
            for item in json.loads(meeting["agenda"] or "[]"):
                line = f"{item['title']}：{item['decision'] or '（见会议记录）'}"
                if quorum.voted(item):
                    line += (f"（到会 {meeting['present']} 人，同意 {item['votes_for'] or 0}，"
                             f"反对 {item['votes_against'] or 0}，弃权 {item['votes_abstain'] or 0}）")
                decisions.append(line)
            head = f"{meeting['starts_at'][:10]} 召开的{council['name']}对“{trail_row['title']}”作出决议：\n"
        else:
            head = ""
        body = head + "\n".join(decisions) + "\n公示期间如有异议，请点下方“我有异议”或到村委会反映。"
        return {"title": f"关于{trail_row['title']}的决议公开", "body": body,
                "end_date": today() + timedelta(days=NOTICE_DAYS)}
    return {"title": f"关于{trail_row['title']}的实施结果公开", "body": f"“{trail_row['title']}”已实施完毕，结果如下：\n",
            "end_date": None}


def with_meetings(db, done):
    """The steps with the meeting (and its council name) or the notice each one links."""
    out = []
    for n, label, bodies in STEPS:
        row = done.get(n)
        meeting = notice = None
        if row and row["meeting_uuid"]:
            meeting = db["meetings"].get(row["meeting_uuid"])
            meeting = data.view(meeting, db["councils"].get(meeting["council_uuid"])["name"])
        if row and row["notice_uuid"]:
            notice = db["notices"].get(row["notice_uuid"])
        out.append({"step": n, "label": label, "bodies": bodies, "row": row, "meeting": meeting, "notice": notice})
    return out
