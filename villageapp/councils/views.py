"""Council views: the village's councils, one roster with its history, adding a member and ending a term.
Only the village's cadres change a roster; the adviser, the town and the county read it."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from .. import records
from ..access import access
from ..clock import today
from . import COUNCIL, bp, data
from .forms import EndForm, MemberForm
from ..records import in_village_or_404

READERS = COUNCIL.readers  # who reads, from the manifest (kinds.Kind); the village's cadres write


@bp.route("/v/<village>/councils/")
@access(*READERS, scope="village")
def index(village):
    rows = data.ensure_councils(g.db, village, current_user.username)
    counts = {r["council_uuid"]: r for r in g.db.query(
        "select council_uuid, count(*) as n, max(starts_at) as last from meetings where village_code = ? "
        "group by council_uuid", [village])}
    members = {r["council_uuid"]: r["n"] for r in g.db.query(
        "select council_uuid, count(*) as n from council_members where village_code = ? and (until is null or until > ?) "
        "and (since is null or since <= ?) group by council_uuid", [village, today().isoformat(), today().isoformat()])}
    return render_template("councils/index.html", councils=rows, counts=counts, members=members)


@bp.route("/v/<village>/councils/<uuid>")
@access(*READERS, scope="village")
def show(village, uuid):
    council = in_village_or_404("councils", uuid)
    roster = data.members(g.db, uuid)
    current = [m for m in roster if data.serves_on(m, today())]
    past = [m for m in roster if m not in current]
    meetings = list(g.db["meetings"].rows_where("council_uuid = ?", [uuid], order_by="starts_at desc", limit=10))
    return render_template("councils/show.html", council=council, current=current, past=past, meetings=meetings)


@bp.route("/v/<village>/councils/<uuid>/members/new", methods=["GET", "POST"])
@access("cadre", scope="village")
def new_member(village, uuid):
    council = in_village_or_404("councils", uuid)
    form = MemberForm()
    form.set_residents(data.village_residents(g.db, village))
    if form.validate_on_submit():
        if form.resident.data and data.is_current_member(g.db, uuid, form.resident.data):
            form.resident.errors.append("这位村民已经是本会成员了")
        else:
            try:
                row, created = data.add_member(g.db, council, current_user.username, (form.name.data or "").strip(),
                                               form.position.data.strip(), resident_uuid=form.resident.data or None,
                                               since=form.since.data, note=(form.note.data or "").strip(),
                                               uuid=form.uuid.data or None)
            except (records.UuidTaken, ValueError):
                abort(400)
            flash(f"已添加：{row['name']}（{row['position']}）" if created else "这位成员已经添加过了，没有重复添加")
            return redirect(url_for("councils.show", village=village, uuid=uuid))
    return render_template("councils/member_form.html", council=council, form=form,
                           positions=data.positions_for(council))


@bp.route("/v/<village>/councils/<uuid>/members/<member>/end", methods=["GET", "POST"])
@access("cadre", scope="village")
def end_member(village, uuid, member):
    council = in_village_or_404("councils", uuid)
    row = data.member(g.db, uuid, member)
    if row is None:
        abort(404)
    if row["until"]:
        flash(f"{row['name']}已经在 {row['until']} 离任了")
        return redirect(url_for("councils.show", village=village, uuid=uuid))
    form = EndForm(data={"until": today()} if request.method == "GET" else None)
    if form.validate_on_submit():
        if row["since"] and form.until.data.isoformat() < row["since"]:
            form.until.errors.append("离任日期不能早于任职日期")
        else:
            ended = data.end_member(g.db, row, form.until.data, current_user.username, (form.note.data or "").strip())
            flash(f"{row['name']}已离任。以前的会议记录里仍然有他（她）的名字。" if ended
                  else f"{row['name']}的离任已经有人登记过了")
            return redirect(url_for("councils.show", village=village, uuid=uuid))
    return render_template("councils/end_form.html", council=council, member=row, form=form)
