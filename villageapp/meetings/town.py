"""The town's view of meetings: every meeting of its villages, filtered by village, council and dates (with a CSV
for Excel), and the quarter table of which councils have met and which have not."""
from flask import g, render_template, request

from ..access import access
from ..councils import data as councils
from ..exports import csv_response
from ..routing import date_arg
from . import bp, data


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
    rows = ([r["village_name"], r["council_name"], r["starts_at"].replace("T", " "), r["place"] or "", r["present"] or 0,
             "；".join(r["titles"]), r["state_label"], f"第 {r['edition']} 版" if r["edition"] else ""]
            for r in data.listing(g.db, **query, limit=100000))
    return csv_response(["村（社区）", "会", "开会时间", "地点", "实到人数", "议题", "状态", "版本"], rows, f"meetings-{town}.csv")


@bp.route("/t/<town>/meetings/quarter")
@access("town", "county", scope="town")
def town_quarter(town):
    start, end, label, key = data.quarter_of(request.args.get("q"))
    rows = data.quarter_table(g.db, start, end)
    return render_template("meetings/quarter.html", rows=rows, names=councils.COUNCIL_NAMES, label=label, key=key,
                           start=start, end=end, previous=data.shift_quarter(key, -1), following=data.shift_quarter(key, 1),
                           four=councils.FOUR_COUNCILS)
