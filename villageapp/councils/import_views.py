"""Council roster import views: upload a sheet → a preview of every row (新加入 / 已在名单上 / 要选是哪一位 / 有问题)
→ 确认导入. Nothing is saved before the cadre confirms: the checked rows travel in the confirm form, signed so they
come back as they were sent, and are checked again against the register and the roster when they are written."""
import hashlib
import io
import re

from flask import current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import HiddenField

from ..access import access
from ..forms import Form
from ..records import in_village_or_404
from ..registry.sheets import SheetError
from . import bp, imports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CARRIED_FOR = 24 * 3600  # seconds a preview can wait for 确认导入 (a cadre may be called away)
PICK = re.compile(r"pick-(\d{1,6})", re.ASCII)


class UploadForm(Form):
    file = FileField("名单表格（Excel 的 .xlsx 或 .csv 文件）", validators=[FileRequired("请选择要导入的表格文件")])


class ConfirmForm(Form):
    payload = HiddenField()


def _serializer():
    return URLSafeTimedSerializer(current_app.secret_key, salt="villageapp.council-import")


def _carry(council, rows, filename, sha256):
    return _serializer().dumps({"c": council["uuid"], "f": filename, "s": sha256, "r": rows})


def _carried(council, token):
    """The rows the preview sent, or None when the token is not ours, not this council's, or too old."""
    try:
        carried = _serializer().loads(token or "", max_age=CARRIED_FOR)
    except BadSignature:  # SignatureExpired is one too
        return None
    return carried if isinstance(carried, dict) and carried.get("c") == council["uuid"] else None


def _preview(council, preview, rows, filename, sha256, status=200):
    payload = _carry(council, rows, filename, sha256) if not preview.of("error") else ""
    return render_template("councils/import_preview.html", council=council, preview=preview, filename=filename,
                           payload=payload, form=ConfirmForm(formdata=None)), status


@bp.route("/v/<village>/councils/<uuid>/import", methods=["GET", "POST"])
@access("cadre", scope="village")
def import_members(village, uuid):
    council = in_village_or_404("councils", uuid)
    if request.method == "POST" and "payload" in request.form:
        return _confirm(village, council)
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data, filename = upload.read(imports.MAX_BYTES + 1), (upload.filename or "")[-100:]
        try:
            rows = imports.read_sheet(filename, data)
        except SheetError as error:
            form.file.errors.append(str(error))
        else:
            preview = imports.check(g.db, council, rows)
            return _preview(council, preview, rows, filename, hashlib.sha256(data).hexdigest())
    return render_template("councils/import.html", council=council, form=form,
                           positions=imports.positions_for(council))


def _confirm(village, council):
    form = ConfirmForm()
    carried = _carried(council, form.payload.data) if form.validate_on_submit() else None
    if carried is None:
        form = UploadForm(formdata=None)
        form.file.errors = ["这次导入已经过期或不完整（超过一天没有确认，或页面不全）。请重新上传表格。"]
        return render_template("councils/import.html", council=council, form=form,
                               positions=imports.positions_for(council)), 400
    choices = {int(m.group(1)): value for key, value in request.form.items() if (m := PICK.fullmatch(key))}
    rows = carried["r"]
    preview = imports.commit(g.db, council, rows, choices, current_user.username, carried["f"], carried["s"])
    if not preview.written:
        return _preview(council, preview, rows, carried["f"], carried["s"])
    added, skipped = len(preview.of("new")), len(preview.of("skip"))
    if added:
        flash(f"已导入：新加入 {added} 人" + (f"，{skipped} 人已在名单上，没有重复添加" if skipped else ""))
    else:
        flash("表格里的人都已在名单上，没有重复添加")
    return redirect(url_for("councils.show", village=village, uuid=council["uuid"]))


@bp.route("/v/<village>/councils/<uuid>/import/template.xlsx")
@access("cadre", scope="village")
def import_template(village, uuid):
    council = in_village_or_404("councils", uuid)
    return send_file(io.BytesIO(imports.template_xlsx(council)), mimetype=XLSX, as_attachment=True,
                     download_name=f"{council['name']}名单模板.xlsx")
