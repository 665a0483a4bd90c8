"""Meeting views for a village: the list, new minutes and editing a draft (saved THROUGH sync.apply_edit, so a
plain POST and a phone's offline edit follow the same rules), showing, confirming, amending, the A4 print view,
earlier editions, and the village's photos. Cadres of the village write; the adviser, town and county read."""
import json

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from .. import attachments, records, store, sync
from ..access import access
from ..councils import data as councils
from ..records import in_village_or_404
from ..routing import page_arg
from . import MEETING, bp, data
from .forms import AmendForm, formdata, make_meeting_form, meeting_columns, meeting_payload, unfolded
from .paper import amend_paper

READERS = MEETING.readers  # who reads, from the manifest (kinds.Kind); the village's cadres write
LOCKED = "这份会议记录已经确认，不能直接修改。如果记错了，请点“更正”，写明更正的原因；原来的版本会保留。"
CONFLICT = ("您保存之前，别人已经改过这份会议记录。您的这份和他的那份都保存在服务器上了，没有丢；"
            "请村里商量后在“需处理”里选定一份。")


def _council_name(row):
    return g.db["councils"].get(row["council_uuid"])["name"]


def _names(*usernames):
    """Who confirmed or corrected: the person's name, not their login."""
    wanted = [u for u in set(usernames) if u]
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    return {r["username"]: r["name"] for r in store.directory().query(
        f"select username, name from users where username in ({marks})", wanted)}


@bp.route("/v/<village>/meetings/")
@access(*READERS, scope="village")
def index(village):
    rows = councils.ensure_councils(g.db, village, current_user.username)
    council = request.args.get("council", "")
    names = [c["name"] for c in rows]
    council = council if council in names else ""
    page = page_arg()
    meetings, more = data.paged(g.db, page, PAGE, village, council or None)
    if page > 1 and not meetings:
        abort(404)
    return render_template("meetings/index.html", meetings=meetings, names=names, council=council, page=page, more=more,
                           actions=data.open_actions(g.db, village))


PAGE = 30  # minutes per page of a village's list (newest first)


@bp.route("/v/<village>/meetings/new")
@access("cadre", scope="village")
def new(village):
    """One task per screen: first say which council met."""
    rows = councils.ensure_councils(g.db, village, current_user.username)
    return _offline_copy(render_template("meetings/choose.html", councils=rows))


@bp.route("/v/<village>/meetings/new/<council>", methods=["GET", "POST"])
@access("cadre", scope="village")
def new_for(village, council):
    """New minutes of one council. The council is in the path, not the query, because the service worker keeps
    form pages by path: each council's page (with its roster) is its own offline copy."""
    row = councils.council(g.db, village, council)
    if row is None:
        abort(404)
    if request.method == "POST":
        return _save(village, None)
    form = make_meeting_form(g.db, village, formdata(data.new_payload(g.db, village, row)))
    return _offline_copy(_page(form, None))


def _offline_copy(response):
    """A blank form page: the phone may keep it to open with no signal (it holds no record, only the roster)."""
    response = make_response(response)
    response.headers["X-Offline-Copy"] = "form"
    return response


@bp.route("/v/<village>/meetings/<uuid>/edit", methods=["GET", "POST"])
@access("cadre", scope="village")
def edit(village, uuid):
    row = in_village_or_404("meetings", uuid)
    if row["state"] != "draft":
        flash(LOCKED)
        return redirect(url_for("meetings.show", village=village, uuid=uuid))
    if request.method == "POST":
        return _save(village, row)
    form = make_meeting_form(g.db, village, formdata(meeting_payload(row)), record=row)
    return _page(form, row)


def _page(form, record, edit_id="", uuid="", notice=None, status=200):
    """The minutes form. uuid and edit_id stay empty on a page the service worker may keep (the phone fills them);
    a page answering a POST carries the ones the server used, so sending it again is the same record."""
    return render_template("meetings/form.html", form=form, record=record, edit_id=edit_id, notice=notice,
                           uuid=record["uuid"] if record else uuid,
                           base_version=record["version"] if record else "",
                           council_name=form.council_row["name"] if form.council_row else "", unfolded=unfolded), status


def _save(village, record):
    more = request.form.get("more")
    form = make_meeting_form(g.db, village, request.form, record=record)
    if more:  # "再加一行" without JS: the same page with one more empty row, nothing saved yet
        _add_row(form, more)
        return _page(form, record, edit_id=request.form.get("edit_id", ""), uuid=request.form.get("uuid", ""))
    edit, problems = sync.photo_edit("meeting", record, [p for p in sync.form_payload(request.form) if p[0] != "more"])
    uuid, payload = edit["uuid"], edit["payload"]
    if problems:  # a bad photo: show why, keep everything typed and the photos that did arrive
        form = sync.refill("meeting", record, payload)
        form.photo_files.errors = list(form.photo_files.errors) + problems
        return _page(form, record, edit_id=edit["edit_id"], uuid=uuid, status=422)
    if record is None and sync.already_saved("meeting", edit):
        flash("这份会议记录已经保存过了，没有重复保存")  # the new-minutes page sent twice (no JS to stop a double tap)
        return redirect(url_for("meetings.show", village=village, uuid=uuid))
    result = sync.save_form(edit)
    status = result["status"]
    if status == "invalid":
        return _page(sync.refill("meeting", record, payload), record, edit_id=records.new_uuid(), uuid=uuid, status=422)
    flash({"accepted": f"已保存（回执 {result['receipt']}）。核对无误后请点“确认无误”。",
           "conflict": CONFLICT,
           "needs_review": "这份记录刚被确认了，您的修改作为更正建议保存了，请村里看后决定是否更正。"}[status])
    return redirect(url_for("meetings.show", village=village, uuid=uuid))


def _add_row(form, what):
    if what == "agenda":
        form.agenda.append_entry()
    elif what == "absentees":
        form.absentees.append_entry()
    else:  # agenda-<i>-actions: the same names as the rows' data-entry, so forms.js can do it on the phone
        parts = what.split("-")
        if len(parts) == 3 and parts[0] == "agenda" and parts[1].isascii() and parts[1].isdigit() and parts[2] == "actions" \
                and int(parts[1]) < len(form.agenda):
            form.agenda[int(parts[1])].form.actions.append_entry()


@bp.route("/v/<village>/meetings/<uuid>")
@access(*READERS, scope="village")
def show(village, uuid):
    row = in_village_or_404("meetings", uuid)
    m = data.view(row, _council_name(row))
    editions = data.editions(g.db, uuid)
    return render_template("meetings/show.html", m=m, editions=editions, arrived=data.arrived(g.db, village, m["photos"]),
                           earlier=None, names=_names(row["confirmed_by"], *(e["confirmed_by"] for e in editions)),
                           proposals=data.proposals(g.db, uuid))


@bp.route("/v/<village>/meetings/<uuid>/editions/<int:number>")
@access(*READERS, scope="village")
def edition(village, uuid, number):
    row = in_village_or_404("meetings", uuid)
    m = data.edition(g.db, uuid, number)
    if m is None:
        abort(404)
    editions = data.editions(g.db, uuid)
    return render_template("meetings/show.html", m=m, editions=editions, arrived=data.arrived(g.db, village, m["photos"]),
                           earlier=row, names=_names(*(e["confirmed_by"] for e in editions)), proposals=[])


@bp.route("/v/<village>/meetings/<uuid>/print")
@access(*READERS, scope="village")
def print_view(village, uuid):
    row = in_village_or_404("meetings", uuid)
    return render_template("meetings/print.html", m=data.view(row, _council_name(row)))


@bp.route("/v/<village>/meetings/<uuid>/confirm", methods=["POST"])
@access("cadre", scope="village")
def confirm(village, uuid):
    row = in_village_or_404("meetings", uuid)  # CSRFProtect has checked the token of every POST
    _row, problem = data.confirm(g.db, row, current_user.username)
    flash(problem or "已确认（第 1 版）。记录已锁定，以后如有错误只能“更正”。")
    return redirect(url_for("meetings.show", village=village, uuid=uuid))


@bp.route("/v/<village>/meetings/<uuid>/actions/<int:item>/<int:action>/done", methods=["POST"])
@access("cadre", scope="village")
def action_done(village, uuid, item, action):
    row = in_village_or_404("meetings", uuid)
    if row["state"] == "draft":
        flash("草稿里的办理情况，请点“修改”在表里勾“已办好”")
    elif data.mark_done(g.db, row, item, action, current_user.username) is None:
        abort(404)
    else:
        flash("已记下：办好了")
    if request.args.get("back") == "list":  # ticked off from the list of open actions: stay on that list
        return redirect(url_for("meetings.index", village=village))
    return redirect(url_for("meetings.show", village=village, uuid=uuid))


@bp.route("/v/<village>/meetings/<uuid>/amend", methods=["GET", "POST"])
@access("cadre", scope="village")
def amend(village, uuid):
    row = in_village_or_404("meetings", uuid)
    if row["state"] == "draft":
        flash("这份记录还是草稿，直接修改就可以")
        return redirect(url_for("meetings.edit", village=village, uuid=uuid))
    # ?revision=<id>: start from what a phone sent after the lock (a proposed correction kept by the sync engine)
    wanted = request.values.get("revision", "")
    if row["paper"] and not wanted:  # a 补录 is corrected on its own short form (a phone's proposal: the full form below)
        return amend_paper(village, row)
    revision = data.proposal(g.db, uuid, wanted) if wanted else None
    if wanted and revision is None:
        flash("这份修改建议已经处理过了")
        return redirect(url_for("meetings.show", village=village, uuid=uuid))
    if request.method == "POST":
        source = request.form
    else:
        source = formdata(json.loads(revision["payload"]) if revision else meeting_payload(row))
    form = make_meeting_form(g.db, village, source, record=row, form_class=AmendForm)
    if request.method == "POST" and request.form.get("more"):
        _add_row(form, request.form["more"])
    elif request.method == "POST" and form.validate():
        if str(row["version"]) != request.form.get("base_version"):
            flash("您打开这页之后，别人已经更正过这份记录。请看一下最新的内容再更正。")
            return redirect(url_for("meetings.show", village=village, uuid=uuid))
        new_row, problem = data.amend(g.db, row, meeting_columns(form), form.reason.data.strip(), current_user.username)
        if problem is None:
            if revision:
                data.adopt_proposal(g.db, new_row, revision, current_user.username)
            flash(f"已更正，现在是第 {new_row['edition']} 版。第 {row['edition']} 版仍可查看。")
            return redirect(url_for("meetings.show", village=village, uuid=uuid))
        form.reason.errors = list(form.reason.errors) + [problem]
    return render_template("meetings/form.html", form=form, record=row, edit_id="", uuid=uuid, notice=None, amend=True, unfolded=unfolded,
                           revision=revision,
                           base_version=row["version"], council_name=form.council_row["name"] if form.council_row else "")


@bp.route("/v/<village>/files/<sha256>")
@access(*READERS, scope="village")
def file(village, sha256):
    # private, as minutes may show people
    return attachments.serve(data.village_file(g.db, village, sha256.lower()), name=sha256[:12])


