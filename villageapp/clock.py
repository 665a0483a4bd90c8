"""Time for the whole app: one place that says what "now" and "today" are (China Standard Time),
and the Chinese date formats of the interface."""
from datetime import date, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")
WEEKDAYS = "一二三四五六日"
offset = timedelta(0)  # the tests' hook to let days pass (a 公示's end date): clock.offset = timedelta(days=N)


def now():
    return datetime.now(CST) + offset


def now_iso():
    return now().isoformat(timespec="seconds")


def today():
    return now().date()


def parse_date(value):
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10]) if value else None


def parse_date_or_none(value):
    """A date typed by a person (a filter, a form not yet validated): None when empty or not a date."""
    try:
        return parse_date(value) if value else None
    except ValueError:
        return None


def cn_date(value, weekday=True):
    """2026-11-26 → 11月26日 (周四); another year → 2025年11月26日."""
    d = parse_date(value)
    if d is None:
        return ""
    text = f"{d.month}月{d.day}日" if d.year == today().year else f"{d.year}年{d.month}月{d.day}日"
    return f"{text} (周{WEEKDAYS[d.weekday()]})" if weekday else text


def cn_datetime(value):
    if not value:
        return ""
    dt = datetime.fromisoformat(value)
    return f"{cn_date(dt.date(), weekday=False)} {dt:%H:%M}"
