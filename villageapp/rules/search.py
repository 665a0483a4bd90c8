"""Full-text search over the rule texts of one town: SQLite FTS5 with the trigram tokenizer (rule_articles_fts, made
by sqlite-utils' enable_fts) for words of three or more characters, and LIKE for one- or two-character words (most
Chinese words), which a trigram index cannot match."""
import re

from ..clock import today
from . import procedure

SQL = """select a.uuid, a.chapter, a.title, a.body, a.limits, v.number, v.stage, v.uuid as version_uuid,
  v.village_code, vi.name as village_name, b.current_version
  from rulebooks b cross join rule_versions v on v.rulebook_uuid = b.uuid cross join rule_articles a on a.version_uuid = v.uuid
  join villages vi on vi.code = v.village_code"""
# CROSS JOIN keeps SQLite to this order: each village's rulebook, its versions in force or in progress (by the
# rulebook's index), then their articles (by the version's index); never every article of every old version


def terms(query):
    return [t for t in re.split(r"[\s,，、;；]+", (query or "").strip()) if t][:5]


def search(db, query, published_only=False, village_code=None, limit=100):
    """Articles whose text holds every word of the query. published_only: the texts in force (for the public);
    else each village's text in force and the one in progress (for town staff)."""
    words = terms(query)
    if not words:
        return []
    where, params = [], []
    long_words = [w for w in words if len(w) >= 3]
    if long_words:
        fts = " AND ".join('"' + w.replace('"', '""') + '"' for w in long_words)
        # rule_articles_fts (store.m009) indexes chapter, title and body; a phrase without a column matches any of them
        where.append("a.rowid in (select rowid from rule_articles_fts where rule_articles_fts match ?)")
        params.append(fts)
    for w in words:
        if len(w) < 3:
            where.append("(coalesce(a.chapter,'') || ' ' || coalesce(a.title,'') || ' ' || a.body) like ? escape '\\'")
            params.append("%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if published_only:
        where.append("v.number = b.current_version")
    else:
        where.append("(v.number = b.current_version or v.stage != 'published')")
    if village_code:
        where.append("v.village_code = ?")
        params.append(village_code)
    rows = list(db.query(SQL + " where " + " and ".join(where) + " order by v.village_code, v.number desc, a.sort limit ?",
                         params + [limit]))
    for r in rows:
        r["in_force"] = r["number"] == r["current_version"]
    return rows


def snippet(text, query, width=40):
    """The part of an article around the first word found, with the words marked: [(text, hit)]."""
    words = terms(query)
    pos = min([i for i in (text.find(w) for w in words) if i >= 0] or [0])
    start = max(0, pos - width // 2)
    part = ("…" if start else "") + text[start:start + width * 2] + ("…" if start + width * 2 < len(text) else "")
    if not words:
        return [(part, False)]
    pieces = re.split("(" + "|".join(re.escape(w) for w in words) + ")", part)
    return [(p, p in words) for p in pieces if p]


def status(db):
    """Every village of the town with its rulebook's state, for the town view and the reminder list."""
    out = []
    day = today()
    for v in db["villages"].rows_where(order_by="code"):
        book = next(db["rulebooks"].rows_where("village_code = ?", [v["code"]]), None)
        cur = running = None
        if book:
            cur = next(db["rule_versions"].rows_where("rulebook_uuid = ? and number = ?",
                                                      [book["uuid"], book["current_version"]]), None)
            running = next(db["rule_versions"].rows_where("rulebook_uuid = ? and stage != 'published'", [book["uuid"]]), None)
        old = bool(cur and cur["filed_on"] and cur["filed_on"] < day.replace(year=day.year - 3).isoformat())
        if running:
            text = f"第 {running['number']} 版办理中：{procedure.LABELS[running['stage']]}"
        elif cur:
            text = f"第 {cur['number']} 版 {cur['filed_on'] or ''} 备案"
        else:
            text = "还没有"
        reminder = None
        if not cur and not running:
            reminder = "还没有村规民约，请督促启动制定"
        elif running and running["stage"] in ("approval", "filing"):
            reminder = f"等镇里{procedure.LABELS[running['stage']]}"
        elif old and not running:
            reminder = "备案已超过 3 年，建议修订"
        out.append({"village": v, "book": book, "current": cur, "running": running, "old": old, "text": text,
                    "reminder": reminder})
    return out
