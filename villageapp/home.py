"""The first page each person sees: the public village directory, the cadre's village home and the legal adviser's
villages. Town staff go to their town desk and the county admin sees every town (both in villageapp/desk/)."""
from flask import Blueprint, g, make_response, redirect, render_template, url_for
from flask_login import current_user

from . import kinds, store
from .access import access
from .conflicts import open_revisions
from .rules.town import versions_for

bp = Blueprint("home", __name__)
FEATURE = kinds.Feature("home", bp)


def town_names():
    return {t["code"]: t["name"] for t in store.directory()["towns"].rows_where(order_by="code")}


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
        from .desk.views import county
        return county()
    if current_user.role == "town":
        return redirect(url_for("desk.town", town=current_user.town_code))
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
