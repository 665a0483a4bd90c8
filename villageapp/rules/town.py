"""The town's view of every village's 村规民约: status and reminders, search across the town's texts,
and the texts side by side on one topic (e.g. 红白事 limits)."""
from flask import g, render_template, request, url_for

from ..access import access
from . import bp, data, search
from .procedure import LABELS, OWNERS


@bp.route("/t/<town>/rules/")
@access("town", "county", scope="town")
def town(town):
    rows = search.status(g.db)
    for r in rows:  # a village's own rulebook brought in (import_views.py): not "办理中", the town's to confirm
        if r["running"] and r["running"]["stage"] in ("imported", "returned"):
            r["text"] = f"第 {r['running']['number']} 版：{LABELS[r['running']['stage']]}"
            r["reminder"] = "导入了本村原有的村规民约，请核对后确认或退回" if r["running"]["stage"] == "imported" else None
    return render_template("rules/town.html", rows=rows, reminders=[r for r in rows if r["reminder"]])


@bp.route("/t/<town>/rules/search")
@access("town", "county", scope="town")
def town_search(town):
    q = request.args.get("q", "").strip()[:40]
    rows = search.search(g.db, q) if q else []
    return render_template("rules/search.html", q=q, rows=rows, snippet=search.snippet,
                           action=url_for("rules.town_search", town=town))


@bp.route("/t/<town>/rules/compare")
@access("town", "county", scope="town")
def compare(town):
    """Each village's articles in force on a topic, in columns (by default the articles with 红白事 limits)."""
    topic = request.args.get("topic", "").strip()[:20]
    columns = []
    for s in search.status(g.db):
        cur = s["current"]
        arts = data.articles(g.db, cur["uuid"]) if cur else []
        if topic:
            arts = [a for a in arts if topic in (a["chapter"] or "") + (a["title"] or "") + a["body"]]
        else:
            arts = [a for a in arts if a["limit_values"]]
        columns.append({"village": s["village"], "current": cur, "articles": arts})
    return render_template("rules/compare.html", topic=topic, columns=columns, limits=data.LIMITS)


def versions_for(db, role, village_codes=None):
    """村规民约 versions whose next step this role takes (the adviser's review, the town's approval and filing…),
    with the village's name and the step's words, oldest first."""
    stages = [stage for stage, roles in OWNERS.items() if role in roles]
    if not stages:
        return []
    where, params = [f"rv.stage in ({','.join('?' * len(stages))})"], list(stages)
    if village_codes is not None:
        where.append(f"rv.village_code in ({','.join('?' * len(village_codes))})")
        params += list(village_codes)
    rows = db.query(f"""select rv.uuid, rv.number, rv.stage, rv.village_code, v.name as village_name,
                          coalesce(rv.updated_at, rv.created_at) as since
                        from rule_versions rv join villages v on v.code = rv.village_code
                        where {' and '.join(where)} order by since""", params)
    return [{**r, "step": LABELS[r["stage"]]} for r in rows]
