"""村规民约 (居民公约 in a 社区): the village's rulebook, its versions and articles, the procedure from consultation to
publication (procedure.py), villagers' opinions, full-text search and the town's overview. Views in views.py and town.py."""
from flask import Blueprint, url_for

from .. import kinds
from . import lists
from .procedure import LABELS

bp = Blueprint("rules", __name__)


def rules_status(db, village_code):
    """For the village home tile: where the village's rulebook stands, in a few words."""
    from .procedure import LABELS
    book = next(db["rulebooks"].rows_where("village_code = ?", [village_code]), None)
    running = book and next(db["rule_versions"].rows_where("rulebook_uuid = ? and stage != 'published'",
                                                          [book["uuid"]]), None)
    if running:
        return f"第 {running['number']} 版：{LABELS[running['stage']]}"
    return f"现行第 {book['current_version']} 版" if book and book["current_version"] else "还没有，点这里开始"


def _tiles(db, village_code, role):
    return [kinds.Tile("村规民约", url_for("rules.manage", village=village_code), rules_status(db, village_code), 40)]


def _tasks(db, village_code, role):
    """Versions whose next step is this person's, and (for the cadres) villagers' opinions to answer."""
    from jinja2.filters import do_truncate
    from flask import current_app
    from ..clock import cn_datetime
    from .town import versions_for
    tasks = [kinds.Task("待办理", f"村规民约第 {r['number']} 版等您办理：{r['step']}",
                        url_for("rules.version", village=village_code, uuid=r["uuid"]), order=10)
             for r in versions_for(db, role, [village_code])]
    if role == "cadre":
        tasks += [kinds.Task("待答复", "村规民约意见：" + do_truncate(current_app.jinja_env, o["body"], 40),
                             url_for("rules.answer", village=village_code, uuid=o["uuid"]),
                             f"{o['name'] or '未留姓名'} · {cn_datetime(o['created_at'])}", order=30)
                  for o in db["rule_opinions"].rows_where("village_code = ? and status = 'open'", [village_code],
                                                          order_by="created_at")]
    return tasks


def _public_rows(db, village_code):
    return [village_code]  # the link to the rulebook's public text is always there (it says when there is none yet)


def _public_example(db, village_code):
    """The link to the rulebook is shown; the name a villager left with an opinion on a draft is not."""
    from . import data
    version, _message = data.start_cycle(db, db["villages"].get(village_code), "system", reason="示例")
    data.add_opinion(db, version, "示例村民甲", "示例意见")
    return "村规民约全文", ["示例村民甲", "示例意见"]


def _town_tasks(db, role):
    """For the town desk: versions waiting for the town's approval or filing (the county sees them, read-only)."""
    from .town import versions_for
    return [kinds.Task("待办理", f"{r['village_name']} · 村规民约第 {r['number']} 版：{r['step']}",
                       url_for("rules.version", village=r["village_code"], uuid=r["uuid"]), order=10)
            for r in versions_for(db, "town")]


_STAGE_WORDS = " ".join(f"when '{stage}' then '{words}'" for stage, words in LABELS.items())
# where the rulebook stands today (the same words as the village's tile) and how old the version in force is
RULE_STATUS = ("max(coalesce((select '第 ' || r.number || ' 版：' || (case r.stage " + _STAGE_WORDS + " end)"
               " from rule_versions r where r.rulebook_uuid = x.uuid and r.stage != 'published' order by r.number desc limit 1),"
               " case when x.current_version then '现行第 ' || x.current_version || ' 版' end))")
RULE_AGE = ("max(cast((julianday(:day) - julianday((select coalesce(r.published_on, r.filed_on) from rule_versions r"
            " where r.rulebook_uuid = x.uuid and r.number = x.current_version))) / 30.4375 as integer))")
RULEBOOK = kinds.Kind(
    name="rulebook", table="rulebooks", label="村规民约", tiles=_tiles, tasks=_tasks, town_tasks=_town_tasks,
    figures=(kinds.Figure("rules_status", "现状", RULE_STATUS, "from rulebooks x", empty="还没有", total=None, shown="text"),
             kinds.Figure("rules_age", "现行版已用（月）", RULE_AGE, "from rulebooks x", empty=None, total="avg",
                          note="村规民约：现状是今天的；已用几个月从现行版公布那天算到今天。")),
    public=kinds.Public(query=_public_rows, template="rules/_public.html", order=10,
                        privacy="公布的条文人人可看；意见的姓名、办理经过只给村干部和镇里看",
                        example=_public_example),
    actions={"rule_start": "村规民约·开始", "rule_consultation": "村规民约·征集意见", "rule_draft": "村规民约·草案",
             "rule_review": "村规民约·法律顾问审查", "rule_approval": "村规民约·镇审核", "rule_vote": "村规民约·表决",
             "rule_filing": "村规民约·备案", "rule_publish": "村规民约·公布", "rule_import": "村规民约·导入原有版本",
             "rule_import_confirmed": "村规民约·镇确认导入", "rule_import_returned": "村规民约·镇退回导入"},
    tables={"rulebooks": "村规民约", "rule_versions": "村规民约的一版", "rule_steps": "村规民约办理经过",
            "rule_opinions": "村规民约意见"},
    fields={"number": "版本号", "base_number": "修订自", "stage": "办理到", "agenda_item": "议题", "filing_no": "备案号",
            "origin": "来源", "adopted_on": "原通过日期", "adopted_meeting": "原通过的会议", "return_reason": "镇里退回的理由",
            "preamble": "序言", "effective_on": "施行日期",
            "filed_on": "备案日期", "published_on": "公布日期", "current_version": "现行版本", "rulebook_uuid": "村规民约",
            "version_uuid": "版本"},
    values={"stage": LABELS, "origin": {"imported": "导入的原有版本"},
            "status": {"open": "待答复", "answered": "已答复", "adopted": "已采纳"}},
    lists=(lists.VERSIONS, lists.ARTICLES),
    demo=kinds.later("villageapp.rules.demo", "build"))

from . import drafts  # noqa: E402  (the article kind, synced)

FEATURE = kinds.Feature("rules", bp, (RULEBOOK, drafts.ARTICLE))

from . import import_views, town, views  # noqa: E402,F401  (views register on bp)
