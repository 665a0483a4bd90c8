"""The audit log: every state change, written in the same transaction as the change,
and the town staff's view to read and filter it."""
import json
from datetime import timedelta

from flask import Blueprint, g, render_template, request
from flask_login import current_user

from . import kinds, store
from .access import ROLES, access
from .clock import now_iso
from .routing import page_arg

bp = Blueprint("audit", __name__)

# The words common to every kind of record; each kind's manifest (kinds.Kind) adds its own actions, tables, columns
# and coded values, and the log reads them all merged at use time (actions(), tables(), fields(), values()).
ACTIONS = {
    "create": "新建", "update": "修改", "delete": "删除", "publish": "发布", "withdraw": "撤回",
    "answer": "答复", "import": "导入", "login": "登录", "deactivate": "停用", "activate": "启用",
    "reset_password": "重置密码", "confirm": "确认", "amend": "更正", "resolve": "处理冲突", "conflict": "同时修改",
    "needs_review": "确认后又改", "export": "导出",
}
# tables that belong to no one kind (tests check each town table has words, here or in a kind's manifest)
TABLES = {
    "users": "账号", "attachments": "附件", "files": "文件", "file_villages": "文件", "revisions": "修改记录",
    "audit": "操作记录", "record_files": "附件", "exports": "导出的表",
}
FIELDS = {
    "uuid": "编号", "village_code": "村", "created_by": "建立人", "conflict": "待定", "code": "代码", "name": "名称",
    "kind": "类别", "title": "标题", "body": "内容", "note": "备注", "status": "状态", "reason": "理由", "sort": "顺序",
    "phone": "电话", "position": "职务", "answer": "答复", "answered_by": "答复人", "answered_at": "答复时间",
    "role": "账号类型", "town_code": "镇", "active": "在用", "username": "登录名", "villages": "负责的村",
}
# coded values of some columns, as the pages say them
VALUES = {
    "conflict": {0: "否", 1: "是"}, "active": {0: "停用", 1: "在用"},
    "role": {k: v for k, v in ROLES.items() if k != "public"},
}


def actions():
    """Every action an entry can name → its words: the common ones, then each kind's, in registration order."""
    return {**ACTIONS, **kinds.registry().merged("actions")}


def tables():
    return {**TABLES, **kinds.registry().merged("tables")}


def fields():
    return {**FIELDS, **kinds.registry().merged("fields")}


def values():
    """column → {coded value → words}: the common ones, then each kind's."""
    out = {column: dict(words) for column, words in VALUES.items()}
    for _kind, columns in kinds.registry().collect("values"):
        for column, words in columns.items():
            out.setdefault(column, {}).update(words)
    return out


SYSTEM_ACTORS = {"demo": "系统（演示数据）", "公众": "村民（公开页，无账号）", "system": "系统"}


def _summary(before, after):
    """A short human summary of what changed: the fields whose values differ."""
    if before is None and after is not None:
        return "新建"
    if after is None:
        return "删除"
    changed = [k for k in after if before.get(k) != after.get(k) and k not in ("updated_at", "version")]
    return "修改 " + "、".join(changed) if changed else "无变化"


def _dump(row):
    if row is None:
        return None
    return json.dumps({k: v for k, v in row.items() if not isinstance(v, bytes)}, ensure_ascii=False, default=str)


def record(db, actor, action, table, record_id, village_code=None, before=None, after=None, summary=None):
    """Write one audit entry. Call inside the transaction of the change it describes."""
    store.insert_row(db, "audit", {
        "at": now_iso(), "actor": actor or "公众", "action": action, "table": table,
        "record_id": str(record_id) if record_id is not None else None, "village_code": village_code,
        "summary": summary or _summary(before, after), "before": _dump(before), "after": _dump(after),
    })


def people(usernames):
    """username → "姓名（职务）" for the given usernames (system and unknown names as they are said to people)."""
    wanted = {u for u in usernames if u and u not in SYSTEM_ACTORS}
    out = {u: SYSTEM_ACTORS[u] for u in usernames if u in SYSTEM_ACTORS}
    if wanted:
        marks = ",".join("?" * len(wanted))
        for row in store.directory().query(f"select username, name, role, position from users where username in ({marks})",
                                           sorted(wanted)):
            out[row["username"]] = f"{row['name']}（{row['position'] or ROLES.get(row['role'], row['role'])}）"
    return {u: out.get(u, u) for u in usernames if u}


@bp.app_template_filter("person")
def person(username):
    """In a template: {{ step.actor|person }} → 赵敏（法律顾问）. One directory look-up per name per request."""
    if not username:
        return ""
    known = g.setdefault("people_shown", {})
    if username not in known:
        known.update(people([username]))
    return known.get(username, username)


def distinct(db, column):
    """The different values of one column of the log (actor, action, table), in order, without reading the whole log:
    a walk down the column's index (m014), one step per value: min(), then the next one above it."""
    assert column in ("actor", "action", "table")
    c = f"[{column}]"
    sql = f"""with recursive v(x) as (select min({c}) from audit union all
              select (select min({c}) from audit where {c} > v.x) from v where v.x is not null)
              select x from v where x is not null"""
    return [row[0] for row in db.execute(sql)]


def entries(db, village_code=None, actor=None, action=None, table=None, record_id=None, limit=200, offset=0):
    where, params = [], []
    for column, value in (("village_code", village_code), ("actor", actor), ("action", action),
                          ("[table]", table), ("record_id", record_id)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    return list(db["audit"].rows_where(" and ".join(where) or None, params, order_by="id desc",
                                       limit=limit, offset=offset))


@bp.route("/t/<town>/audit/")
@access("town", "county", scope="town")
def town_log(town):
    db = g.db
    f = {k: request.args.get(k, "").strip() for k in ("village_code", "actor", "action", "table", "record_id")}
    page = page_arg()
    rows = entries(db, **f, limit=PAGE + 1, offset=(page - 1) * PAGE)
    villages = {v["code"]: v["name"] for v in db["villages"].rows}
    actors, logged = distinct(db, "actor"), distinct(db, "table")
    names = people(set(actors) | {r["actor"] for r in rows})
    closed = kinds.registry().closed_tables(current_user.role)
    return render_template("audit/log.html", rows=[_closed(r) if r["table"] in closed else _shown(r, villages)
                                                   for r in rows[:PAGE]], more=len(rows) > PAGE, page=page,
                           filters=f, villages=villages, actors=actors, tables=logged, actions=actions(),
                           table_names=tables(), names=names)


PAGE = 20  # entries per page: a phone shows a page as folded lines, each opening to its detail


PEOPLE_COLUMNS = ("created_by", "answered_by", "confirmed_by")


CLOSED = "（内容只给有权查看的人看）"


def _closed(row):
    """An entry about a record this person may not read (the county and 道德评议): who did what kind of thing, when."""
    return {**row, "summary": CLOSED, "changes": [], "before": None, "record_id": None}


def _shown(row, villages):
    """An entry with its before/after as (field, before, after) lines for the folded detail; internal numbers
    (uuids, times of writing, password hashes) are left out, people and villages named."""
    before = json.loads(row["before"]) if row["before"] else {}
    after = json.loads(row["after"]) if row["after"] else {}
    keys = [k for k in dict.fromkeys([*after, *before])
            if k not in ("updated_at", "created_at", "version", "password_hash", "uuid", "id") and not k.endswith("_uuid")]
    words, coded = fields(), values()

    def said(key, value):
        if key in PEOPLE_COLUMNS and value:
            return person(value)
        if key in ("village_code", "code") and value in villages:
            return villages[value]
        return coded.get(key, {}).get(value, _value(value, words, coded))
    changed = [(words.get(k, k), said(k, before.get(k)), said(k, after.get(k))) for k in keys
               if before.get(k) != after.get(k)]
    summary = _words(row["summary"] or "")
    if summary.startswith("修改 "):  # older entries named the changed columns: say them in words
        summary = "修改 " + "、".join(words.get(k, k) for k in summary[3:].split("、"))
    return {**row, "summary": summary, "changes": changed}


def _value(value, words, coded=None):
    coded = coded or {}
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str) and value[:1] in "[{":
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, dict):  # e.g. a rule's limits {"banquet_tables": 15}, a campaign's rules, a reviewer's scores
        return "，".join(f"{_key(k, words)} {_item(k, v, words, coded)}" for k, v in value.items()) or "（空）"
    if isinstance(value, list):  # agenda items, people, photos: their titles or names, else how many
        named = [str(item.get("title") or item.get("name") or "") if isinstance(item, dict) else "" for item in value]
        return "、".join(n for n in named if n) if any(named) else (f"{len(value)} 项" if value else "（空）")
    return _words(str(value))


def _key(key, words):
    """A key inside a JSON value in words: a known column's, "第 3 项" for a criterion (c2), else 其他."""
    if key in words:
        return words[key]
    return f"第 {int(key[1:]) + 1} 项" if key[:1] == "c" and key[1:].isdigit() else "其他"


def _item(key, value, words, coded):
    if isinstance(value, (str, int)) and not isinstance(value, bool) and value in coded.get(key, {}):
        return coded[key][value]
    return _value(value, words, coded)


def _words(text):
    """Text written before the Chinese quotes were used everywhere, as it reads now."""
    return text.replace('村"两委"会', "村“两委”会")


# ---- the exported log (kinds.Listing) --------------------------------------------------------------------------
# The file is written after the request is over, with no app: the words of actions and tables are taken while the
# request parses the filters (the choices below call actions() and tables()) and kept here for the stream; people are
# named from the directory file beside the town's file (instance/directory.db next to instance/towns/).

_WORDS = {"actions": dict(ACTIONS), "tables": dict(TABLES)}


def _action_choices():
    _WORDS["actions"] = actions()
    return _WORDS["actions"]


def _table_choices():
    """Every table with words, and any other the town's log names (as the screen offers them)."""
    words = tables()
    db = g.get("db")
    if db is not None:
        for table in distinct(db, "table"):
            words.setdefault(table, table)
    _WORDS["tables"] = words
    return words


def _directory_people(db, usernames):
    """username → 姓名（职务）, read from the instance's directory file with no app (system names as said to people)."""
    import os
    import sqlite3
    out = {u: SYSTEM_ACTORS[u] for u in usernames if u in SYSTEM_ACTORS}
    town_file = next((row[2] for row in db.execute("pragma database_list") if row[1] == "main"), "")
    path = os.path.join(os.path.dirname(os.path.dirname(town_file)), "directory.db") if town_file else ""
    wanted = sorted(u for u in usernames if u and u not in out)
    if wanted and os.path.exists(path):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            marks = ",".join("?" * len(wanted))
            for username, name, role, position in conn.execute(
                    f"select username, name, role, position from users where username in ({marks})", wanted):
                out[username] = f"{name}（{position or ROLES.get(role, role)}）"
        finally:
            conn.close()
    return out


def exported(db, filters):
    """The entries the filters select (village, 时间, 操作人, 操作, 对象), newest first as on the screen."""
    where, params = [], []
    for clause, value in (("a.village_code = ?", filters["village_code"]),
                          ("a.at >= ?", filters["start"] and filters["start"].isoformat()),
                          ("a.at < ?", filters["end"] and (filters["end"] + timedelta(days=1)).isoformat()),
                          ("a.actor = ?", filters.get("actor")), ("a.action = ?", filters.get("action")),
                          ("a.[table] = ?", filters.get("table"))):
        if value:
            where.append(clause)
            params.append(value)
    named = _directory_people(db, distinct(db, "actor"))
    action_words, table_words = _WORDS["actions"], _WORDS["tables"]
    for row in db.query(f"""select a.id, a.at, a.actor, a.action, a.[table], a.record_id, a.village_code,
            v.name as village_name, a.summary from audit a left join villages v on v.code = a.village_code
            {"where " + " and ".join(where) if where else ""} order by a.id desc""", params):
        row["who"] = named.get(row["actor"], row["actor"])
        row["action_words"] = action_words.get(row["action"], row["action"])
        row["table_words"] = table_words.get(row["table"], "其他记录")
        row["summary"] = CLOSED if row["table"] in filters.get("closed", ()) else _words(row["summary"] or "")
        yield row


def _actor_choices():
    """The people who appear in the town's log, named (the screen's list); from the command line, with no town store
    open, every account of the directory and the system's names."""
    db = g.get("db")
    if db is not None:
        logged = distinct(db, "actor")
    else:
        logged = [*SYSTEM_ACTORS, *(r["username"] for r in store.directory().query("select username from users"))]
    names = people(logged)
    return {actor: names.get(actor, actor) for actor in logged}


LOG_COLUMNS = (
    ("时间", lambda r: r["at"][:16].replace("T", " "), "datetime"), ("操作人", "who"), ("登录名", "actor"),
    ("操作", "action_words"), ("对象", "table_words"), ("村（社区）", lambda r: r["village_name"] or ""),
    ("内容", "summary"))
LIST = kinds.Listing("audit", "操作记录", LOG_COLUMNS, exported, dated="时间", order=90,
                     choices={"actor": ("操作人", _actor_choices), "action": ("操作", _action_choices),
                              "table": ("对象", _table_choices)})
LOG = kinds.Kind(name="audit_log", table="audit", label="操作记录", lists=(LIST,))
FEATURE = kinds.Feature("audit", bp, (LOG,))
