"""The roster forms: a new member (a resident of the village, or a typed name for an outsider such as a 乡贤)
and the end of a term."""
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import Form, choices, client_uuid


class MemberForm(Form):
    uuid = HiddenField(validators=[client_uuid])
    resident = SelectField("选本村村民", choices=[], validators=[Optional()],
                           validate_choice=False)  # checked in validate(), with a message a villager understands
    name = StringField("或者填姓名（不是本村户籍的，如乡贤）", validators=[Optional(), Length(max=20, message="姓名不超过 20 个字")])
    position = StringField("职务", validators=[DataRequired("请填写职务，如会长、成员"), Length(max=20, message="职务不超过 20 个字")])
    since = DateField("任职日期（不清楚可不填）", validators=[Optional()], format="%Y-%m-%d")
    note = StringField("备注（可不填，如：乡贤、退休教师）", validators=[Optional(), Length(max=60, message="备注不超过 60 个字")])

    def set_residents(self, residents):
        self.resident.choices = choices([("", "请选择")] + [
            (r["uuid"], f"{r['group_name'] or ''} {r['name']}" + (f"（{r['birth_year']}年生）" if r["birth_year"] else ""))
            for r in residents])

    def validate(self, extra_validators=None):
        # not a validate_name: Optional() would stop the chain before it ran on an empty name
        ok = super().validate(extra_validators)
        typed = (self.name.data or "").strip()
        if self.resident.data and self.resident.data not in {c.value for c in self.resident.choices}:
            self.resident.errors.append("这个人不在本村的名册里，请重新选择")
        elif not self.resident.data and not typed:
            self.name.errors.append("请选一位村民，或者填写姓名")
        elif self.resident.data and typed:
            self.name.errors.append("选了村民就不用再填姓名；如果是另一个人，请把上面改回“请选择”")
        return ok and not self.resident.errors and not self.name.errors


class EndForm(Form):
    until = DateField("离任日期（从这天起不再是成员）", validators=[DataRequired("请选择离任日期")], format="%Y-%m-%d")
    note = StringField("原因（可不填，如：换届、外出务工）", validators=[Optional(), Length(max=60, message="原因不超过 60 个字")])
