"""The base of every form: Flask-WTF (CSRF on) with WTForms' own messages in Chinese."""
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, SelectMultipleField, widgets
from wtforms.validators import ValidationError


class Form(FlaskForm):
    class Meta:
        locales = ("zh",)


def choices(pairs):
    """(value, label) pairs as WTForms SelectChoice objects (tuples are deprecated in WTForms 3.3)."""
    from wtforms.fields.choices import SelectChoice
    return [SelectChoice(value, label) for value, label in pairs]


def client_uuid(form, field):
    """The record's UUID made on the phone when the form opened (empty without JS: the server makes one)."""
    from . import records
    if field.data and not records.valid_uuid(field.data):
        raise ValidationError("表单编号有误，请刷新页面重新填写")


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of big checkboxes (easier on a phone than a multi-select)."""
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):
        allowed = {str(value) for value, *_rest in self.iter_choices()}
        if any(str(value) not in allowed for value in self.data or ()):
            raise ValidationError("选的项目不在列表里，请重新选择")


def leaf_fields(fields):
    """Every input of a form (or of a list of fields), rows of FieldList/FormField included, under the flat
    names a phone sends (agenda-0-title)."""
    for field in fields:
        if isinstance(field, FieldList):
            yield from leaf_fields(field.entries)
        elif isinstance(field, FormField):
            yield from leaf_fields(field.form)
        else:
            yield field
