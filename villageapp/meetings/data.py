"""Meeting data functions: reading minutes for the pages, the defaults of a new record, confirming (locks it)
and amending (a new edition with a reason; every confirmed edition is kept whole in meeting_editions),
photos sent with the page, and the town's lists. Saving a draft goes through sync.apply_edit, not here."""
import json
from datetime import timedelta

from .. import attachments, records
from ..clock import now, now_iso, today
from ..councils import data as councils
from ..periods import BadPeriod, period_of
from ..store import write
from . import quorum

STATES = {"draft": "草稿", "confirmed": "已确认", "amended": "已更正"}
SNAPSHOT_SKIP = {"conflict"}


def meeting(db, village_code, uuid):
    return next(db["meetings"].rows_where("uuid = ? and village_code = ?", [uuid, village_code]), None)


def view(row, council_name):
    """A stored meeting (or a snapshot of one) decoded for the pages: lists, the quorum line, vote results."""
    m = dict(row)
    for key in ("attendees", "others", "absentees", "agenda", "photos"):
        m[key] = json.loads(row.get(key) or "[]")
    m["council_name"] = council_name
    m["quorum"] = quorum.quorum(council_name, m["eligible_basis"], m["eligible"], m["present"])
    m["basis_label"] = quorum.BASES.get(m["eligible_basis"] or "members", "")
    for item in m["agenda"]:
        item["voted"] = quorum.voted(item)
        item["passed"] = quorum.passes(item["votes_for"], m["present"]) if item["voted"] else None
    m["state_label"] = STATES[m["state"]]
    return m


def missing_for_confirm(row):
    """What a meeting record lacks before it may be confirmed (a draft may be incomplete, minutes may not)."""
    problems = []
    if not row["host"]:
        problems.append("主持人")
    if not row["recorder"]:
        problems.append("记录人")
    if not row["place"]:
        problems.append("地点")
    if not json.loads(row["agenda"] or "[]"):
        problems.append("至少一个议题")
    if not row["present"]:
        problems.append("到会人员")
    return problems


def confirm(db, row, actor):
    """Lock a draft as 第 1 版. Returns (row, message): message is the Chinese reason when it cannot be confirmed.
    Decided under the write lock on the row as it is then: two cadres confirming at once make one 第 1 版."""
    with write(db):
        row = db["meetings"].get(row["uuid"])
        if row["state"] != "draft":
            return row, "这份会议记录已经确认过了"
        if row["conflict"]:
            return row, "这份记录有一份别人同时修改的版本还没处理，请先处理再确认"
        missing = missing_for_confirm(row)
        if missing:
            return row, "还缺：" + "、".join(missing) + "。请先点“修改”补上"
        if row["starts_at"][:10] > today().isoformat():
            return row, "会还没开，开完会才能确认"
        row = records.update(db, "meetings", row["uuid"], {"state": "confirmed", "edition": 1, "confirmed_at": now_iso(),
                                                            "confirmed_by": actor}, actor, action="confirm",
                             summary="确认会议记录（第 1 版）")
        _snapshot(db, row, None)
    return row, None


def amend(db, row, columns, reason, actor):
    """A correction of confirmed minutes: the content changes, the edition goes up, the earlier edition stays readable."""
    if row["state"] == "draft":
        return row, "草稿还没确认，直接修改就可以"
    if all(row.get(k) == v for k, v in columns.items()):
        return row, "内容没有改动，不用更正"
    with write(db):  # `row` is what the cadre opened: two cadres correcting it at once make one 第 2 版
        current = db["meetings"].get(row["uuid"])
        if current["version"] != row["version"]:
            return current, "您打开这页之后，别人已经更正过这份记录。请看一下最新的内容再更正。"
        edition = (current["edition"] or 1) + 1
        row = records.update(db, "meetings", row["uuid"], {**columns, "state": "amended", "edition": edition,
                                                            "amend_reason": reason, "confirmed_at": now_iso(),
                                                            "confirmed_by": actor},
                             actor, action="amend", summary=f"更正会议记录（第 {edition} 版）：{reason}")
        attachments.link(db, "meetings", row["uuid"], row["village_code"], json.loads(row["photos"] or "[]"), actor)
        _snapshot(db, row, reason)
    return row, None


def keep_edition(db, row):
    """Keep 第 1 版 of minutes confirmed as they were stored (补录 from paper: paper.save_paper)."""
    _snapshot(db, row, None)


def _snapshot(db, row, reason):
    council = db["councils"].get(row["council_uuid"])
    snapshot = {k: v for k, v in row.items() if k not in SNAPSHOT_SKIP}
    snapshot["council_name"] = council["name"]
    db["meeting_editions"].insert({"meeting_uuid": row["uuid"], "edition": row["edition"],
                                   "snapshot": json.dumps(snapshot, ensure_ascii=False), "reason": reason,
                                   "confirmed_at": row["confirmed_at"], "confirmed_by": row["confirmed_by"]})


def editions(db, uuid):
    return list(db["meeting_editions"].rows_where("meeting_uuid = ?", [uuid], order_by="edition",
                                                  select="edition, reason, confirmed_at, confirmed_by"))


def edition(db, uuid, number):
    row = next(db["meeting_editions"].rows_where("meeting_uuid = ? and edition = ?", [uuid, number]), None)
    if row is None:
        return None
    snapshot = json.loads(row["snapshot"])
    return view(snapshot, snapshot.pop("council_name"))


def mark_done(db, row, item, action, actor):
    """A follow-up action is done. Its progress is not part of what was decided, so confirmed minutes take it
    without a new edition (the edition snapshots keep the state at confirmation; the audit says who and when).
    The agenda is read again under the write lock: two cadres ticking two actions of one meeting at once both count."""
    with write(db):
        row = db["meetings"].get(row["uuid"])
        agenda = json.loads(row["agenda"] or "[]")
        try:
            entry = agenda[item]["actions"][action]
        except IndexError:
            return None
        if entry["done"]:
            return row
        entry["done"] = True
        return records.update(db, "meetings", row["uuid"], {"agenda": json.dumps(agenda, ensure_ascii=False)}, actor,
                              summary=f"会后要办的事已办好：{entry['task']}")


def open_actions(db, village_code):
    """Follow-up actions of confirmed minutes not yet done, soonest due first (no due date last)."""
    day = today().isoformat()
    return [{"task": r["task"], "owner": r["owner"] or "", "due": r["due"], "done": False, "item": r["item"],
             "action": r["action"], "meeting_uuid": r["meeting_uuid"], "council_name": r["council_name"],
             "starts_at": r["starts_at"], "title": r["title"], "overdue": bool(r["due"] and r["due"] < day)}
            for r in db.query("""select a.*, m.starts_at, c.name as council_name from meeting_actions a
                join meetings m on m.uuid = a.meeting_uuid join councils c on c.uuid = m.council_uuid
                where a.village_code = ? and not a.done order by a.due is null, a.due, m.starts_at""", [village_code])]


def proposals(db, uuid):
    """Edits a phone sent after the minutes were locked (or on an old version), not yet decided by a person."""
    return list(db["revisions"].rows_where(
        "uuid = ? and status in ('conflict', 'needs_review') and resolved_at is null", [uuid], order_by="id"))


def proposal(db, uuid, revision_id):
    return next((r for r in proposals(db, uuid) if str(r["id"]) == str(revision_id)), None)


def adopt_proposal(db, row, revision, actor):
    """After an amendment made from a phone's proposal: the proposal is decided, the flag goes when none is left."""
    from ..conflicts import resolve
    resolve(db, revision, row, "meetings", actor, "amended", "按手机发来的修改更正")


# ---- a new record's defaults ------------------------------------------------------------

def default_eligible(db, village_code, council, basis, day=None):
    """The 应到 number the registry and rosters suggest; the cadre may change it."""
    if basis == "adults":
        return councils.adults(db, village_code, day)
    if basis == "households":
        return councils.households(db, village_code)
    if basis == "representatives":
        body = councils.council_by_name(db, village_code, "村民代表会议")
        return len(councils.members(db, body["uuid"], day, current_only=True)) if body else None
    return len(councils.members(db, council["uuid"], day, current_only=True)) or None


def last_place(db, village_code):
    row = db.execute("select place from meetings where village_code = ? and coalesce(place, '') != '' "
                     "order by created_at desc limit 1", [village_code]).fetchone()
    return row[0] if row else ""


def new_payload(db, village_code, council):
    """What a new minutes page starts with: today, the hour or half hour just begun (a meeting opened at 14:24 started
    at 14:00, not at the second the page was opened), the place of the last meeting, the suggested 应到."""
    moment = now()
    moment = moment.replace(minute=0 if moment.minute < 30 else 30, second=0, microsecond=0)
    basis = quorum.bases_for(council["name"])[0]
    return [["council", council["uuid"]], ["date", moment.date().isoformat()], ["time", moment.strftime("%H:%M")],
            ["place", last_place(db, village_code)], ["eligible_basis", basis],
            ["eligible", str(default_eligible(db, village_code, council, basis) or "")]]


# ---- photos sent with the page (no JS); a phone sends them through the sync API -------------

def store_photo(db, village_code, filename, data, actor):
    """Check and shrink one photo (as notices do) and keep it for the village under its SHA-256. Returns the hash."""
    return attachments.store_photo(db, village_code, filename, data, actor)


def village_file(db, village_code, sha256):
    """A file the village may show: one its cadres sent (another village's file answers as absent)."""
    return attachments.village_file(db, village_code, sha256)


def arrived(db, village_code, hashes):
    """Which of these photos have reached the server for this village (a phone sends each file on its own)."""
    return attachments.owned(db, village_code, hashes)


# ---- lists -------------------------------------------------------------------------

LIST_SQL = """select m.uuid, m.village_code, m.starts_at, m.state, m.conflict, m.edition, m.place, m.present, m.host, m.recorder,
    m.agenda, m.paper, c.name as council_name, v.name as village_name
    from meetings m join councils c on c.uuid = m.council_uuid join villages v on v.code = m.village_code"""


def listing(db, village_code=None, council_name=None, start=None, end=None, state=None, limit=500, offset=0):
    """Meetings newest first, filtered; each with its first agenda titles for the list (a page: limit from offset)."""
    return list(selected(db, village_code, council_name, start, end, state, limit, offset))


def paged(db, page, size, *filters):
    """One page of listing() (page 1 is the newest) and whether another follows: reads size + 1 rows."""
    rows = listing(db, *filters, limit=size + 1, offset=(page - 1) * size)
    return rows[:size], len(rows) > size


def selected(db, village_code=None, council_name=None, start=None, end=None, state=None, limit=None, offset=0):
    """listing() as a stream of rows (no limit by default): what the town's list and its exports read."""
    where, params = [], []
    for clause, value in (("m.village_code = ?", village_code), ("c.name = ?", council_name),
                          ("m.starts_at >= ?", start.isoformat() if start else None),
                          ("m.starts_at < ?", (end + timedelta(days=1)).isoformat() if end else None),
                          ("m.state = ?", state)):
        if value:
            where.append(clause)
            params.append(value)
    sql = LIST_SQL + (" where " + " and ".join(where) if where else "") + " order by m.starts_at desc"
    if limit:
        sql, params = sql + " limit ? offset ?", [*params, limit, offset]
    for r in db.query(sql, params):
        r["titles"] = [item["title"] for item in json.loads(r.pop("agenda") or "[]")]
        r["state_label"] = STATES[r["state"]]
        yield r


def to_do(db, village_code):
    """What waits for the village's cadres: drafts to confirm, records with a conflict or proposed correction."""
    return [r for r in listing(db, village_code, limit=200) if r["state"] == "draft" or r["conflict"]]


def quarter_of(value=None):
    """(first day, last day, label, key) of a quarter given by its key "2026-4", or of today's quarter."""
    try:
        chosen = period_of(value) if value and "-" in value else None
    except BadPeriod:
        chosen = None
    chosen = chosen or period_of(None)
    return chosen.start, chosen.last, chosen.label, chosen.key


def shift_quarter(key, by):
    return period_of(key).shifted(by)


def quarter_table(db, start, end):
    """Per village and council name: confirmed meetings and drafts held in the quarter."""
    counts = {}
    for r in db.query("""select m.village_code, c.name, sum(m.state != 'draft') as held, sum(m.state = 'draft') as drafts,
            sum(m.state != 'draft' and m.paper) as paper
            from meetings m join councils c on c.uuid = m.council_uuid
            where m.starts_at >= ? and m.starts_at < ? group by m.village_code, c.name""",
                      [start.isoformat(), (end + timedelta(days=1)).isoformat()]):
        counts[r["village_code"], r["name"]] = r
    rows = []
    for v in db["villages"].rows_where(order_by="code"):
        cells = [counts.get((v["code"], name), {"held": 0, "drafts": 0, "paper": 0}) for name in councils.COUNCIL_NAMES]
        unmet = [name for name, cell in zip(councils.COUNCIL_NAMES, cells, strict=True) if not cell["held"]]
        rows.append({"code": v["code"], "name": v["name"], "cells": cells, "unmet": unmet})
    return rows

