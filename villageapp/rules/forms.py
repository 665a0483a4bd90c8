"""Forms of the 村规民约 pages: an article (with optional 红白理事会 limits), a step of the procedure, a villager's
opinion (no account), a cadre's answer, and starting an amendment. Messages in Chinese, next to the field."""
from typing import ClassVar

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import Form, choices, client_uuid

CHAPTERS = ["总则", "社会治安", "村风民俗", "邻里关系", "婚姻家庭", "环境卫生", "奖惩", "附则"]


class ArticleForm(Form):
    uuid = HiddenField(validators=[client_uuid])
    chapter = SelectField("章", choices=choices([(c, c) for c in CHAPTERS]), validators=[DataRequired("请选择章")])
    title = StringField("条文标题（可不填）", validators=[Optional(), Length(max=40, message="标题不超过 40 字")])
    body = TextAreaField("条文内容", validators=[DataRequired("请填写条文内容"),
                                             Length(max=2000, message="一条不超过 2000 字，太长请分成几条")])
    banquet_tables = IntegerField("红白事宴席桌数上限（可不填）", validators=[
        Optional(), NumberRange(min=1, max=200, message="桌数请填 1 到 200")])
    gift_amount = IntegerField("礼金上限（元，可不填）", validators=[
        Optional(), NumberRange(min=1, max=100000, message="礼金请填 1 到 100000 元")])


class StartForm(Form):
    reason = TextAreaField("为什么制定或修订", validators=[DataRequired("请写明为什么制定或修订"),
                                                   Length(max=500, message="不超过 500 字")])


class StepForm(Form):
    done_on = DateField("日期", validators=[DataRequired("请选择日期")], format="%Y-%m-%d")
    outcome = RadioField("结论", choices=[], validate_choice=False)
    meeting = SelectField("表决的会议", choices=[], validate_choice=False)
    agenda_item = IntegerField("第几个议题（从 1 数起）", validators=[
        Optional(), NumberRange(min=1, max=30, message="议题请填 1 到 30 之间的序号")])  # a meeting has at most 30
    filing_no = StringField("备案编号", validators=[Optional(), Length(max=40, message="编号不超过 40 字")])
    note = TextAreaField("情况说明", validators=[Optional(), Length(max=2000, message="不超过 2000 字")])
    documents = StringField("材料（如会议记录编号、征求意见稿份数）", validators=[
        Optional(), Length(max=200, message="不超过 200 字")])
    files = MultipleFileField("材料照片或 PDF（如备案回执、审查意见书，可不传，每个不超过 5 MB）")

    OUTCOMES: ClassVar[dict] = {"review": [("passed", "审查通过，没有违法内容"), ("commented", "提出修改意见（退回起草）")],
                "approval": [("approved", "审核同意，可以提交表决"), ("returned", "退回修改（写明理由）")]}

    def setup(self, step, meetings=()):
        self.outcome.choices = choices(self.OUTCOMES.get(step, []))
        self.meeting.choices = choices([("", "请选择")] + list(meetings))
        return self


class OpinionForm(Form):
    uuid = HiddenField(validators=[client_uuid])
    name = StringField("您的称呼（可不填）", validators=[Optional(), Length(max=20, message="称呼不超过 20 字")])
    body = TextAreaField("您的意见或建议", validators=[DataRequired("请写下您的意见"),
                                                 Length(max=1000, message="不超过 1000 字")])


class AnswerForm(Form):
    answer = TextAreaField("答复", validators=[DataRequired("请写答复"), Length(max=1000, message="不超过 1000 字")])
    adopt = BooleanField("采纳这条意见（写进草案）")
