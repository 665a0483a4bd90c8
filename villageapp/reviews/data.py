"""道德评议 data: the town's settings (categories, appeal window), sessions, cases and who may see them, the public 红榜,
a subject's history and the town's figures. Steps that change a case are in procedure.py; drafting goes through sync."""
import json
from datetime import date, timedelta

from .. import records
from ..clock import now_iso, today
from ..store import write

KINDS = {"praise": "表扬", "criticism": "批评"}
CONCLUSIONS = {"praise": "表扬", "education": "批评教育", "help": "帮教", "dismissed": "未通过", "revoked": "复评撤销"}
SOURCES = {"member": "评议会成员提出", "report": "村民反映"}
SESSION_KINDS = {"half_year": "半年评议", "ad_hoc": "临时评议"}
TOLD_HOW = ["当面告知", "上门告知", "书面告知", "电话告知"]
CONSENT_HOW = ["当面口头同意", "书面签字", "电话同意", "家属代为同意"]
DEFAULTS = {  # a town changes these on its settings page; a case keeps the words it was filed with
    "review_categories": {"praise": ["孝老爱亲", "邻里和睦", "诚实守信", "移风易俗", "环境卫生", "热心公益"],
                          "criticism": ["不赡养老人", "大操大办", "赌博", "乱倒垃圾", "邻里纠纷"]},
    "review_appeal_days": 15,
    "review_visit_days": 30,   # a 帮教 case not visited for this many days is overdue
}
# who may open a case: the village's cadres (the 道德评议会 members who hold an account are the village's cadres) and the
# town; the legal adviser only for a case the town has opened to them; nobody else (the county included: PIPL, least access)
READERS = ("cadre", "adviser", "town")


# ---- the town's settings -----------------------------------------------------------------------------------

def setting(db, key):
    row = db.execute("select value from town_settings where key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else DEFAULTS[key]


def save_setting(db, key, value, actor):
    from .. import audit
    with write(db):
        before = setting(db, key)
        db["town_settings"].upsert({"key": key, "value": json.dumps(value, ensure_ascii=False), "updated_at": now_iso(),
                                    "updated_by": actor}, pk="key")
        audit.record(db, actor, "review_settings", "town_settings", key, None, {"value": before}, {"value": value},
                     summary="修改道德评议设置")


def categories(db, kind=None):
    """The town's categories: {kind: [words]}, or the list of one kind."""
    cats = setting(db, "review_categories")
    return cats.get(kind, []) if kind else cats


# ---- sessions ------------------------------------------------------------------------------------------------

def sessions(db, village_code):
    """The village's review sessions, newest first, each with its minutes' present count (who attended is there)."""
    return list(db.query("""select s.*, m.present as present, m.state as meeting_state, m.starts_at as meeting_starts_at
        from review_sessions s left join meetings m on m.uuid = s.meeting_uuid
        where s.village_code = ? order by s.held_on desc, s.created_at desc""", [village_code]))


def session(db, village_code, uuid):
    return next((s for s in sessions(db, village_code) if s["uuid"] == uuid), None)


def review_meetings(db, village_code):
    """Minutes of the village's 道德评议会 (confirmed or draft), newest first: what a session links to."""
    return list(db.query("""select m.uuid, m.starts_at, m.state, m.present from meetings m
        join councils c on c.uuid = m.council_uuid
        where m.village_code = ? and c.name = '道德评议会' order by m.starts_at desc limit 50""", [village_code]))


def add_session(db, village_code, fields, actor):
    row, _ = records.create(db, "review_sessions", {**fields, "village_code": village_code}, actor,
                            summary=f"道德评议会：{fields['title']}")
    return row


# ---- cases and who sees them -------------------------------------------------------------------------------

def can_read(user, case):
    """May this signed-in person open this case? (The village scope is checked by @access before.)"""
    if user.role in ("cadre", "town"):
        return True
    return user.role == "adviser" and bool(case["adviser_granted"])


def cases(db, village_code, user=None, stage=None, kind=None):
    """The village's cases, newest first; for an adviser only those the town opened to them."""
    where, params = ["village_code = ?"], [village_code]
    if user is not None and user.role == "adviser":
        where.append("adviser_granted = 1")
    if stage == "open":
        where.append("stage != 'closed'")
    elif stage:
        where.append("stage = ?")
        params.append(stage)
    if kind:
        where.append("kind = ?")
        params.append(kind)
    return list(db["review_cases"].rows_where(" and ".join(where), params, order_by="created_at desc"))


def history(db, village_code, subject_uuid, user):
    """A person's or a household's cases (a household's include its members'), for those allowed to see them."""
    rows = db["review_cases"].rows_where("village_code = ? and (subject_uuid = ? or household_uuid = ?)",
                                         [village_code, subject_uuid, subject_uuid], order_by="created_at desc")
    return [r for r in rows if can_read(user, r)]


def steps(db, case_uuid):
    return [{**r, "data": json.loads(r["data"] or "{}")}
            for r in db["review_steps"].rows_where("case_uuid = ?", [case_uuid], order_by="id")]


def consents(db, case_uuid):
    return list(db["review_consents"].rows_where("case_uuid = ?", [case_uuid], order_by="id"))


def appeal_deadline(db, case):
    """The last day an appeal may be lodged: the town's number of days after the subject was told."""
    if not case["told_on"]:
        return None
    return date.fromisoformat(case["told_on"]) + timedelta(days=int(setting(db, "review_appeal_days")))


def last_visit(db, case_uuid):
    row = db.execute("select max(done_on) from review_steps where case_uuid = ? and step = 'visit'", [case_uuid]).fetchone()
    return row[0]


def overdue_visits(db, village_code, day=None):
    """帮教 cases still open whose last visit (or the telling, before any) is older than the town's visit interval."""
    limit = ((day or today()) - timedelta(days=int(setting(db, "review_visit_days")))).isoformat()
    return list(db.query("""select c.* from review_cases c where c.village_code = ? and c.conclusion = 'help'
        and c.stage in ('told', 'appealed') and coalesce((select max(s.done_on) from review_steps s
            where s.case_uuid = c.uuid and s.step = 'visit'), c.told_on, c.reviewed_on) < ?
        order by c.told_on""", [village_code, limit]))


# ---- public --------------------------------------------------------------------------------------------------

PRAISE_SHOWN = """kind = 'praise' and conclusion = 'praise' and stage in ('reviewed', 'told', 'closed')
    and (consent = 'given' or public_anonymous = 1)"""


ANONYMOUS = {"household": "某户", "resident": "某村民"}


def red_list(db, village_code, limit=50):
    """The 红榜 as anyone may see it: praise the council concluded, named only with the subject's consent (withdrawn
    consent takes the name off at once), else "某户" where the council wants the praise public; criticism never."""
    rows = db["review_cases"].rows_where(f"village_code = ? and {PRAISE_SHOWN}", [village_code],
                                         order_by="reviewed_on desc, created_at desc", limit=limit)
    return [{"name": r["subject_name"] if r["consent"] == "given" else ANONYMOUS[r["subject_type"]], "category": r["category"],
             "reviewed_on": r["reviewed_on"]} for r in rows]
