"""村规民约 data: the rulebook of a village, its versions (each a full copy of its articles), articles with optional
红白理事会 limits, villagers' opinions on a consultation, and the diff of an amendment. Steps are in procedure.py."""
import difflib
import json

from .. import audit, records
from ..clock import now_iso
from ..store import write

LIMITS = {"banquet_tables": ("宴席桌数上限", "桌"), "gift_amount": ("礼金上限", "元")}
OPINION_STATES = {"open": "待答复", "answered": "已答复", "adopted": "已采纳"}


def title_for(village):
    return f"{village['name']}{'居民公约' if village.get('kind') == '社区' else '村规民约'}"


def rulebook(db, village_code):
    return next(db["rulebooks"].rows_where("village_code = ?", [village_code]), None)


def ensure_rulebook(db, village, actor):
    book = rulebook(db, village["code"])
    if book is None:
        book, _ = records.create(db, "rulebooks", {"village_code": village["code"], "title": title_for(village),
                                                   "current_version": None}, actor)
    return book


def versions(db, book_uuid):
    return list(db["rule_versions"].rows_where("rulebook_uuid = ?", [book_uuid], order_by="number desc"))


def version(db, village_code, uuid):
    return next(db["rule_versions"].rows_where("uuid = ? and village_code = ?", [uuid, village_code]), None)


def version_by_number(db, book_uuid, number):
    if number is None:
        return None
    return next(db["rule_versions"].rows_where("rulebook_uuid = ? and number = ?", [book_uuid, number]), None)


def current(db, book):
    """The published version in force, or None."""
    return version_by_number(db, book["uuid"], book["current_version"]) if book else None


def open_version(db, book):
    """The version going through the procedure now (not yet published), or None."""
    if book is None:
        return None
    return next(db["rule_versions"].rows_where("rulebook_uuid = ? and stage != 'published'", [book["uuid"]]), None)


def start_cycle(db, village, actor, reason=None):
    """Begin a first making or an amendment: a new version copying the articles of the version in force.
    Returns (version, message): message says why not when a cycle is already running."""
    with write(db):  # decided under the write lock: two cadres pressing 发起 at once start one cycle
        book = ensure_rulebook(db, village, actor)
        running = open_version(db, book)
        if running:
            return running, f"第 {running['number']} 版还在办理中，办完公布后才能再发起修订"
        base = current(db, book)
        number = (db.execute("select max(number) from rule_versions where rulebook_uuid = ?",
                             [book["uuid"]]).fetchone()[0] or 0) + 1
        row, _ = records.create(db, "rule_versions", {
            "village_code": village["code"], "rulebook_uuid": book["uuid"], "number": number,
            "base_number": base["number"] if base else None, "stage": "consultation",
            **({"preamble": base["preamble"]} if base and base.get("preamble") else {}),  # the text's preamble carries on
            "reason": (reason or "").strip() or None}, actor, action="rule_start",
            summary=f"发起村规民约第 {number} 版" + ("（修订）" if base else ""))
        if base:
            for a in articles(db, base["uuid"]):
                records.create(db, "rule_articles", {
                    "village_code": village["code"], "version_uuid": row["uuid"], "chapter": a["chapter"],
                    "sort": a["sort"], "title": a["title"], "body": a["body"], "limits": a["limits"],
                    "origin_uuid": a["origin_uuid"] or a["uuid"]}, actor, summary="复制条文")
    return row, None


def articles(db, version_uuid):
    rows = list(db["rule_articles"].rows_where("version_uuid = ?", [version_uuid], order_by="sort, created_at"))
    for r in rows:
        r["limit_values"] = json.loads(r["limits"] or "{}")
    return rows


DIGITS = "零一二三四五六七八九"


def cn_number(n):
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五 (articles are numbered 第一条, 第十二条 …)."""
    if n < 10:
        return DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else DIGITS[tens]) + "十" + (DIGITS[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    tail = "" if rest == 0 else ("零" + DIGITS[rest] if rest < 10 else cn_number(rest) if rest >= 20 else "一" + cn_number(rest))
    return DIGITS[hundreds] + "百" + tail


def chapters(rows):
    """Articles grouped by chapter in order, numbered 第一条… across the whole text."""
    out = []
    for n, a in enumerate(rows, 1):
        a["number"] = cn_number(n)
        if not out or out[-1][0] != (a["chapter"] or ""):
            out.append((a["chapter"] or "", []))
        out[-1][1].append(a)
    return out


def article(db, version_uuid, uuid):
    return next(db["rule_articles"].rows_where("uuid = ? and version_uuid = ?", [uuid, version_uuid]), None)


def save_article(db, version, data, actor, row=None):
    limits = {k: data.get(k) for k in LIMITS if data.get(k) is not None}
    columns = {"chapter": data["chapter"], "title": data.get("title") or None, "body": data["body"],
               "limits": json.dumps(limits) if limits else None}
    if row is not None:
        return records.update(db, "rule_articles", row["uuid"], columns, actor)
    sort = data.get("sort")
    if sort is None:
        sort = (db.execute("select max(sort) from rule_articles where version_uuid = ?",
                           [version["uuid"]]).fetchone()[0] or 0) + 10
    return records.create(db, "rule_articles", {**columns, "sort": sort, "village_code": version["village_code"],
                                                 "version_uuid": version["uuid"], "uuid": data.get("uuid")}, actor)[0]


def delete_article(db, row, actor):
    with write(db):
        db["rule_articles"].delete(row["uuid"])
        audit.record(db, actor, "delete", "rule_articles", row["uuid"], row["village_code"], row, None)


def diff(db, old_uuid, new_uuid):
    """Article by article: [(kind, old, new, html)] with kind added/removed/changed/same, matched by origin."""
    old = {a["origin_uuid"] or a["uuid"]: a for a in articles(db, old_uuid)} if old_uuid else {}
    out = []
    seen = set()
    for a in articles(db, new_uuid):
        key = a["origin_uuid"] or a["uuid"]
        before = old.get(key)
        seen.add(key)
        if before is None:
            out.append(("added", None, a, None))
        elif (before["body"], before["title"], before["chapter"], before["limits"]) == (a["body"], a["title"], a["chapter"], a["limits"]):
            out.append(("same", before, a, None))
        else:
            out.append(("changed", before, a, inline_diff(before["body"], a["body"])))
    out += [("removed", a, None, None) for k, a in old.items() if k not in seen]
    return out


def inline_diff(old, new):
    """Character-level changes (Chinese has no spaces) as (op, text) pairs: op is '=', '-' or '+'."""
    parts = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(("=", old[i1:i2]))
        else:
            if i2 > i1:
                parts.append(("-", old[i1:i2]))
            if j2 > j1:
                parts.append(("+", new[j1:j2]))
    return parts


# ---- opinions (征集意见) -----------------------------------------------------------------

def add_opinion(db, version, name, body, uuid=None):
    row, _ = records.create(db, "rule_opinions", {"village_code": version["village_code"], "version_uuid": version["uuid"],
                                                   "name": name, "body": body, "status": "open", "uuid": uuid}, None,
                            summary="村民对村规民约提意见")
    return row


def opinions(db, version_uuid):
    return list(db["rule_opinions"].rows_where("version_uuid = ?", [version_uuid], order_by="created_at"))


def answer_opinion(db, row, answer, adopted, actor):
    return records.update(db, "rule_opinions", row["uuid"], {
        "answer": answer, "status": "adopted" if adopted else "answered", "answered_by": actor,
        "answered_at": now_iso()}, actor, action="answer", summary="采纳意见" if adopted else "答复意见")
