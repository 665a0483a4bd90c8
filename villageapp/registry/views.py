"""Registry views: the town's villages (add, rename, 示范村), a village's household list, one household,
adding households and residents by hand, and importing the cadres' household lists."""
import io

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import records
from ..access import access
from ..forms import choices
from ..routing import page_arg
from . import bp, data
from .forms import RELATIONS, EditVillageForm, HouseholdForm, ImportForm, ResidentForm, VillageForm
from .imports import group_order, import_file
from .sheets import template_xlsx
from ..records import in_village_or_404

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REJECTED_SHOWN = 200  # a phone cannot scroll through thousands of rows; the first ones show the pattern
HOUSEHOLDS_PAGE = 50  # households per page of the list: a village of 500 is ten pages
MODEL_VILLAGES_USUAL = 3  # the plan asks for 1–3 示范村 per town; more is allowed but worth a word


# ---- villages (town staff, county) ----------------------------------------------------

@bp.route("/t/<town>/villages/")
@access("town", "county", scope="town")
def villages(town):
    rows = list(g.db["villages"].rows_where(order_by="code"))
    return render_template("registry/villages.html", villages=rows)


@bp.route("/t/<town>/villages/new", methods=["GET", "POST"])
@access("town", "county", scope="town")
def new_village(town):
    form = VillageForm()
    if request.method == "GET":
        form.code.data = town  # the first nine digits are always the town's
    if form.validate_on_submit():
        sent_before = form.uuid.data and records.by_uuid(g.db, "villages", form.uuid.data)
        try:
            row = data.add_village(g.db, form.code.data, form.name.data.strip(), current_user.username,
                                   kind=form.kind.data, model=form.model.data, uuid=form.uuid.data or None)
        except records.UuidTaken:
            abort(400)
        if sent_before:
            flash(f"{row['name']}已经添加过了，没有重复添加")
        else:
            flash(f"已添加{row['kind']}：{row['name']}")
            _warn_model_count()
        return redirect(url_for("registry.villages", town=town))
    return render_template("registry/village_form.html", form=form, village=None)


@bp.route("/t/<town>/villages/<village>/edit", methods=["GET", "POST"])
@access("town", "county", scope="town")
def edit_village(town, village):
    row = next(g.db["villages"].rows_where("code = ?", [village]), None)
    if row is None or not village.startswith(town):
        abort(404)
    form = EditVillageForm(village, data={"name": row["name"], "kind": row["kind"], "model": bool(row["model"])})
    if form.validate_on_submit():
        changes = {"name": form.name.data.strip(), "kind": form.kind.data, "model": int(form.model.data)}
        if all(row[k] == v for k, v in changes.items()):
            flash("没有改动")
        else:
            data.update_village(g.db, village, current_user.username, **changes)
            flash(f"已保存：{changes['name']}" + ("（示范村）" if changes["model"] else ""))
            if changes["model"] and not row["model"]:
                _warn_model_count()
        return redirect(url_for("registry.villages", town=town))
    return render_template("registry/village_form.html", form=form, village=row)


def _warn_model_count():
    count = data.model_villages(g.db)
    if count > MODEL_VILLAGES_USUAL:
        flash(f"提醒：本镇现在有 {count} 个示范村，方案要求每镇 1–3 个。")


# ---- households and residents -------------------------------------------------------------

@bp.route("/v/<village>/households/")
@access("cadre", "town", "county", scope="village")
def households(village):
    q = request.args.get("q", "").strip()
    params = {"v": village, "q": f"%{q}%"}
    where = "h.village_code = :v"
    if q:
        where += (" and (h.head_name like :q or h.address like :q or exists (select 1 from residents r"
                  " where r.household_uuid = h.uuid and r.name like :q))")
    page = page_arg()
    rows = list(g.db.query(f"""
        select h.uuid, h.head_name, h.address, gr.name as group_name
        from households h left join groups gr on gr.uuid = h.group_uuid
        where {where} order by gr.name, h.head_name""", params))
    rows.sort(key=lambda r: group_order(r["group_name"]))  # stable: heads stay in order within a group
    pages = max(1, -(-len(rows) // HOUSEHOLDS_PAGE))
    if page > pages:
        abort(404)
    shown = rows[(page - 1) * HOUSEHOLDS_PAGE:page * HOUSEHOLDS_PAGE]
    if shown:  # member counts for the page shown only
        marks = ",".join("?" * len(shown))
        members = dict(g.db.execute(f"select household_uuid, count(*) from residents where household_uuid in ({marks}) "
                                    "group by household_uuid", [r["uuid"] for r in shown]).fetchall())
        shown = [{**r, "members": members.get(r["uuid"], 0)} for r in shown]
    return render_template("registry/households.html", households=shown, total=len(rows), q=q, page=page, pages=pages)


@bp.route("/v/<village>/households/<uuid>")
@access("cadre", "town", "county", scope="village")
def household(village, uuid):
    row = in_village_or_404("households", uuid)
    group = g.db["groups"].get(row["group_uuid"]) if row["group_uuid"] else None
    members = list(g.db["residents"].rows_where("household_uuid = ?", [uuid], order_by="birth_year"))
    return render_template("registry/household.html", household=row, group=group, members=members)


@bp.route("/v/<village>/households/new", methods=["GET", "POST"])
@access("cadre", "town", "county", scope="village")
def new_household(village):
    form = HouseholdForm()
    groups = sorted(data.group_names(g.db, village), key=group_order)
    form.group.choices = choices([("", "请选择组")] + [(name, name) for name in groups])
    if not groups:  # a village's first household: the typed group is the only one
        form.new_group.label.text = "组（如“一组”）"
    if form.validate_on_submit():
        group, head, address = form.group_name(), form.head_name.data.strip(), (form.address.data or "").strip()
        added = _once(lambda: data.add_household_with_head(g.db, village, group, head, current_user.username,
                                                           address=address or None, uuid=form.uuid.data or None,
                                                           **form.person()),
                      form.head_name, f"{group}已经有户主叫“{head}”、住址相同的一户，不用再添加")
        if added:
            row, created = added
            flash(f"已添加：{group} {head} 户" if created else "这一户已经添加过了，没有重复添加")
            return redirect(url_for("registry.household", village=village, uuid=row["uuid"]))
    return render_template("registry/household_form.html", form=form)


def _once(add, field, duplicate):
    """Add a household or a person once: (row, created), or None with the reason next to the field when the same one is
    already there; a UUID that names somebody else's record is a 400."""
    try:
        return add()
    except records.UuidTaken:
        abort(400)
    except data.Duplicate:
        field.errors.append(duplicate)
    return None


@bp.route("/v/<village>/households/<uuid>/residents/new", methods=["GET", "POST"])
@access("cadre", "town", "county", scope="village")
def new_resident(village, uuid):
    house = in_village_or_404("households", uuid)
    form = ResidentForm()
    if form.validate_on_submit():
        person, name, relation = form.person(), form.name.data.strip(), form.relation.data.strip()
        if relation == "户主" and name != house["head_name"]:
            form.relation.errors.append(f"这一户的户主是 {house['head_name']}，请填此人与户主的关系")
        else:
            added = _once(lambda: data.add_resident_once(g.db, uuid, name, current_user.username, relation=relation,
                                                         uuid=form.uuid.data or None, **person),
                          form.name, f"这一户已经有 {name}（{person['birth_year'] or '没填出生年份'}）了")
            if added:
                flash(f"已添加：{name}" if added[1] else "这个人已经添加过了，没有重复添加")
                return redirect(url_for("registry.household", village=village, uuid=uuid))
    return render_template("registry/resident_form.html", form=form, household=house, relations=RELATIONS)


# ---- import ----------------------------------------------------------------------------------

@bp.route("/v/<village>/households/import", methods=["GET", "POST"])
@access("cadre", "town", "county", scope="village")
def import_households(village):
    form, report = ImportForm(), None
    if form.validate_on_submit():
        upload = form.file.data
        report = import_file(g.db, village, upload.filename or "", upload.read(), current_user.username,
                             dry_run=form.dry_run.data)
        if report.error:
            form.file.errors.append(report.error)
            report = None
        elif report.written:
            flash(f"导入了 {report.households} 户 {report.residents} 人")
            if report.ignored:
                flash(f"这些列没有导入：{'、'.join(report.ignored)}")
            return redirect(url_for("registry.households", village=village))
    columns = list(report.rejected[0].values) if report and report.rejected else []
    return render_template("registry/import.html", form=form, report=report, columns=columns,
                           shown=report.rejected[:REJECTED_SHOWN] if report else [])


@bp.route("/v/<village>/households/template.xlsx")
@access("cadre", "town", "county", scope="village")
def import_template(village):
    return send_file(io.BytesIO(template_xlsx()), mimetype=XLSX, as_attachment=True,
                     download_name="户籍导入模板.xlsx")
