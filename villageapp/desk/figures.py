"""The desk's numbers: the period chosen (a quarter or a year), every kind's figures per village for it (one query per
figure source, GROUP BY village_code), the town's and the model villages' averages, and a town's sums for the county."""
from .. import kinds
from ..periods import BadPeriod, Period, choices, period_of  # noqa: F401  (the desk's views and tests read them here)


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
