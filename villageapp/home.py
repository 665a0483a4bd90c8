"""The first page each person sees: the public village directory, the cadre's village home,
the legal adviser's villages, the town desk and the county overview."""
from flask import Blueprint, g, make_response, redirect, render_template, url_for
from flask_login import current_user

from . import kinds, store
from .access import access
from .clock import today
from .conflicts import open_revisions
from .rules.town import versions_for

bp = Blueprint("home", __name__)
FEATURE = kinds.Feature("home", bp)


def town_names():
    return {t["code"]: t["name"] for t in store.directory()["towns"].rows_where(order_by="code")}


def figures():
    """The town desk's columns: what each kind of record counts per village (see kinds.Figure)."""
    return [figure for _kind, figs in kinds.registry().collect("figures") for figure in figs]


def village_figures(db):
    """One row per village of a town with the figures the desk and county pages show."""
    columns = "".join(f",\n  {figure.sql} as {figure.key}" for figure in figures())
    return list(db.query(f"select v.code, v.name, v.kind, v.model{columns} from villages v order by v.code",
                         {"day": today().isoformat()}))


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
        waiting += versions_for(store.town_db(town_code), current_user.role,
                                     [v["code"] for v in villages if v["code"].startswith(town_code)])
    return render_template("home/villages.html", villages=villages, waiting=waiting)


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
    """The village's tiles and 需要我处理, as each kind of record fills them for this person's role."""
    registry, role = kinds.registry(), current_user.role
    return render_template("home/village.html", tiles=registry.gather("tiles", g.db, village, role),
                           tasks=registry.gather("tasks", g.db, village, role), conflicts=len(open_revisions(g.db, village)))


@bp.route("/t/<town>/")
@access("town", "county", scope="town")
def town(town):
    accounts = {r["village_code"]: r["n"] for r in store.directory().query(
        "select uv.village_code, count(*) as n from user_villages uv join users u on u.id = uv.user_id "
        "where u.active = 1 and u.role = 'cadre' and u.town_code = ? group by uv.village_code", [town])}
    return render_template("home/town.html", villages=village_figures(g.db), accounts=accounts, figures=figures(),
                           waiting=versions_for(g.db, current_user.role) if current_user.role == "town" else [])
