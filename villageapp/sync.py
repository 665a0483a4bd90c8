"""The server side of offline capture, shared by every form: /api/session, batches of edits
(exactly once by UNIQUE(edit_id), versions, conflicts kept for a person to decide), and files by SHA-256."""
import hashlib
import json
import re
import sqlite3
from itertools import accumulate

from flask import Blueprint, abort, current_app, g, jsonify, make_response, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict

from . import attachments, audit, kinds, records
from . import store
from .access import access, json_error
from .clock import now_iso
from .forms import leaf_fields

bp = Blueprint("sync", __name__)


def _outbox_tile(db, village_code, role):
    """待发送: what this phone still holds (the number is filled in on the phone)."""
    from flask import url_for
    return [kinds.Tile("待发送", url_for("sync.outbox"), "手机上的记录", 120, "data-unsent-count")] if role == "cadre" else []


# each village's latest edit before the period's end: one step down the (village_code, created_at) index (m014)
LAST_SYNC = ("from (select v.code as village_code, (select max(r.created_at) from revisions r"
             " where r.village_code = v.code and r.created_at < :end) as created_at from villages v) x")
FEATURE = kinds.Feature("sync", bp, tiles=_outbox_tile, label="同步", figures=(kinds.Figure(
    "last_sync", "最近一次", "max(x.created_at)", LAST_SYNC, empty=None, total="max",
    shown="datetime", note="同步：村务通的记录里分不出哪些修改是手机发来的、哪些是网页上提交的，这里是两者中最近的一次。"),))
MAX_BATCH = 50
NOT_PAYLOAD = {"csrf_token", "edit_id", "base_version", "uuid"}  # the envelope, not the content


def offline_pages():
    """Pages the cadre's phone should keep now, while there is signal (for base.html's meta tag): the 待发送 page and
    what each kind of record asks for in each of the person's villages (new-minutes forms, the article being drafted)."""
    from flask import url_for
    urls = [url_for("sync.outbox")]
    for _kind, pages in kinds.registry().collect("offline_pages"):
        for village in current_user.villages:
            urls += pages(store.town_db(village[:9]), village)
    return urls


def envelope(kind_name, record=None, payload=None):
    """A plain POST of a synced kind's page as the edit a phone would send: the page's uuid (the record's, for an edit),
    edit_id and base_version make the envelope, so a page sent twice is the same edit and is answered as before."""
    uuid = record["uuid"] if record else (request.form.get("uuid") or records.new_uuid())
    if not records.valid_uuid(uuid):
        abort(400)
    return {"edit_id": request.form.get("edit_id") or records.new_uuid(), "uuid": uuid, "type": kind_name,
            "base_version": form_base_version(request.form.get("base_version", "")),
            "payload": form_payload(request.form) if payload is None else payload}


def photo_edit(kind_name, record=None, payload=None):
    """envelope() plus the photos chosen on a page without JS (field photo_files): each checked and shrunk like any
    upload, kept for the village by its SHA-256 and listed in the payload as a phone lists them. Returns (edit, problems):
    problems are Chinese reasons for photos refused, to show by the field (the others are kept)."""
    hashes, problems = [], []
    for storage in request.files.getlist("photo_files"):
        if storage and storage.filename:
            try:
                hashes.append(attachments.store_photo(g.db, g.village["code"], storage.filename, storage.read(),
                                                      current_user.username))
            except attachments.AttachmentError as error:
                problems.append(str(error))
    edit = envelope(kind_name, record, payload)
    edit["payload"] += [["photos", h] for h in hashes]
    return edit, problems


def already_saved(kind_name, edit):
    """A new-record page sent twice (no JS to stop a double tap): this person's record of that uuid already holds
    exactly this content."""
    existing = records.by_uuid(g.db, kinds.synced()[kind_name].table, edit["uuid"])
    if existing is None or existing["village_code"] != g.village["code"] or existing["created_by"] != current_user.username:
        return False
    kind = kinds.synced()[kind_name]
    form = kind.form(g.db, g.village["code"], MultiDict([tuple(p) for p in edit["payload"]]), record=existing)
    return form.validate() and all(existing.get(k) == v for k, v in kind.to_record(form).items())


def save_form(edit):
    """Save a page's edit (see envelope) through the same path as a phone's. Returns the answer; "invalid" with field
    errors means the page is shown again with them (refill); any other refusal is a 400."""
    answer = apply_edit(g.db, current_user, g.village["code"], edit)
    if answer["status"] not in ("accepted", "conflict", "needs_review") and not answer.get("errors"):
        abort(400)
    return answer


def refill(kind_name, record, payload):
    """The kind's form filled with what was sent and validated, so the page shows each error next to its field and
    loses nothing typed."""
    form = kinds.synced()[kind_name].form(g.db, g.village["code"], MultiDict([tuple(p) for p in payload]), record=record)
    form.validate()
    return form


def form_payload(formdata):
    """A submitted form as [name, value] pairs (what a phone sends), without the envelope fields."""
    return [[name, value] for name, value in formdata.items(multi=True) if name not in NOT_PAYLOAD]


def form_base_version(text):
    """base_version as a page posts it ("" for a new record): a number within SQLite's range, else None."""
    text = text or ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def content_hash(edit):
    body = json.dumps([edit.get("type"), edit.get("uuid"), edit.get("base_version"), edit.get("payload")],
                      ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _answer(status, http, revision=None, errors=None, uuid=None, error=None):
    answer = {"status": status, "http": http, "uuid": uuid, "version": None, "receipt": None}
    if revision is not None:
        answer.update(uuid=revision["uuid"], version=revision["version"], receipt=revision["receipt"],
                      edit_id=revision["edit_id"])
    if errors:
        answer["errors"] = errors
    if error:
        answer["error"] = error
    return answer


STORED_HTTP = {"accepted": 200, "conflict": 200, "needs_review": 200}


def _stored(db, edit_id):
    return store.row(db, "select * from revisions where edit_id = ?", [edit_id])


def _replay(revision, edit):
    if revision["content_hash"] != content_hash(edit):
        return _answer("edit_id_reused", 409, error="这个编号已经用于另一份内容（手机上的程序出错了）", uuid=edit.get("uuid"))
    return _answer(revision["status"], STORED_HTTP[revision["status"]], revision)


def apply_edit(db, user, village_code, edit):
    """Apply one edit sent by a phone or a form. Same edit_id and content again → the stored answer, nothing new."""
    return apply_edits(db, user, village_code, [edit])[0]


def apply_edits(db, user, village_code, edits):
    """A batch of edits, answered edit by edit: each is checked on its own (its form validated outside the
    write lock), then all are written in one transaction, so a batch costs one disk sync, not one per record."""
    answers, todo = [], []
    for edit in edits:
        answer, ready = _check(db, user, village_code, edit)
        answers.append(answer)
        if ready:
            todo.append((len(answers) - 1, edit, ready))
    if not todo:
        return answers
    with store.write(db):  # one writer at a time, decided before anything is read
        for index, edit, (record_type, form) in todo:
            try:
                with store.write(db):  # a savepoint per edit
                    answers[index] = _write(db, user.username, village_code, edit, record_type, form)
            except sqlite3.IntegrityError:
                # the same edit_id committed by a request running at the same time: answer as it was answered
                revision = _stored(db, edit["edit_id"])
                if revision is None:
                    raise
                answers[index] = _replay(revision, edit)
    return answers


def _check(db, user, village_code, edit):
    """(answer, None) when the edit is settled without writing, or (None, (record_type, form)) when it must be written."""
    problem = envelope_problem(edit)
    if problem:
        uuid = edit.get("uuid") if isinstance(edit, dict) and isinstance(edit.get("uuid"), str) else None
        return _answer("invalid", 400, error=problem, uuid=uuid[:36] if uuid else None), None
    edit_id, uuid, kind = edit["edit_id"], edit["uuid"], edit["type"]
    revision = _stored(db, edit_id)
    if revision is not None:
        return _replay(revision, edit), None
    record_type = kinds.synced()[kind]
    if user.role not in record_type.writers:
        return _answer("forbidden", 403, error="您的账号没有这项权限", uuid=uuid), None
    row = records.by_uuid(db, record_type.table, uuid)
    if row is not None and row["village_code"] != village_code:
        return _answer("forbidden", 403, error="这条记录不属于这个村", uuid=uuid), None
    form = record_type.form(db, village_code, MultiDict(text_pairs(edit.get("payload"))), record=row)
    if not form.validate():
        return _answer("invalid", 422, errors=_errors(form), uuid=uuid), None
    return None, (record_type, form)


MAX_PAIRS = 5000       # name/value pairs in one edit (a long meeting has a few hundred)
MAX_NAME = 100         # characters of a field name
MAX_VERSION = 2 ** 63 - 1  # SQLite's largest integer


def envelope_problem(edit):
    """Why one edit of a batch cannot be read, in Chinese; None when its envelope is sound. Every edit is checked on
    its own, so one malformed edit is refused while the good ones of the same batch go through."""
    if not isinstance(edit, dict):
        return "这一条的格式不对（应是一个对象）"
    if not all(isinstance(edit.get(k), str) and records.valid_uuid(edit[k]) for k in ("edit_id", "uuid")):
        return "缺少记录编号"
    if not isinstance(edit.get("type"), str) or edit["type"] not in kinds.synced():
        kind = edit.get("type")
        return f"不认识的记录类型 {kind[:40]!r}" if isinstance(kind, str) else "记录类型的格式不对"
    base = edit.get("base_version")
    if base is not None and (type(base) is not int or not 0 <= base <= MAX_VERSION):
        return "版本号的格式不对（应是整数）"
    payload = edit.get("payload")
    if payload is None:
        return None
    if not isinstance(payload, list):
        return "记录内容的格式不对（应是 [名称, 值] 的列表）"
    if len(payload) > MAX_PAIRS:
        return f"记录内容太多（超过 {MAX_PAIRS} 项）"
    for pair in payload:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and 0 < len(pair[0]) <= MAX_NAME
                and _scalar(pair[1])):
            return "记录内容的格式不对（每一项应是 [名称, 值]）"
    return None


def _scalar(value):
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return value is None or isinstance(value, (str, int, bool))


def text_pairs(payload):
    """A checked payload as (name, text) pairs, the way a form posts them."""
    out = []
    for name, value in payload or []:
        if value is None or value is False:
            value = ""
        elif value is True:
            value = "y"
        out.append((name, str(value)))
    return out


def own_fields(form, payload):
    """Only the form's own fields are kept in a revision: names the form does not have are dropped."""
    names = {field.name for field in leaf_fields(form)}
    return [[name, value] for name, value in payload or [] if name in names]


def _errors(form):
    """Field errors by the names the phone's form uses (agenda-0-title, …), so it can open the record at the field."""
    return {field.name: list(field.errors) for field in leaf_fields(form) if field.errors}


def _write(db, actor, village_code, edit, record_type, form):
    revision = _stored(db, edit["edit_id"])
    if revision is not None:  # sent twice in one batch, or by another request just now
        return _replay(revision, edit)
    base = edit.get("base_version")
    row = records.by_uuid(db, record_type.table, edit["uuid"])  # read again inside the lock
    columns = record_type.to_record(form)
    if row is None:
        row, _ = records.create(db, record_type.table, {**columns, "uuid": edit["uuid"], "village_code": village_code}, actor)
        status = "accepted"
    elif row["village_code"] != village_code:
        return _answer("forbidden", 403, error="这条记录不属于这个村", uuid=edit["uuid"])
    elif record_type.locked(row):
        status = "needs_review"
    elif base is not None and base == row["version"]:
        row = records.update(db, record_type.table, row["uuid"], columns, actor)
        status = "accepted"
    else:
        status = "conflict"
    if status == "accepted" and getattr(record_type, "files", None):  # the files the record lists, linked in its order
        attachments.link(db, record_type.table, row["uuid"], village_code, form[record_type.files].data or [], actor)
    if status != "accepted":
        db[record_type.table].update(row["uuid"], {"conflict": 1})
        audit.record(db, actor, status, record_type.table, row["uuid"], village_code,
                     summary=("两人同时修改，两份都保留，等人来定" if status == "conflict"
                              else "已确认的记录收到修改，作为更正建议保留"))
    rev_id = store.insert_row(db, "revisions", {
        "edit_id": edit["edit_id"], "record_type": record_type.name, "uuid": edit["uuid"],
        "village_code": village_code, "base_version": base, "version": row["version"],
        "payload": json.dumps(own_fields(form, edit.get("payload")), ensure_ascii=False), "content_hash": content_hash(edit),
        "status": status, "created_at": now_iso(), "created_by": actor})
    receipt = f"{rev_id:06d}"
    db.conn.execute("update revisions set receipt = ? where id = ?", [receipt, rev_id])
    revision = {"uuid": edit["uuid"], "version": row["version"], "receipt": receipt, "edit_id": edit["edit_id"]}
    return _answer(status, 201 if status == "accepted" and row["version"] == 1 else 200, revision)


@bp.app_context_processor
def _offline_pages():
    return {"offline_pages": offline_pages}


@bp.route("/outbox")
@access("cadre", "adviser", "town", "county")
def outbox():
    """待发送: what this phone holds (read from IndexedDB by forms.js); the page itself holds no records."""
    response = make_response(render_template("sync/outbox.html"))
    response.headers["X-Offline-Copy"] = "form"
    return response


# ---- the JSON API ---------------------------------------------------------------------

@bp.route("/api/session")
@access("cadre", "adviser", "town", "county")
def session():
    """A fresh CSRF token and the server's time, fetched by the phone before it sends anything."""
    return jsonify({"ok": True, "csrf_token": generate_csrf(), "server_time": now_iso(),
                    "user": {"username": current_user.username, "name": current_user.name, "role": current_user.role},
                    "villages": current_user.villages})


@bp.route("/api/v/<village>/edits", methods=["POST"])
@access("cadre", scope="village")
def edits(village):
    body, problem = read_json(request, MAX_BODY_BYTES)
    if problem:
        return json_error(*problem)
    batch = body.get("edits") if isinstance(body, dict) else None
    if not isinstance(batch, list) or not batch:
        return json_error(400, "没有收到要发送的记录")
    if len(batch) > MAX_BATCH:
        return json_error(400, f"一次最多发送 {MAX_BATCH} 条")
    results = apply_edits(g.db, current_user, village, batch)
    return jsonify({"ok": True, "server_time": now_iso(), "results": results})


SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_BODY_BYTES = 4 * 1024 * 1024  # a batch of 50 long minutes is well under 2 MB
MAX_DEPTH = 20                    # an edit is {edits: [{payload: [[name, value]]}]}: 4 levels
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def read_json(req, limit):
    """The request's JSON body, size and nesting bounded BEFORE it is parsed (a body nested 100,000 deep would
    exhaust the parser's recursion). Returns (value, None) or (None, (status, message))."""
    if (req.content_length or 0) > limit:
        return None, (413, "一次发送的内容太多，请分几次发送")
    raw = req.stream.read(limit + 1)
    if len(raw) > limit:
        return None, (413, "一次发送的内容太多，请分几次发送")
    steps = _STRINGS.sub(b"", raw).translate(_STEPS, _NOT_BRACKETS)  # an opening bracket is 2, a closing one 0
    if max(accumulate(step - 1 for step in steps), default=0) > MAX_DEPTH:
        return None, (400, "发送的内容格式不对（嵌套太深）")
    try:
        return json.loads(raw.decode("utf-8")), None
    except (ValueError, RecursionError):
        return None, (400, "发送的内容不是正确的 JSON 格式")


@bp.route("/api/v/<village>/files/<sha256>", methods=["HEAD", "PUT"])
@access("cadre", scope="village")
def file(village, sha256):
    """A photo sent on its own before the record that lists it. A file another village sent answers as absent
    (HEAD 404), and the phone's PUT then makes it this village's too: nothing says it was already there."""
    sha256 = sha256.lower()
    if not SHA256.fullmatch(sha256):
        return json_error(404, "文件编号有误")
    mine = bool(attachments.owned(g.db, village, [sha256]))
    if request.method == "HEAD":
        return ("", 200 if mine else 404)
    if mine:
        return jsonify({"ok": True, "sha256": sha256, "stored": False})
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    if (request.content_length or 0) > limit:
        return json_error(413, f"文件太大，照片每张不超过 {limit // 1048576} MB")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        return json_error(413, f"文件太大，照片每张不超过 {limit // 1048576} MB")
    if hashlib.sha256(data).hexdigest() != sha256:
        return json_error(400, "文件没有传完整，请重新发送")
    if attachments.sniff(data) is None:
        return json_error(415, "只能上传照片（JPG、PNG）")
    try:  # the same checks as a photo chosen on the page: decoded whole, pixel limit, shrunk when too big
        kind, stored = attachments.prepare_photo("这张照片", data)
    except attachments.AttachmentError as error:
        return json_error(422, str(error), errors={"photos": [str(error)]})
    attachments.keep_file(g.db, village, sha256, kind, stored, current_user.username)  # kept under the name the phone uses
    return jsonify({"ok": True, "sha256": sha256, "stored": True}), 201
