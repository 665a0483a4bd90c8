"""The town's view of meetings: every meeting of its villages, filtered by village, council and dates (with a CSV
for Excel and WPS, from the exports), and the quarter table of which councils have met and which have not."""
from flask import abort, g, render_template, request

from ..access import access
from ..councils import data as councils
from ..exports.views import parsed
from ..periods import choices as periods
from ..routing import page_arg
from . import LIST, bp, data


def _villages():
    return {v["code"]: v["name"] for v in g.db.query("select code, name from villages order by code")}


PAGE = 100  # rows per page of the town's table (newest first); the exports carry every row


@bp.route("/t/<town>/meetings/")
@access("town", "county", scope="town")
def town(town):
    """Every meeting of the town's villages, filtered the way its exports are (exports.filters): the same words in
    the address give the same rows on the screen, in the CSV and in the Excel file."""
    villages = _villages()
    filters, description, given = parsed(LIST, villages)
    page = page_arg()
    rows, more = data.paged(g.db, page, PAGE, filters["village_code"], filters["council"], filters["start"],
                            filters["end"], filters["state"])
    if page > 1 and not rows:
        abort(404)
    return render_template("meetings/town.html", listing=LIST, meetings=rows, more=more, page=page, size=PAGE, filters=given,
                           description=description, villages=villages, names=councils.COUNCIL_NAMES,
                           states=data.STATES, periods=periods())


@bp.route("/t/<town>/meetings/quarter")
@access("town", "county", scope="town")
def town_quarter(town):
    start, end, label, key = data.quarter_of(request.args.get("q"))
    rows = data.quarter_table(g.db, start, end)
    return render_template("meetings/quarter.html", rows=rows, names=councils.COUNCIL_NAMES, label=label, key=key,
                           start=start, end=end, previous=data.shift_quarter(key, -1), following=data.shift_quarter(key, 1),
                           four=councils.FOUR_COUNCILS)
