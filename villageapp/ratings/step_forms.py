"""Forms of the 星级文明户 pages besides the reviewers' scores (forms.py): a new campaign, an entry, the 考核 adjustment,
a family's consent, one step of the procedure, 摘星, and the town's campaign types. Each shows only its own fields;
procedure.py judges the content and its refusals are shown on the same page."""
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import Form, MultiCheckboxField, choices
from . import data

YEAR = NumberRange(min=2000, max=2100, message="年度请填四位数的年份，如 2026")


def lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class CampaignForm(Form):
    type_uuid = RadioField("评什么", choices=[], validators=[DataRequired("请选择评什么")])
    year = IntegerField("哪一年的", validators=[InputRequired("请填年度"), YEAR])
    reviewers = TextAreaField("评议人（村民代表，一行写一个名字）", validators=[DataRequired("请写上评议人，一行一个")])

    def setup(self, kinds):
        self.type_uuid.choices = choices([(t["uuid"], f"{t['name']}（{data.MODES[t['mode']][:2]}，评{data.SUBJECTS[t['subject']]}）")
                                          for t in kinds])
        return self

    def validate_reviewers(self, field):
        names = lines(field.data)
        if len(names) > 60 or any(len(n) > 20 for n in names):
            raise ValidationError("评议人最多 60 个，每个名字不超过 20 个字")

    def names(self):
        return list(dict.fromkeys(lines(self.reviewers.data)))


class EntryForm(Form):
    subject = SelectField("哪一户（人）", choices=[], validators=[DataRequired("请选择哪一户（人）")])
    how = RadioField("怎么参评", choices=choices(list(data.HOW.items())), validators=[DataRequired("请选择是自己申请还是推荐")])
    came_on = DateField("申请或推荐的日期", validators=[DataRequired("请选择日期")], format="%Y-%m-%d")
    nominated_by = StringField("推荐人（推荐时要写）", validators=[Optional(), Length(max=40, message="不超过 40 字")])

    def validate_nominated_by(self, field):
        if self.how.data == "nominate" and not (field.data or "").strip():
            raise ValidationError("推荐的要写推荐人，如“第二村民小组”或推荐人的名字")


class AdjustForm(Form):
    stars = MultiCheckboxField("考核后评上的星（打勾）", choices=[])
    total = IntegerField("考核后的总分", validators=[Optional(), NumberRange(min=0, max=1000, message="总分请填 0 到 1000")])
    passed = RadioField("考核结果", choices=choices([("yes", "评上"), ("no", "不评上")]),
                        validators=[DataRequired("请选择评上还是不评上")])
    reason = TextAreaField("调整的理由（必须写）", validators=[Optional(), Length(max=1000, message="不超过 1000 字")])

    def setup(self, rules):
        self.rules = rules
        self.stars.choices = choices([(c["name"], c["name"]) for c in rules["criteria"]])
        return self

    def validate_total(self, field):
        if self.rules["mode"] == "points" and field.data is None:
            raise ValidationError("请填考核后的总分")

    def result(self, computed):
        if self.rules["mode"] == "stars":
            stars = [c["name"] for c in self.rules["criteria"] if c["name"] in (self.stars.data or [])]
            total = len(stars)
        else:
            stars, total = [], self.total.data
        return {"reviewers": (computed or {}).get("reviewers", 0), "stars": stars, "total": total,
                "passed": self.passed.data == "yes"}


class ConsentForm(Form):
    action = RadioField("同意还是撤回", choices=choices([("given", "家里同意公开写名字"), ("withdrawn", "家里撤回同意（以后写“某户”）")]),
                        validators=[DataRequired("请选择同意还是撤回")])
    by_name = StringField("是谁说的", validators=[DataRequired("请写明是谁同意或撤回的"), Length(max=40, message="不超过 40 字")])
    how = RadioField("怎么说的", choices=choices([(h, h) for h in data.CONSENT_HOW]), validators=[DataRequired("请选择方式")])
    on = DateField("日期", validators=[DataRequired("请选择日期")], format="%Y-%m-%d")


class StepForm(Form):
    note = TextAreaField("说明（可不填）", validators=[Optional(), Length(max=1000, message="不超过 1000 字")])

    def setup(self, step):
        if step == "return":
            self.note.label.text = "退回的理由（必须写，村里会看到）"
        return self


class WithdrawForm(Form):
    reason = TextAreaField("摘星的理由（必须写）", validators=[DataRequired("请写明摘星的理由"),
                                                    Length(max=1000, message="不超过 1000 字")])
    review = SelectField("依据的道德评议（可不选）", choices=[], validate_choice=False)
    on = DateField("摘星日期", validators=[DataRequired("请选择日期")], format="%Y-%m-%d")


class TypeForm(Form):
    name = StringField("名称", validators=[DataRequired("请写名称，如“星级文明信用户”"), Length(max=30, message="名称不超过 30 字")])
    cycle_years = IntegerField("几年评一次", validators=[InputRequired("请填几年评一次"),
                                                    NumberRange(min=1, max=10, message="请填 1 到 10")])
    subject = RadioField("评谁", choices=choices(list(data.SUBJECTS.items())), validators=[DataRequired("请选择评户还是评个人")])
    mode = RadioField("怎么评", choices=choices(list(data.MODES.items())), validators=[DataRequired("请选择评法")])
    criteria = TextAreaField("标准（一行一条。星级：只写星的名称；打分：写“名称 满分”，如“孝老爱亲 20”）",
                             validators=[DataRequired("请写评选标准，一行一条")])
    threshold = IntegerField("达标线（星级：几颗星评上；打分：多少分评上）", validators=[
        InputRequired("请填达标线"), NumberRange(min=1, max=1000, message="请填 1 到 1000")])
    publicity_days = IntegerField("公示几天", validators=[InputRequired("请填公示天数"),
                                                      NumberRange(min=5, max=30, message="公示请填 5 到 30 天")])
    rebar_years = IntegerField("摘星后几年不能再评", validators=[InputRequired("请填年数（不限制填 0）"),
                                                          NumberRange(min=0, max=10, message="请填 0 到 10")])
    active = BooleanField("在用（村里开始新评选时可以选）", default=True)

    def parsed(self, old=None):
        """The criteria as data; a star kept by name keeps its pass share."""
        shares = {c["name"]: c.get("pass", 0.5) for c in (old or [])}
        out = []
        for line in lines(self.criteria.data):
            if self.mode.data == "points":
                name, _, top = line.rpartition(" ")
                out.append({"name": name.strip(), "max": int(top)})
            else:
                out.append({"name": line, "pass": shares.get(line, 0.5)})
        return out

    def validate_criteria(self, field):
        rows = lines(field.data)
        if len(rows) > 20:
            raise ValidationError("标准最多 20 条")
        if self.mode.data == "points":
            for line in rows:
                name, _, top = line.rpartition(" ")
                if not name.strip() or not top.isdigit() or not 1 <= int(top) <= 100:
                    raise ValidationError(f"“{line}”要写成“名称 满分”，满分是 1 到 100 的数字")
        if len({r for r in rows}) != len(rows):
            raise ValidationError("有两条标准写重了")
        if any(len(r) > 30 for r in rows):
            raise ValidationError("每条标准不超过 30 个字")

    def validate_threshold(self, field):
        if field.data is None or self.criteria.errors or not lines(self.criteria.data):
            return
        if self.mode.data == "stars" and field.data > len(lines(self.criteria.data)):
            raise ValidationError(f"一共只有 {len(lines(self.criteria.data))} 颗星，达标线不能比这多")
        if self.mode.data == "points" and not self.criteria.errors:
            try:
                top = sum(c["max"] for c in self.parsed())
            except ValueError:
                return
            if field.data > top:
                raise ValidationError(f"满分一共 {top} 分，达标线不能比这高")

    def fields(self, old=None):
        return {"name": self.name.data.strip(), "cycle_years": self.cycle_years.data, "subject": self.subject.data,
                "mode": self.mode.data, "criteria": self.parsed(old), "threshold": self.threshold.data,
                "publicity_days": self.publicity_days.data, "rebar_years": self.rebar_years.data,
                "active": 1 if self.active.data else 0}
