"""The town's export pages: every list it may read, each with its filters, a count and the first rows, and buttons for
CSV, XLSX and the photos; the town archive. Each download is written to the audit log (who took which personal data)."""
from flask import abort, current_app, g, make_response, render_template, request, url_for
from flask_login import current_user

from .. import kinds, store
from ..access import access
from ..audit import fields
from ..audit import record as audit
from ..periods import choices as periods
from . import bp, files
from .filters import FilterRefused, parse
from .formats import table_rows
from .responses import download, own_store

PREVIEW = 20
FORMATS = {"csv": "CSV", "xlsx": "Excel 表格", "zip": "照片"}


def readable():
    """The lists this person may read, by URL word."""
    return {name: listing for name, listing in kinds.registry().listings().items()
            if current_user.role in listing.readers}


def _listing(name):
    listing = readable().get(name)
    if listing is None:
        abort(404)
    return listing


def _villages():
    return {v["code"]: v["name"] for v in g.db.query("select code, name from villages order by code")}


def parsed(listing, villages):
    """The list's filters from the request; a value it does not offer is answered 400 with the reason."""
    try:
        filters, description, given = parse(listing, request.args, villages)
    except FilterRefused as refused:
        abort(make_response(render_template("error.html", code=400, title=refused.title, text=str(refused)), 400))
    # what this person may not read of other kinds (the audit log then names the deed, not its content)
    filters["closed"] = kinds.registry().closed_tables(current_user.role)
    return filters, description, given


@bp.route("/t/<town>/exports/")
@access("town", "county", scope="town")
def index(town):
    return render_template("exports/index.html", lists=readable().values())


@bp.route("/t/<town>/exports/<name>")
@access("town", "county", scope="town")
def show(town, name):
    listing, villages = _listing(name), _villages()
    filters, description, given = parsed(listing, villages)
    rows, count = [], 0
    for row in table_rows(listing.columns, listing.query(g.db, filters)):
        count += 1
        if count <= PREVIEW:
            rows.append(row)
    return render_template("exports/show.html", listing=listing, villages=villages, given=given, rows=rows, count=count,
                           description=description, periods=periods(), preview=PREVIEW)


@bp.route("/t/<town>/exports/<name>.<any(csv, xlsx, zip):fmt>")
@access("town", "county", scope="town")
def file(town, name, fmt):
    listing, villages = _listing(name), _villages()
    if fmt == "zip" and listing.photos is None:
        abort(404)
    filters, description, _given = parsed(listing, villages)
    who = f"{current_user.name}（{current_user.username}）"
    with store.write(g.db):  # who took which data: written before the first byte leaves, and the lock let go at once
        audit(g.db, current_user.username, "export", "exports", listing.name, filters["village_code"],
              summary=f"导出 {listing.label}（{FORMATS[fmt]}），筛选：{description}")
    stem = f"{g.town['name']}-{listing.label}-{description}".replace("，", "-")
    if fmt == "zip":
        chunks = own_store(town, lambda db: files.photo_chunks(db, listing, filters, villages))
        return download(chunks, f"{stem}-照片.zip", "zip")
    chunks = own_store(town, lambda db: files.table_chunks(db, listing, filters, fmt, who, description))
    return download(chunks, f"{stem}.{fmt}", fmt)


@bp.route("/t/<town>/exports/archive.zip")
@access("town", scope="town")
def archive(town):
    """Every table of the town, 道德评议 cases included: for the town's own staff only (the county reads no case)."""
    with store.write(g.db):
        audit(g.db, current_user.username, "export", "exports", "archive", None, summary="导出全镇数据包")
    chunks = files.archive_chunks(dict(g.town), store.town_path(town), current_app.instance_path, fields())
    return download(chunks, f"{g.town['name']}-全部数据-{town}.zip", "zip")


def link(name, **args):
    """The export page of a list with these filters (for the buttons on the town's own list screens)."""
    return url_for("exports.show", town=g.town["code"], name=name, **{k: v for k, v in args.items() if v})
