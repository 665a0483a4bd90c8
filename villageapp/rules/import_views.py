"""Bringing in the 村规民约 a village already has (issue 15): paste the text or choose a .docx/.txt (imports.py reads and
parses it), check it on one screen (nothing saved until 确认导入), file it as version 1 (import_filing.py); the town
confirms it or returns it with a reason, on the version page."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import access
from ..records import in_village_or_404
from ..steps import StepRefused
from . import bp, data, import_filing
from .import_forms import (
    MAX_ARTICLES,
    CheckForm,
    ImportForm,
    apply,
    as_formdata,
    form_data,
    from_parse,
    from_version,
    missing,
    row_count,
)


def _refused(reason):
    return render_template("rules/import_refused.html", reason=reason), 409


@bp.route("/v/<village>/rules/import", methods=["GET", "POST"])
@access("cadre", scope="village")
def import_text(village):
    """Step 1: the whole text, pasted or from a file."""
    problem, returned = import_filing.importable(g.db, village)
    if problem:
        return _refused(problem)
    form = ImportForm(meta={"csrf": False})  # CSRFProtect checks every POST
    if request.method == "POST":
        parsed = _read(form)
        if parsed is not None:
            return _check_page(_rebuilt(from_parse(parsed)), warnings=parsed["warnings"])
    return render_template("rules/import.html", form=form, returned=returned), 422 if request.method == "POST" else 200


def _read(form):
    """The parsed text, or None with the reason next to the field it came from."""
    from . import imports
    storage = request.files.get(form.file.name)
    pasted = form.text.data or ""
    field = form.file if storage and storage.filename else form.text
    try:
        if storage and storage.filename and pasted:
            raise imports.ImportRefused("粘贴了全文又选了文件，请只用一样：清空粘贴的内容，或者不选文件")
        if field is form.file:
            text = imports.read_file(storage.filename, storage.read(imports.MAX_FILE_BYTES + 1))
        elif pasted:
            text = imports.read_paste(pasted)
        else:
            raise imports.ImportRefused("请把村规民约全文粘贴到框里，或者选一个 .docx、.txt 文件")
        parsed = imports.parse(text)
    except imports.ImportRefused as refused:
        field.errors = [str(refused)]
        return None
    if not parsed["articles"]:
        field.errors = ["没有找到任何条文。条文一般写成“第一条……”或“一、……”“1. ……”，请检查后再试"]
        return None
    if len(parsed["articles"]) > MAX_ARTICLES:
        field.errors = [f"找到 {len(parsed['articles'])} 条，一份村规民约最多 {MAX_ARTICLES} 条。请检查是不是把别的材料也放进来了"]
        return None
    return parsed


@bp.route("/v/<village>/rules/import/check", methods=["GET", "POST"])
@access("cadre", scope="village")
def import_check(village):
    """Step 2: the check screen. Every button posts the whole screen; it comes back with the change made."""
    problem, returned = import_filing.importable(g.db, village)
    if problem:
        return _refused(problem)
    if request.method == "GET":
        if returned is None or request.args.get("from") != returned["uuid"]:
            return redirect(url_for("rules.import_text", village=village))
        book = data.rulebook(g.db, village)
        facts = from_version(book, returned, data.articles(g.db, returned["uuid"]))
        return _check_page(_rebuilt(facts), returned=returned)
    if row_count(request.form) > MAX_ARTICLES:
        return render_template("rules/import_refused.html",
                               reason=f"条文太多：一份村规民约最多 {MAX_ARTICLES} 条。请回到上一页重新粘贴"), 413
    form = CheckForm(meta={"csrf": False})
    valid = form.validate()
    action = request.form.get("action", "")
    warnings = [w[:300] for w in request.form.getlist("warning")[:50]]  # the reading's warnings, kept on the screen
    if action == "confirm":
        if valid and not missing(form):
            try:
                version = import_filing.file_import(g.db, g.village, form_data(form), current_user.username)
            except import_filing.NotImportable as refused:
                return _refused(str(refused))
            flash("已经导入，等镇里确认。镇里确认后，村务公开页上就能看到全文", "ok")
            return redirect(url_for("rules.version", village=village, uuid=version["uuid"]))
        return _check_page(form, warnings, returned, status=422)
    facts = form_data(form)
    at, message, ok = apply(facts["articles"], action)
    form = _rebuilt(facts)
    if at is not None and not ok:
        target = form.articles[at].form["new_chapter" if action.startswith("chapter-") else "body"]
        target.errors = [*target.errors, message]
    elif message and not ok:
        form.title.errors = [*form.title.errors, message]
    return _check_page(form, warnings, returned, status=200 if ok or not message else 422,
                       done=(at, message) if ok else None)


def _rebuilt(facts):
    """The check screen from facts (a parse, a returned version, a screen after a button), with its length checks."""
    form = CheckForm(formdata=as_formdata(facts), meta={"csrf": False})
    form.validate()
    return form


def _check_page(form, warnings=(), returned=None, status=200, done=None):
    rows = [(n, row, row.form.chapter.data or "") for n, row in enumerate(form.articles)]
    return render_template("rules/import_check.html", form=form, rows=rows, warnings=warnings, returned=returned,
                           number=data.cn_number, done=done), status


@bp.route("/v/<village>/rules/versions/<uuid>/town-answer", methods=["POST"])
@access("town", scope="village")
def import_answer(village, uuid):
    """The town's answer to an imported version: 确认 (in force from today) or 退回 with a reason."""
    row = in_village_or_404("rule_versions", uuid)
    try:
        if request.form.get("answer") == "confirm":
            import_filing.confirm(g.db, row, current_user)
            flash(f"已确认。第 {row['number']} 版今天起公布施行，村务公开页上能看到全文", "ok")
        elif request.form.get("answer") == "return":
            import_filing.send_back(g.db, row, current_user, (request.form.get("reason") or "")[:500])
            flash("已退回，村干部会看到退回的理由", "ok")
        else:
            raise StepRefused("请点「确认」或「退回」", 422)
    except StepRefused as refused:
        from .views import version
        flash(str(refused), "error")
        return version(village=village, uuid=uuid), refused.status
    return redirect(url_for("rules.version", village=village, uuid=uuid))
