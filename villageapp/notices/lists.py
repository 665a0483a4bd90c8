"""The town's exported lists of 村务公开 (kinds.Listing): every village's notices (with their photos as a zip) and the
objections villagers filed (name and phone: personal). The queries run while the file streams: their own store,
nothing from Flask."""

from .. import kinds
from ..exports.filters import sql_where, until
from .data import CATEGORIES

NOTICE_STATES = {"published": "已发布", "withdrawn": "已撤回"}
OBJECTION_STATES = {"open": "待答复", "answered": "已答复"}






def notices(db, filters):
    """The notices the filters select (village, 公开日期, 类别, 状态), oldest first."""
    where, params = sql_where((("n.village_code = ?", filters["village_code"]),
                            ("n.publish_date >= ?", filters["start"] and filters["start"].isoformat()),
                            ("n.publish_date <= ?", filters["end"] and filters["end"].isoformat()),
                            ("n.category = ?", filters.get("category")), ("n.status = ?", filters.get("status"))))
    yield from db.query(f"""select n.uuid, n.village_code, v.name as village_name, n.title, n.category, n.publish_date,
            n.end_date, n.status,
            (select count(*) from attachments a where a.record_uuid = n.uuid) as files,
            coalesce(o.objections, 0) as objections
        from notices n join villages v on v.code = n.village_code
        left join (select notice_uuid, count(*) as objections from objections group by notice_uuid) o
            on o.notice_uuid = n.uuid{where}
        order by n.publish_date, n.created_at""", params)


def notice_photos(db, row):
    """The notice's image attachments (a scanned 公示, a photo of the 公开栏), in the order they were added."""
    return db.query("select content_type, data from attachments where record_uuid = ? and content_type like 'image/%' "
                    "order by created_at, filename", [row["uuid"]])


NOTICE_COLUMNS = (
    ("村（社区）", "village_name"), ("标题", "title"), ("类别", "category"), ("公开日期", "publish_date", "date"),
    ("公示截止", "end_date", "date"), ("状态", lambda r: NOTICE_STATES.get(r["status"], r["status"])),
    ("附件", "files", "int"), ("异议", "objections", "int"))
NOTICES = kinds.Listing(
    "notices", "村务公开", NOTICE_COLUMNS, notices, dated="公开日期", personal=False, order=30,
    choices={"category": ("类别", {c: c for c in CATEGORIES}), "status": ("状态", NOTICE_STATES)},
    photos=notice_photos, photo_title=lambda row: (row["publish_date"], row["title"]))


def _minute(at):
    """An ISO time as 2026-03-04 09:30 (as the pages say it, and as Excel reads a date and time)."""
    return at[:16].replace("T", " ") if at else None


def objections(db, filters):
    """The objections the filters select (village, 提出时间, 状态), oldest first, with the notice they are about."""
    where, params = sql_where((("o.village_code = ?", filters["village_code"]),
                            ("o.created_at >= ?", filters["start"] and filters["start"].isoformat()),
                            ("o.created_at < ?", until(filters["end"])), ("o.status = ?", filters.get("status"))))
    yield from db.query(f"""select o.uuid, o.village_code, v.name as village_name, n.title as notice_title, n.end_date,
            o.created_at, o.name, o.phone, o.body, o.status, o.answer, o.answered_at
        from objections o join notices n on n.uuid = o.notice_uuid join villages v on v.code = o.village_code{where}
        order by o.created_at""", params)


OBJECTION_COLUMNS = (
    ("村（社区）", "village_name"), ("对哪条公开", "notice_title"), ("公示截止", "end_date", "date"),
    ("提出时间", lambda r: _minute(r["created_at"]), "datetime"), ("姓名", lambda r: r["name"] or "未留姓名"), ("电话", lambda r: r["phone"] or ""),
    ("异议内容", "body"), ("状态", lambda r: OBJECTION_STATES.get(r["status"], r["status"])),
    ("答复", lambda r: r["answer"] or ""), ("答复时间", lambda r: _minute(r["answered_at"]), "datetime"))
OBJECTIONS = kinds.Listing(
    "objections", "村民异议", OBJECTION_COLUMNS, objections, dated="提出时间", readers=("town", "county"), order=31,
    choices={"status": ("状态", OBJECTION_STATES)})
