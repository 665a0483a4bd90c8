"""The case form: ONE Flask-WTF form for the page and for a phone's offline edit (the "review" kind of the sync
engine), on name/value pairs, with the village's register as the subjects and the town's categories as choices."""
import json

from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import Form, choices, client_uuid
from ..meetings.forms import HashListField
from . import data


class CaseForm(Form):
    uuid = HiddenField(validators=[client_uuid])
    subject = SelectField("评议对象（户或人）", choices=[], validators=[DataRequired("请选择评议的是哪一户或哪个人")])
    kind = RadioField("表扬还是批评", choices=choices(list(data.KINDS.items())), validators=[DataRequired("请选择表扬还是批评")])
    category = SelectField("类别", choices=[], validators=[DataRequired("请选择类别")])
    facts = TextAreaField("事实经过", validators=[DataRequired("请写下事实经过"), Length(max=3000, message="事实经过不超过 3000 个字")])
    source = RadioField("谁提出的", choices=choices(list(data.SOURCES.items())), validators=[DataRequired("请选择是谁提出的")])
    source_name = StringField("提出人（可不填）", validators=[Optional(), Length(max=20, message="提出人不超过 20 个字")])
    photos = HashListField("照片")
    photo_files = MultipleFileField("拍照或选照片（可不传）")  # the page without JS; a phone sends hashes instead

    def validate_category(self, field):
        own = self.record["category"] if self.record and self.record["kind"] == self.kind.data else None
        if field.data != own and field.data not in data.categories(self.db, self.kind.data):
            raise ValidationError("这个类别不属于所选的表扬或批评，请重新选择")


def subjects(db, village_code):
    """The register as choices: each household ("户") followed by its members, grouped by 组."""
    out = []
    houses = db.query("""select h.uuid, h.head_name, coalesce(g.name, '') as grp from households h
        left join groups g on g.uuid = h.group_uuid where h.village_code = ? order by g.name, h.head_name""", [village_code])
    members = {}
    for r in db["residents"].rows_where("village_code = ?", [village_code], order_by="name",
                                        select="uuid, name, household_uuid, relation"):
        members.setdefault(r["household_uuid"], []).append(r)
    for h in houses:
        out.append((f"h:{h['uuid']}", f"{h['grp']} {h['head_name']}户（全户）".strip()))
        out += [(f"r:{m['uuid']}", f"　{m['name']}（{m['relation'] or '家庭成员'}）") for m in members.get(h["uuid"], [])]
    return out


def make_case_form(db, village_code, formdata, record=None, csrf=False):
    """The case form on request.form or a phone's pairs; None means "as stored" (the conflict view)."""
    if formdata is None:
        formdata = MultiDict([tuple(p) for p in case_payload(record)]) if record else MultiDict()
    form = CaseForm(formdata=formdata, meta={"csrf": csrf})
    form.db, form.record = db, record
    form.subject.choices = choices([("", "请选择")] + subjects(db, village_code))
    cats = data.categories(db)
    own = [record["category"]] if record and record["category"] not in sum(cats.values(), []) else []
    form.category.choices = choices([("", "请选择")] + [(c, c) for kind in ("praise", "criticism") for c in cats.get(kind, [])]
                                    + [(c, c) for c in own])
    form.photos.village = (db, village_code)
    form.subject_row = _subject(db, village_code, form.subject.data or "")
    return form


def _subject(db, village_code, value):
    kind, _, uuid = value.partition(":")
    if kind == "h":
        row = next(db["households"].rows_where("uuid = ? and village_code = ?", [uuid, village_code]), None)
        return row and {"type": "household", "uuid": uuid, "household_uuid": uuid, "name": f"{row['head_name']}户"}
    if kind == "r":
        row = next(db["residents"].rows_where("uuid = ? and village_code = ?", [uuid, village_code]), None)
        return row and {"type": "resident", "uuid": uuid, "household_uuid": row["household_uuid"], "name": row["name"]}
    return None


def case_columns(form):
    s = form.subject_row
    return {"subject_type": s["type"], "subject_uuid": s["uuid"], "household_uuid": s["household_uuid"],
            "subject_name": s["name"], "kind": form.kind.data, "category": form.category.data,
            "facts": form.facts.data.strip(), "source": form.source.data,
            "source_name": (form.source_name.data or "").strip() or None, "photos": json.dumps(form.photos.data or [])}


def case_payload(row):
    """A stored case as the name/value pairs its form sends."""
    prefix = "h" if row["subject_type"] == "household" else "r"
    pairs = [["subject", f"{prefix}:{row['subject_uuid']}"], ["kind", row["kind"]], ["category", row["category"]],
             ["facts", row["facts"]], ["source", row["source"]], ["source_name", row["source_name"] or ""]]
    return pairs + [["photos", h] for h in json.loads(row["photos"] or "[]")]
