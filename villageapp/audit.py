"""The audit log: every state change, written in the same transaction as the change,
and the town staff's view to read and filter it."""
import json

from flask import Blueprint, g, render_template, request

from .access import access
from .clock import now_iso
from .routing import page_arg

bp = Blueprint("audit", __name__)

ACTIONS = {
    "create": "新建", "update": "修改", "delete": "删除", "publish": "发布", "withdraw": "撤回",
    "answer": "答复", "import": "导入", "login": "登录", "deactivate": "停用", "activate": "启用",
    "reset_password": "重置密码", "confirm": "确认", "amend": "更正", "resolve": "处理冲突", "conflict": "同时修改",
    "needs_review": "确认后又改", "rule_start": "村规民约·开始", "rule_consultation": "村规民约·征集意见",
    "rule_draft": "村规民约·草案", "rule_review": "村规民约·法律顾问审查", "rule_approval": "村规民约·镇审核",
    "rule_vote": "村规民约·表决", "rule_filing": "村规民约·备案", "rule_publish": "村规民约·公布",
}


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
    db["audit"].insert({
        "at": now_iso(), "actor": actor or "公众", "action": action, "table": table,
        "record_id": str(record_id) if record_id is not None else None, "village_code": village_code,
        "summary": summary or _summary(before, after), "before": _dump(before), "after": _dump(after),
    })


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
    rows = entries(db, **f, limit=51, offset=(page - 1) * 50)
    villages = {v["code"]: v["name"] for v in db["villages"].rows}
    actors = [r["actor"] for r in db.query("select distinct actor from audit order by actor")]
    tables = [r["table"] for r in db.query("select distinct [table] from audit order by 1")]
    return render_template("audit/log.html", rows=rows[:50], more=len(rows) > 50, page=page, filters=f,
                           villages=villages, actors=actors, tables=tables, actions=ACTIONS)
