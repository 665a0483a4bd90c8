"""The base of every form: Flask-WTF (CSRF on) with WTForms' own messages in Chinese."""
from flask_wtf import FlaskForm


class Form(FlaskForm):
    class Meta:
        locales = ("zh",)


def choices(pairs):
    """(value, label) pairs as WTForms SelectChoice objects (tuples are deprecated in WTForms 3.3)."""
    from wtforms.fields.choices import SelectChoice
    return [SelectChoice(value, label) for value, label in pairs]
