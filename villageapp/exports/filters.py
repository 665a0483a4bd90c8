"""The filters of a list, read the same way for the screen, the file and the command line: village, a period (a quarter
"2026-3", a year "2026", or from/to dates) and the list's own choices (state, category…). A value that is not one the
list offers is refused with a Chinese sentence (FilterRefused → 400), never silently dropped: a file must hold exactly
what the person asked for."""
from datetime import timedelta

from ..periods import BadPeriod, period_of
from ..routing import bad_day, parse_day


class FilterRefused(ValueError):
    """A filter value the list does not offer; the message says which, in Chinese."""

    def __init__(self, message, title="筛选条件不对"):
        super().__init__(message)
        self.title = title


def period(key):
    """A period from its key: "2026-3" (a quarter) or "2026" (a year); FilterRefused otherwise."""
    try:
        return period_of(key) if (key or "").strip() else None
    except BadPeriod as bad:
        raise FilterRefused(f"“{str(key).strip()[:20]}”不是能选的时间段。季度写成 2026-3，全年写成 2026。") from bad


def _day(text, label):
    text = (text or "").strip()
    if not text:
        return None
    day = parse_day(text)
    if day is None:
        raise FilterRefused(bad_day(text, label), "日期不对")
    return day


def sql_where(pairs):
    """An SQL where clause (with its leading space) and its parameters from (clause, value) pairs, a pair kept only
    when its value is given: how each list's query applies the filters chosen."""
    clauses, params = [], []
    for clause, value in pairs:
        if value:
            clauses.append(clause)
            params.append(value)
    return (" where " + " and ".join(clauses) if clauses else ""), params


def until(day):
    """The exclusive end of a period that ends on `day` (inclusive), for comparing with ISO times."""
    return day and (day + timedelta(days=1)).isoformat()


def choices(listing):
    """The list's choices with their options ({filter: (label, {value: words})}); options may be given as a function
    (e.g. the audit log's actions, which every kind adds to)."""
    return {key: (label, options() if callable(options) else options) for key, (label, options) in listing.choices.items()}


def parse(listing, args, villages):
    """The filters of `listing` from request args (or the command line's), checked against what the list offers.
    `villages` is {code: name} of the town. Returns (filters for listing.query, the words that describe them,
    the values as given, for links and the form)."""
    given = {k: (args.get(k) or "").strip() for k in ("village", "period", "start", "end", *listing.choices)}
    filters, words = {"village_code": None, "start": None, "end": None}, []
    if given["village"]:
        if given["village"] not in villages:
            raise FilterRefused("这个镇没有这个村（社区），请从列表里选。")
        filters["village_code"] = given["village"]
        words.append(villages[given["village"]])
    if listing.dated:
        if given["period"]:
            chosen = period(given["period"])
            filters["start"], filters["end"] = chosen.start, chosen.last
            words.append(chosen.label)
        start, end = _day(given["start"], "开始日期"), _day(given["end"], "结束日期")
        if start:
            filters["start"] = max(start, filters["start"]) if filters["start"] else start
        if end:
            filters["end"] = min(end, filters["end"]) if filters["end"] else end
        if filters["start"] and filters["end"] and filters["start"] > filters["end"]:
            raise FilterRefused("开始日期在结束日期之后，没有这样的时间段。", "日期不对")
        if start or end:
            words.append(f"{listing.dated}{(filters['start'] or '')}至{(filters['end'] or '')}")
    else:
        for key in ("period", "start", "end"):
            given.pop(key)
    for key, (label, options) in choices(listing).items():
        value = given[key]
        filters[key] = None
        if value:
            if value not in options:
                raise FilterRefused(f"{label}没有“{value[:20]}”这一项，请从列表里选。")
            filters[key] = value
            words.append(f"{label}：{options[value]}")
    return filters, "，".join(words) or "全部", {k: v for k, v in given.items() if v}
