"""The forms of 村务公开: a notice (with attachments), an objection, an answer."""
from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..auth import PHONE
from ..clock import today
from ..forms import Form, client_uuid
from .data import CATEGORIES


class NoticeForm(Form):
    uuid = HiddenField(validators=[client_uuid])
    title = StringField("标题", validators=[DataRequired("请填写标题"), Length(max=60, message="标题不超过 60 个字")])
    category = SelectField("类别", choices=list(CATEGORIES), default="村务")
    body = TextAreaField("内容", validators=[DataRequired("请填写公开的内容"),
                                           Length(max=10000, message="内容不超过 10000 个字，太长请分几条发")])
    publish_date = DateField("公开日期", default=today, validators=[DataRequired("请选择公开日期")],
                             format="%Y-%m-%d")
    end_date = DateField("公示截止日期（公示必填）", validators=[Optional()], format="%Y-%m-%d")
    files = MultipleFileField("照片或 PDF 附件（可不传，每个不超过 5 MB）")

    def validate(self, extra_validators=None):
        # not a validate_end_date: Optional() would stop the chain before it ran on an empty date
        ok = super().validate(extra_validators)
        if self.category.data == "公示" and not self.end_date.errors:
            if not self.end_date.data:
                self.end_date.errors.append("公示要写截止日期，村民在截止前都可以提异议")
            elif self.publish_date.data and self.end_date.data < self.publish_date.data:
                self.end_date.errors.append("截止日期不能早于公开日期")
        return ok and not self.end_date.errors

    def fields(self):
        return {"title": self.title.data.strip(), "category": self.category.data, "body": self.body.data.strip(),
                "publish_date": self.publish_date.data.isoformat(),
                "end_date": self.end_date.data.isoformat() if self.category.data == "公示" else None}


class ObjectionForm(Form):
    uuid = HiddenField(validators=[client_uuid])
    body = TextAreaField("您的异议", validators=[DataRequired("请写下您的异议"),
                                             Length(max=2000, message="不超过 2000 个字")])
    name = StringField("姓名（可不填）", validators=[Optional(), Length(max=20, message="姓名不超过 20 个字")])
    phone = StringField("电话（可不填，方便村里回复您）", validators=[Optional(), PHONE])


class AnswerForm(Form):
    answer = TextAreaField("答复", validators=[DataRequired("请写答复内容"), Length(max=2000, message="不超过 2000 个字")])
