"""星级文明户 / 文明家庭 campaigns (创评活动): the town's campaign types with their criteria as data; a village's campaign
from applications and nominations through reviewers' scores (offline, each reviewer owning theirs), the 考核, 公示 with
objections (through 村务公开), confirmation, the town's approval and 挂牌; awards, 摘星 and the re-award bar. The village
page lists the titles in force, naming only families who consented (others as 某户)."""
from flask import Blueprint, url_for

from .. import kinds
from . import lists
from .data import HOW, MODES, SUBJECTS
from .forms import make_score_form, score_columns, score_payload
from .procedure import STAGES, STEPS

bp = Blueprint("ratings", __name__)


def _score_pages(db, village_code):
    """The score form of each campaign being scored: reviewers walk from door to door with no signal."""
    return [url_for("ratings.score", village=village_code, uuid=c["uuid"])
            for c in db["campaigns"].rows_where("village_code = ? and stage = 'scoring'", [village_code])]


def _example(db, village_code):
    """A reviewer's scores of one household in a campaign being scored (one is started for the example if needed)."""
    from ..steps import Actor
    from .. import registry
    from . import data, procedure
    campaign = next((data._campaign(c) for c in db["campaigns"].rows_where("village_code = ? and stage = 'scoring'",
                                                                           [village_code])), None)
    if campaign is None:
        cadre = Actor("system", "cadre")
        kind = next(t for t in data.types(db) if t["mode"] == "stars")
        campaign = data.start_campaign(db, village_code, kind, 2026, ["王代表", "李代表"], "system")
        house = next(db["households"].rows_where("village_code = ?", [village_code]), None) or registry.add_household(
            db, village_code, "一组", "示例户主", "system")
        procedure.add_entry(db, campaign, {"type": "household", "uuid": house["uuid"], "household_uuid": house["uuid"],
                                           "name": f"{house['head_name']}户"}, "apply", "2026-03-01", cadre)
        campaign = procedure.take_step(db, campaign, "score", cadre)
    entry = data.entries(db, campaign["uuid"])[0]
    taken = {r["reviewer"] for r in data.scores(db, entry["uuid"])}
    reviewer = next((r for r in campaign["reviewers"] if r not in taken), campaign["reviewers"][0])
    return [["campaign", campaign["uuid"]], ["entry", entry["uuid"]], ["reviewer", reviewer], ["c0", "y"], ["c1", "y"],
            ["c3", "y"]]


def _tiles(db, village_code, role):
    running = db.execute("select count(*) from campaigns where village_code = ? and stage != 'plaqued'",
                         [village_code]).fetchone()[0]
    return [kinds.Tile("星级文明户评选", url_for("ratings.index", village=village_code),
                       f"{running} 项在进行" if running else "文明家庭、星级户", 47)]


def _tasks(db, village_code, role):
    """For the cadres: campaigns waiting for their next step; for the town, those reported."""
    waiting = {"cadre": {"apply": "添加申请后开始打分", "scoring": "打完分后考核", "checked": "考核后公示",
                         "publicity": "公示期满后确认", "confirmed": "上报镇里", "approved": "挂牌"},
               "town": {"reported": "村里已上报，请确认"}}.get(role, {})
    return [kinds.Task(STAGES[c["stage"]], f"{c['name']}：{waiting[c['stage']]}",
                       url_for("ratings.show", village=village_code, uuid=c["uuid"]), order=37, current=c["stage"] != "publicity")
            for c in db["campaigns"].rows_where("village_code = ?", [village_code], order_by="created_at")
            if c["stage"] in waiting]


def _town_tasks(db, role):
    """For the town desk: results the villages reported, for the town to confirm or return."""
    rows = db.query("""select c.uuid, c.village_code, c.name, v.name as village_name, c.updated_at from campaigns c
        join villages v on v.code = c.village_code where c.stage = 'reported' order by c.updated_at""")
    return [kinds.Task("待镇确认", f"{r['village_name']} · {r['name']}：村里已上报结果，请确认",
                       url_for("ratings.show", village=r["village_code"], uuid=r["uuid"]), order=30) for r in rows]


# the desk's figures: the campaigns of the period's year(s), by the step each is in today (short words for a column)
CAMPAIGNS = ("from campaigns x where x.year between cast(substr(:start, 1, 4) as integer)"
             " and cast(substr(date(:end, '-1 day'), 1, 4) as integer)")
STEP_WORDS = {"apply": "申请", "scoring": "打分", "checked": "考核", "publicity": "公示", "confirmed": "确认",
              "reported": "待镇确认", "approved": "待挂牌", "plaqued": "已挂牌"}


def _public_rows(db, village_code):
    from .data import public_awards
    return public_awards(db, village_code)


SCORE = kinds.Kind(
    name="rating_score", table="campaign_scores", label="评议打分", form=make_score_form, to_record=score_columns,
    to_payload=score_payload, example=_example, offline_pages=_score_pages,
    url=lambda row: url_for("ratings.show", village=row["village_code"], uuid=row["campaign_uuid"]),
    fields={"entry_uuid": "被评的户", "reviewer": "评议人", "scores": "打分"})
CAMPAIGN = kinds.Kind(
    name="campaign", table="campaigns", label="创评活动", tiles=_tiles, tasks=_tasks,
    town_tasks=_town_tasks,
    figures=tuple(kinds.Figure(f"campaigns_{stage}", words, f"count(*) filter (where x.stage = '{stage}')", CAMPAIGNS,
                               group="星级户评选", alert=stage == "reported",
                               note="星级户评选：这段时间所在年度的评选，各在哪一步（今天的进度）。" if stage == "plaqued" else "")
                  for stage, words in STEP_WORDS.items()),
    export=(("评选", "name"), ("年度", "year"), ("进度", lambda r: STAGES[r["stage"]]), ("公示截止", "publicity_end")),
    actions={f"campaign_{step}": f"创评·{words}" for step, (words, _roles, _stages) in STEPS.items()}
    | {"campaign_adjust": "创评·考核调整", "campaign_consent": "创评·公开同意", "campaign_withdraw": "创评·摘星"},
    tables={"campaign_types": "创评类型", "campaigns": "创评活动", "campaign_entries": "参评的户", "campaign_scores": "评议打分",
            "campaign_steps": "创评办理经过", "awards": "获评称号"},
    fields={"type_uuid": "类型", "year": "年度", "rules": "评选标准", "reviewers": "评议人", "publicity_end": "公示截止",
            "returned_reason": "退回理由", "cycle_years": "周期（年）", "subject": "评谁", "mode": "评法", "criteria": "标准",
            "threshold": "达标线", "publicity_days": "公示天数", "rebar_years": "摘星后几年不能再评", "how": "怎么参评",
            "came_on": "参评日期", "nominated_by": "推荐人", "consent_by": "谁同意", "consent_how": "同意方式",
            "consent_on": "同意日期", "computed": "算出的结果", "adjusted": "考核调整后", "adjust_reason": "调整理由",
            "campaign_uuid": "评选", "entry_uuid": "参评的户", "stars": "星", "awarded_on": "授予日期", "plaque_on": "挂牌日期",
            "withdrawn_on": "摘星日期", "withdraw_reason": "摘星理由", "review_uuid": "道德评议"},
    values={"stage": STAGES, "mode": MODES, "subject": SUBJECTS, "how": HOW},
    lists=(lists.CAMPAIGNS,),
    demo=kinds.later("villageapp.ratings.demo", "build"))
AWARD = kinds.Kind(
    name="award", table="awards", label="获评称号",
    public=kinds.Public(query=_public_rows, template="ratings/_public.html", order=40,
                        privacy="在用的称号列在村务公开页：家里同意的写名字，没同意的写“某户”；摘去的不再列出",
                        example=kinds.later("villageapp.ratings.demo", "public_example")),
    export=(("户（人）", "subject_name"), ("称号", "title"), ("年度", "year"), ("授予日期", "awarded_on"),
            ("挂牌日期", "plaque_on"), ("摘星日期", "withdrawn_on"), ("摘星理由", "withdraw_reason")),
    lists=(lists.AWARDS,))
FEATURE = kinds.Feature("ratings", bp, (SCORE, CAMPAIGN, AWARD))

from . import views  # noqa: E402,F401  (views register on bp)
