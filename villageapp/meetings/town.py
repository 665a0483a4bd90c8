"""The town's view of meetings: every meeting of its villages, filtered by village, council and dates (with a CSV
for Excel), and the quarter table of which councils have met and which have not."""
from flask import g, render_template, request

from ..access import access
from ..councils import data as councils
from ..exports import kind_csv
from ..routing import date_arg
from . import MEETING, bp, data


def _filters():
    f = {k: request.args.get(k, "").strip() for k in ("village", "council", "start", "end", "state")}
    villages = {v["code"]: v["name"] for v in g.db["villages"].rows_where(order_by="code")}
    query = {"village_code": f["village"] if f["village"] in villages else None,
             "council_name": f["council"] if f["council"] in councils.COUNCIL_NAMES else None,
             "start": date_arg("start"), "end": date_arg("end"),
             "state": f["state"] if f["state"] in data.STATES else None}
    return f, query, villages


@bp.route("/t/<town>/meetings/")
@access("town", "county", scope="town")
def town(town):
    f, query, villages = _filters()
    rows = data.listing(g.db, **query, limit=501)
    return render_template("meetings/town.html", meetings=rows[:500], more=len(rows) > 500, filters=f,
                           villages=villages, names=councils.COUNCIL_NAMES, states=data.STATES)


@bp.route("/t/<town>/meetings/export.csv")
@access("town", "county", scope="town")
def town_export(town):
    _f, query, _villages = _filters()
    return kind_csv(MEETING, data.listing(g.db, **query, limit=100000), f"meetings-{town}.csv")


@bp.route("/t/<town>/meetings/quarter")
@access("town", "county", scope="town")
def town_quarter(town):
    start, end, label, key = data.quarter_of(request.args.get("q"))
    rows = data.quarter_table(g.db, start, end)
    return render_template("meetings/quarter.html", rows=rows, names=councils.COUNCIL_NAMES, label=label, key=key,
                           start=start, end=end, previous=data.shift_quarter(key, -1), following=data.shift_quarter(key, 1),
                           four=councils.FOUR_COUNCILS)
