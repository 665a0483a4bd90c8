"""The town's exported lists of 星级文明户 / 文明家庭 (kinds.Listing): every village's campaigns with where each stands
(the town's 各村评选 page), and the titles awarded (names: personal; the column 公开时写 says how the village page names
a family, by name only with its consent). The queries run while the file streams: their own store, nothing from Flask."""
import json

from .. import kinds
from ..exports.filters import sql_where
from .data import ANONYMOUS, SUBJECTS
from .procedure import STAGES

AWARD_STATES = {"current": "在用", "withdrawn": "已摘星"}




def campaigns(db, filters):
    """The campaigns the filters select: village, the year (a period selects the campaigns of the years it touches,
    as the town desk counts them) and the step each is in; in the town page's order (those reported first)."""
    where, params = sql_where((("c.village_code = ?", filters["village_code"]),
                            ("c.year >= ?", filters["start"] and filters["start"].year),
                            ("c.year <= ?", filters["end"] and filters["end"].year),
                            ("c.stage = ?", filters.get("stage"))))
    for row in db.query(f"""select c.uuid, c.village_code, v.name as village_name, c.name, c.year, c.rules, c.stage,
            c.publicity_end, c.returned_reason, substr(c.created_at, 1, 10) as started_on,
            (select count(*) from campaign_entries e where e.campaign_uuid = c.uuid) as entry_count,
            (select count(*) from awards a where a.campaign_uuid = c.uuid and a.withdrawn_on is null) as award_count,
            (select max(s.done_on) from campaign_steps s where s.campaign_uuid = c.uuid and s.step = 'approve') as approved_on,
            (select max(s.done_on) from campaign_steps s where s.campaign_uuid = c.uuid and s.step = 'plaque') as plaqued_on
        from campaigns c join villages v on v.code = c.village_code {where}
        order by c.stage != 'reported', c.year desc, v.code, c.created_at desc""", params):
        row["subject"] = json.loads(row.pop("rules") or "{}").get("subject", "household")
        yield row


CAMPAIGN_COLUMNS = (
    ("村（社区）", "village_name"), ("评选", "name"), ("评谁", lambda r: SUBJECTS.get(r["subject"], "")), ("年度", "year", "int"),
    ("进度", lambda r: STAGES.get(r["stage"], r["stage"])), ("退回理由", lambda r: r["returned_reason"] or ""),
    ("开始日期", "started_on", "date"), ("公示截止", "publicity_end", "date"), ("镇里确认", "approved_on", "date"),
    ("挂牌", "plaqued_on", "date"), ("参评", "entry_count", "int"), ("获评", "award_count", "int"))
CAMPAIGNS = kinds.Listing("campaigns", "星级户评选", CAMPAIGN_COLUMNS, campaigns, dated="评选年度", personal=False,
                          choices={"stage": ("进度", STAGES)}, order=50)


def awards(db, filters):
    """The titles awarded that the filters select (village, 授予日期, in use or withdrawn), oldest first."""
    state = filters.get("state")
    where, params = sql_where((("a.village_code = ?", filters["village_code"]),
                            ("a.awarded_on >= ?", filters["start"] and filters["start"].isoformat()),
                            ("a.awarded_on <= ?", filters["end"] and filters["end"].isoformat())))
    if state:
        where = (where + " and " if where else "where ") + (
            "a.withdrawn_on is null" if state == "current" else "a.withdrawn_on is not null")
    for row in db.query(f"""select a.uuid, a.village_code, v.name as village_name, a.subject_name, a.title, a.stars,
            a.year, c.name as campaign_name, a.awarded_on, a.plaque_on, a.withdrawn_on, a.withdraw_reason,
            e.consent, coalesce(e.subject_type, 'household') as subject_type
        from awards a join villages v on v.code = a.village_code left join campaigns c on c.uuid = a.campaign_uuid
        left join campaign_entries e on e.uuid = a.entry_uuid {where}
        order by a.awarded_on, a.village_code, a.subject_name""", params):
        stars = json.loads(row["stars"]) if row["stars"] else None
        row["stars"] = [str(s) for s in stars] if isinstance(stars, list) else []  # a points campaign gives no stars
        yield row


AWARD_COLUMNS = (
    ("村（社区）", "village_name"), ("户（人）", "subject_name"),
    ("公开时写", lambda r: r["subject_name"] if r["consent"] == "given" else ANONYMOUS.get(r["subject_type"], "某户")),
    ("称号", "title"), ("星数", lambda r: len(r["stars"]) or None, "int"), ("星", lambda r: "、".join(r["stars"])),
    ("年度", "year", "int"), ("评选", lambda r: r["campaign_name"] or ""), ("授予日期", "awarded_on", "date"),
    ("挂牌日期", "plaque_on", "date"), ("状态", lambda r: "已摘星" if r["withdrawn_on"] else "在用"),
    ("摘星日期", "withdrawn_on", "date"), ("摘星理由", lambda r: r["withdraw_reason"] or ""))
AWARDS = kinds.Listing("awards", "获评称号", AWARD_COLUMNS, awards, dated="授予日期", order=51,
                       choices={"state": ("状态", AWARD_STATES)})
