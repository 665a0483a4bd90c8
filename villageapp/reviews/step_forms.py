"""Forms of the 道德评议 pages besides the case itself (forms.py): one step of the procedure (each step's page shows
only its own fields; procedure.take_step judges the content), a new session, and the town's settings."""
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import Form, choices
from . import data
from .procedure import OUTCOMES

# the fields each step's page shows, in order (the names are take_step's keywords)
FIELDS = {
    "vote": ("session", "votes_for", "votes_against", "votes_abstain", "conclusion", "help_plan", "helper", "note"),
    "tell": ("done_on", "how", "note"),
    "reply": ("done_on", "note"),
    "appeal": ("done_on", "note"),
    "decide_appeal": ("done_on", "outcome", "conclusion", "help_plan", "helper", "note"),
    "visit": ("done_on", "note"),
    "close": ("done_on", "note"),
    "consent": ("action", "by_name", "how", "done_on", "note"),
    "public": ("anonymous", "note"),
    "grant": ("granted",),
}
DAY_WORDS = {"tell": "告知日期", "reply": "本人说意见的日期", "appeal": "申请复评的日期", "decide_appeal": "复评日期",
             "visit": "回访日期", "close": "结案日期", "consent": "日期"}
NOTE_WORDS = {"vote": "说明（可不填）", "tell": "说明（可不填）", "reply": "本人的意见（照本人的话写）",
              "appeal": "申请复评的理由", "decide_appeal": "复评的理由", "visit": "回访的情况",
              "close": "结案说明（可不填）", "consent": "说明（可不填）", "public": "说明（可不填）"}
VOTE = NumberRange(min=0, max=999, message="票数请填 0 到 999 的数字")


class StepForm(Form):
    session = SelectField("哪一次评议会", choices=[], validate_choice=False)
    votes_for = IntegerField("同意", validators=[Optional(), VOTE])
    votes_against = IntegerField("反对", validators=[Optional(), VOTE])
    votes_abstain = IntegerField("弃权", validators=[Optional(), VOTE])
    outcome = RadioField("复评结果", choices=choices(list(OUTCOMES.items())), validate_choice=False)
    conclusion = RadioField("评议结论", choices=[], validate_choice=False)
    help_plan = TextAreaField("帮教计划（选帮教时要写）", validators=[Optional(), Length(max=1000, message="不超过 1000 字")])
    helper = StringField("帮教人（选帮教时要写）", validators=[Optional(), Length(max=40, message="不超过 40 字")])
    action = RadioField("同意还是撤回", choices=choices([("given", "本人同意在红榜上写名字"), ("withdrawn", "本人撤回同意")]),
                        validate_choice=False)
    by_name = StringField("是谁同意或撤回的", validators=[Optional(), Length(max=40, message="不超过 40 字")])
    how = RadioField("方式", choices=[], validate_choice=False)
    done_on = DateField("日期", validators=[Optional()], format="%Y-%m-%d")
    note = TextAreaField("说明", validators=[Optional(), Length(max=2000, message="不超过 2000 字")])
    anonymous = BooleanField("本人没同意写名字，也以“某户”上红榜")
    granted = BooleanField("让法律顾问查看这件事")

    def setup(self, step, case, sessions=()):
        """Labels and choices for one step of one case."""
        self.step, self.praise = step, case["kind"] == "praise"
        self.session.choices = choices([("", "请选择")] + [(s["uuid"], _session_label(s)) for s in sessions])
        wanted = ("praise",) if case["kind"] == "praise" else ("education", "help")
        self.conclusion.choices = choices([(c, data.CONCLUSIONS[c]) for c in wanted])
        if step == "decide_appeal":
            self.conclusion.label.text = "新的结论（选“改变结论”时要选）"
        self.how.choices = choices([(h, h) for h in (data.TOLD_HOW if step == "tell" else data.CONSENT_HOW)])
        self.how.label.text = "怎么告知的" if step == "tell" else "怎么同意的（撤回时可不选）"
        self.done_on.label.text = DAY_WORDS.get(step, "日期")
        self.note.label.text = NOTE_WORDS.get(step, "说明")
        if case["subject_type"] == "resident":
            self.anonymous.label.text = "本人没同意写名字，也以“某村民”上红榜"
        return self

    def shown(self):
        return [self[name] for name in self._names()]

    def _names(self):
        """The step's fields; a praise has no 帮教 to plan."""
        return [n for n in FIELDS[self.step] if not (self.praise and n in ("help_plan", "helper"))]

    def step_fields(self):
        """What take_step is given: the shown fields only."""
        out = {name: self[name].data for name in self._names()}
        if "done_on" in out:
            out["done_on"] = out["done_on"].isoformat() if out["done_on"] else ""
        return out


def _session_label(s):
    present = f"实到 {s['present']} 人" if s["present"] else "会议记录里还没有实到人数"
    return f"{s['title']}（{s['held_on']}，{present}）"


class SessionForm(Form):
    title = StringField("评议会的名称", validators=[DataRequired("请写评议会的名称，如“2026年上半年道德评议会”"),
                                              Length(max=60, message="名称不超过 60 字")])
    kind = RadioField("半年评议还是临时评议", choices=choices(list(data.SESSION_KINDS.items())),
                      validators=[DataRequired("请选择半年评议还是临时评议")])
    held_on = DateField("评议日期", validators=[DataRequired("请选择评议日期")], format="%Y-%m-%d")
    meeting_uuid = SelectField("这次会的会议记录（到会的人从会议记录里看）", choices=[],
                               validators=[DataRequired("请选择这次评议会的会议记录；还没有记录的，请先在“会议记录”里记一次道德评议会")])
    note = TextAreaField("说明（可不填）", validators=[Optional(), Length(max=500, message="不超过 500 字")])

    def setup(self, meetings):
        self.meeting_uuid.choices = choices([("", "请选择")] + [(m["uuid"], _meeting_label(m)) for m in meetings])
        return self


def _meeting_label(m):
    state = "已确认" if m["state"] != "draft" else "草稿"
    present = f"实到 {m['present']} 人" if m["present"] else "还没填实到人数"
    return f"{m['starts_at'][:10]} 道德评议会（{state}，{present}）"


def _lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class SettingsForm(Form):
    praise = TextAreaField("表扬的类别（一行一个）")
    criticism = TextAreaField("批评的类别（一行一个）")
    appeal_days = IntegerField("告知后几天内可以申请复评", validators=[
        DataRequired("请填天数"), NumberRange(min=1, max=90, message="天数请填 1 到 90")])
    visit_days = IntegerField("帮教的事几天没回访就提醒", validators=[
        DataRequired("请填天数"), NumberRange(min=1, max=90, message="天数请填 1 到 90")])

    def validate_praise(self, field):
        _check_list(field, "表扬")

    def validate_criticism(self, field):
        _check_list(field, "批评")

    def categories(self):
        return {"praise": list(dict.fromkeys(_lines(self.praise.data))),
                "criticism": list(dict.fromkeys(_lines(self.criticism.data)))}


def _check_list(field, words):
    lines = _lines(field.data)
    if not lines:
        raise ValidationError(f"{words}的类别至少要有一个")
    if len(lines) > 50:
        raise ValidationError(f"{words}的类别不超过 50 个")
    if any(len(line) > 20 for line in lines):
        raise ValidationError("每个类别不超过 20 个字")
