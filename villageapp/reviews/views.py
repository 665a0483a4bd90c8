"""Views of 道德评议: the village's cases and sessions, the case form (saved through the sync engine like minutes, so a
plain POST and a phone's offline edit follow the same rules), a case and one page per step of its procedure, the A4
record and 红榜 sheet, a subject's history, and the town's settings. Nothing here is public (the 红榜 partial is)."""
import json

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from .. import attachments, records, sync
from ..access import access
from ..clock import today
from ..records import in_village_or_404
from ..steps import allowed
from . import bp, data, procedure
from .forms import make_case_form
from .step_forms import SessionForm, SettingsForm, StepForm

LOCKED = "这件事已经评议过了，不能再改记下的内容。后面的情况请用下面的按钮一步一步记。"
CONFLICT = "您保存之前，别人已经改过这件事的记录。两份都保存在服务器上了，没有丢；请在“需处理”里选定一份。"
GRANTED = {True: "已让法律顾问查看这件事", False: "已收回，法律顾问看不到这件事了"}
NEXT = {"new": "下一步：评议会表决", "reviewed": "下一步：告知本人", "appealed": "下一步：复评结果", "closed": "已结案"}


@bp.context_processor
def _words():
    """The coded values of a case in words, for every page of this blueprint."""
    return {"stages": procedure.STAGES, "outcomes": procedure.OUTCOMES, "conclusions": data.CONCLUSIONS,
            "sources": data.SOURCES, "session_kinds": data.SESSION_KINDS,
            "step_words": {s: words for s, (words, _roles, _stages) in procedure.STEPS.items()}}


def _case_or_404(uuid):
    """The village's case if this person may read it; otherwise it answers as absent (the adviser before a grant)."""
    case = in_village_or_404("review_cases", uuid)
    if not data.can_read(current_user, case):
        abort(404)
    return case


def next_step(case):
    if case["stage"] != "told":
        return NEXT[case["stage"]]
    if case["conclusion"] == "help":
        return "下一步：回访，回访后可以结案"
    if case["kind"] == "criticism":
        deadline = data.appeal_deadline(g.db, case)
        return f"下一步：等本人意见，{deadline.isoformat()} 前可申请复评；可以回访、结案" if deadline else "下一步：结案"
    return "下一步：结案"


def may_take(case):
    """The steps this person may take now (the buttons)."""
    return allowed(procedure.check, procedure.STEPS, case, current_user.role)


# ---- the village's list ------------------------------------------------------------------------------------

@bp.route("/v/<village>/reviews/")
@access("cadre", "adviser", "town", scope="village")
def index(village):
    stage = request.args.get("stage", "open")
    stage = stage if stage in ("open", "all", *procedure.STAGES) else "open"
    kind = request.args.get("kind", "")
    kind = kind if kind in data.KINDS else ""
    rows = data.cases(g.db, village, current_user, None if stage == "all" else stage, kind or None)
    return render_template("reviews/index.html", cases=rows, stage=stage, kind=kind, next_step=next_step,
                           sessions=data.sessions(g.db, village) if current_user.role != "adviser" else [])


# ---- the case form (synced kind "review") ----------------------------------------------------------------

@bp.route("/v/<village>/reviews/new", methods=["GET", "POST"])
@access("cadre", scope="village")
def new(village):
    if request.method == "POST":
        return _save(village, None)
    response = make_response(_page(make_case_form(g.db, village, None), None))
    response.headers["X-Offline-Copy"] = "form"  # a blank page: the phone may keep it to open with no signal
    return response


@bp.route("/v/<village>/reviews/<uuid>/edit", methods=["GET", "POST"])
@access("cadre", scope="village")
def edit(village, uuid):
    case = _case_or_404(uuid)
    if case["stage"] != "new":
        flash(LOCKED)
        return redirect(url_for("reviews.show", village=village, uuid=uuid))
    if request.method == "POST":
        return _save(village, case)
    return _page(make_case_form(g.db, village, None, record=case), case)


def _page(form, record, edit_id="", uuid="", status=200):
    """uuid and edit_id stay empty on a page the service worker may keep (the phone fills them); a page answering a
    POST carries the ones the server used, so sending it again is the same record."""
    return render_template("reviews/form.html", form=form, record=record, edit_id=edit_id,
                           uuid=record["uuid"] if record else uuid, base_version=record["version"] if record else "",
                           categories=data.categories(g.db)), status


def _save(village, record):
    edit, problems = sync.photo_edit("review", record)
    uuid, payload = edit["uuid"], edit["payload"]
    if problems:  # a bad photo: say why, keep everything typed and the photos that did arrive
        form = sync.refill("review", record, payload)
        form.photo_files.errors = list(form.photo_files.errors) + problems
        return _page(form, record, edit_id=edit["edit_id"], uuid=uuid, status=422)
    if record is None and sync.already_saved("review", edit):
        flash("这件事已经保存过了，没有重复保存")  # the page sent twice (no JS to stop a double tap)
        return redirect(url_for("reviews.show", village=village, uuid=uuid))
    result = sync.save_form(edit)
    if result["status"] == "invalid":
        return _page(sync.refill("review", record, payload), record, edit_id=records.new_uuid(), uuid=uuid, status=422)
    flash({"accepted": f"已保存（回执 {result['receipt']}）。评议会表决后，请在这里记下表决结果。",
           "conflict": CONFLICT,
           "needs_review": "这件事刚被评议了，您的修改作为更正建议保存了，请村里看后决定。"}[result["status"]])
    return redirect(url_for("reviews.show", village=village, uuid=uuid))


# ---- one case and its steps ----------------------------------------------------------------------------

@bp.route("/v/<village>/reviews/<uuid>")
@access("cadre", "adviser", "town", scope="village")
def show(village, uuid):
    case = _case_or_404(uuid)
    return render_template("reviews/show.html", **_case_view(case), steps=may_take(case), next_step=next_step(case))


def _case_view(case):
    photos = json.loads(case["photos"] or "[]")
    return {"case": case, "session": data.session(g.db, case["village_code"], case["session_uuid"] or ""),
            "trail": data.steps(g.db, case["uuid"]), "consents": data.consents(g.db, case["uuid"]),
            "deadline": data.appeal_deadline(g.db, case), "photos": photos,
            "arrived": attachments.owned(g.db, case["village_code"], photos)}


@bp.route("/v/<village>/reviews/<uuid>/steps/<step>", methods=["GET", "POST"])
@access("cadre", "town", scope="village")
def step(village, uuid, step):
    case = _case_or_404(uuid)
    try:
        procedure.check(case, step, current_user.role)
    except procedure.StepRefused as refused:
        return render_template("reviews/refused.html", case=case, reason=str(refused)), refused.status
    sessions = data.sessions(g.db, village) if step == "vote" else []
    form = StepForm().setup(step, case, sessions)
    if request.method == "GET":  # what is most likely: today, the latest session, the only conclusion of a praise
        form.done_on.data = today()
        form.session.data = sessions[0]["uuid"] if sessions else ""
        form.conclusion.data = "praise" if case["kind"] == "praise" else None
        form.anonymous.data = bool(case["public_anonymous"])
        form.granted.data = bool(case["adviser_granted"])
    reason, status = None, 200
    if form.validate_on_submit():
        try:
            procedure.take_step(g.db, case, step, current_user, **form.step_fields())
        except procedure.StepRefused as refused:
            reason, status = str(refused), refused.status
        else:
            flash(GRANTED[bool(form.granted.data)] if step == "grant" else f"已记下：{procedure.STEPS[step][0]}")
            return redirect(url_for("reviews.show", village=village, uuid=uuid))
    elif request.method == "POST":
        status = 422
    return render_template("reviews/step.html", form=form, case=case, step=step, words=procedure.STEPS[step][0],
                           reason=reason, deadline=data.appeal_deadline(g.db, case),
                           appeal_days=data.setting(g.db, "review_appeal_days")), status


@bp.route("/v/<village>/reviews/<uuid>/print")
@access("cadre", "adviser", "town", scope="village")
def print_case(village, uuid):
    case = _case_or_404(uuid)
    return render_template("reviews/print.html", **_case_view(case))


@bp.route("/v/<village>/reviews/<uuid>/files/<sha256>")
@access("cadre", "adviser", "town", scope="village")
def file(village, uuid, sha256):
    case = _case_or_404(uuid)
    sha256 = sha256.lower()
    if sha256 not in json.loads(case["photos"] or "[]"):
        abort(404)  # only the case's own photos, for those who may read the case
    return attachments.serve(attachments.village_file(g.db, village, sha256), name=sha256[:12])


# ---- the village's sheets and sessions, a subject's history --------------------------------------------

@bp.route("/v/<village>/reviews/red-list")
@access("cadre", "town", scope="village")
def red_list(village):
    return render_template("reviews/red_list.html", rows=data.red_list(g.db, village, limit=200))


@bp.route("/v/<village>/reviews/sessions/new", methods=["GET", "POST"])
@access("cadre", scope="village")
def new_session(village):
    meetings = data.review_meetings(g.db, village)
    form = SessionForm().setup(meetings)
    if request.method == "GET":
        form.held_on.data = today()
    if form.validate_on_submit():
        if form.meeting_uuid.data not in {m["uuid"] for m in meetings}:
            form.meeting_uuid.errors = ["请从列表里选择会议记录"]
        else:
            data.add_session(g.db, village, {"title": form.title.data.strip(), "kind": form.kind.data,
                                             "held_on": form.held_on.data.isoformat(),
                                             "meeting_uuid": form.meeting_uuid.data,
                                             "note": (form.note.data or "").strip() or None}, current_user.username)
            flash(f"已记下评议会：{form.title.data.strip()}")
            return redirect(url_for("reviews.index", village=village))
    status = 422 if request.method == "POST" else 200
    return render_template("reviews/session_form.html", form=form, meetings=meetings), status


@bp.route("/v/<village>/reviews/subjects/<uuid>")
@access("cadre", "adviser", "town", scope="village")
def history(village, uuid):
    house = next(g.db["households"].rows_where("uuid = ? and village_code = ?", [uuid, village]), None)
    person = None if house else next(g.db["residents"].rows_where("uuid = ? and village_code = ?", [uuid, village]), None)
    if house is None and person is None:
        abort(404)
    household = house or g.db["households"].get(person["household_uuid"])
    return render_template("reviews/history.html", cases=data.history(g.db, village, uuid, current_user),
                           name=f"{house['head_name']}户（全户）" if house else person["name"], household=household,
                           next_step=next_step)


# ---- the town's settings --------------------------------------------------------------------------------

@bp.route("/t/<town>/reviews/settings", methods=["GET", "POST"])
@access("town", scope="town")
def settings(town):
    form = SettingsForm()
    if request.method == "GET":
        cats = data.categories(g.db)
        form.praise.data, form.criticism.data = "\n".join(cats.get("praise", [])), "\n".join(cats.get("criticism", []))
        form.appeal_days.data = data.setting(g.db, "review_appeal_days")
        form.visit_days.data = data.setting(g.db, "review_visit_days")
    if form.validate_on_submit():
        actor = current_user.username
        for key, value in (("review_categories", form.categories()), ("review_appeal_days", form.appeal_days.data),
                           ("review_visit_days", form.visit_days.data)):
            if data.setting(g.db, key) != value:
                data.save_setting(g.db, key, value, actor)
        flash("道德评议的设置已保存。已记下的事保留原来的类别。")
        return redirect(url_for("reviews.settings", town=town))
    return render_template("reviews/settings.html", form=form), 422 if request.method == "POST" else 200
