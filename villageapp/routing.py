"""What a URL may carry: numbers in the path within SQLite's range, and page numbers and dates in the query string
read one way everywhere, so a hand-typed or hostile address gets a 404/400 page, never a 500."""
from datetime import date

from flask import abort, make_response, render_template, request
from werkzeug.routing import IntegerConverter

SQLITE_MAX = 2 ** 63 - 1  # SQLite's largest integer: a bigger number cannot name a row
MAX_PAGE = 100_000
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2099, 12, 31)  # dates a village record or filter can mean


class SQLiteInt(IntegerConverter):
    """<int:…> that matches only numbers SQLite can hold (a longer one is no route: 404, not an OverflowError)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=SQLITE_MAX, signed=False):
        max = SQLITE_MAX if max is None or max > SQLITE_MAX else max
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app):
    """Register the bounded <int:> (before any blueprint adds its rules)."""
    app.url_map.converters["int"] = SQLiteInt


def page_arg(name="page"):
    """?page=N: 1 when absent, 404 when it is not a page number that can exist."""
    text = request.args.get(name, "").strip()
    if not text:
        return 1
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not 1 <= int(text) <= MAX_PAGE:
        abort(404)
    return int(text)


def date_arg(name):
    """?start=2026-01-01 as a date: None when absent, 400 when it is not a date between 1900 and 2099."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    day = parse_day(text)
    if day is None:
        abort(make_response(render_template("error.html", code=400, title="日期不对", text=bad_day(text)), 400))
    return day


def parse_day(text):
    """A date written 2026-01-31 between 1900 and 2099, or None."""
    try:
        day = date.fromisoformat(text) if len(text) == 10 and text.isascii() else None
    except ValueError:
        return None
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


def bad_day(text, label=""):
    return f"{label}“{text[:20]}”不是能用的日期。请写成 2026-01-31 这样，年份在 1900 到 2099 之间。"
