"""The score form: ONE Flask-WTF form for the page and a phone's offline edit (the "rating_score" kind of the sync engine).
Its criteria are the campaign's own copy: a tick per star, or points per criterion up to its maximum."""
import json

from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, HiddenField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from ..forms import Form, choices, client_uuid
from . import data


class ScoreBase(Form):
    uuid = HiddenField(validators=[client_uuid])
    campaign = HiddenField()
    entry = SelectField("给哪一户打分", choices=[], validate_choice=False)
    reviewer = SelectField("评议人", choices=[], validate_choice=False)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        c = self.campaign_row
        if c is None:
            self.campaign.errors = ["找不到这次评选，请从评选页重新打开"]
            return False
        if c["stage"] != "scoring":
            from .procedure import STAGES
            self.campaign.errors = [f"这次评选现在是「{STAGES[c['stage']]}」，不能再打分；您打的分还在，请抄下来交给村干部"]
            return False
        if self.entry_row is None:
            self.entry.errors = ["请选择给哪一户打分"]
            ok = False
        if self.reviewer.data not in c["reviewers"]:
            self.reviewer.errors = ["请选择评议人"]
            ok = False
        if ok and self.entry_row:
            other = self.db.execute("select uuid from campaign_scores where entry_uuid = ? and reviewer = ?",
                                    [self.entry_row["uuid"], self.reviewer.data]).fetchone()
            if other and (self.record is None or other[0] != self.record["uuid"]):
                who = "这一户" if c["rules"]["subject"] == "household" else "这个人"
                self.reviewer.errors = [f"{self.reviewer.data} 已经给{who}打过分了，要改请打开原来的那一份"]
                ok = False
        return ok


def make_score_form(db, village_code, formdata, record=None, csrf=False):
    """The score form on request.form or a phone's pairs; None means "as stored" (the conflict view)."""
    if formdata is None:
        formdata = MultiDict([tuple(p) for p in score_payload(record)]) if record else MultiDict()
    campaign = data.campaign(db, village_code, formdata.get("campaign") or "")
    criteria = campaign["rules"]["criteria"] if campaign else []
    stars = bool(campaign) and campaign["rules"]["mode"] == "stars"
    fields = {f"c{i}": BooleanField(c["name"]) if stars else
              IntegerField(f"{c['name']}（满分 {c['max']}）",
                           validators=[Optional(), NumberRange(min=0, max=c["max"], message=f"要在 0 到 {c['max']} 之间")])
              for i, c in enumerate(criteria)}
    form = type("ScoreForm", (ScoreBase,), fields)(formdata=formdata, meta={"csrf": csrf})
    form.db, form.record, form.campaign_row, form.criteria = db, record, campaign, [form[f"c{i}"] for i in range(len(criteria))]
    rows = data.entries(db, campaign["uuid"]) if campaign else []
    form.entry.choices = choices([("", "请选择")] + [(e["uuid"], e["subject_name"]) for e in rows])
    form.entry_row = next((e for e in rows if e["uuid"] == form.entry.data), None)
    form.reviewer.choices = choices([("", "请选择")] + [(r, r) for r in (campaign["reviewers"] if campaign else [])])
    return form


def score_columns(form):
    values = {f.name: bool(f.data) if isinstance(f, BooleanField) else (f.data or 0) for f in form.criteria}
    return {"campaign_uuid": form.campaign_row["uuid"], "entry_uuid": form.entry_row["uuid"], "reviewer": form.reviewer.data,
            "scores": json.dumps(values)}


def score_payload(row):
    pairs = [["campaign", row["campaign_uuid"]], ["entry", row["entry_uuid"]], ["reviewer", row["reviewer"]]]
    for name, value in json.loads(row["scores"]).items():  # a star ticked is true; an unticked one is not sent at all
        if value is not False:
            pairs.append([name, "y" if value is True else str(value)])
    return pairs
