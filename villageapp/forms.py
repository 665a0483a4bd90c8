"""The base of every form: Flask-WTF (CSRF on) with WTForms' own messages in Chinese."""
from flask_wtf import FlaskForm


class Form(FlaskForm):
    class Meta:
        locales = ("zh",)
