"""Council and roster data functions. A roster row is one term of office: ending it sets `until` (the day the member
left: from then on not a member), so the history stays and a member who left is still named in the minutes of the
meetings they attended."""
import sqlite3

from .. import records
from ..clock import parse_date, today
from ..store import write

# (name, kind): the four councils of 一约四会 first, then the bodies that hold the village's meetings.
# 党支部委员会 is added because 四议两公开 starts with the branch committee's proposal (党支部提议).
COUNCILS = [
    ("红白理事会", "council"), ("道德评议会", "council"), ("禁毒禁赌会", "council"), ("村民议事会", "council"),
    ("村民会议", "body"), ("村民代表会议", "body"), ("村“两委”会", "body"), ("党员大会", "body"), ("党支部委员会", "body"),
]
COUNCIL_NAMES = [name for name, _kind in COUNCILS]
FOUR_COUNCILS = [name for name, kind in COUNCILS if kind == "council"]
# typed positions are free text; these are offered as suggestions by the kind of body
POSITIONS = {
    "council": ["会长", "副会长", "秘书长", "成员"],
    "村民代表会议": ["村民代表"],
    "村“两委”会": ["书记", "主任", "副书记", "副主任", "委员", "监委会主任"],
    "党员大会": ["党员", "预备党员"],
    "党支部委员会": ["书记", "副书记", "委员"],
    "村民会议": ["村民"],
}


def positions_for(council):
    return POSITIONS.get(council["name"]) or POSITIONS["council"]


def ensure_councils(db, village_code, actor):
    """The village's councils, creating the default ones it does not have yet (a village starts with none)."""
    have = {r["name"] for r in db["councils"].rows_where("village_code = ?", [village_code], select="name")}
    for sort, (name, kind) in enumerate(COUNCILS):
        if name in have:
            continue
        try:
            records.create(db, "councils", {"village_code": village_code, "name": name, "kind": kind, "sort": sort},
                           actor, summary=f"设立{name}")
        except sqlite3.IntegrityError:
            pass  # another request created it at the same moment: the unique index kept one
    return councils(db, village_code)


def councils(db, village_code):
    return list(db["councils"].rows_where("village_code = ?", [village_code], order_by="sort, name"))


def council(db, village_code, uuid):
    return next(db["councils"].rows_where("uuid = ? and village_code = ?", [uuid, village_code]), None)


def council_by_name(db, village_code, name):
    return next(db["councils"].rows_where("village_code = ? and name = ?", [village_code, name]), None)


def serves_on(member, day):
    """Was this member on the council that day? An empty `since` means "from before records were kept";
    `until` is the day they left, so a term ended today no longer counts today."""
    day = parse_date(day).isoformat()
    return (not member["since"] or member["since"] <= day) and (not member["until"] or member["until"] > day)


def members(db, council_uuid, day=None, current_only=False):
    """The roster, current members first (by position as entered), then those who left (latest first)."""
    rows = list(db["council_members"].rows_where("council_uuid = ?", [council_uuid],
                                                 order_by="until is not null, until desc, since, created_at"))
    if current_only:
        rows = [m for m in rows if serves_on(m, day or today())]
    return rows


def member(db, council_uuid, uuid):
    return next(db["council_members"].rows_where("uuid = ? and council_uuid = ?", [uuid, council_uuid]), None)


def add_member(db, council, actor, name, position, resident_uuid=None, since=None, note=None, uuid=None):
    """A new term of office. A resident's name is copied in, so the roster reads the same after a registry change."""
    if resident_uuid:
        resident = next(db["residents"].rows_where("uuid = ? and village_code = ?",
                                                   [resident_uuid, council["village_code"]]), None)
        if resident is None:
            raise ValueError("resident of another village")
        name = resident["name"]
    row, created = records.create(db, "council_members", {
        "uuid": uuid, "village_code": council["village_code"], "council_uuid": council["uuid"],
        "resident_uuid": resident_uuid or None, "name": name, "position": position,
        "since": since.isoformat() if since else None, "until": None, "note": note or None,
    }, actor, summary=f"{council['name']}：{name}任{position}")
    return row, created


def is_current_member(db, council_uuid, resident_uuid, day=None):
    return any(m["resident_uuid"] == resident_uuid for m in members(db, council_uuid, day, current_only=True))


def end_member(db, member, until, actor, note=None):
    """End a term of office: `until` is the day the member left. The row stays: history is never deleted.
    None if the term had already ended (two cadres ending it at once: one does)."""
    changes = {"until": until.isoformat()}
    if note:
        changes["note"] = "；".join(filter(None, [member["note"], note]))
    with write(db):
        if db["council_members"].get(member["uuid"])["until"]:
            return None
        return records.update(db, "council_members", member["uuid"], changes, actor, action="update",
                              summary=f"{member['name']}离任（{until.isoformat()}）")


def village_residents(db, village_code):
    """Residents to pick from, by group then name, with their birth year to tell two 张伟 apart."""
    return list(db.query("""
        select r.uuid, r.name, r.birth_year, gr.name as group_name from residents r
        join households h on h.uuid = r.household_uuid left join groups gr on gr.uuid = h.group_uuid
        where r.village_code = ? order by gr.name, h.head_name, r.birth_year""", [village_code]))


def adults(db, village_code, day=None):
    """Residents aged 18 or more by birth year (those without a birth year are not counted)."""
    year = (day or today()).year
    return db.execute("select count(*) from residents where village_code = ? and birth_year <= ?",
                      [village_code, year - 18]).fetchone()[0]


def households(db, village_code):
    return db.execute("select count(*) from households where village_code = ?", [village_code]).fetchone()[0]
