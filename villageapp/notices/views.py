"""Views of 村务公开: public pages need no login; managing notices is for the village's cadres,
reading everything (objections included) for the town."""
import qrcode
import qrcode.image.svg
from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user

import re
from datetime import timedelta

from .. import attachments, kinds, public_cache, records, throttle
from .. import store
from ..access import access, can_see_village
from ..clock import now, parse_date
from . import bp, data
from .forms import AnswerForm, NoticeForm, ObjectionForm
from ..records import in_village_or_404
from ..routing import page_arg


def _notice(uuid, public=False):
    """The village's notice; on a public page only once it is published (a draft answers as absent)."""
    row = in_village_or_404("notices", uuid)
    if public and not data.is_public(row):
        abort(404)
    return row


def _public(response_body):
    """Public pages: no personal data, no cookie needed; the service worker may keep a copy for offline reading."""
    response = make_response(response_body)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Offline-Copy"] = "public"
    return response


def _uploaded_files(form):
    """Check every chosen file; errors go next to the file field. Returns [(name, type, bytes)]."""
    files = []
    for storage in request.files.getlist(form.files.name):
        if not storage or not storage.filename:
            continue
        try:
            files.append(attachments.prepare(storage.filename, storage.read()))
        except attachments.AttachmentError as error:
            form.files.errors = list(form.files.errors) + [str(error)]
    return files


# ---- public ----------------------------------------------------------------------

@bp.route("/v/<village>/")
@public_cache.cached
@access("public", scope="village")
def village_page(village):
    """The village's public page: what each kind of record lets anyone see (kinds.Public), in order."""
    publics = sorted((public for _kind, public in kinds.registry().collect("public")), key=lambda public: public.order)
    sections = [(public, public.query(g.db, village)) for public in publics]
    return _public(render_template("notices/village.html", sections=sections, days_left=data.days_left, public_page=True))


@bp.route("/v/<village>/notices/<uuid>")
@public_cache.cached
@access("public", scope="village")
def show(village, uuid):
    notice = _notice(uuid, public=True)
    return _public(render_template("notices/show.html", notice=notice, files=attachments.listing(g.db, uuid),
                                   open=data.in_notice_period(notice), days_left=data.days_left, public_page=True))


@bp.route("/v/<village>/notices/<uuid>/files/<sha256>")
@access("public", scope="village")
def file(village, uuid, sha256):
    notice = _notice(uuid)
    if not data.is_public(notice) and not can_see_village(current_user, village):
        abort(404)
    return attachments.serve(attachments.get(g.db, uuid, sha256), public=data.is_public(notice))


@bp.route("/v/<village>/notices/<uuid>/objection", methods=["GET", "POST"])
@access("public", scope="village")
def object(village, uuid):
    notice = _notice(uuid, public=True)
    if not data.in_notice_period(notice):
        return render_template("notices/objection_closed.html", notice=notice, public_page=True), 410
    form = ObjectionForm()
    if form.validate_on_submit():
        try:
            row = data.file_objection(g.db, notice, {"uuid": form.uuid.data or None, "body": form.body.data.strip(),
                                                     "name": (form.name.data or "").strip() or None,
                                                     "phone": form.phone.data or None})
        except records.UuidTaken:
            abort(400)
        return redirect(url_for("notices.receipt", village=village, uuid=row["uuid"]))
    return render_template("notices/objection_form.html", notice=notice, form=form, public_page=True)


@bp.route("/v/<village>/objections/<uuid>/receipt")
@access("public", scope="village")
def receipt(village, uuid):
    """The filer's own page: its address is unguessable, so the answer reaches them without an account."""
    row = next(g.db["objections"].rows_where("uuid = ? and village_code = ?", [uuid, village]), None)
    if row is None:
        abort(404)
    notice = g.db["notices"].get(row["notice_uuid"])
    response = make_response(render_template("notices/receipt.html", objection=row, notice=notice, public_page=True))
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


RECEIPT_NO = re.compile(r"^[0-9A-F]{8}$")
LOOKUP_ACCOUNT = "回执查询"   # the key its wrong numbers are counted under in login_failures (the address is "receipt:<ip>")
LOOKUP_MAX_MISSES = 20       # wrong numbers one address may type within LOGIN_WINDOW_MINUTES, in all villages together


@bp.route("/v/<village>/receipt")
@access("public", scope="village")
def find_receipt(village):
    """A villager who lost the receipt page types its 回执号 (the 8 characters shown on it) on the public page. Only this
    village's objections are looked in; wrong numbers are counted per address so nobody can try number after number."""
    typed = re.sub(r"[\s\-－]", "", request.args.get("no", "")).upper()[:40]
    if not typed:
        return redirect(url_for("notices.village_page", village=village) + "#receipt")
    if not RECEIPT_NO.match(typed):
        return _receipt_answer(typed, "回执号是 8 位，由数字 0–9 和字母 A–F 组成，如 3F2A9C1B。请对照回执核对后再输一次。", 400)
    directory, where = store.directory(), "receipt:" + (request.remote_addr or "unknown")
    since = (now() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])).isoformat(timespec="seconds")
    misses = directory.execute("select count(*) from login_failures where username = ? and ip = ? and at >= ?",
                               [LOOKUP_ACCOUNT, where, since]).fetchone()[0]
    if misses >= LOOKUP_MAX_MISSES:
        minutes = current_app.config["LOGIN_WINDOW_MINUTES"]
        return _receipt_answer(typed, f"输错的回执号太多了，请 {minutes} 分钟后再查；或者直接问村委会。", 429,
                               {"Retry-After": str(minutes * 60)})
    rows = list(g.db.query("select uuid from objections where village_code = ? and uuid like ? limit 2",
                           [village, typed.lower() + "%"]))
    if len(rows) != 1:
        throttle.record_failure(directory, LOOKUP_ACCOUNT, where)
        return _receipt_answer(typed, f"没有找到回执号 {typed} 的异议。请核对回执号（在{g.village['name']}提的异议才能在这里查），"
                                      "或者直接问村委会。", 404)
    return redirect(url_for("notices.receipt", village=village, uuid=rows[0]["uuid"]))


def _receipt_answer(typed, text, status, headers=None):
    response = make_response(render_template("notices/receipt_lookup.html", typed=typed, problem=text, public_page=True),
                             status)
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# ---- cadres: publish and manage ----------------------------------------------------

@bp.route("/v/<village>/notices/")
@access("cadre", "adviser", "town", "county", scope="village")
def manage(village):
    page = page_arg()
    rows = list(g.db["notices"].rows_where("village_code = ?", [village], order_by="publish_date desc, created_at desc",
                                           limit=PAGE + 1, offset=(page - 1) * PAGE))
    if page > 1 and not rows:
        abort(404)
    return render_template("notices/manage.html", notices=rows[:PAGE], more=len(rows) > PAGE, page=page)


PAGE = 30  # notices per page of the cadres' list (newest first)


@bp.route("/v/<village>/notices/new", methods=["GET", "POST"])
@access("cadre", scope="village")
def new(village):
    form = NoticeForm()
    if form.validate_on_submit():
        files = _uploaded_files(form)
        if not form.files.errors:
            try:
                row, created = data.create_notice(g.db, village, {**form.fields(), "uuid": form.uuid.data or None},
                                                  files, current_user.username)
            except records.UuidTaken:
                abort(400)
            flash("已发布，村民现在可以在公开页看到" if created else "这条已经发布过了，没有重复发布")
            return redirect(url_for("notices.manage_show", village=village, uuid=row["uuid"]))
    elif request.method == "POST":
        _uploaded_files(form)
    return render_template("notices/form.html", form=form, notice=None,
                           reselect=request.method == "POST" and any(f.filename for f in request.files.getlist("files"))), \
        422 if request.method == "POST" else 200  # refused: say so to the browser too


@bp.route("/v/<village>/notices/<uuid>/manage")
@access("cadre", "adviser", "town", "county", scope="village")
def manage_show(village, uuid):
    notice = _notice(uuid)
    objections = list(g.db["objections"].rows_where("notice_uuid = ?", [uuid], order_by="created_at"))
    return render_template("notices/manage_show.html", notice=notice, files=attachments.listing(g.db, uuid),
                           objections=objections, public=data.is_public(notice))


@bp.route("/v/<village>/notices/<uuid>/edit", methods=["GET", "POST"])
@access("cadre", scope="village")
def edit(village, uuid):
    notice = _notice(uuid)
    if notice["status"] == "withdrawn":
        flash("已撤回的公开不能再修改")
        return redirect(url_for("notices.manage_show", village=village, uuid=uuid))
    form = NoticeForm(data={**notice, "publish_date": parse_date(notice["publish_date"]),
                            "end_date": parse_date(notice["end_date"])})
    if form.validate_on_submit():
        files = _uploaded_files(form)
        if not form.files.errors:
            data.update_notice(g.db, uuid, form.fields(), files, current_user.username)
            flash("已保存修改")
            return redirect(url_for("notices.manage_show", village=village, uuid=uuid))
    elif request.method == "POST":
        _uploaded_files(form)
    return render_template("notices/form.html", form=form, notice=notice,
                           reselect=request.method == "POST" and any(f.filename for f in request.files.getlist("files"))), \
        422 if request.method == "POST" else 200


@bp.route("/v/<village>/notices/<uuid>/withdraw", methods=["POST"])
@access("cadre", scope="village")
def withdraw(village, uuid):
    notice = _notice(uuid)
    if notice["status"] == "published":  # CSRFProtect has checked the token of every POST
        withdrawn = data.withdraw_notice(g.db, uuid, current_user.username)
        flash("已撤回，公开页上不再显示" if withdrawn else "这条已经被别人撤回了")
    elif notice["status"] == "withdrawn":
        flash("这条已经撤回了")
    return redirect(url_for("notices.manage_show", village=village, uuid=uuid))


# ---- objections ---------------------------------------------------------------------

@bp.route("/v/<village>/objections/")
@access("cadre", "town", "county", scope="village")
def objections(village):
    rows = list(g.db.query("select o.*, n.title as notice_title from objections o join notices n on n.uuid = o.notice_uuid "
                           "where o.village_code = ? order by o.status = 'answered', o.created_at desc", [village]))
    return render_template("notices/objections.html", objections=rows)


@bp.route("/v/<village>/objections/<uuid>", methods=["GET", "POST"])
@access("cadre", "town", "county", scope="village")
def objection(village, uuid):
    row = next(g.db["objections"].rows_where("uuid = ? and village_code = ?", [uuid, village]), None)
    if row is None:
        abort(404)
    form = AnswerForm(data={"answer": row["answer"]} if request.method == "GET" else None)
    if request.method == "POST":
        if current_user.role != "cadre":
            abort(403)
        if form.validate_on_submit():
            data.answer_objection(g.db, uuid, form.answer.data.strip(), current_user.username)
            flash("答复已保存，提异议的村民用回执链接可以看到")
            return redirect(url_for("notices.objections", village=village))
    notice = g.db["notices"].get(row["notice_uuid"])
    return render_template("notices/objection.html", objection=row, notice=notice, form=form,
                           can_answer=current_user.role == "cadre")


# ---- the QR poster ------------------------------------------------------------------

@bp.route("/v/<village>/poster")
@access("cadre", "town", "county", scope="village")
def poster(village):
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") or request.host_url.rstrip("/")
    url = base + url_for("notices.village_page", village=village)
    svg = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=20, border=2).to_string(encoding="unicode")
    return render_template("notices/poster.html", url=url, qr_svg=svg,
                           public_base_set=bool(current_app.config["PUBLIC_BASE_URL"].strip()))
