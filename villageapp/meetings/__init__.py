"""Meetings and minutes (会议记录) of a village's councils — drafted on a phone (offline through the sync engine),
confirmed and locked, corrected only by amendment — the 四议两公开 decision trails, and the town's overview.
Who may do what: the village's cadres write; the legal adviser, town staff and the county read everything
(the adviser checks that decisions such as a 村规民约 vote were taken with a quorum), and nobody else sees minutes."""
from flask import Blueprint, url_for

from .. import attachments, kinds
from ..councils.data import COUNCIL_NAMES
from .data import STATES
from .quorum import BASES
from .forms import make_meeting_form, meeting_columns, meeting_payload

bp = Blueprint("meetings", __name__)


def _new_minutes_pages(db, village_code):
    """The "which council?" page and every council's new-minutes form: a cadre can start any minutes with no signal."""
    from ..councils import data as councils
    rows = councils.councils(db, village_code)
    return [url_for("meetings.new", village=village_code)] + [
        url_for("meetings.new_for", village=village_code, council=c["uuid"]) for c in rows]


def _example(db, village_code):
    """New minutes of the village's 村民代表会议 as its page starts them, with one agenda item."""
    from ..councils import data as councils
    from .data import new_payload
    council = councils.ensure_councils(db, village_code, "system")[0]
    return new_payload(db, village_code, council) + [["host", "王书记"], ["recorder", "李文书"], ["present", "1"],
                                                      ["agenda-0-title", "修路"], ["agenda-0-decision", "同意修路"]]


def _tiles(db, village_code, role):
    from .data import to_do
    waiting = to_do(db, village_code) if role == "cadre" else []
    tiles = [kinds.Tile("＋ 记一次会", url_for("meetings.new", village=village_code), "开会时当场填写", 10)] if role == "cadre" else []
    return tiles + [kinds.Tile("会议记录", url_for("meetings.index", village=village_code),
                               "已记的会" + (f"，{len(waiting)} 份待确认或处理" if waiting else ""), 20)]


def _tasks(db, village_code, role):
    """For the cadres: drafts to confirm and records that need a person."""
    from ..clock import cn_date
    from .data import to_do
    if role != "cadre":
        return []
    return [kinds.Task("需处理" if m["conflict"] else "草稿",
                       f"{m['council_name']}会议记录{'' if m['conflict'] else '，核对后请确认'}",
                       url_for("meetings.show", village=village_code, uuid=m["uuid"]),
                       f"{cn_date(m['starts_at'][:10])} {m['starts_at'][11:16]}",
                       "tag-open" if m["conflict"] else "tag-finance", order=60) for m in to_do(db, village_code)]


def _town_tasks(db, role):
    """For the town desk: follow-up actions of confirmed minutes past their 期限 and not done."""
    from ..clock import cn_date, today
    rows = db.query("""select m.uuid, m.village_code, v.name as village_name, c.name as council_name, a.task, a.owner, a.due
        from meeting_actions a join meetings m on m.uuid = a.meeting_uuid join villages v on v.code = a.village_code
            join councils c on c.uuid = m.council_uuid
        where not a.done and a.due < :day order by a.due, m.starts_at""", {"day": today().isoformat()})
    return [kinds.Task("逾期", f"{r['village_name']} · {r['council_name']}会后要办的事：{r['task']}",
                       url_for("meetings.show", village=r["village_code"], uuid=r["uuid"]),
                       f"期限 {cn_date(r['due'])}" + (f" · {r['owner']}负责" if r["owner"] else ""), order=60)
            for r in rows]


# a council met in the period: it has confirmed minutes dated in it (drafts do not count)
MET = ("exists (select 1 from meetings m where m.council_uuid = x.uuid and m.state != 'draft'"
       " and m.starts_at >= :start and m.starts_at < :end)")


def _listing(db, village_code, **filters):
    from .data import listing
    return listing(db, village_code, limit=100000, **filters)


def _selected(db, f):
    from .data import selected
    return selected(db, f["village_code"], f["council"], f["start"], f["end"], f["state"])


def _photo_title(row):
    return row["starts_at"][:10], "-".join([row["council_name"], *row["titles"][:1]])


def _starts(row):
    """开会时间 as the minutes say it: a 补录 from paper has a day and no hour."""
    return row["starts_at"][:10] if row.get("paper") else row["starts_at"].replace("T", " ")


COLUMNS = (("村（社区）", "village_name"), ("会", "council_name"), ("开会时间", _starts, "datetime"),
           ("地点", lambda r: r["place"] or ""), ("主持人", "host"), ("记录人", "recorder"),
           ("实到人数", lambda r: r["present"] or 0, "int"), ("议题", lambda r: "；".join(r["titles"])),
           ("状态", "state_label"), ("版本", lambda r: f"第 {r['edition']} 版" if r["edition"] else ""),
           ("补录", lambda r: "纸质补录" if r.get("paper") else ""))
LIST = kinds.Listing(
    "meetings", "会议记录", COLUMNS, _selected, dated="开会时间", order=10,
    choices={"council": ("会", {name: name for name in COUNCIL_NAMES}), "state": ("状态", STATES)},
    photos=lambda db, row: attachments.linked_files(db, row["uuid"]), photo_title=_photo_title)


def _trail_tiles(db, village_code, role):
    return [kinds.Tile("四议两公开", url_for("meetings.trails_index", village=village_code), "大事六步走", 50)]


MEETING = kinds.Kind(
    name="meeting", table="meetings", label="会议记录", form=make_meeting_form, to_record=meeting_columns,
    to_payload=meeting_payload, example=_example, files="photos",
    locked=lambda row: row["state"] != "draft",
    url=lambda row: url_for("meetings.show", village=row["village_code"], uuid=row["uuid"]),
    review_url=lambda row, revision: url_for("meetings.amend", village=row["village_code"], uuid=row["uuid"],
                                             revision=revision["id"]),
    offline_pages=_new_minutes_pages, tiles=_tiles, tasks=_tasks, town_tasks=_town_tasks,
    figures=(kinds.Figure("councils_met", "开了会", f"count(*) filter (where {MET})", "from councils x", group="开会"),
             kinds.Figure("councils_unmet", "没开会", f"count(*) filter (where not {MET})", "from councils x", group="开会",
                          note="开会：本村的会（一约四会、村民会议等）在这段时间里有没有已确认的会议记录，草稿不算。")),
    rows=lambda db, village_code: _listing(db, village_code),
    export=COLUMNS, lists=(LIST,),
    tables={"meetings": "会议记录", "meeting_editions": "会议记录的更正", "meeting_actions": "会后要办的事"},
    fields={"state": "状态", "starts_at": "开会时间", "place": "地点", "host": "主持人", "recorder": "记录人",
            "attendees": "到会", "others": "列席", "absentees": "缺席", "present": "实到人数", "eligible": "应到人数",
            "eligible_basis": "应到人数依据", "agenda": "议题", "photos": "照片", "edition": "版次",
            "confirmed_at": "确认时间", "confirmed_by": "确认人", "amend_reason": "更正理由", "meeting_uuid": "会议",
            "paper": "补录", "paper_note": "补录备注"},
    actions={"paper": "补录纸质会议记录"},
    values={"state": {"draft": "草稿", "confirmed": "已确认", "amended": "已更正"},
            "eligible_basis": BASES, "paper": {0: "否", 1: "是，照纸质记录补录"}},
    demo=kinds.later("villageapp.meetings.demo", "build"))
TRAIL = kinds.Kind(name="trail", table="trails", label="四议两公开", tiles=_trail_tiles,
                   tables={"trails": "四议两公开", "trail_steps": "四议两公开的一步"}, fields={"matter": "事项"})
FEATURE = kinds.Feature("meetings", bp, (MEETING, TRAIL))


from . import town, trail_views, views  # noqa: E402,F401  (views register on bp)
from . import paper  # noqa: F401  (补录纸质会议记录)
