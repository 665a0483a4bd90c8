"""Conflicts: edits that arrived on an old version (two cadres offline on one record) or on a locked record.
Both versions are kept; a person compares them field by field and decides. Nothing is discarded."""
import json
import re

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from . import audit, kinds, records, sync
from .access import access
from .clock import now_iso
from .store import write
from .forms import leaf_fields
from .records import in_village_or_404

bp = Blueprint("conflicts", __name__)


def _tasks(db, village_code, role):
    """For the cadres: edits kept side by side, waiting for a person to decide."""
    count = len(open_revisions(db, village_code)) if role == "cadre" else 0
    return [kinds.Task("待定", f"{count} 处修改要比较两份后决定", url_for("conflicts.index", village=village_code),
                       order=20)] if count else []


def _town_tasks(db, role):
    """For the town desk: edits kept side by side for more than 3 days with nobody deciding, per village."""
    from datetime import timedelta
    from .clock import cn_datetime, now
    limit = (now() - timedelta(days=3)).isoformat(timespec="seconds")
    rows = db.query("""select r.village_code, v.name as village_name, count(*) as n, min(r.created_at) as oldest
        from revisions r join villages v on v.code = r.village_code
        where r.status in ('conflict', 'needs_review') and r.resolved_at is null and r.created_at < ?
        group by r.village_code order by oldest""", [limit])
    return [kinds.Task("待定", f"{r['village_name']}：{r['n']} 处修改放了 3 天以上还没人定",
                       url_for("conflicts.index", village=r["village_code"]), f"最早的 {cn_datetime(r['oldest'])}", order=20)
            for r in rows]


FEATURE = kinds.Feature("conflicts", bp, tasks=_tasks, town_tasks=_town_tasks)
LIST_ITEM = re.compile(r"^([a-z_]+)-\d+-")  # agenda-0-title → agenda: a list is chosen as a whole


def open_revisions(db, village_code):
    return list(db["revisions"].rows_where("village_code = ? and status in ('conflict', 'needs_review') and resolved_at is null",
                                           [village_code], order_by="id"))


def form_pairs(form):
    """A filled form as [name, value] pairs in form order (what the phone would have sent)."""
    out = []
    for field in leaf_fields(form):
        if field.type in ("CSRFTokenField", "SubmitField", "FileField", "MultipleFileField") or field.name in sync.NOT_PAYLOAD:
            continue
        if isinstance(field.data, (list, tuple)):
            out.extend([field.name, str(v)] for v in field.data)
        elif field.type == "BooleanField":
            if field.data:
                out.append([field.name, "y"])
        elif field.data not in (None, ""):
            out.append([field.name, field._value() if hasattr(field, "_value") else str(field.data)])
    return out


def group(name):
    match = LIST_ITEM.match(name)
    return match.group(1) if match else name


def grouped(pairs):
    out = {}
    for name, value in pairs:
        out.setdefault(group(name), []).append([name, value])
    return out


# fields whose form gives no Chinese label (lists and hidden ids): WTForms would show the field's name in English
GROUP_LABELS = {"uuid": "记录编号", "agenda": "议题", "absentees": "缺席的人", "attendees": "到会的人", "members": "成员", "representatives": "村民代表",
                "actions": "要办的事", "photos": "照片"}


def labels(form):
    names = dict(GROUP_LABELS)
    for field in form:
        text = str(field.label.text) if field.label else ""
        if text and text != field.name.replace("_", " ").title():
            names[field.name] = text
    return names


def _show_value(pairs, words=None):
    """The values as a person reads them: a choice by its words (本会成员), not its code (members)."""
    words = words or {}
    return "；".join(words.get(value, value) for _name, value in pairs if value) or "（空）"


def choice_words(form):
    """{field name: {code: words}} of the form's select and radio fields."""
    out = {}
    for field in form:
        if getattr(field, "choices", None) and hasattr(field, "iter_choices"):
            out[field.name] = {str(choice[0]): str(choice[1]) for choice in field.iter_choices()}
    return out


@bp.route("/v/<village>/conflicts/")
@access("cadre", "town", "county", scope="village")
def index(village):
    rows = []
    for revision in open_revisions(g.db, village):
        record_type = kinds.synced().get(revision["record_type"])
        row = records.by_uuid(g.db, record_type.table, revision["uuid"]) if record_type else None
        rows.append({"revision": revision, "type": record_type, "record": row})
    return render_template("conflicts/index.html", rows=rows)


@bp.route("/v/<village>/conflicts/<int:revision_id>", methods=["GET", "POST"])
@access("cadre", "town", "county", scope="village")
def show(village, revision_id):
    revision = in_village_or_404("revisions", revision_id, key="id")
    record_type = kinds.synced()[revision["record_type"]]
    row = records.by_uuid(g.db, record_type.table, revision["uuid"])
    current_form = record_type.form(g.db, village, None, record=row)
    mine = grouped(form_pairs(current_form))
    theirs = grouped(json.loads(revision["payload"]))
    names = labels(current_form)
    words = choice_words(current_form)
    fields = [{"key": key, "label": names.get(key, key), "current": _show_value(mine.get(key, []), words.get(key)),
               "other": _show_value(theirs.get(key, []), words.get(key)), "same": mine.get(key, []) == theirs.get(key, [])}
              for key in list(dict.fromkeys(list(mine) + list(theirs)))]
    locked = record_type.locked(row)
    if request.method == "POST":
        if current_user.role != "cadre":
            abort(403)
        with write(g.db):  # decided under the write lock: two cadres settling one conflict at once settle it once
            revision = g.db["revisions"].get(revision["id"])
            if revision["resolved_at"]:
                flash("这条已经处理过了")
                return redirect(url_for("conflicts.index", village=village))
            choice = {f["key"]: request.form.get("pick-" + f["key"], "current") for f in fields}
            if locked or request.form.get("action") == "dismiss":
                resolve(g.db, revision, row, record_type.table, current_user.username, "kept current", "保留现在的内容，没有采用另一份")
                flash("已处理：保留现在的内容。另一份仍保存在记录的历史里。")
                return redirect(url_for("conflicts.index", village=village))
            merged = [pair for f in fields for pair in (theirs if choice[f["key"]] == "other" else mine).get(f["key"], [])]
            answer = sync.apply_edit(g.db, current_user, village, {
                "edit_id": records.new_uuid(), "uuid": row["uuid"], "type": record_type.name,
                "base_version": row["version"], "payload": merged})
            if answer["status"] != "accepted":
                flash("合并后的内容有问题：" + "；".join(m for ms in (answer.get("errors") or {}).values() for m in ms)
                      if answer.get("errors") else "合并没有成功：" + (answer.get("error") or answer["status"]))
            else:
                used = [f["label"] for f in fields if choice[f["key"]] == "other" and not f["same"]]
                resolve(g.db, revision, row, record_type.table, current_user.username, "merged",
                         "合并：" + ("采用另一份的 " + "、".join(used) if used else "全部保留现在的内容"))
                flash(f"已合并并保存为第 {answer['version']} 版，回执 {answer['receipt']}")
                return redirect(url_for("conflicts.index", village=village))
    return render_template("conflicts/show.html", revision=revision, record=row, record_type=record_type,
                           fields=fields, locked=locked, url=record_type.url(row) if record_type.url else None,
                           review_url=record_type.review_url(row, revision) if locked and record_type.review_url else None)


def resolve(db, revision, row, table, actor, resolution, summary):
    """Settle one kept revision (a conflict or a change sent to a locked record): the one path for every way a person
    decides (kept current, merged, amended from it). The record's flag goes when nothing of it is left open."""
    with write(db):
        db["revisions"].update(revision["id"], {"resolved_at": now_iso(), "resolved_by": actor, "resolution": resolution})
        still_open = db.execute("select count(*) from revisions where uuid = ? and status in ('conflict', 'needs_review') "
                                "and resolved_at is null", [row["uuid"]]).fetchone()[0]
        if not still_open:
            db[table].update(row["uuid"], {"conflict": 0})
        audit.record(db, actor, "resolve", table, row["uuid"], row["village_code"],
                     summary=f"{summary}（回执 {revision['receipt']}）")
