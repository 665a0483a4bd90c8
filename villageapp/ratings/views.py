"""Views of a village's 星级文明户 / 文明家庭 campaigns: the list, a new campaign, a campaign with its entries, each
reviewer's scores and the steps this person may take now; one page per task (an entry, the score form saved through the
sync engine like minutes, the 考核 adjustment, a family's consent, a step, 摘星); the A4 certificates and door plaques;
a household's titles over the years. The town's pages are in town.py. Nothing here is public (the village page's list
is templates/ratings/_public.html)."""
import json

import qrcode
import qrcode.image.svg
from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from .. import records, sync
from ..access import access
from ..clock import today
from ..councils import data as councils
from ..records import in_village_or_404
from ..reviews.forms import _subject, subjects
from ..steps import allowed
from . import bp, data, procedure
from .forms import make_score_form
from .step_forms import AdjustForm, CampaignForm, ConsentForm, EntryForm, StepForm, WithdrawForm

READERS = ("cadre", "adviser", "town", "county")
NEXT = {"apply": "下一步：添加申请和推荐的户，再开始评议打分", "scoring": "下一步：评议人逐户打分，打完后考核",
        "checked": "下一步：核对结果（可调整，要写理由），再公示", "publicity": "下一步：公示期满、异议都答复后确认",
        "confirmed": "下一步：上报镇里", "reported": "下一步：等镇里确认", "approved": "下一步：挂牌",
        "plaqued": "已挂牌，评选结束"}


@bp.context_processor
def _words():
    return {"rating_stages": procedure.STAGES, "rating_next": NEXT, "modes": data.MODES, "how_words": data.HOW,
            "subject_words": data.SUBJECTS, "rating_steps": {s: w for s, (w, _r, _s) in procedure.STEPS.items()}}


def _campaign_or_404(uuid):
    campaign = data.campaign(g.db, g.village["code"], uuid)
    if campaign is None:
        abort(404)
    return campaign


def _entry_or_404(campaign, uuid):
    entry = data.entry(g.db, campaign["uuid"], uuid)
    if entry is None:
        abort(404)
    return entry


def may_take(campaign):
    """The steps this person may take now (the buttons)."""
    return allowed(procedure.check, procedure.STEPS, campaign, current_user.role)


def refused(campaign, reason, status):
    return render_template("ratings/refused.html", campaign=campaign, reason=reason), status


# ---- the village's campaigns -----------------------------------------------------------------------------

@bp.route("/v/<village>/ratings/")
@access(*READERS, scope="village")
def index(village):
    rows = data.campaigns(g.db, village)
    counts = {r["campaign_uuid"]: r["n"] for r in g.db.query(
        "select campaign_uuid, count(*) as n from campaign_entries where village_code = ? group by campaign_uuid", [village])}
    return render_template("ratings/index.html", campaigns=rows, counts=counts,
                           awards=data.current_awards(g.db, village))


@bp.route("/v/<village>/ratings/new", methods=["GET", "POST"])
@access("cadre", scope="village")
def new(village):
    kinds = data.types(g.db, active_only=True)
    form = CampaignForm().setup(kinds)
    roster = _roster(village)
    if request.method == "GET":
        form.year.data = today().year
        form.type_uuid.data = kinds[0]["uuid"] if len(kinds) == 1 else None
        form.reviewers.data = "\n".join(roster)
    if form.validate_on_submit():
        kind = next((t for t in kinds if t["uuid"] == form.type_uuid.data), None)
        same = g.db.execute("select 1 from campaigns where village_code = ? and type_uuid = ? and year = ?",
                            [village, form.type_uuid.data, form.year.data]).fetchone()
        if kind is None:
            form.type_uuid.errors = ["这种评选镇里已经不用了，请重新选择"]
        elif same:
            form.year.errors = [f"{form.year.data}年的{kind['name']}评选已经开始了，请在评选列表里打开它"]
        else:
            campaign = data.start_campaign(g.db, village, kind, form.year.data, form.names(), current_user.username)
            flash(f"已开始「{campaign['name']}」。下一步：添加申请和推荐的户。")
            return redirect(url_for("ratings.show", village=village, uuid=campaign["uuid"]))
    status = 422 if request.method == "POST" else 200
    return render_template("ratings/new.html", form=form, roster=roster, kinds=kinds), status


def _roster(village):
    """The village's 村民代表 serving today (the 村民代表会议 roster), the reviewers a campaign usually has."""
    body = councils.council_by_name(g.db, village, "村民代表会议")
    return [m["name"] for m in councils.members(g.db, body["uuid"], current_only=True)] if body else []


# ---- one campaign ------------------------------------------------------------------------------------------

@bp.route("/v/<village>/ratings/<uuid>")
@access(*READERS, scope="village")
def show(village, uuid):
    campaign = _campaign_or_404(uuid)
    entries = data.entries(g.db, uuid)
    scores = {e["uuid"]: data.scores(g.db, e["uuid"]) for e in entries}
    notice = g.db["notices"].get(campaign["notice_uuid"]) if campaign["notice_uuid"] else None
    objections = list(g.db["objections"].rows_where("notice_uuid = ?", [notice["uuid"]], order_by="created_at")) \
        if notice else []
    awards = list(g.db["awards"].rows_where("campaign_uuid = ?", [uuid], order_by="subject_name"))
    bars = {e["uuid"]: data.bar(g.db, e["subject_uuid"], campaign["type_uuid"]) for e in entries} \
        if campaign["stage"] in ("checked", "publicity", "confirmed", "reported") else {}
    return render_template("ratings/show.html", campaign=campaign, rules=campaign["rules"], entries=entries,
                           scores=scores, notice=notice, objections=objections, awards=awards, bars=bars,
                           steps=may_take(campaign), trail=data.steps(g.db, uuid), title=data.title,
                           shown_name=data.shown_name)


@bp.route("/v/<village>/ratings/<uuid>/entries/new", methods=["GET", "POST"])
@access("cadre", scope="village")
def new_entry(village, uuid):
    campaign = _campaign_or_404(uuid)
    if campaign["stage"] not in ("apply", "scoring"):
        return refused(campaign, f"这次评选现在是「{procedure.STAGES[campaign['stage']]}」，不能再添加", 409)
    form = EntryForm()
    wanted = campaign["rules"]["subject"]
    form.subject.choices = _subject_choices(village, wanted)
    if request.method == "GET":
        form.came_on.data = today()
        form.how.data = "apply"
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        subject = _subject(g.db, village, form.subject.data)
        if subject is None or subject["type"] != wanted:
            form.subject.errors = ["请从列表里选择"]
        else:
            try:
                procedure.add_entry(g.db, campaign, subject, form.how.data, form.came_on.data.isoformat(), current_user,
                                    nominated_by=(form.nominated_by.data or "").strip() or None)
            except procedure.StepRefused as refusal:
                form.subject.errors = [str(refusal)]
                status = refusal.status
            else:
                more = "户" if wanted == "household" else "位"
                flash(f"已添加：{subject['name']}（{data.HOW[form.how.data]}）。可以接着添加下一{more}。")
                return redirect(url_for("ratings.new_entry", village=village, uuid=uuid))
    added = data.entries(g.db, uuid)
    return render_template("ratings/entry.html", form=form, campaign=campaign, added=added), status


def _subject_choices(village, wanted):
    """The register as choices for this campaign: households only, or residents only (each with their household)."""
    out, house = [("", "请选择")], ""
    for value, label in subjects(g.db, village):
        if value.startswith("h:"):
            house = label.replace("（全户）", "")
            if wanted == "household":
                out.append((value, label.replace("（全户）", "")))
        elif wanted == "resident":
            out.append((value, f"{label.strip()} · {house}"))
    from ..forms import choices
    return choices(out)


# ---- the reviewers' scores (synced kind "rating_score") -----------------------------------------------------

@bp.route("/v/<village>/ratings/<uuid>/score", methods=["GET", "POST"])
@access("cadre", scope="village")
def score(village, uuid):
    campaign = _campaign_or_404(uuid)
    if campaign["stage"] != "scoring":
        return refused(campaign, f"这次评选现在是「{procedure.STAGES[campaign['stage']]}」，不是打分的时候", 409)
    if request.method == "POST":
        return _save(village, campaign, None)
    prefill = [("campaign", uuid)] + [(k, request.args[k]) for k in ("entry", "reviewer") if request.args.get(k)]
    response = make_response(_score_page(make_score_form(g.db, village, MultiDict(prefill)), campaign, None))
    if len(prefill) == 1:
        response.headers["X-Offline-Copy"] = "form"  # the blank page: a reviewer keeps it for the doors with no signal
    return response


@bp.route("/v/<village>/ratings/<uuid>/scores/<score>/edit", methods=["GET", "POST"])
@access("cadre", scope="village")
def edit_score(village, uuid, score):
    campaign = _campaign_or_404(uuid)
    record = in_village_or_404("campaign_scores", score, where="campaign_uuid = ?", params=[uuid])
    if campaign["stage"] != "scoring":
        return refused(campaign, f"这次评选现在是「{procedure.STAGES[campaign['stage']]}」，打的分不能再改", 409)
    if request.method == "POST":
        return _save(village, campaign, record)
    return _score_page(make_score_form(g.db, village, None, record=record), campaign, record)


def _score_page(form, campaign, record, edit_id="", uuid="", status=200):
    """uuid and edit_id stay empty on a page the phone may keep (it fills them); a page answering a POST carries the
    ones the server used, so sending it again is the same record."""
    done = {}
    for r in g.db["campaign_scores"].rows_where("campaign_uuid = ?", [campaign["uuid"]], select="entry_uuid, reviewer"):
        done.setdefault(r["reviewer"], set()).add(r["entry_uuid"])
    return render_template("ratings/score.html", form=form, campaign=campaign, rules=campaign["rules"], record=record,
                           edit_id=edit_id, uuid=record["uuid"] if record else uuid,
                           base_version=record["version"] if record else "", done=done,
                           total=len(data.entries(g.db, campaign["uuid"]))), status


def _save(village, campaign, record):
    edit = sync.envelope("rating_score", record)
    uuid, payload = edit["uuid"], edit["payload"]
    result = sync.save_form(edit)
    if result["status"] == "invalid":
        form = sync.refill("rating_score", record, payload)
        return _score_page(form, campaign, record, edit_id=records.new_uuid(), uuid=uuid, status=422)
    row = next(g.db["campaign_scores"].rows_where("uuid = ?", [uuid]), None)
    entry = row and data.entry(g.db, campaign["uuid"], row["entry_uuid"])
    if row is None or entry is None:
        flash(f"已收到（回执 {result.get('receipt', '')}）。")
        return redirect(url_for("ratings.show", village=village, uuid=campaign["uuid"]))
    if result["status"] == "accepted":
        flash(f"已保存（回执 {result['receipt']}）：{row['reviewer']} 给 {entry['subject_name']} 打的分。接着打下一户。")
    else:
        flash(f"已收到（回执 {result.get('receipt', '')}），请村干部在“需处理”里核对。")
    if record:
        return redirect(url_for("ratings.show", village=village, uuid=campaign["uuid"], _anchor=f"entry-{entry['uuid']}"))
    return redirect(url_for("ratings.score", village=village, uuid=campaign["uuid"], reviewer=row["reviewer"]))


# ---- 考核, consent, steps -----------------------------------------------------------------------------------

@bp.route("/v/<village>/ratings/<uuid>/entries/<entry>/adjust", methods=["GET", "POST"])
@access("cadre", scope="village")
def adjust(village, uuid, entry):
    campaign = _campaign_or_404(uuid)
    row = _entry_or_404(campaign, entry)
    if campaign["stage"] != "checked":
        return refused(campaign, f"这次评选现在是「{procedure.STAGES[campaign['stage']]}」，考核结果不能再改", 409)
    form = AdjustForm().setup(campaign["rules"])
    if request.method == "GET":
        result = row["result"] or {"stars": [], "total": 0, "passed": False}
        form.stars.data, form.total.data = result["stars"], int(result["total"])
        form.passed.data = "yes" if result["passed"] else "no"
        form.reason.data = row["adjust_reason"] or ""
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            procedure.adjust(g.db, campaign, row, form.result(row["computed"]), form.reason.data, current_user)
        except procedure.StepRefused as refusal:
            (form.reason.errors if refusal.status == 422 else form.passed.errors).append(str(refusal))
            status = refusal.status
        else:
            flash(f"已记下 {row['subject_name']} 的考核调整。算出的结果还保留在旁边。")
            return redirect(url_for("ratings.show", village=village, uuid=uuid, _anchor=f"entry-{row['uuid']}"))
    return render_template("ratings/adjust.html", form=form, campaign=campaign, entry=row, rules=campaign["rules"],
                           title=data.title), status


@bp.route("/v/<village>/ratings/<uuid>/entries/<entry>/consent", methods=["GET", "POST"])
@access("cadre", scope="village")
def consent(village, uuid, entry):
    campaign = _campaign_or_404(uuid)
    row = _entry_or_404(campaign, entry)
    form = ConsentForm()
    if request.method == "GET":
        form.on.data = today()
        form.action.data = "withdrawn" if row["consent"] == "given" else "given"
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            procedure.consent(g.db, row, form.action.data == "given", form.by_name.data, form.how.data, form.on.data,
                              current_user)
        except procedure.StepRefused as refusal:
            form.by_name.errors = [str(refusal)]
            status = refusal.status
        else:
            flash(f"已记下：{row['subject_name']}" + ("同意公开写名字" if form.action.data == "given"
                                                    else "撤回同意，公开的地方改写“某户”"))
            return redirect(url_for("ratings.show", village=village, uuid=uuid, _anchor=f"entry-{row['uuid']}"))
    return render_template("ratings/consent.html", form=form, campaign=campaign, entry=row), status


@bp.route("/v/<village>/ratings/<uuid>/steps/<step>", methods=["GET", "POST"])
@access("cadre", "town", scope="village")
def step(village, uuid, step):
    campaign = _campaign_or_404(uuid)
    try:
        procedure.check(campaign, step, current_user.role)
    except procedure.StepRefused as refusal:
        return refused(campaign, str(refusal), refusal.status)
    form = StepForm().setup(step)
    reason, status = None, 200
    if form.validate_on_submit():
        try:
            procedure.take_step(g.db, campaign, step, current_user, note=(form.note.data or "").strip() or None)
        except procedure.StepRefused as refusal:
            reason, status = str(refusal), refusal.status
            if step == "return" and refusal.status == 422:
                form.note.errors = [reason]
        else:
            flash(f"已办理：{procedure.STEPS[step][0]}。")
            if step in ("approve", "return"):
                return redirect(url_for("ratings.town", town=village[:9]))
            return redirect(url_for("ratings.show", village=village, uuid=uuid))
    elif request.method == "POST":
        status = 422
    entries = data.entries(g.db, uuid)
    open_objections = g.db.execute("select count(*) from objections where notice_uuid = ? and status = 'open'",
                                   [campaign["notice_uuid"]]).fetchone()[0] if campaign["notice_uuid"] else 0
    return render_template("ratings/step.html", form=form, campaign=campaign, step=step, words=procedure.STEPS[step][0],
                           reason=reason, entries=entries, rules=campaign["rules"], title=data.title,
                           shown_name=data.shown_name, open_objections=open_objections,
                           bars={e["uuid"]: data.bar(g.db, e["subject_uuid"], campaign["type_uuid"]) for e in entries}), status


# ---- awards: 摘星, certificates, plaques, history ------------------------------------------------------------

@bp.route("/v/<village>/ratings/awards/<award>/withdraw", methods=["GET", "POST"])
@access("cadre", "town", scope="village")
def withdraw(village, award):
    row = in_village_or_404("awards", award)
    campaign = data.campaign(g.db, village, row["campaign_uuid"])
    if row["withdrawn_on"]:
        return refused(campaign, f"已经在 {row['withdrawn_on']} 摘去了（{row['withdraw_reason']}）", 409)
    cases = list(g.db["review_cases"].rows_where(
        "village_code = ? and kind = 'criticism' and household_uuid = ?", [village, row["household_uuid"]],
        order_by="created_at desc")) if row["household_uuid"] else []
    form = WithdrawForm()
    from ..forms import choices
    form.review.choices = choices([("", "不关联")] + [(c["uuid"], f"{c['subject_name']} · {c['category']}（{c['created_at'][:10]}）")
                                                    for c in cases])
    if request.method == "GET":
        form.on.data = today()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            procedure.withdraw(g.db, row, form.reason.data, current_user, review_uuid=form.review.data or None,
                               on=form.on.data)
        except procedure.StepRefused as refusal:
            (form.review.errors if "道德评议" in str(refusal) else form.reason.errors).append(str(refusal))
            status = refusal.status
        else:
            years = campaign["rules"].get("rebar_years") or 0
            flash(f"已摘去 {row['subject_name']}「{row['title']}」。" + (f"{years} 年内不能再评。" if years else ""))
            return redirect(url_for("ratings.history", village=village, uuid=row["subject_uuid"]))
    return render_template("ratings/withdraw.html", form=form, award=row, campaign=campaign, cases=cases), status


@bp.route("/v/<village>/ratings/<uuid>/certificates")
@access(*READERS, scope="village")
def certificates(village, uuid):
    campaign = _campaign_or_404(uuid)
    return render_template("ratings/certificates.html", campaign=campaign, awards=_in_force(uuid))


@bp.route("/v/<village>/ratings/<uuid>/plaques")
@access(*READERS, scope="village")
def plaques(village, uuid):
    campaign = _campaign_or_404(uuid)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") or request.host_url.rstrip("/")
    url = base + url_for("notices.village_page", village=village)
    svg = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=1).to_string(encoding="unicode")
    return render_template("ratings/plaques.html", campaign=campaign, awards=_in_force(uuid), url=url, qr_svg=svg,
                           public_base_set=bool(current_app.config["PUBLIC_BASE_URL"].strip()))


def _in_force(campaign_uuid):
    """The campaign's awards not withdrawn, each with its stars as a list."""
    return [{**a, "star_list": json.loads(a["stars"] or "[]")} for a in g.db["awards"].rows_where(
        "campaign_uuid = ? and withdrawn_on is null", [campaign_uuid], order_by="subject_name")]


@bp.route("/v/<village>/ratings/subjects/<uuid>")
@access(*READERS, scope="village")
def history(village, uuid):
    house = next(g.db["households"].rows_where("uuid = ? and village_code = ?", [uuid, village]), None)
    person = None if house else next(g.db["residents"].rows_where("uuid = ? and village_code = ?", [uuid, village]), None)
    if house is None and person is None:
        abort(404)
    household = house or g.db["households"].get(person["household_uuid"])
    entries = list(g.db.query("""select e.*, c.name as campaign_name, c.stage, c.year from campaign_entries e
        join campaigns c on c.uuid = e.campaign_uuid where e.village_code = ? and (e.subject_uuid = ? or e.household_uuid = ?)
        and c.stage not in ('approved', 'plaqued') order by c.year desc""", [village, uuid, uuid]))
    return render_template("ratings/history.html", awards=data.history(g.db, village, uuid), running=entries,
                           name=f"{house['head_name']}户" if house else person["name"], household=household,
                           whole=house is not None)


from . import town  # noqa: F401  (the town's pages register on bp)
