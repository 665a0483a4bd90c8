"""补录纸质会议记录: the minutes of a past meeting kept on paper, entered afterwards with fewer fields than new minutes
(which council, the day, how many came, what was decided) and the photos of the paper pages as the record.

One step, no draft: the signed paper is the record and the photos are its copy, so what is saved is confirmed at once
(state 'confirmed', 第 1 版, paper=1). A typing mistake is put right like any confirmed minutes, by 更正 (a new
edition with a reason; the paper=1 mark stays). The page is a plain form (online: the photos must reach the server);
photos chosen are kept on the server on every post, so an error or "再加一件" never makes the cadre choose them again.
The optional 备注 (where the paper original is kept, what it lacks) is the row's paper_note, shown on the minutes page."""
import json
from datetime import date

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.file import MultipleFileField
from werkzeug.datastructures import MultiDict
from wtforms import DateField, FieldList, FormField, HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from .. import attachments, records
from ..access import access
from ..clock import now_iso, today
from ..councils import data as councils
from ..forms import Form, choices, client_uuid, leaf_fields
from ..store import write
from . import bp, data, quorum
from .forms import HashListField, SubForm

EARLIEST = date(1980, 1, 1)  # minutes older than this are a typing mistake (村民委员会组织法 of 1987/1998)
NOTE_PREFIX = "补录纸质会议记录"
MAX_DECISIONS = 30


class DecisionForm(SubForm):
    title = StringField("什么事", validators=[Optional(), Length(max=100, message="什么事不超过 100 个字")])
    decision = TextAreaField("会上怎么决定的", validators=[Optional(), Length(max=2000, message="决定不超过 2000 个字")])

    def blank(self):
        return not ((self.title.data or "").strip() or (self.decision.data or "").strip())


def _not_after_today(form, field):
    if field.data and field.data > today():
        raise ValidationError("开会日期不能晚于今天。还没开的会，开会时请用“记一次会”")
    if field.data and field.data < EARLIEST:
        raise ValidationError("日期太早了，请核对纸上写的开会日期")


class PaperForm(Form):
    uuid = HiddenField(validators=[client_uuid])
    council = RadioField("哪个会", choices=[], invalid_choice_message="请选是哪个会（点一下会的名字）")
    date = DateField("开会日期（看纸上写的）", validators=[InputRequired("请填开会日期"), _not_after_today],
                     format="%Y-%m-%d")
    present = IntegerField("实到人数", validators=[InputRequired("请填实到多少人（纸上签到的人数）"),
                                               NumberRange(min=0, max=100000, message="请填 0 到 100000 之间的整数")])
    eligible = IntegerField("应到人数（纸上没写可不填）", validators=[
        Optional(), NumberRange(min=0, max=100000, message="请填 0 到 100000 之间的整数")])
    decisions = FieldList(FormField(DecisionForm), min_entries=1, max_entries=MAX_DECISIONS)
    photos = HashListField("已传的照片")
    photo_files = MultipleFileField("拍纸质记录的每一页（可以选多张）")
    note = TextAreaField("备注（可不填，如：原件存村委会档案柜）",
                         validators=[Optional(), Length(max=500, message="备注不超过 500 个字")])

    @property
    def errors(self):
        """Every field with a mistake, rows included (a FieldList's own errors are blind to those added by validate)."""
        return {f.name: f.errors for f in leaf_fields(self) if f.errors}

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if (self.eligible.data is not None and self.present.data is not None and not self.present.errors
                and self.present.data > self.eligible.data):
            self.present.errors.append(f"实到人数不能多于应到的 {self.eligible.data} 人")
        filled = [entry.form for entry in self.decisions if not entry.form.blank()]
        for item in filled:
            if not (item.title.data or "").strip():
                item.title.errors.append("请写这是什么事")
            if not (item.decision.data or "").strip():
                item.decision.errors.append("请写会上是怎么决定的")
        if not filled:
            self.decisions[0].form.title.errors.append("请至少写一件会上决定的事")
        if not self.photos.errors and not self.photos.data:
            self.photo_files.errors = list(self.photo_files.errors) + ["请至少拍一张纸质记录的照片"]
        elif not self.photos.errors and self.photos.village is not None:
            db, village_code = self.photos.village
            if attachments.owned(db, village_code, self.photos.data) != set(self.photos.data):
                self.photos.errors.append("有照片没有传上来，请重新选照片")
        return ok and not any(f.errors for f in leaf_fields(self))


class PaperAmendForm(PaperForm):
    """更正 of a 补录: the same few fields, filled from the record, and why (as the normal amendment asks)."""
    reason = TextAreaField("更正的原因", validators=[DataRequired("请写明为什么更正，如：开会日期录错了"),
                                                 Length(max=500, message="原因不超过 500 个字")])


def make_paper_form(db, village_code, formdata=None, form_class=PaperForm):
    form = form_class(formdata=formdata) if formdata is not None else form_class()
    form.council_rows = councils.councils(db, village_code)
    form.council.choices = choices([(c["uuid"], c["name"]) for c in form.council_rows])
    form.photos.village = (db, village_code)
    return form


def paper_columns(form, actor):
    """The meetings row of a valid form: confirmed at once (the paper is the record), agenda items in the shape of
    any minutes, so the lists, the print view, the exports and an amendment read them like any others."""
    council = next(c for c in form.council_rows if c["uuid"] == form.council.data)
    agenda = [{"title": e.form.title.data.strip(), "discussion": "", "decision": e.form.decision.data.strip(),
               "votes_for": None, "votes_against": None, "votes_abstain": None, "actions": []}
              for e in form.decisions if not e.form.blank()]
    return {"council_uuid": council["uuid"], "state": "confirmed", "paper": 1, "edition": 1,
            "starts_at": form.date.data.isoformat() + "T00:00", "place": "", "host": "", "recorder": "",
            "attendees": "[]", "others": "[]", "absentees": "[]", "present": form.present.data,
            "eligible": form.eligible.data, "eligible_basis": quorum.bases_for(council["name"])[0],
            "agenda": json.dumps(agenda, ensure_ascii=False), "photos": json.dumps(form.photos.data, ensure_ascii=False),
            "confirmed_at": now_iso(), "confirmed_by": actor, "paper_note": (form.note.data or "").strip() or None}


def paper_formdata(row):
    """A stored 补录 as the pairs its form sends: what the 更正 page starts from."""
    pairs = [("council", row["council_uuid"]), ("date", row["starts_at"][:10]), ("present", str(row["present"] or 0)),
             ("eligible", "" if row["eligible"] is None else str(row["eligible"])), ("note", row["paper_note"] or "")]
    for i, item in enumerate(json.loads(row["agenda"] or "[]")):
        pairs += [(f"decisions-{i}-title", item.get("title") or ""), (f"decisions-{i}-decision", item.get("decision") or "")]
    pairs += [("photos", h) for h in json.loads(row["photos"] or "[]")]
    return MultiDict(pairs)


AMENDED = ("council_uuid", "starts_at", "present", "eligible", "eligible_basis", "agenda", "photos", "paper_note")


def save_paper_amendment(db, row, form, actor):
    """A new edition of a 补录 through the normal amendment (data.amend: edition, audit, photos linked, the edition
    kept whole); only the 补录's own columns change, so paper=1 and the date-only start (T00:00) stay."""
    columns = paper_columns(form, actor)
    return data.amend(db, row, {k: columns[k] for k in AMENDED}, form.reason.data.strip(), actor)


def save_paper(db, village_code, form, actor):
    """Store the 补录 as one confirmed record, its 第 1 版 kept whole, its photos linked (so the photos zip has them),
    audited as 补录 with the 备注. Returns (row, created): the same form sent twice is one record."""
    note = (form.note.data or "").strip()
    with write(db):
        row, created = records.create(db, "meetings", {**paper_columns(form, actor), "uuid": form.uuid.data or None,
                                                       "village_code": village_code},
                                      actor, action="paper", summary=NOTE_PREFIX + (f"；备注：{note}" if note else ""))
        if created:
            attachments.link(db, "meetings", row["uuid"], village_code, form.photos.data, actor)
            data.keep_edition(db, row)
    return row, created


def _store_chosen(form, village_code):
    """Keep the photos chosen on this post for the village (checked and shrunk like any upload) and list them with
    those kept from before. Returns the Chinese reasons of photos refused."""
    problems = []
    for storage in request.files.getlist(form.photo_files.name):
        if storage and storage.filename:
            try:
                form.photos.data.append(attachments.store_photo(g.db, village_code, storage.filename, storage.read(),
                                                                current_user.username))
            except attachments.AttachmentError as error:
                problems.append(str(error))
    form.photos.data = list(dict.fromkeys(form.photos.data))
    return problems


@bp.route("/v/<village>/meetings/paper", methods=["GET", "POST"])
@access("cadre", scope="village")
def paper(village):
    councils.ensure_councils(g.db, village, current_user.username)
    if request.method == "GET":
        form = make_paper_form(g.db, village, None)
        form.uuid.data = records.new_uuid()
        return render_template("meetings/paper_form.html", form=form)
    form = make_paper_form(g.db, village, request.form)
    form.photos.data = form.photos.data or []
    problems = _store_chosen(form, village)
    if request.form.get("more") == "decisions":  # "再加一件" without JS: one more empty row, nothing saved yet
        if len(form.decisions) < MAX_DECISIONS:
            form.decisions.append_entry()
        form.photo_files.errors = problems
        return render_template("meetings/paper_form.html", form=form)
    ok = form.validate()
    if problems:
        form.photo_files.errors = list(form.photo_files.errors) + problems
    if not ok or problems:
        if form.uuid.errors:  # a broken form number (not made by this page): the page sent again makes a new record
            form.uuid.data = records.new_uuid()
        return render_template("meetings/paper_form.html", form=form), 422
    try:
        row, created = save_paper(g.db, village, form, current_user.username)
    except records.UuidTaken:
        abort(400)
    flash("已补录。纸质记录的照片就是原始记录，这份记录已确认；如果录错了，请点“更正”。" if created
          else "这份补录已经保存过了，没有重复保存")
    return redirect(url_for("meetings.show", village=village, uuid=row["uuid"]))


def amend_paper(village, row):
    """The 更正 page of a 补录 (meetings.amend sends paper rows here): its own short form, not the full minutes form."""
    def page(form, status=200):
        return render_template("meetings/paper_form.html", form=form, amend=True, record=row,
                               base_version=request.form.get("base_version") or row["version"]), status

    if request.method == "GET":
        return page(make_paper_form(g.db, village, paper_formdata(row), PaperAmendForm))
    form = make_paper_form(g.db, village, request.form, PaperAmendForm)
    form.photos.data = form.photos.data or []
    problems = _store_chosen(form, village)
    if request.form.get("more") == "decisions":
        if len(form.decisions) < MAX_DECISIONS:
            form.decisions.append_entry()
        form.photo_files.errors = problems
        return page(form)
    ok = form.validate()
    if problems:
        form.photo_files.errors = list(form.photo_files.errors) + problems
    if not ok or problems:
        return page(form, 422)
    if str(row["version"]) != request.form.get("base_version"):
        flash("您打开这页之后，别人已经更正过这份记录。请看一下最新的内容再更正。")
        return redirect(url_for("meetings.show", village=village, uuid=row["uuid"]))
    new_row, problem = save_paper_amendment(g.db, row, form, current_user.username)
    if problem is not None:
        form.reason.errors = list(form.reason.errors) + [problem]
        return page(form, 422)
    flash(f"已更正，现在是第 {new_row['edition']} 版。第 {row['edition']} 版仍可查看。")
    return redirect(url_for("meetings.show", village=village, uuid=row["uuid"]))
