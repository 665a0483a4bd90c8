"""Periods a person chooses to look at records by: a quarter ("2026-4") or a year ("2026"). One way to write, read and
step through them for the town desk, the exports' filters and the quarter table of meetings."""
import re
from dataclasses import dataclass
from datetime import date

from .clock import today

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


def quarter(year, q):
    return period_of(f"{year}-{q}")


def choices(period=None, years=3):
    """The periods offered in the select: this year and the two before, each year then its quarters, newest first
    (and the chosen one, if it is older)."""
    this = today().year
    keys = []
    for year in range(this, this - years, -1):
        keys += [str(year)] + [f"{year}-{q}" for q in (4, 3, 2, 1)]
    if period is not None and period.key not in keys:
        keys.append(period.key)
    return [(key, period_of(key).label) for key in keys]
