"""The town's exported lists of 村规民约 (kinds.Listing): every version of every village with where it stands and the
days of its steps, and the articles of the versions in force (the text anyone may read once published). The queries
run while the file streams: they take their own store and need nothing from Flask."""
import json
from datetime import timedelta

from .. import kinds
from .data import LIMITS
from .procedure import LABELS

# the day a step was done (its latest record with that outcome), by the step's outcome
STEP_DAY = "(select max(s.done_on) from rule_steps s where s.version_uuid = rv.uuid and s.step = '{step}' and s.outcome = '{outcome}')"
VERSIONS_SQL = f"""select rv.uuid, rv.village_code, v.name as village_name, b.title, rv.number, rv.base_number, rv.stage,
        substr(rv.created_at, 1, 10) as started_on, rv.reason,
        {STEP_DAY.format(step='review', outcome='passed')} as reviewed_on,
        {STEP_DAY.format(step='approval', outcome='approved')} as approved_on,
        {STEP_DAY.format(step='vote', outcome='voted')} as voted_on,
        rv.filing_no, rv.filed_on, rv.published_on, b.current_version = rv.number as in_force, rv.origin,
        rv.adopted_on, rv.adopted_meeting
    from rule_versions rv join rulebooks b on b.uuid = rv.rulebook_uuid join villages v on v.code = rv.village_code"""


def versions(db, filters):
    """Every version the filters select: village, the day the version was started (发起日期) and where it stands."""
    where, params = [], []
    for clause, value in (("rv.village_code = ?", filters["village_code"]),
                          ("rv.created_at >= ?", filters["start"] and filters["start"].isoformat()),
                          ("rv.created_at < ?", filters["end"] and (filters["end"] + timedelta(days=1)).isoformat()),
                          ("rv.stage = ?", filters.get("stage"))):
        if value:
            where.append(clause)
            params.append(value)
    sql = VERSIONS_SQL + (" where " + " and ".join(where) if where else "") + " order by rv.village_code, rv.number"
    yield from db.query(sql, params)


def _status(row):
    return LABELS[row["stage"]] + ("（现行）" if row["in_force"] else "")


def _base(row):
    if row["base_number"]:
        return f"第 {row['base_number']} 版"
    return "导入的原有版本" if row["origin"] == "imported" else "首次制定"


VERSION_COLUMNS = (
    ("村（社区）", "village_name"), ("名称", "title"), ("版本", lambda r: f"第 {r['number']} 版"),
    ("修订自", _base), ("办理到", _status), ("原通过日期", "adopted_on", "date"),
    ("原通过的会议", lambda r: r["adopted_meeting"] or ""),
    ("发起日期", "started_on", "date"), ("法律顾问审查通过", "reviewed_on", "date"), ("镇审核同意", "approved_on", "date"),
    ("表决通过", "voted_on", "date"), ("备案号", lambda r: r["filing_no"] or ""), ("备案日期", "filed_on", "date"),
    ("公布日期", "published_on", "date"), ("修订理由", lambda r: r["reason"] or ""))
VERSIONS = kinds.Listing("rule_versions", "村规民约各版本", VERSION_COLUMNS, versions, dated="发起日期", personal=False,
                         choices={"stage": ("办理到", LABELS)}, order=20)


def articles(db, filters):
    """The articles of each village's version in force, in the text's order (第 n 条 counts within the version);
    with limits=yes only those that set a 红白理事会 limit (as the town's 对照 page does)."""
    where, params = [], []
    if filters["village_code"]:
        where.append("a.village_code = ?")
        params.append(filters["village_code"])
    if filters.get("limits") == "yes":  # counted before this filter: 第 n 条 is the article's place in the whole text
        where.append("a.limits is not null and a.limits not in ('', '{}', 'null')")
    rows = db.query(f"""select * from (select a.village_code, v.name as village_name, b.title as book, rv.number,
            a.chapter, a.title, a.body, a.limits,
            row_number() over (partition by a.version_uuid order by a.sort, a.created_at) as article
        from rulebooks b join rule_versions rv on rv.rulebook_uuid = b.uuid and rv.number = b.current_version
        join rule_articles a on a.version_uuid = rv.uuid join villages v on v.code = b.village_code) a
        {"where " + " and ".join(where) if where else ""}
        order by a.village_code, a.article""", params)
    for row in rows:
        row["limit_values"] = json.loads(row["limits"] or "{}") or {}
        yield row


def _limit(key):
    return lambda r: r["limit_values"].get(key)


ARTICLE_COLUMNS = (
    ("村（社区）", "village_name"), ("名称", "book"), ("现行版本", lambda r: f"第 {r['number']} 版"),
    ("章", lambda r: r["chapter"] or ""), ("条", lambda r: f"第 {r['article']} 条"), ("标题", lambda r: r["title"] or ""),
    ("正文", "body"),
    *((f"{label}（{unit}）", _limit(key), "int") for key, (label, unit) in LIMITS.items()))
ARTICLES = kinds.Listing("rule_articles", "村规民约现行条文", ARTICLE_COLUMNS, articles, personal=False,
                         choices={"limits": ("只看", {"yes": "有红白事限额的条文"})}, order=21)
