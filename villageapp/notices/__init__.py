"""村务公开: notices per village, 公示 periods with objections (异议), the public village page
and the printable QR poster."""
from flask import Blueprint, url_for

from .. import kinds
from . import lists

bp = Blueprint("notices", __name__)


def _open_notices(db, village_code):
    from ..clock import today
    return list(db["notices"].rows_where("village_code = ? and status = 'published' and category = '公示' and end_date >= ?",
                                         [village_code, today().isoformat()], order_by="end_date"))


def _notice_tiles(db, village_code, role):
    count = db.execute("select count(*) from notices where village_code = ? and status = 'published'",
                       [village_code]).fetchone()[0]
    tiles = [kinds.Tile("发布公开", url_for("notices.new", village=village_code), "村务、财务、公示", 60)] if role == "cadre" else []
    tiles.append(kinds.Tile("村务公开", url_for("notices.manage", village=village_code), f"已发 {count} 条", 70))
    if role != "adviser":
        tiles.append(kinds.Tile("二维码海报", url_for("notices.poster", village=village_code), "贴在公开栏", 100))
    return tiles + [kinds.Tile("看公开页", url_for("notices.village_page", village=village_code), "村民看到的样子", 110)]


def _notice_tasks(db, village_code, role):
    """For the cadres: the 公示 running now, to watch for objections."""
    from ..clock import cn_date
    if role != "cadre":
        return []
    return [kinds.Task("公示中", n["title"], url_for("notices.manage_show", village=village_code, uuid=n["uuid"]),
                       f"{cn_date(n['end_date'])} 截止", "tag-notice", current=False, order=50)
            for n in _open_notices(db, village_code)]


def _town_tasks(db, role):
    """For the town desk: objections still unanswered after their notice's 公示 ended."""
    from ..clock import cn_date, today
    rows = db.query("""select o.uuid, o.village_code, n.title, n.end_date, v.name as village_name from objections o
        join notices n on n.uuid = o.notice_uuid join villages v on v.code = o.village_code
        where o.status = 'open' and n.end_date < ? order by n.end_date, o.created_at""", [today().isoformat()])
    return [kinds.Task("异议未答复", f"{r['village_name']} · 「{r['title']}」公示已结束，异议还没答复",
                       url_for("notices.objection", village=r["village_code"], uuid=r["uuid"]),
                       f"{cn_date(r['end_date'])} 公示结束", order=40) for r in rows]


def _public_rows(db, village_code):
    from .data import public_notices
    return public_notices(db, village_code)


def _public_example(db, village_code):
    """A notice published today is shown; one withdrawn and one dated next week are not."""
    from datetime import timedelta
    from ..clock import today
    from . import data
    day = today()
    data.create_notice(db, village_code, {"title": "示例：今天公开的通知", "category": "村务", "body": "公开",
                                          "publish_date": day.isoformat(), "end_date": None}, [], "system")
    later, _ = data.create_notice(db, village_code, {"title": "示例：下周才公开的通知", "category": "村务", "body": "未到日期",
                                                     "publish_date": (day + timedelta(days=7)).isoformat(), "end_date": None},
                                  [], "system")
    withdrawn, _ = data.create_notice(db, village_code, {"title": "示例：已撤回的通知", "category": "村务", "body": "撤回",
                                                         "publish_date": day.isoformat(), "end_date": None}, [], "system")
    data.withdraw_notice(db, withdrawn["uuid"], "system")
    return "示例：今天公开的通知", ["示例：下周才公开的通知", "示例：已撤回的通知"]


def _objections(db, village_code):
    return list(db["objections"].rows_where("village_code = ? and status = 'open'", [village_code], order_by="created_at"))


def _objection_tiles(db, village_code, role):
    if role == "adviser":
        return []
    return [kinds.Tile("村民异议", url_for("notices.objections", village=village_code),
                       f"{len(_objections(db, village_code))} 条待答复", 80)]


def _objection_tasks(db, village_code, role):
    from jinja2.filters import do_truncate
    from flask import current_app
    from ..clock import cn_datetime
    if role != "cadre":
        return []
    return [kinds.Task("待答复", "异议：" + do_truncate(current_app.jinja_env, o["body"], 40),
                       url_for("notices.objection", village=village_code, uuid=o["uuid"]), cn_datetime(o["created_at"]),
                       order=40) for o in _objections(db, village_code)]


# the desk's figures for a period: notices published in it; objections filed in it (and of those, still unanswered)
PUBLISHED = "from notices x where x.status = 'published' and x.publish_date >= :start and x.publish_date < :end"
FILED = "from objections x where x.created_at >= :start and x.created_at < :end"
NOTICE = kinds.Kind(
    name="notice", table="notices", label="村务公开", tiles=_notice_tiles, tasks=_notice_tasks,
    public=kinds.Public(query=_public_rows, template="notices/_public.html", order=20,
                        privacy="已发布、到了公开日期的才给村民看；撤回的、未到日期的不公开",
                        paths=("", r"notices/[0-9a-f-]{36}"), example=_public_example),
    figures=(kinds.Figure("notices", "发布", "count(*)", PUBLISHED),
             kinds.Figure("notices_publicity", "其中公示", "count(*) filter (where x.category = '公示')", PUBLISHED)),
    export=(("标题", "title"), ("类别", "category"), ("公开日期", "publish_date"), ("截止日期", "end_date"), ("内容", "body")),
    lists=(lists.NOTICES,),
    tables={"notices": "公开"},
    fields={"category": "类别", "publish_date": "公开日期", "end_date": "截止日期", "notice_uuid": "公开"},
    values={"status": {"published": "已发布", "withdrawn": "已撤回"}},
    demo=kinds.later("villageapp.notices.demo", "build"))
OBJECTION = kinds.Kind(
    name="objection", table="objections", label="异议", readers=("cadre", "town", "county"),
    tiles=_objection_tiles, tasks=_objection_tasks, town_tasks=_town_tasks,
    figures=(kinds.Figure("objections", "收到异议", "count(*)", FILED, group="村务公开"),
             kinds.Figure("objections_open", "异议待答复", "count(*) filter (where x.status = 'open')", FILED,
                          group="村务公开", alert=True)),
    export=(("提出时间", "created_at"), ("异议内容", "body"), ("状态", "status"), ("答复", "answer"), ("答复时间", "answered_at")),
    lists=(lists.OBJECTIONS,),
    tables={"objections": "异议"}, values={"status": {"open": "待答复", "answered": "已答复"}})
FEATURE = kinds.Feature("notices", bp, (NOTICE, OBJECTION))

from . import views  # noqa: E402,F401  (views register on bp)
