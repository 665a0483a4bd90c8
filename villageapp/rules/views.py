"""Views of one village's 村规民约: the public text, poster, consultation and search (no login); the cadres' pages to
start a cycle, draft article by article and answer opinions; and the step page each role uses for its own step."""
from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from .. import attachments, public_cache, records, sync
from ..access import VILLAGE_READERS, access
from . import bp, data, drafts, procedure, search
from .forms import AnswerForm, OpinionForm, StartForm, StepForm
from ..records import in_village_or_404

COMMENT_MAX = 500


def _public(body, status=200):
    """Like notices' public pages: no personal data; the service worker may keep a copy for offline reading."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Offline-Copy"] = "public"
    return response


def _published():
    book = data.rulebook(g.db, g.village["code"])
    cur = data.current(g.db, book)
    return book, cur, data.chapters(data.articles(g.db, cur["uuid"])) if cur else []


# ---- public -----------------------------------------------------------------------------

@bp.route("/v/<village>/rules")
@public_cache.cached
@access("public", scope="village")
def public(village):
    book, cur, text = _published()
    running = data.open_version(g.db, book)
    return _public(render_template("rules/public.html", book=book, current=cur, text=text, public_page=True,
                                   consulting=running if running and running["stage"] == "consultation" else None))


@bp.route("/v/<village>/rules/poster")
@public_cache.cached
@access("public", scope="village")
def poster(village):
    book, cur, text = _published()
    if cur is None:
        abort(404)
    return _public(render_template("rules/poster.html", book=book, current=cur, text=text, public_page=True))


@bp.route("/v/<village>/rules/consultation", methods=["GET", "POST"])
@access("public", scope="village")
def consultation(village):
    book = data.rulebook(g.db, village)
    running = data.open_version(g.db, book)
    if running is None or running["stage"] != "consultation":
        return _public(render_template("rules/consultation_closed.html", book=book, public_page=True), 410)
    form = OpinionForm()
    if form.validate_on_submit():
        try:
            data.add_opinion(g.db, running, (form.name.data or "").strip() or None, form.body.data.strip(),
                             uuid=form.uuid.data or None)
        except records.UuidTaken:
            abort(400)
        return render_template("rules/opinion_thanks.html", book=book, public_page=True)
    answered = [o for o in data.opinions(g.db, running["uuid"]) if o["status"] != "open"]
    return render_template("rules/consultation.html", book=book, version=running, form=form, public_page=True,
                           text=data.chapters(data.articles(g.db, running["uuid"])), answered=answered,
                           states=data.OPINION_STATES)


@bp.route("/v/<village>/rules/search")
@access("public", scope="village")
def public_search(village):
    q = request.args.get("q", "").strip()[:40]
    rows = search.search(g.db, q, published_only=True) if q else []
    return _public(render_template("rules/search.html", q=q, rows=rows, snippet=search.snippet, public_page=True,
                                   action=url_for("rules.public_search", village=village)))


# ---- the village's cadres, adviser and town ------------------------------------------------

@bp.route("/v/<village>/rules/manage")
@access(*VILLAGE_READERS, scope="village")
def manage(village):
    book = data.rulebook(g.db, village)
    running = data.open_version(g.db, book)
    return render_template("rules/manage.html", book=book, versions=data.versions(g.db, book["uuid"]) if book else [],
                           current=data.current(g.db, book), running=running, labels=procedure.LABELS,
                           steps=procedure.STEPS, role_words=procedure.ROLE_WORDS,
                           opinions=data.opinions(g.db, running["uuid"]) if running else [],
                           opinion_states=data.OPINION_STATES)


@bp.route("/v/<village>/rules/start", methods=["GET", "POST"])
@access("cadre", scope="village")
def start(village):
    form = StartForm()
    if form.validate_on_submit():
        row, message = data.start_cycle(g.db, g.village, current_user.username, form.reason.data)
        if message:
            flash(message, "error")
        return redirect(url_for("rules.version", village=village, uuid=row["uuid"]))
    book = data.rulebook(g.db, village)
    return render_template("rules/start.html", form=form, current=data.current(g.db, book),
                           running=data.open_version(g.db, book))


@bp.route("/v/<village>/rules/versions/<uuid>")
@access(*VILLAGE_READERS, scope="village")
def version(village, uuid):
    row = in_village_or_404("rule_versions", uuid)
    return render_template("rules/version.html", version=row, files=attachments.listing(g.db, uuid), text=data.chapters(data.articles(g.db, uuid)),
                           trail=procedure.steps(g.db, uuid), labels=procedure.LABELS, limits=data.LIMITS,
                           owners=procedure.OWNERS, editable=row["stage"] in ("consultation", "draft"),
                           book=data.rulebook(g.db, village))


@bp.route("/v/<village>/rules/versions/<uuid>/diff")
@access(*VILLAGE_READERS, scope="village")
def diff(village, uuid):
    row = in_village_or_404("rule_versions", uuid)
    base = data.version_by_number(g.db, row["rulebook_uuid"], row["base_number"])
    return render_template("rules/diff.html", version=row, base=base,
                           changes=data.diff(g.db, base["uuid"] if base else None, uuid))


def _editable(row):
    if row["stage"] not in ("consultation", "draft"):
        return f"第 {row['number']} 版现在在「{procedure.LABELS[row['stage']]}」，条文不能再改。要改请等退回或发起修订"
    return None


@bp.route("/v/<village>/rules/versions/<uuid>/articles/new", methods=["GET", "POST"])
@bp.route("/v/<village>/rules/versions/<uuid>/articles/<article>/edit", methods=["GET", "POST"], endpoint="edit_article")
@access("cadre", scope="village")
def new_article(village, uuid, article=None):
    """One article, saved through the sync engine like a phone's offline edit (the page works offline too)."""
    row = in_village_or_404("rule_versions", uuid)
    existing = None
    if article:
        existing = data.article(g.db, uuid, article)
        if existing is None:
            abort(404)
    problem = _editable(row)
    if problem:
        return render_template("rules/refused.html", version=row, reason=problem), 409
    if request.method == "GET":
        pairs = drafts.article_payload(existing) if existing else [["version", uuid], ["chapter", "村风民俗"]]
        form = drafts.make_article_form(g.db, village, MultiDict([tuple(p) for p in pairs]), record=existing)
        response = make_response(_article_page(form, row, existing))
        if existing is None:
            response.headers["X-Offline-Copy"] = "form"  # a blank page: the phone may keep it
        return response
    edit = sync.envelope("rule_article", existing)
    result = sync.save_form(edit)
    if result["status"] == "invalid":
        form = sync.refill("rule_article", existing, edit["payload"])
        return _article_page(form, row, existing, uuid=edit["uuid"], edit_id=records.new_uuid()), 422
    flash("已保存这一条" if result["status"] == "accepted" else "这一条别人也同时改了，两份都留着，请到“待定”里选定")
    return redirect(url_for("rules.version", village=village, uuid=uuid))


def _article_page(form, version_row, existing, uuid="", edit_id=""):
    return render_template("rules/article_form.html", form=form, version=version_row, article=existing,
                           uuid=existing["uuid"] if existing else uuid, edit_id=edit_id,
                           base_version=existing["version"] if existing else "")


@bp.route("/v/<village>/rules/versions/<uuid>/steps/<step>", methods=["GET", "POST"])
@access("cadre", "adviser", "town", scope="village")
def step(village, uuid, step):
    row = in_village_or_404("rule_versions", uuid)
    try:
        procedure.check(row, step, current_user.role)
    except procedure.StepRefused as refused:
        return render_template("rules/refused.html", version=row, reason=str(refused)), refused.status
    meetings = _voting_meetings() if step == "vote" else []
    form = StepForm().setup(step, meetings)
    if request.method == "GET" and form.done_on.data is None:
        from ..clock import today
        form.done_on.data = today()
    text = data.articles(g.db, uuid)
    comments = {a["uuid"]: (request.form.get("comment-" + a["uuid"]) or "")[:COMMENT_MAX] for a in text}
    status = 200
    valid = form.validate_on_submit()
    files = _uploaded_files(form) if request.method == "POST" else []  # after validate(), which resets errors
    if valid and not form.files.errors:
        try:
            procedure.take_step(g.db, row, step, current_user, outcome=form.outcome.data or "done",
                                done_on=form.done_on.data.isoformat(), note=form.note.data,
                                documents=form.documents.data, comments=comments,
                                meeting_uuid=form.meeting.data or None,
                                agenda_item=form.agenda_item.data - 1 if form.agenda_item.data else None,
                                filing_no=form.filing_no.data, files=files)
        except procedure.StepRefused as refused:
            form.note.errors = [*form.note.errors]
            flash(str(refused), "error")
            status = refused.status
        else:
            flash(f"「{procedure.LABELS[step]}」已记录", "ok")
            return redirect(url_for("rules.version", village=village, uuid=uuid))
    elif request.method == "POST":
        status = 422
    return render_template("rules/step.html", form=form, version=row, step=step, label=procedure.LABELS[step],
                           text=data.chapters(text), comments=comments), status


def _uploaded_files(form):
    """Check every chosen file; errors go next to the file field. Returns [(name, type, bytes)]."""
    files = []
    for storage in request.files.getlist(form.files.name):
        if storage and storage.filename:
            try:
                files.append(attachments.prepare(storage.filename, storage.read()))
            except attachments.AttachmentError as error:
                form.files.errors = [*form.files.errors, str(error)]
    return files


@bp.route("/v/<village>/rules/versions/<uuid>/files/<sha256>")
@access(*VILLAGE_READERS, scope="village")
def file(village, uuid, sha256):
    in_village_or_404("rule_versions", uuid)
    return attachments.serve(attachments.get(g.db, uuid, sha256))


def _voting_meetings():
    rows = g.db.query("""select m.uuid, m.starts_at, c.name from meetings m join councils c on c.uuid = m.council_uuid
        where m.village_code = ? and c.name in ('村民会议', '村民代表会议') and m.state != 'draft'
        order by m.starts_at desc limit 30""", [g.village["code"]])
    return [(r["uuid"], f"{r['starts_at'][:10]} {r['name']}") for r in rows]


@bp.route("/v/<village>/rules/opinions/<uuid>", methods=["GET", "POST"])
@access("cadre", scope="village")
def answer(village, uuid):
    row = next(g.db["rule_opinions"].rows_where("uuid = ? and village_code = ?", [uuid, village]), None)
    if row is None:
        abort(404)
    form = AnswerForm(data={"answer": row["answer"], "adopt": row["status"] == "adopted"} if request.method == "GET" else None)
    if form.validate_on_submit():
        data.answer_opinion(g.db, row, form.answer.data.strip(), form.adopt.data, current_user.username)
        return redirect(url_for("rules.manage", village=village))
    return render_template("rules/answer.html", form=form, opinion=row)
