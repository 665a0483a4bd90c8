"""Notice and objection data functions: what is public when, and the 公示 period arithmetic."""
from .. import attachments, records
from ..clock import now_iso, parse_date, today
from ..store import write

CATEGORIES = ["村务", "党务", "财务", "公示"]


def create_notice(db, village_code, fields, files, actor):
    """fields: title, category, body, publish_date, end_date, uuid. files: [(filename, type, bytes)] already checked."""
    with write(db):
        row, created = records.create(db, "notices", {**fields, "village_code": village_code,
                                                      "status": "published"}, actor, action="publish")
        if created:
            for filename, content_type, data in files:
                attachments.add(db, row["uuid"], filename, content_type, data, actor)
    return row, created


def update_notice(db, uuid, fields, files, actor):
    with write(db):
        row = records.update(db, "notices", uuid, fields, actor)
        for filename, content_type, data in files:
            attachments.add(db, uuid, filename, content_type, data, actor)
    return row


def withdraw_notice(db, uuid, actor):
    """Withdraw a published notice; None if it is no longer published (two cadres withdrawing at once: one does)."""
    with write(db):
        if db["notices"].get(uuid)["status"] != "published":
            return None
        return records.update(db, "notices", uuid, {"status": "withdrawn"}, actor, action="withdraw", summary="撤回公开")


def is_public(notice, day=None):
    day = (day or today()).isoformat()
    return notice["status"] == "published" and notice["publish_date"] <= day


def in_notice_period(notice, day=None):
    """True while a 公示 is running: objections are taken from the publish date to the end date inclusive."""
    day = (day or today()).isoformat()
    return (is_public(notice) and notice["category"] == "公示" and notice["end_date"] is not None
            and notice["publish_date"] <= day <= notice["end_date"])


def days_left(notice, day=None):
    return (parse_date(notice["end_date"]) - (day or today())).days


def public_notices(db, village_code, limit=30):
    """(running 公示 with soonest end first, other public notices newest first)."""
    day = today().isoformat()
    rows = list(db["notices"].rows_where("village_code = ? and status = 'published' and publish_date <= ?",
                                         [village_code, day], order_by="publish_date desc, created_at desc",
                                         limit=limit + 20))
    running = sorted((n for n in rows if in_notice_period(n)), key=lambda n: n["end_date"])
    others = [n for n in rows if not in_notice_period(n)][:limit]
    return running, others


def file_objection(db, notice, fields):
    """A villager's objection to a running 公示; anonymous unless they leave a name."""
    row, _ = records.create(db, "objections", {**fields, "village_code": notice["village_code"],
                                               "notice_uuid": notice["uuid"], "status": "open"}, None)
    return row


def answer_objection(db, uuid, answer, actor):
    return records.update(db, "objections", uuid, {"answer": answer, "status": "answered", "answered_by": actor,
                                                   "answered_at": now_iso()}, actor, action="answer",
                          summary="答复异议")
