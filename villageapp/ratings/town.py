"""The town's pages of 星级文明户 / 文明家庭: every village's campaigns and results (those reported first, to approve or
return), and the town's campaign types (criteria as data; a campaign keeps its own copy, so changing a type changes new
campaigns only)."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import access
from . import bp, data
from .step_forms import TypeForm


@bp.route("/t/<town>/ratings/")
@access("town", "county", scope="town")
def town(town):
    rows = [data._campaign(r) for r in g.db.query(
        """select c.*, v.name as village_name,
           (select count(*) from campaign_entries e where e.campaign_uuid = c.uuid) as entry_count,
           (select count(*) from awards a where a.campaign_uuid = c.uuid and a.withdrawn_on is null) as award_count
           from campaigns c join villages v on v.code = c.village_code
           order by c.stage != 'reported', c.year desc, v.code, c.created_at desc""")]
    return render_template("ratings/town.html", campaigns=rows,
                           reported=[c for c in rows if c["stage"] == "reported"],
                           others=[c for c in rows if c["stage"] != "reported"])


@bp.route("/t/<town>/ratings/types")
@access("town", "county", scope="town")
def types(town):
    return render_template("ratings/types.html", kinds=data.types(g.db))


@bp.route("/t/<town>/ratings/types/new", methods=["GET", "POST"])
@access("town", scope="town")
def new_type(town):
    form = TypeForm()
    if request.method == "GET":
        form.cycle_years.data, form.subject.data, form.mode.data = 1, "household", "stars"
        form.publicity_days.data, form.rebar_years.data = 7, 2
    if form.validate_on_submit():
        if _taken(form.name.data.strip(), None):
            form.name.errors = ["已经有同名的类型了，请换一个名称或去修改原来的"]
        else:
            data.save_type(g.db, None, form.fields(), current_user.username)
            flash(f"已添加创评类型：{form.name.data.strip()}")
            return redirect(url_for("ratings.types", town=town))
    return render_template("ratings/type_form.html", form=form, kind=None), 422 if request.method == "POST" else 200


@bp.route("/t/<town>/ratings/types/<uuid>/edit", methods=["GET", "POST"])
@access("town", scope="town")
def edit_type(town, uuid):
    kind = data.type_(g.db, uuid)
    if kind is None:
        abort(404)
    form = TypeForm()
    if request.method == "GET":
        for name in ("name", "cycle_years", "subject", "mode", "threshold", "publicity_days", "rebar_years"):
            form[name].data = kind[name]
        form.active.data = bool(kind["active"])
        form.criteria.data = "\n".join(c["name"] if kind["mode"] == "stars" else f"{c['name']} {c['max']}"
                                       for c in kind["criteria"])
    if form.validate_on_submit():
        if _taken(form.name.data.strip(), uuid):
            form.name.errors = ["已经有同名的类型了，请换一个名称"]
        else:
            data.save_type(g.db, uuid, form.fields(kind["criteria"]), current_user.username)
            flash(f"已保存：{form.name.data.strip()}。已经开始的评选还按原来的标准。")
            return redirect(url_for("ratings.types", town=town))
    used = g.db.execute("select count(*) from campaigns where type_uuid = ?", [uuid]).fetchone()[0]
    return render_template("ratings/type_form.html", form=form, kind=kind, used=used), \
        422 if request.method == "POST" else 200


def _taken(name, uuid):
    return any(t["name"] == name and t["uuid"] != uuid for t in data.types(g.db))
