"""星级文明户 / 文明家庭 data: the town's campaign types (criteria as data), a village's campaigns with their entries and
each reviewer's scores, the results computed from the scores (and the 考核 adjustments beside them), awards, 摘星 and
the re-award bar, the public list and a household's titles over the years. The procedure's steps are in procedure.py."""
import json
from datetime import date

from .. import records
from ..clock import now_iso, today
from ..store import write

SUBJECTS = {"household": "户", "resident": "个人"}
MODES = {"stars": "星级（逐颗星评）", "points": "打分（总分达标）"}
HOW = {"apply": "自己申请", "nominate": "推荐"}
CONSENT_HOW = ["当面口头同意", "书面签字", "电话同意", "家属代为同意"]
ANONYMOUS = {"household": "某户", "resident": "某村民"}
STARS = ["爱国守法星", "诚实守信星", "勤劳致富星", "孝老爱亲星", "团结互助星", "移风易俗星", "环境卫生星", "遵纪守法星",
         "教育成才星", "热心公益星"]
# the types a town starts with (it changes them on its page; each campaign keeps a copy of its type as it was run)
DEFAULT_TYPES = [
    {"name": "星级文明信用户", "cycle_years": 1, "subject": "household", "mode": "stars", "threshold": 5,
     "criteria": [{"name": s, "pass": 0.5} for s in STARS], "publicity_days": 7, "rebar_years": 2},
    {"name": "文明家庭", "cycle_years": 2, "subject": "household", "mode": "points", "threshold": 80,
     "criteria": [{"name": "爱国守法、遵守村规民约", "max": 20}, {"name": "孝老爱亲、家庭和睦", "max": 20},
                  {"name": "邻里互助、热心公益", "max": 20}, {"name": "移风易俗、勤俭节约", "max": 20},
                  {"name": "环境整洁、庭院美化", "max": 20}], "publicity_days": 7, "rebar_years": 2},
    {"name": "孝敬公婆好媳妇", "cycle_years": 1, "subject": "resident", "mode": "points", "threshold": 24,
     "criteria": [{"name": "孝敬老人", "max": 10}, {"name": "家庭和睦", "max": 10}, {"name": "邻里口碑", "max": 10}],
     "publicity_days": 7, "rebar_years": 2},
]


# ---- campaign types (the town's) ---------------------------------------------------------------------------

def types(db, active_only=False):
    """The town's campaign types; the defaults are written the first time a town looks."""
    if not db.execute("select 1 from campaign_types limit 1").fetchone():
        with write(db):
            if not db.execute("select 1 from campaign_types limit 1").fetchone():
                for t in DEFAULT_TYPES:
                    save_type(db, None, t, "system")
    rows = db["campaign_types"].rows_where("active = 1" if active_only else None, order_by="created_at, name")
    return [_decoded(r) for r in rows]


def type_(db, uuid):
    row = next(db["campaign_types"].rows_where("uuid = ?", [uuid]), None)
    return _decoded(row) if row else None


def _decoded(row):
    return {**row, "criteria": json.loads(row["criteria"]), "threshold": _number(row["threshold"])}


def _number(value):
    """5.0 → 5 (a threshold of stars or points reads as a whole number when it is one)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def save_type(db, uuid, fields, actor):
    """Create or change a type. Campaigns already run keep their own copy: changing the stars changes new campaigns only."""
    from .. import audit
    columns = {**fields, "criteria": json.dumps(fields["criteria"], ensure_ascii=False)}
    with write(db):
        if uuid is None:
            stamp = now_iso()
            uuid = records.new_uuid()
            db["campaign_types"].insert({**columns, "uuid": uuid, "active": fields.get("active", 1), "created_at": stamp,
                                         "updated_at": stamp, "created_by": actor, "version": 1})
            audit.record(db, actor, "create", "campaign_types", uuid, None, None, columns, summary=f"新的创评类型：{fields['name']}")
        else:
            before = db["campaign_types"].get(uuid)
            db["campaign_types"].update(uuid, {**columns, "updated_at": now_iso(), "version": before["version"] + 1})
            audit.record(db, actor, "update", "campaign_types", uuid, None, before, db["campaign_types"].get(uuid),
                         summary=f"修改创评类型：{fields['name']}")
    return uuid


# ---- campaigns and entries ---------------------------------------------------------------------------------

def campaigns(db, village_code):
    return [_campaign(r) for r in db["campaigns"].rows_where("village_code = ?", [village_code], order_by="year desc, created_at desc")]


def campaign(db, village_code, uuid):
    row = next(db["campaigns"].rows_where("uuid = ? and village_code = ?", [uuid, village_code]), None)
    return _campaign(row) if row else None


def _campaign(row):
    rules = json.loads(row["rules"])
    return {**row, "rules": {**rules, "threshold": _number(rules.get("threshold"))}, "reviewers": json.loads(row["reviewers"] or "[]")}


def start_campaign(db, village_code, type_row, year, reviewers, actor):
    """A campaign of one type for one year, with the type's rules copied onto it and its reviewers (村民代表) named."""
    rules = {k: type_row[k] for k in ("name", "mode", "subject", "criteria", "threshold", "publicity_days", "rebar_years",
                                      "cycle_years")}
    row, _ = records.create(db, "campaigns", {
        "village_code": village_code, "type_uuid": type_row["uuid"], "name": f"{year}年{type_row['name']}评选", "year": year,
        "rules": json.dumps(rules, ensure_ascii=False), "stage": "apply",
        "reviewers": json.dumps(reviewers, ensure_ascii=False)}, actor, summary=f"开始{year}年{type_row['name']}评选")
    return _campaign(row)


def entries(db, campaign_uuid):
    return [_entry(r) for r in db["campaign_entries"].rows_where("campaign_uuid = ?", [campaign_uuid],
                                                                 order_by="subject_name")]


def entry(db, campaign_uuid, uuid):
    row = next(db["campaign_entries"].rows_where("uuid = ? and campaign_uuid = ?", [uuid, campaign_uuid]), None)
    return _entry(row) if row else None


def _entry(row):
    computed = json.loads(row["computed"]) if row["computed"] else None
    adjusted = json.loads(row["adjusted"]) if row["adjusted"] else None
    return {**row, "computed": computed, "adjusted": adjusted, "result": adjusted or computed}


def bar(db, subject_uuid, type_uuid, on=None):
    """Why this subject may not be awarded this type now (the re-award bar after 摘星), or None."""
    day = on or today()
    for award in db["awards"].rows_where("subject_uuid = ? and type_uuid = ? and withdrawn_on is not null",
                                         [subject_uuid, type_uuid], order_by="withdrawn_on desc"):
        years = int(json.loads(db["campaigns"].get(award["campaign_uuid"])["rules"]).get("rebar_years") or 0)
        withdrawn = date.fromisoformat(award["withdrawn_on"])
        until = withdrawn.replace(year=withdrawn.year + years)
        if day < until:
            return (f"{award['withdrawn_on']} 被摘去「{award['title']}」（{award['withdraw_reason']}），"
                    f"{years} 年内不能再评，{until.isoformat()} 以后可以")
    return None


# ---- scores and results -----------------------------------------------------------------------------------

def scores(db, entry_uuid):
    return [{**r, "scores": json.loads(r["scores"])}
            for r in db["campaign_scores"].rows_where("entry_uuid = ?", [entry_uuid], order_by="reviewer")]


def compute(rules, score_rows):
    """The result of one entry from its reviewers' scores, as the campaign's own rules say: for stars, each star is
    reached when more than its pass share of the reviewers gave it; for points, the reviewers' average total against the
    threshold. Returns {"reviewers", "stars": [names], "total", "passed"}."""
    n = len(score_rows)
    if not n:
        return {"reviewers": 0, "stars": [], "total": 0, "passed": False}
    if rules["mode"] == "stars":
        reached = [c["name"] for i, c in enumerate(rules["criteria"])
                   if sum(1 for s in score_rows if s["scores"].get(f"c{i}")) > c.get("pass", 0.5) * n]
        return {"reviewers": n, "stars": reached, "total": len(reached), "passed": len(reached) >= rules["threshold"]}
    total = round(sum(sum(float(v or 0) for v in s["scores"].values()) for s in score_rows) / n, 1)
    return {"reviewers": n, "stars": [], "total": total, "passed": total >= rules["threshold"]}


def title(rules, result):
    """What a passing result is called: "7星级文明信用户", or the type's name."""
    if rules["mode"] == "stars":
        name = rules["name"]
        return f"{result['total']}{name}" if name.startswith("星级") else f"{name}（{result['total']}星）"
    return rules["name"]


def shown_name(row):
    """How a subject is named where anyone can see it: by name only with consent."""
    return row["subject_name"] if row.get("consent") == "given" else ANONYMOUS[row["subject_type"]]


# ---- awards, public list, history --------------------------------------------------------------------------

def current_awards(db, village_code):
    """Titles in force in the village (not withdrawn), newest year first, with the entry's consent."""
    return list(db.query("""select a.*, e.consent, e.subject_type from awards a
        join campaign_entries e on e.uuid = a.entry_uuid
        where a.village_code = ? and a.withdrawn_on is null order by a.year desc, a.title, a.subject_name""", [village_code]))


def public_awards(db, village_code):
    """The village page's list: current titles; a family who did not consent shows as 某户."""
    return [{"name": shown_name(a), "title": a["title"], "year": a["year"]} for a in current_awards(db, village_code)]


def history(db, village_code, subject_uuid):
    """A household's (or person's) titles over the years, withdrawn ones with their reason; a household's include its
    members'."""
    return list(db["awards"].rows_where("village_code = ? and (subject_uuid = ? or household_uuid = ?)",
                                        [village_code, subject_uuid, subject_uuid], order_by="year desc, awarded_on desc"))


def steps(db, campaign_uuid):
    return list(db["campaign_steps"].rows_where("campaign_uuid = ?", [campaign_uuid], order_by="id"))
