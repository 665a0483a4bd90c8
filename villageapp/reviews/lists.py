"""The town's exported list of 道德评议 cases (kinds.Listing). Who reads it follows the cases' own rule (data.READERS):
the town, as on the case pages; never the county (least access: the county's desk is told how many, with no name), and
the legal adviser only case by case, so not a list. Criticism never leaves the village's cadres and the town, so this
file is the town's only; it says on its first row that it holds personal information. The query runs while the file
streams: its own store, nothing from Flask."""
from .. import attachments, kinds
from .data import CONCLUSIONS, KINDS, READERS, SOURCES
from .procedure import OUTCOMES, STAGES

SUBJECTS = {"household": "户", "resident": "村民"}
# a case is opened on the earliest day known of it (the town desk counts it the same way: reviews.OPENED)
OPENED = "min(substr(c.created_at, 1, 10), coalesce(c.reviewed_on, '9999'))"


def cases(db, filters):
    """The cases the filters select (village, 立案日期, 表扬/批评, 进度), oldest first."""
    where, params = [], []
    for clause, value in (("c.village_code = ?", filters["village_code"]),
                          (f"{OPENED} >= ?", filters["start"] and filters["start"].isoformat()),
                          (f"{OPENED} <= ?", filters["end"] and filters["end"].isoformat()),
                          ("c.kind = ?", filters.get("kind")),
                          ("c.stage = ?", filters.get("stage") if filters.get("stage") != "open" else None),
                          ("c.stage != ?", "closed" if filters.get("stage") == "open" else None)):
        if value:
            where.append(clause)
            params.append(value)
    yield from db.query(f"""select c.uuid, c.village_code, v.name as village_name, c.subject_type, c.subject_name, c.kind,
            c.category, c.facts, c.source, c.stage, c.conclusion, {OPENED} as opened_on, c.reviewed_on, c.told_on,
            c.appeal_on, c.appeal_outcome, c.closed_on,
            (select count(*) from record_files f where f.record_uuid = c.uuid) as photos
        from review_cases c join villages v on v.code = c.village_code
        {"where " + " and ".join(where) if where else ""} order by opened_on, c.created_at""", params)


COLUMNS = (
    ("村（社区）", "village_name"), ("对象", "subject_name"), ("对象是", lambda r: SUBJECTS.get(r["subject_type"], "")),
    ("表扬/批评", lambda r: KINDS[r["kind"]]), ("类别", "category"), ("事实经过", "facts"),
    ("谁提出的", lambda r: SOURCES.get(r["source"] or "", "")), ("进度", lambda r: STAGES.get(r["stage"], r["stage"])),
    ("结论", lambda r: CONCLUSIONS.get(r["conclusion"] or "", "")), ("立案日期", "opened_on", "date"),
    ("评议日期", "reviewed_on", "date"), ("告知日期", "told_on", "date"), ("申请复评", "appeal_on", "date"),
    ("复评结果", lambda r: OUTCOMES.get(r["appeal_outcome"] or "", "")), ("结案日期", "closed_on", "date"),
    ("照片", "photos", "int"))
LIST = kinds.Listing(
    "reviews", "道德评议", COLUMNS, cases, dated="立案日期", order=40,
    readers=tuple(role for role in READERS if role in ("town", "county")),
    choices={"kind": ("表扬/批评", KINDS), "stage": ("进度", {"open": "在办（未结案）", **STAGES})},
    photos=lambda db, row: attachments.linked_files(db, row["uuid"]),
    photo_title=lambda row: (row["reviewed_on"] or row["opened_on"], f"{row['subject_name']}-{row['category']}"))
