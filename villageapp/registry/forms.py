"""The registry's forms: the import upload, a household and a resident entered by hand, a village."""
from flask import g
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..forms import Form, choices, client_uuid
from .imports import birth_year, group_name, phone_number

GENDERS = [("男", "男"), ("女", "女")]
KINDS = [("村", "村"), ("社区", "社区")]
RELATIONS = ["配偶", "子", "女", "儿媳", "女婿", "孙子", "孙女", "父亲", "母亲", "兄弟", "姐妹", "其他"]


def year_check(form, field):
    # the same reading as the import, so "1965年3月" works typed by hand too
    _year, problem = birth_year((field.data or "").strip() or None)
    if problem:
        raise ValidationError(problem)


def phone_check(form, field):
    _number, problem = phone_number(field.data)
    if problem:
        raise ValidationError("请填写 11 位手机号，或带区号的座机号（如 0915-6321234）")


def _text(max_length, label):
    return Length(max=max_length, message=f"{label}不超过 {max_length} 个字")


class ImportForm(Form):
    file = FileField("户籍表（Excel 的 .xlsx 或 .csv 文件）", validators=[FileRequired("请选择要导入的文件")])
    dry_run = BooleanField("只检查，不导入")


class PersonFields(Form):
    """What a household's head and a member share."""
    uuid = HiddenField(validators=[client_uuid])
    gender = RadioField("性别（可不填）", choices=choices(GENDERS), validators=[Optional()])
    birth_year = StringField("出生年份（可不填，如 1965）", validators=[Optional(), year_check])
    phone = StringField("电话（可不填）", validators=[Optional(), phone_check])

    def person(self):
        return {"gender": self.gender.data or None,
                "birth_year": birth_year((self.birth_year.data or "").strip() or None)[0],
                "phone": phone_number(self.phone.data)[0]}


class HouseholdForm(PersonFields):
    gender = RadioField("户主性别（可不填）", choices=choices(GENDERS), validators=[Optional()])
    birth_year = StringField("户主出生年份（可不填，如 1965）", validators=[Optional(), year_check])
    group = SelectField("组", choices=[], validate_choice=False)
    new_group = StringField("或者填一个新的组", validators=[Optional(), _text(20, "组名")])
    head_name = StringField("户主姓名", validators=[DataRequired("请填写户主姓名"), _text(20, "姓名")])
    address = StringField("住址（可不填）", validators=[Optional(), _text(100, "住址")])

    def validate_group(self, field):
        if not (field.data or "").strip() and not (self.new_group.data or "").strip():
            raise ValidationError("请选择组，或在下面填一个新的组")

    def group_name(self):
        """A new group typed in wins over the list; spelled the way the import spells it ("1组" → "一组")."""
        return group_name((self.new_group.data or "").strip() or (self.group.data or "").strip())


class ResidentForm(PersonFields):
    name = StringField("姓名", validators=[DataRequired("请填写姓名"), _text(20, "姓名")])
    relation = StringField("与户主关系", validators=[DataRequired("请填写与户主的关系，如 配偶、子、女"),
                                                  _text(10, "关系")])


class VillageForm(Form):
    uuid = HiddenField(validators=[client_uuid])
    code = StringField("区划代码（12 位数字）", validators=[DataRequired("请填写区划代码"),
                                                     Regexp(r"^\d{12}$", message="区划代码是 12 位数字")])
    name = StringField("名称", validators=[DataRequired("请填写村（社区）的名称"), _text(20, "名称")])
    kind = RadioField("类型", choices=choices(KINDS), default="村")
    model = BooleanField("示范村")

    def validate_code(self, field):
        town = g.town["code"]
        if not field.data.startswith(town):
            raise ValidationError(f"本镇的村代码要以 {town} 开头")
        row = next(g.db["villages"].rows_where("code = ?", [field.data]), None)
        if row and row["uuid"] != self.uuid.data:  # the same uuid is this form sent twice, not a clash
            raise ValidationError(f"这个代码已经有村用了：{row['name']}")

    def validate_name(self, field):
        _unique_name(field.data.strip(), self.code.data)


class EditVillageForm(Form):
    name = StringField("名称", validators=[DataRequired("请填写村（社区）的名称"), _text(20, "名称")])
    kind = RadioField("类型", choices=choices(KINDS))
    model = BooleanField("示范村")

    def __init__(self, code, **kwargs):
        super().__init__(**kwargs)
        self.village_code = code

    def validate_name(self, field):
        _unique_name(field.data.strip(), self.village_code)


def _unique_name(name, own_code):
    other = next(g.db["villages"].rows_where("name = ? and code != ?", [name, own_code or ""]), None)
    if other:
        raise ValidationError(f"本镇已经有叫“{name}”的村（代码 {other['code']}）")
