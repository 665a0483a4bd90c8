"""Registry views: the town's villages, a village's household list and one household."""
from flask import abort, g, render_template, request

from ..access import access
from . import bp


@bp.route("/t/<town>/villages/")
@access("town", "county", scope="town")
def villages(town):
    rows = list(g.db["villages"].rows_where(order_by="code"))
    return render_template("registry/villages.html", villages=rows)


@bp.route("/v/<village>/households/")
@access("cadre", "town", "county", scope="village")
def households(village):
    q = request.args.get("q", "").strip()
    params = {"v": village, "q": f"%{q}%"}
    where = "h.village_code = :v"
    if q:
        where += (" and (h.head_name like :q or h.address like :q or exists (select 1 from residents r"
                  " where r.household_uuid = h.uuid and r.name like :q))")
    rows = list(g.db.query(f"""
        select h.*, gr.name as group_name,
               (select count(*) from residents r where r.household_uuid = h.uuid) as members
        from households h left join groups gr on gr.uuid = h.group_uuid
        where {where} order by gr.name, h.head_name""", params))
    return render_template("registry/households.html", households=rows, q=q)


@bp.route("/v/<village>/households/<uuid>")
@access("cadre", "town", "county", scope="village")
def household(village, uuid):
    row = next(g.db["households"].rows_where("uuid = ? and village_code = ?", [uuid, village]), None)
    if row is None:
        abort(404)
    group = g.db["groups"].get(row["group_uuid"]) if row["group_uuid"] else None
    members = list(g.db["residents"].rows_where("household_uuid = ?", [uuid], order_by="birth_year"))
    return render_template("registry/household.html", household=row, group=group, members=members)
