"""The desk's numbers: the period chosen (a quarter or a year), every kind's figures per village for it (one query per
figure source, GROUP BY village_code), the town's and the model villages' averages, and a town's sums for the county."""
import re
from dataclasses import dataclass
from datetime import date

from .. import kinds
from ..clock import today

PERIOD = re.compile(r"^([0-9]{4})(?:-([1-4]))?$")


class BadPeriod(ValueError):
    pass


@dataclass
class Period:
    key: str      # "2026-4" (a quarter) or "2026" (a year)
    label: str    # 2026年第四季度 / 2026年
    start: date
    end: date     # the day after the last day (exclusive)

    @property
    def quarter(self):
        return "-" in self.key

    @property
    def last(self):
        return date.fromordinal(self.end.toordinal() - 1)

    def shifted(self, by):
        if not self.quarter:
            return str(int(self.key) + by)
        year, q = (int(x) for x in self.key.split("-"))
        n = year * 4 + q - 1 + by
        return f"{n // 4}-{n % 4 + 1}"

    @property
    def months(self):
        """(year, month) of every month in the period."""
        first = self.start.year * 12 + self.start.month - 1
        last = self.last.year * 12 + self.last.month - 1
        return [(n // 12, n % 12 + 1) for n in range(first, last + 1)]

    @property
    def params(self):
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "day": today().isoformat()}


def period_of(value=None):
    """The period of `?period=`: "2026-4" a quarter, "2026" a year, empty this quarter. BadPeriod (in Chinese) otherwise."""
    value = (value or "").strip()
    if not value:
        day = today()
        value = f"{day.year}-{(day.month - 1) // 3 + 1}"
    match = PERIOD.match(value)
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise BadPeriod("期间的写法不对：季度写成 2026-4，全年写成 2026（2000 到 2100 年）")
    year, q = int(match.group(1)), match.group(2)
    if q is None:
        return Period(str(year), f"{year}年", date(year, 1, 1), date(year + 1, 1, 1))
    q = int(q)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return Period(f"{year}-{q}", f"{year}年第{'一二三四'[q - 1]}季度", date(year, 3 * q - 2, 1), end)


def choices(period, years=3):
    """The periods offered in the select: this year and the two before, each year then its quarters, newest first
    (and the chosen one, if it is older)."""
    this = today().year
    keys = []
    for year in range(this, this - years, -1):
        keys += [str(year)] + [f"{year}-{q}" for q in (4, 3, 2, 1)]
    if period.key not in keys:
        keys.append(period.key)
    return [(key, period_of(key).label) for key in keys]


def figure_groups(registry=None):
    """[(group label, [Figure, …]), …] in the order the features and kinds were registered."""
    registry = registry or kinds.registry()
    groups = {}
    for feature in registry.features:
        for kind in feature.kinds:
            for figure in kind.figures:
                groups.setdefault(figure.group or kind.label, []).append(figure)
        for figure in feature.figures:
            groups.setdefault(figure.group or feature.label or feature.name, []).append(figure)
    return list(groups.items())


def all_figures(groups):
    return [figure for _label, figures in groups for figure in figures]


def village_rows(db, period, groups=None):
    """One dict per village (code, name, kind, model and every figure's key), one query per figure source."""
    figures = all_figures(groups or figure_groups())
    rows = {v["code"]: {**v, **{f.key: f.empty for f in figures}}
            for v in db.query("select code, name, kind, model from villages order by code")}
    by_source = {}
    for figure in figures:
        by_source.setdefault(figure.source, []).append(figure)
    params = period.params
    for source, group in by_source.items():
        columns = ", ".join(f"{figure.sql} as {figure.key}" for figure in group)
        for r in db.query(f"select x.village_code as village_code, {columns} {source} group by x.village_code", params):
            if r["village_code"] in rows:
                rows[r["village_code"]].update({f.key: f.empty if r[f.key] is None else r[f.key] for f in group})
    return list(rows.values())


def averaged(figure):
    return figure.total in ("sum", "avg")


def averages(rows, groups):
    """{key: mean} of the averaged figures over these villages' values (None when there are none)."""
    out = {}
    for f in all_figures(groups):
        if averaged(f):
            values = [r[f.key] for r in rows if r[f.key] is not None]
            out[f.key] = sum(values) / len(values) if values else None
    return out


def town_totals(rows, groups):
    """A town's figures for the county: sums, the latest of a date, the mean of an "avg" figure."""
    out = {}
    for f in all_figures(groups):
        values = [r[f.key] for r in rows if r[f.key] is not None]
        if f.total == "sum":
            out[f.key] = sum(values)
        elif f.total == "max":
            out[f.key] = max(values) if values else None
        elif f.total == "avg":
            out[f.key] = sum(values) / len(values) if values else None
    return out


def one_decimal(value):
    return "" if value is None else f"{value:.1f}"
