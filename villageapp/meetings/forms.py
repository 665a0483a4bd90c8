"""The ONE form of a meeting record, used by the HTML page and by the offline sync alike. It is flat
(agenda-0-title, agenda-0-actions-0-owner, attendees=<member uuid> …) so a phone can send it as name/value pairs.
make_meeting_form loads its choices for a village; meeting_columns turns a valid form into table columns;
meeting_payload turns a stored row back into the pairs (to fill the edit page, or to compare versions)."""
import json
import re
from datetime import datetime

import wtforms
from flask_wtf.file import MultipleFileField
from werkzeug.datastructures import MultiDict
from wtforms import (BooleanField, DateField, Field, FieldList, FormField, HiddenField, IntegerField, SelectField,
                     StringField, TextAreaField, TimeField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from .. import attachments
from ..clock import now, parse_date, parse_date_or_none
from ..councils import data as councils
from ..forms import Form, MultiCheckboxField, choices, client_uuid, leaf_fields
from . import quorum

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_OTHERS = 100
COUNT = [Optional(), NumberRange(min=0, max=100000, message="请填 0 或正整数")]


def _text(max_length, label):
    return Length(max=max_length, message=f"{label}不超过 {max_length} 个字")


class SubForm(wtforms.Form):
    """Rows inside the form (agenda items, actions, absentees): no CSRF of their own, Chinese messages."""
    class Meta:
        locales = ("zh",)


class ActionForm(SubForm):
    task = StringField("要办的事", validators=[Optional(), _text(200, "要办的事")])
    owner = StringField("负责人", validators=[Optional(), _text(20, "负责人")])
    due = DateField("期限", validators=[Optional()], format="%Y-%m-%d")
    done = BooleanField("已办好")

    def blank(self):
        return not ((self.task.data or "").strip() or (self.owner.data or "").strip() or self.due.data)


class AgendaForm(SubForm):
    title = StringField("议题", validators=[Optional(), _text(100, "议题")])
    discussion = TextAreaField("讨论情况", validators=[Optional(), _text(5000, "讨论情况")])
    decision = TextAreaField("决定（决议）", validators=[Optional(), _text(2000, "决定")])
    votes_for = IntegerField("同意", validators=COUNT)
    votes_against = IntegerField("反对", validators=COUNT)
    votes_abstain = IntegerField("弃权", validators=COUNT)
    actions = FieldList(FormField(ActionForm), min_entries=1, max_entries=20)

    def blank(self):
        texts = (self.title.data, self.discussion.data, self.decision.data)
        votes = (self.votes_for.data, self.votes_against.data, self.votes_abstain.data)
        return (not any((t or "").strip() for t in texts) and all(v is None for v in votes)
                and all(a.form.blank() for a in self.actions))


class AbsenteeForm(SubForm):
    name = StringField("姓名", validators=[Optional(), _text(20, "姓名")])
    reason = StringField("原因", validators=[Optional(), _text(60, "原因")])


class HashListField(Field):
    """Several SHA-256 hex names of photos sent through the sync engine (photos=<hash>&photos=<hash>).
    village: (db, village_code) once the form knows them; a hash the village does not own, stored for another
    village, is refused (one not on the server yet is the phone's, still to come)."""
    village = None

    def process_formdata(self, valuelist):
        self.data = list(dict.fromkeys(v.strip().lower() for v in valuelist if v and v.strip()))

    def _value(self):
        return ""

    def pre_validate(self, form):
        self.data = self.data or []
        if any(not SHA256.match(v) for v in self.data):
            raise ValidationError("照片编号有误，请重新拍照上传")
        if len(self.data) > 30:
            raise ValidationError("一次会议最多 30 张照片")
        if self.village is not None and attachments.foreign(*self.village, self.data):
            # a photo on the server for another village only: its cadres may not list (and so read) it
            raise ValidationError("有照片不是本村上传的，不能用在这份记录里，请在本村重新拍照上传")


class MeetingForm(Form):
    uuid = HiddenField(validators=[client_uuid])
    council = SelectField("哪个会", choices=[], validators=[DataRequired("请选择是哪个会")])
    date = DateField("开会日期", validators=[DataRequired("请选择开会日期")], format="%Y-%m-%d")
    time = TimeField("开始时间", validators=[DataRequired("请填写开始时间，如 14:30")], format=["%H:%M", "%H:%M:%S"])
    place = StringField("地点", validators=[Optional(), _text(60, "地点")])
    host = StringField("主持人", validators=[Optional(), _text(20, "主持人")])
    recorder = StringField("记录人", validators=[Optional(), _text(20, "记录人")])
    attendees = MultiCheckboxField("到会成员（在名单上打勾）", choices=[])
    others = TextAreaField("其他到会的人（每行一个，如镇包村干部、乡贤）", validators=[Optional(), _text(2000, "其他到会的人")])
    absentees = FieldList(FormField(AbsenteeForm), min_entries=2, max_entries=100)
    eligible = IntegerField("应到人数", validators=COUNT)
    eligible_basis = SelectField("应到人数按", choices=[], validate_choice=False)
    present = IntegerField("实到人数（不填就按打勾和写上的人数算）", validators=COUNT)
    agenda = FieldList(FormField(AgendaForm), min_entries=1, max_entries=30)
    photos = HashListField("照片")
    photo_files = MultipleFileField("拍照或选照片（可不传）")  # the page without JS; a phone sends hashes instead

    def other_names(self):
        return [line.strip() for line in (self.others.data or "").splitlines() if line.strip()]

    def counted(self):
        return len(self.attendees.data or []) + len(self.other_names())

    def present_count(self):
        return self.present.data if self.present.data is not None else self.counted()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if len(self.other_names()) > MAX_OTHERS:
            self.others.errors.append(f"最多写 {MAX_OTHERS} 人，人多的会请直接填实到人数")
        if self.present.data is not None and self.present.data < self.counted() and not self.present.errors:
            self.present.errors.append(f"实到人数比打勾和写上的 {self.counted()} 人还少，请核对")
        if (self.eligible.data is not None and self.present.data is not None and not self.present.errors
                and self.present.data > self.eligible.data):
            self.present.errors.append(f"实到人数不能多于应到的 {self.eligible.data} 人")
        for entry in self.absentees:
            if (entry.form.reason.data or "").strip() and not (entry.form.name.data or "").strip():
                entry.form.name.errors.append("请写缺席人的姓名")
        for entry in self.agenda:
            self._check_item(entry.form)
        # not self.errors: a FieldList's errors are a list made during validate, blind to what was added since
        return ok and not any(f.errors for f in leaf_fields(self))

    def _check_item(self, item):
        if item.blank():
            return
        if not (item.title.data or "").strip():
            item.title.errors.append("请写这个议题是什么")
        if not any(f.errors for f in (item.votes_for, item.votes_against, item.votes_abstain)):
            problem = quorum.vote_error(item.votes_for.data, item.votes_against.data, item.votes_abstain.data,
                                       self.present_count())
            if problem:
                item.votes_for.errors.append(problem)
        for action in item.actions:
            a = action.form
            if not a.blank() and not (a.task.data or "").strip():
                a.task.errors.append("请写要办的是什么事")


def unfolded(*fields):
    """Whether a folded section of the page opens by itself: something is typed in it, or something in it is wrong."""
    leaves = [f for f in leaf_fields(fields) if not isinstance(f, BooleanField)]
    return any(f.errors for f in leaves) or any(f.data not in (None, "", []) for f in leaves)


class AmendForm(MeetingForm):
    """A correction of confirmed minutes: the same fields, and why."""
    reason = TextAreaField("更正的原因", validators=[DataRequired("请写明为什么更正，如：表决票数记错了"),
                                                 Length(max=500, message="原因不超过 500 个字")])


def make_meeting_form(db, village_code, formdata, record=None, csrf=False, form_class=MeetingForm):
    """The meeting form on `formdata` (a MultiDict: request.form, or a phone's pairs), with the village's councils
    and the chosen council's roster as choices. CSRF is checked by the app (HTML) or the JSON API, not here.
    formdata None means "as stored": the record's own pairs (the conflict view compares it so)."""
    if formdata is None:
        formdata = MultiDict([tuple(p) for p in meeting_payload(record)]) if record else MultiDict()
    form = form_class(formdata=formdata, meta={"csrf": csrf})
    rows = councils.councils(db, village_code)
    form.council.choices = choices([("", "请选择")] + [(c["uuid"], c["name"]) for c in rows])
    form.council_row = next((c for c in rows if c["uuid"] == form.council.data), None)
    form.photos.village = (db, village_code)
    name = form.council_row["name"] if form.council_row else ""
    form.eligible_basis.choices = choices([(b, quorum.BASES[b]) for b in quorum.bases_for(name)])
    form.roster = {m["uuid"]: m for m in councils.members(db, form.council_row["uuid"])} if form.council_row else {}
    day = parse_date_or_none(formdata.get("date")) or (parse_date(record["starts_at"]) if record else None) or now().date()
    before = set()
    if record and form.council_row and record["council_uuid"] == form.council_row["uuid"]:
        before = {a["uuid"] for a in json.loads(record["attendees"] or "[]") if a.get("uuid")}
    # who may be ticked: those on the council that day, and anyone already ticked in the saved minutes
    shown = [m for m in form.roster.values() if councils.serves_on(m, day) or m["uuid"] in before]
    form.attendees.choices = choices([(m["uuid"], f"{m['name']}（{m['position']}）") for m in shown])
    form.shown_members = {m["uuid"]: m for m in shown}
    return form


def meeting_columns(form):
    """The table columns of a valid form. Attendees are stored with their names, so the minutes still read right
    after a member leaves or a resident is renamed."""
    council = form.council_row
    bases = quorum.bases_for(council["name"])
    attendees = [{"uuid": u, "name": form.roster[u]["name"], "position": form.roster[u]["position"]}
                 for u in form.attendees.data or [] if u in form.roster]
    agenda = []
    for entry in form.agenda:
        item = entry.form
        if item.blank():
            continue  # an empty row left on the page is not an agenda item
        agenda.append({
            "title": item.title.data.strip(), "discussion": (item.discussion.data or "").strip(),
            "decision": (item.decision.data or "").strip(), "votes_for": item.votes_for.data,
            "votes_against": item.votes_against.data, "votes_abstain": item.votes_abstain.data,
            "actions": [{"task": a.form.task.data.strip(), "owner": (a.form.owner.data or "").strip(),
                         "due": a.form.due.data.isoformat() if a.form.due.data else None, "done": bool(a.form.done.data)}
                        for a in item.actions if not a.form.blank()],
        })
    absentees = [{"name": a.form.name.data.strip(), "reason": (a.form.reason.data or "").strip()}
                 for a in form.absentees if (a.form.name.data or "").strip()]
    return {
        "council_uuid": council["uuid"],
        "starts_at": datetime.combine(form.date.data, form.time.data).isoformat(timespec="minutes"),
        "place": (form.place.data or "").strip(), "host": (form.host.data or "").strip(),
        "recorder": (form.recorder.data or "").strip(),
        "attendees": _json(attendees), "others": _json(form.other_names()), "absentees": _json(absentees),
        "present": form.present_count(), "eligible": form.eligible.data,
        "eligible_basis": form.eligible_basis.data if form.eligible_basis.data in bases else bases[0],
        "agenda": _json(agenda), "photos": _json(form.photos.data or []),
    }


def _json(value):
    return json.dumps(value, ensure_ascii=False)


def meeting_payload(row, entered_present=True):
    """A stored meeting as the name/value pairs its form takes (what a phone would send to make it)."""
    starts = datetime.fromisoformat(row["starts_at"])
    pairs = [("uuid", row["uuid"]), ("council", row["council_uuid"]), ("date", starts.date().isoformat()),
             ("time", starts.strftime("%H:%M")), ("place", row["place"] or ""), ("host", row["host"] or ""),
             ("recorder", row["recorder"] or "")]
    pairs += [("attendees", a["uuid"]) for a in json.loads(row["attendees"] or "[]") if a.get("uuid")]
    pairs.append(("others", "\n".join(json.loads(row["others"] or "[]"))))
    for i, a in enumerate(json.loads(row["absentees"] or "[]")):
        pairs += [(f"absentees-{i}-name", a["name"]), (f"absentees-{i}-reason", a["reason"])]
    pairs += [("eligible", _num(row["eligible"])), ("eligible_basis", row["eligible_basis"] or "")]
    if entered_present:
        pairs.append(("present", _num(row["present"])))
    for i, item in enumerate(json.loads(row["agenda"] or "[]")):
        p = f"agenda-{i}-"
        pairs += [(p + "title", item["title"]), (p + "discussion", item["discussion"]), (p + "decision", item["decision"]),
                  (p + "votes_for", _num(item["votes_for"])), (p + "votes_against", _num(item["votes_against"])),
                  (p + "votes_abstain", _num(item["votes_abstain"]))]
        for j, a in enumerate(item["actions"]):
            q = f"{p}actions-{j}-"
            pairs += [(q + "task", a["task"]), (q + "owner", a["owner"]), (q + "due", a["due"] or "")]
            if a["done"]:
                pairs.append((q + "done", "y"))
    pairs += [("photos", h) for h in json.loads(row["photos"] or "[]")]
    return [list(p) for p in pairs]


def _num(value):
    return "" if value is None else str(value)


def formdata(pairs):
    return MultiDict([tuple(p) for p in pairs])
