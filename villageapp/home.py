"""The first page each person sees: the public village directory, the cadre's village home,
the legal adviser's villages, the town desk and the county overview."""
from flask import Blueprint, g, make_response, redirect, render_template, url_for
from flask_login import current_user

from . import store
from .access import access
from .clock import today
from .conflicts import open_revisions
from .rules.procedure import LABELS as RULE_STEPS
from .rules.procedure import OWNERS as RULE_OWNERS

bp = Blueprint("home", __name__)


def town_names():
    return {t["code"]: t["name"] for t in store.directory()["towns"].rows_where(order_by="code")}


def village_figures(db):
    """One row per village of a town with the figures the desk and county pages show."""
    day = today().isoformat()
    return list(db.query("""
        select v.code, v.name, v.kind, v.model,
          (select count(*) from households h where h.village_code = v.code) as households,
          (select count(*) from residents r where r.village_code = v.code) as residents,
          (select count(*) from notices n where n.village_code = v.code and n.status = 'published') as notices,
          (select count(*) from notices n where n.village_code = v.code and n.status = 'published'
             and n.category = '公示' and n.publish_date <= :day and n.end_date >= :day) as notices_open,
          (select count(*) from objections o where o.village_code = v.code and o.status = 'open') as objections_open
        from villages v order by v.code""", {"day": day}))


@bp.route("/")
@access("public")
def index():
    if not current_user.is_authenticated:
        # also the installed app's start page: kept by the service worker so it opens with no signal
        response = make_response(render_template("home/public.html", towns=_public_directory(), public_page=True))
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Offline-Copy"] = "public"
        return response
    if current_user.role == "county":
        towns = []
        for code, name in town_names().items():
            try:
                figures = village_figures(store.town_db(code))
            except FileNotFoundError:
                figures = None
            towns.append({"code": code, "name": name, "villages": figures})
        return render_template("home/county.html", towns=towns)
    if current_user.role == "town":
        return redirect(url_for("home.town", town=current_user.town_code))
    if len(current_user.villages) == 1:
        return redirect(url_for("home.village", village=current_user.villages[0]))
    villages = _my_villages()
    waiting = []
    for town_code in sorted({v["code"][:9] for v in villages}):
        waiting += rule_versions_for(store.town_db(town_code), current_user.role,
                                     [v["code"] for v in villages if v["code"].startswith(town_code)])
    return render_template("home/villages.html", villages=villages, waiting=waiting)


def rule_versions_for(db, role, village_codes=None):
    """村规民约 versions whose next step this role takes (the adviser's review, the town's approval and filing…),
    with the village's name and the step's words, oldest first."""
    stages = [stage for stage, roles in RULE_OWNERS.items() if role in roles]
    if not stages:
        return []
    where, params = [f"rv.stage in ({','.join('?' * len(stages))})"], list(stages)
    if village_codes is not None:
        where.append(f"rv.village_code in ({','.join('?' * len(village_codes))})")
        params += list(village_codes)
    rows = db.query(f"""select rv.uuid, rv.number, rv.stage, rv.village_code, v.name as village_name,
                          coalesce(rv.updated_at, rv.created_at) as since
                        from rule_versions rv join villages v on v.code = rv.village_code
                        where {' and '.join(where)} order by since""", params)
    return [{**r, "step": RULE_STEPS[r["stage"]]} for r in rows]


def _public_directory():
    towns = []
    for code, name in town_names().items():
        try:
            villages = list(store.town_db(code)["villages"].rows_where(order_by="code"))
        except FileNotFoundError:
            continue  # a town whose file was removed simply drops out of the list
        towns.append({"code": code, "name": name, "villages": villages})
    return towns


def _my_villages():
    rows = []
    for code in current_user.villages:
        try:
            db = store.town_db(code[:9])
        except FileNotFoundError:
            continue
        row = next(db["villages"].rows_where("code = ?", [code]), None)
        if row:
            rows.append(row)
    return rows


@bp.route("/v/<village>/home")
@access("cadre", "adviser", "town", "county", scope="village")
def village(village):
    db, day, role = g.db, today().isoformat(), current_user.role
    open_notices = list(db["notices"].rows_where(
        "village_code = ? and status = 'published' and category = '公示' and end_date >= ?",
        [village, day], order_by="end_date"))
    objections = list(db["objections"].rows_where("village_code = ? and status = 'open'", [village],
                                                  order_by="created_at"))
    cadre = role == "cadre"  # only the village's cadres answer objections, confirm minutes and settle conflicts
    counts = db.execute("select (select count(*) from households where village_code = :v),"
                        " (select count(*) from residents where village_code = :v),"
                        " (select count(*) from notices where village_code = :v and status = 'published')",
                        {"v": village}).fetchone()
    conflicts = len(open_revisions(db, village))
    return render_template("home/village.html", open_notices=open_notices, objections=objections, conflicts=conflicts,
                           households=counts[0], residents=counts[1], notices=counts[2],
                           to_do={"objections": objections if cadre else [], "notices": open_notices if cadre else [],
                                  "meetings": cadre, "conflicts": conflicts if cadre else 0,
                                  "rules": rule_versions_for(db, role, [village]),
                                  "opinions": list(db["rule_opinions"].rows_where(
                                      "village_code = ? and status = 'open'", [village], order_by="created_at"))
                                  if cadre else []})


@bp.route("/t/<town>/")
@access("town", "county", scope="town")
def town(town):
    accounts = {r["village_code"]: r["n"] for r in store.directory().query(
        "select uv.village_code, count(*) as n from user_villages uv join users u on u.id = uv.user_id "
        "where u.active = 1 and u.role = 'cadre' and u.town_code = ? group by uv.village_code", [town])}
    return render_template("home/town.html", villages=village_figures(g.db), accounts=accounts,
                           waiting=rule_versions_for(g.db, current_user.role) if current_user.role == "town" else [])
