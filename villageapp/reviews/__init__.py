"""道德评议: the 道德评议会's sessions (linked to their minutes) and its cases — drafted on a phone (offline, through the
sync engine), then voted, told, replied to, appealed (复评, within the town's window), visited (回访) and closed
(procedure.py). Praise reaches the village's public 红榜 only with the subject's consent (or as 某户); criticism never
leaves the village's cadres and the town (the legal adviser sees a case only when the town opens it to them)."""
from flask import Blueprint, url_for

from .. import kinds
from . import lists
from .data import CONCLUSIONS, KINDS, SESSION_KINDS, SOURCES
from .forms import case_columns, case_payload, make_case_form
from .procedure import OUTCOMES, STAGES, STEPS

bp = Blueprint("reviews", __name__)
READERS = ("cadre", "adviser", "town")  # and the adviser only for cases the town opened to them (data.can_read)


def _new_case_pages(db, village_code):
    """The new-case form: a council member writes the facts in a household's yard, with no signal."""
    return [url_for("reviews.new", village=village_code)]


def _example(db, village_code):
    """Praise of the village's first household (one is registered for the example when there is none)."""
    from .forms import subjects
    if not subjects(db, village_code):
        from ..registry import add_household
        add_household(db, village_code, "一组", "示例户主", "system")
    subject = subjects(db, village_code)[0][0]
    return [["subject", subject], ["kind", "praise"], ["category", "孝老爱亲"],
            ["facts", "常年照顾瘫痪在床的婆婆，邻里称赞。"], ["source", "member"], ["source_name", "李会长"]]


def _tiles(db, village_code, role):
    if role not in READERS:
        return []
    open_count = db.execute("select count(*) from review_cases where village_code = ? and stage != 'closed'"
                            + (" and adviser_granted = 1" if role == "adviser" else ""), [village_code]).fetchone()[0]
    tiles = [kinds.Tile("道德评议", url_for("reviews.index", village=village_code), f"{open_count} 件在办", 45)]
    if role == "cadre":
        tiles.insert(0, kinds.Tile("＋ 记一件评议", url_for("reviews.new", village=village_code), "表扬或批评，当场记", 44))
    return tiles


def _tasks(db, village_code, role):
    """For the cadres: cases waiting for their next step, and 帮教 cases whose follow-up visit is overdue."""
    from .data import overdue_visits
    if role != "cadre":
        return []
    waiting = {"new": "待评议", "reviewed": "待告知本人", "appealed": "待复评"}
    tasks = [kinds.Task(waiting[c["stage"]], f"道德评议：{c['subject_name']} · {c['category']}",
                        url_for("reviews.show", village=village_code, uuid=c["uuid"]), order=35)
             for c in db["review_cases"].rows_where("village_code = ? and stage in ('new', 'reviewed', 'appealed')",
                                                    [village_code], order_by="created_at")]
    return tasks + [kinds.Task("该回访了", f"帮教：{c['subject_name']}（上次 {c['told_on']} 后没有回访）",
                               url_for("reviews.show", village=village_code, uuid=c["uuid"]), order=36)
                    for c in overdue_visits(db, village_code)]


def _public_rows(db, village_code):
    from .data import red_list
    return red_list(db, village_code)


def _public_example(db, village_code):
    """Three praised subjects and one criticised: only the one who consented is named; criticism never shows."""
    from ..steps import Actor
    from .. import records
    from .data import add_session
    from .procedure import take_step
    user = Actor("system", "cadre")
    names = ["示例甲", "示例乙", "示例丙", "示例丁"]
    houses = list(db["households"].rows_where("village_code = ?", [village_code], limit=4))
    if len(houses) < 4:
        from ..registry import add_household
        houses = [add_household(db, village_code, "一组", name, "system") for name in names]
    meeting = _example_meeting(db, village_code)
    session = add_session(db, village_code, {"title": "示例评议会", "kind": "ad_hoc", "held_on": meeting["starts_at"][:10],
                                             "meeting_uuid": meeting["uuid"]}, "system")
    cases = []
    for house, name, kind, category in zip(houses, names, ("praise", "praise", "praise", "criticism"),
                                           ("孝老爱亲", "邻里和睦", "诚实守信", "赌博"), strict=True):
        row, _ = records.create(db, "review_cases", {
            "village_code": village_code, "subject_type": "household", "subject_uuid": house["uuid"],
            "household_uuid": house["uuid"], "subject_name": name, "kind": kind, "category": category,
            "facts": f"{name}的事实经过", "source": "member", "photos": "[]"}, "system")
        cases.append(take_step(db, row, "vote", user, session=session["uuid"], votes_for=meeting["present"],
                               conclusion="praise" if kind == "praise" else "education"))
    take_step(db, cases[0], "consent", user, action="given", by_name="示例甲", how="书面签字", done_on=session["held_on"])
    take_step(db, cases[1], "consent", user, action="given", by_name="示例乙", how="书面签字", done_on=session["held_on"])
    take_step(db, cases[1], "consent", user, action="withdrawn", by_name="示例乙", done_on=session["held_on"])
    return "示例甲", ["示例乙", "示例丙", "示例丁", "赌博", "示例丁的事实经过"]


def _example_meeting(db, village_code):
    """Confirmed minutes of the village's 道德评议会 with three present (for the examples)."""
    from .. import records
    from ..councils import data as councils
    from ..meetings.forms import formdata, make_meeting_form, meeting_columns
    council = councils.council_by_name(db, village_code, "道德评议会") or next(
        c for c in councils.ensure_councils(db, village_code, "system") if c["name"] == "道德评议会")
    form = make_meeting_form(db, village_code, formdata([
        ["council", council["uuid"]], ["date", "2026-01-10"], ["time", "09:00"], ["present", "3"],
        ["agenda-0-title", "道德评议"]]))
    assert form.validate(), form.errors
    return records.create(db, "meetings", {**meeting_columns(form), "village_code": village_code}, "system")[0]


def _town_tasks(db, role):
    """For the town desk: 帮教 cases whose follow-up visit is overdue, and appeals (复评) under way. The county reads
    no case (least access): it is told how many, with no name and no link."""
    from ..clock import today
    from .data import setting
    from datetime import timedelta
    limit = (today() - timedelta(days=int(setting(db, "review_visit_days")))).isoformat()
    overdue = list(db.query("""select * from (select c.uuid, c.village_code, c.subject_name, v.name as village_name,
                coalesce((select max(s.done_on) from review_steps s where s.case_uuid = c.uuid and s.step = 'visit'),
                         c.told_on, c.reviewed_on) as last
            from review_cases c join villages v on v.code = c.village_code
            where c.conclusion = 'help' and c.stage in ('told', 'appealed')) where last < ? order by last""", [limit]))
    appealed = list(db.query("""select c.uuid, c.village_code, c.subject_name, c.appeal_on, v.name as village_name
            from review_cases c join villages v on v.code = c.village_code where c.stage = 'appealed'
            order by c.appeal_on"""))
    if role not in READERS:
        return ([kinds.Task("该回访了", f"道德评议：{len(overdue)} 件帮教逾期没有回访", "", "由镇里和村里办理", current=False,
                            order=36)] if overdue else []) + (
            [kinds.Task("复评中", f"道德评议：{len(appealed)} 件在复评", "", "由镇里和村里办理", current=False, order=37)]
            if appealed else [])
    return [kinds.Task("该回访了", f"{c['village_name']} · 帮教：{c['subject_name']}（上次 {c['last']} 后没有回访）",
                       url_for("reviews.show", village=c["village_code"], uuid=c["uuid"]), order=36) for c in overdue] + [
        kinds.Task("复评中", f"{c['village_name']} · 道德评议复评：{c['subject_name']}",
                   url_for("reviews.show", village=c["village_code"], uuid=c["uuid"]), f"{c['appeal_on']} 申请复评",
                   "tag-notice", current=False, order=37) for c in appealed]


# a case is opened on the earliest day known of it: the day it was written down or, if earlier, the day it was voted
OPENED = "min(substr(x.created_at, 1, 10), coalesce(x.reviewed_on, '9999'))"
# (a case opened on or after :start was written down on or after it: the cases since :start and those closed in the
# period are read through their indexes, m014, not the town's whole history)
CASES = ("from (select * from review_cases where created_at >= :start union"
         " select * from review_cases where closed_on >= :start and closed_on < :end) x"
         f" where ({OPENED} >= :start and {OPENED} < :end) or (x.closed_on >= :start and x.closed_on < :end)")
REVIEW = kinds.Kind(
    name="review", table="review_cases", label="道德评议", form=make_case_form, to_record=case_columns,
    to_payload=case_payload, example=_example, files="photos", readers=READERS,
    locked=lambda row: row["stage"] != "new",
    url=lambda row: url_for("reviews.show", village=row["village_code"], uuid=row["uuid"]),
    review_url=lambda row, revision: url_for("reviews.show", village=row["village_code"], uuid=row["uuid"]),
    offline_pages=_new_case_pages, tiles=_tiles, tasks=_tasks, town_tasks=_town_tasks,
    public=kinds.Public(query=_public_rows, template="reviews/_public.html", order=30, example=_public_example,
                        privacy="红榜只列评议通过的表扬：本人同意的写名字，没同意而评议会要公开的写“某户”；批评和黑榜从不公开"),
    figures=(kinds.Figure("reviews_opened", "新案", f"count(*) filter (where {OPENED} >= :start and {OPENED} < :end)",
                          CASES),
             kinds.Figure("reviews_closed", "结案", "count(*) filter (where x.closed_on >= :start and x.closed_on < :end)",
                          CASES, note="道德评议：新案按最早的日子算（记下或评议的那天），结案按结案日期算。")),
    export=(("对象", "subject_name"), ("表扬/批评", lambda r: KINDS[r["kind"]]), ("类别", "category"), ("事实", "facts"),
            ("提出", lambda r: SOURCES.get(r["source"], "")), ("进度", lambda r: STAGES[r["stage"]]),
            ("结论", lambda r: CONCLUSIONS.get(r["conclusion"] or "", "")), ("评议日期", "reviewed_on"),
            ("告知日期", "told_on"), ("复评", lambda r: OUTCOMES.get(r["appeal_outcome"] or "", "")), ("结案日期", "closed_on")),
    actions={f"review_{step}": f"道德评议·{words}" for step, (words, _roles, _stages) in STEPS.items()}
    | {"review_settings": "道德评议·设置"},
    tables={"review_cases": "道德评议", "review_sessions": "道德评议会", "review_steps": "道德评议办理经过",
            "review_consents": "红榜公开同意", "town_settings": "镇里的设置"},
    fields={"subject_type": "对象类别", "subject_uuid": "对象", "subject_name": "评议对象", "facts": "事实经过",
            "source": "谁提出的", "source_name": "提出人", "session_uuid": "评议会", "votes_for": "同意",
            "votes_against": "反对", "votes_abstain": "弃权", "conclusion": "结论", "help_plan": "帮教计划", "helper": "帮教人",
            "reviewed_on": "评议日期", "told_on": "告知日期", "told_how": "告知方式", "reply": "本人意见",
            "replied_on": "意见日期", "appeal_on": "申请复评日期", "appeal_reason": "复评理由", "appeal_outcome": "复评结果",
            "appeal_note": "复评说明", "appeal_decided_on": "复评日期", "closed_on": "结案日期", "close_note": "结案说明",
            "consent": "红榜公开同意", "public_anonymous": "不具名公开", "adviser_granted": "法律顾问可看", "held_on": "评议日期",
            "key": "设置项", "value": "设置值", "action": "同意或撤回", "by_name": "谁", "how": "方式", "on_date": "日期",
            "recorded_by": "记录人", "data": "内容", "step": "步骤", "done_on": "日期", "case_uuid": "评议", "actor": "办理人"},
    values={"stage": STAGES, "kind": KINDS, "conclusion": CONCLUSIONS,
            "consent": {"none": "未同意", "given": "同意", "withdrawn": "已撤回"},
            "appeal_outcome": OUTCOMES, "public_anonymous": {0: "否", 1: "是"}, "adviser_granted": {0: "否", 1: "是"},
            "subject_type": {"household": "户", "resident": "村民"}, "source": SOURCES},
    lists=(lists.LIST,),
    demo=kinds.later("villageapp.reviews.demo", "build"))
SESSION = kinds.Kind(name="review_session", table="review_sessions", label="道德评议会", readers=READERS,
                     values={"kind": SESSION_KINDS})
FEATURE = kinds.Feature("reviews", bp, (REVIEW, SESSION))

from . import views  # noqa: E402,F401  (views register on bp)
