"""The desk's pages: a town's desk (town staff act; the county admin reads) and the county's rows of towns."""
from flask import g, jsonify, render_template, request
from flask_login import current_user

from .. import kinds, shards, store
from ..access import access
from . import bp, charts
from .figures import BadPeriod, averages, choices, figure_groups, one_decimal, period_of, town_totals, village_rows


def _period():
    """The chosen period, or a 400 page that says how to write one."""
    try:
        return period_of(request.args.get("period")), None
    except BadPeriod as error:
        return None, (render_template("error.html", code=400, title="期间写法不对", text=str(error)), 400)


def _page_args(period):
    return {"period": period, "choices": choices(period), "previous": period.shifted(-1), "following": period.shifted(1),
            "one_decimal": one_decimal}


@bp.route("/t/<town>/")
@access("town", "county", scope="town")
def town(town):
    period, refused = _period()
    if refused:
        return refused
    groups = figure_groups()
    rows = village_rows(g.db, period, groups)
    accounts = {r["village_code"]: r["n"] for r in store.directory().query(
        "select uv.village_code, count(*) as n from user_villages uv join users u on u.id = uv.user_id "
        "where u.active = 1 and u.role = 'cadre' and u.town_code = ? group by uv.village_code", [town])}
    meetings = meetings_per_month(g.db, period)
    cases = cases_per_category(g.db, period)
    month_words = [f"{m}月" for _y, m in period.months]
    return render_template(
        "desk/town.html", groups=groups, rows=rows, accounts=accounts, town_average=averages(rows, groups),
        model_average=averages([r for r in rows if r["model"]], groups), has_models=any(r["model"] for r in rows),
        tasks=kinds.registry().gather("town_tasks", g.db, current_user.role), reads_only=current_user.role != "town",
        months=month_words, meetings=meetings, cases=cases,
        meetings_chart=charts.grouped(f"{period.label}各村每月开会次数", month_words,
                                      [(r["name"], r["months"]) for r in meetings]),
        cases_chart=charts.bars(f"{period.label}道德评议各类新案件数", [(c["label"], c["n"]) for c in cases]),
        **_page_args(period))


def meetings_per_month(db, period):
    """Confirmed meetings per village and month of the period (one query): [{code, name, months: [n, …]}]."""
    months = [f"{y}-{m:02d}" for y, m in period.months]
    counts = {(r["village_code"], r["month"]): r["n"] for r in db.query(
        """select village_code, substr(starts_at, 1, 7) as month, count(*) as n from meetings
           where state != 'draft' and starts_at >= :start and starts_at < :end group by village_code, month""",
        period.params)}
    return [{"code": v["code"], "name": v["name"], "months": [counts.get((v["code"], m), 0) for m in months]}
            for v in db.query("select code, name from villages order by code")]


def cases_per_category(db, period):
    """道德评议 cases opened in the period per kind and category (one query), most first."""
    from ..reviews import OPENED
    from ..reviews.data import KINDS
    rows = db.query(f"""select x.kind, x.category, count(*) as n from review_cases x
        where x.created_at >= :start and {OPENED} >= :start and {OPENED} < :end group by x.kind, x.category order by n desc, x.kind, x.category""",
                    period.params)
    return [{"label": f"{KINDS.get(r['kind'], r['kind'])}·{r['category']}", "n": r["n"]} for r in rows]


def town_row(db, period, groups):
    """A town's row of the county overview: how many villages (and 示范村), and each figure's total."""
    rows = village_rows(db, period, groups)
    return {"villages": len(rows), "models": sum(1 for r in rows if r["model"]), **town_totals(rows, groups)}


@bp.route("/t/<town>/figures.json")
@access("town", "county", scope="town")
def figures_json(town):
    """The town's row of the county overview, for the county page of a server that does not hold this town."""
    period, refused = _period()
    if refused:
        return refused
    return jsonify({"town": town, "period": period.key, **town_row(g.db, period, figure_groups())})


def county():
    """The county admin's home: one row per town with its sums for the period, each read from the town's own file."""
    from ..home import town_names
    period, refused = _period()
    if refused:
        return refused
    groups = figure_groups()
    towns = []
    for code, name in town_names().items():
        if not shards.serves(code):  # a town another server holds: its row from that server (docs/scaling.md)
            remote = shards.fetch_figures(code, period.key, request.headers.get("Cookie"))
            towns.append({"code": code, "name": name, "missing": False, **remote} if remote else
                         {"code": code, "name": name, "missing": False, "unreachable": True})
            continue
        try:
            db = store.town_db(code)
        except FileNotFoundError:
            towns.append({"code": code, "name": name, "missing": True})
            continue
        towns.append({"code": code, "name": name, "missing": False, **town_row(db, period, groups)})
    summed = [(label, [f for f in figures if f.total]) for label, figures in groups]  # a status in words is not summed
    return render_template("desk/county.html", groups=[(label, figures) for label, figures in summed if figures],
                           towns=towns, **_page_args(period))


@bp.route("/t/<town>/figures.<any(csv, xlsx):fmt>")
@access("town", "county", scope="town")
def figures_file(town, fmt):
    """The desk's table of villages for the period chosen on it, as the county's report wants it: one column per figure
    (headed 组·数), the 示范村 marked, the two average rows beneath. Small (a row per village): made during the request."""
    from ..exports.formats import csv_chunks, xlsx_chunks
    from ..exports.responses import download
    period, refused = _period()
    if refused:
        return refused
    groups = figure_groups()
    rows = village_rows(g.db, period, groups)
    figures = [f for _label, figs in groups for f in figs]
    header = ["村（社区）", "示范村"] + [f"{label}·{f.label}" for label, figs in groups for f in figs]
    types = ["text", "text"] + ["datetime" if f.shown == "datetime" else "text" if f.shown == "text" else "int"
                                for f in figures]
    table = [[r["name"], "是" if r["model"] else ""] + [r[f.key] for f in figures] for r in rows]
    for name, chosen in (("全镇平均", rows), ("示范村平均", [r for r in rows if r["model"]])):
        if chosen:
            average = averages(chosen, groups)
            table.append([name, ""] + [None if average.get(f.key) is None else round(average[f.key], 1) for f in figures])
    title = f"{g.town['name']}各村情况-{period.label}"
    chunks = (csv_chunks(header, table) if fmt == "csv" else
              xlsx_chunks(header, table, types, sheet=period.label))
    return download(chunks, f"{title}.{fmt}", fmt)
