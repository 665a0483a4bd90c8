"""Views of 四议两公开 trails: the village's matters, one trail with its six steps, and recording the next step
(linking confirmed minutes, or publishing the 决议公开 / 结果公开 notice). Cadres write; the others read."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from .. import records
from ..access import access
from ..forms import choices
from . import TRAIL, bp, trails
from ..records import in_village_or_404

READERS = TRAIL.readers  # who reads, from the manifest (kinds.Kind); the village's cadres write


@bp.route("/v/<village>/meetings/trails/")
@access(*READERS, scope="village")
def trails_index(village):
    return render_template("meetings/trails.html", trails=trails.trails(g.db, village), steps=trails.STEPS)


@bp.route("/v/<village>/meetings/trails/new", methods=["GET", "POST"])
@access("cadre", scope="village")
def new_trail(village):
    form = trails.TrailForm()
    if form.validate_on_submit():
        try:
            row, _created = trails.create_trail(g.db, village, form.title.data.strip(), (form.matter.data or "").strip(),
                                                current_user.username, uuid=form.uuid.data or None)
        except records.UuidTaken:
            abort(400)
        flash("已建立。请按顺序记下每一步是在哪次会上做的。")
        return redirect(url_for("meetings.trail", village=village, uuid=row["uuid"]))
    return render_template("meetings/trail_form.html", form=form)


@bp.route("/v/<village>/meetings/trails/<uuid>")
@access(*READERS, scope="village")
def trail(village, uuid):
    row = in_village_or_404("trails", uuid)
    done = trails.steps(g.db, uuid)
    return render_template("meetings/trail.html", trail=row, steps=trails.with_meetings(g.db, done),
                           next_step=trails.next_step(done))


@bp.route("/v/<village>/meetings/trails/<uuid>/steps/<int:step>", methods=["GET", "POST"])
@access("cadre", scope="village")
def trail_step(village, uuid, step):
    row = in_village_or_404("trails", uuid)
    if step not in trails.LABELS:
        abort(404)
    done = trails.steps(g.db, uuid)
    if step in done:
        flash(f"“{trails.LABELS[step]}”已经记过了")
        return redirect(url_for("meetings.trail", village=village, uuid=uuid))
    if step != trails.next_step(done):
        flash(f"请按顺序来：下一步是“{trails.LABELS[trails.next_step(done)]}”")
        return redirect(url_for("meetings.trail", village=village, uuid=uuid))
    if trails.BODIES[step] is None:
        return _publish(village, row, step, done)
    meetings = trails.step_meetings(g.db, village, step, done)
    form = trails.MeetingStepForm()
    form.meeting.choices = choices([("", "请选择")] + [(m["uuid"], f"{m['starts_at'][:16].replace('T', ' ')} {m['council_name']}")
                                                     for m in meetings])
    if form.validate_on_submit():
        meeting = next((m for m in meetings if m["uuid"] == form.meeting.data), None)
        if meeting is None:
            problem = (f"这次会不能作为这一步的依据：要用已确认的{'或'.join(trails.BODIES[step])}会议记录，"
                       "而且不能早于上一步")
        else:
            problem = trails.record_meeting_step(g.db, row, step, meeting, meeting["council_name"],
                                                 (form.note.data or "").strip(), current_user.username)
        if problem is None:
            flash(f"已记下：{trails.LABELS[step]}")
            return redirect(url_for("meetings.trail", village=village, uuid=uuid))
        form.meeting.errors = list(form.meeting.errors) + [problem]
    return render_template("meetings/trail_step.html", trail=row, step=step, label=trails.LABELS[step], form=form,
                           bodies=trails.BODIES[step], meetings=meetings)


def _publish(village, row, step, done):
    form = trails.NoticeStepForm(data=trails.notice_defaults(g.db, row, step, done) if request.method == "GET" else None)
    if form.validate_on_submit():
        notice, problem = trails.publish_step(g.db, row, step, {"uuid": form.uuid.data, "title": form.title.data.strip(),
                                                                "body": form.body.data.strip(),
                                                                "end_date": form.end_date.data}, current_user.username)
        if problem is None:
            flash(f"已发布到村务公开：{notice['title']}")
            return redirect(url_for("meetings.trail", village=village, uuid=row["uuid"]))
        form.title.errors = list(form.title.errors) + [problem]
    return render_template("meetings/trail_step.html", trail=row, step=step, label=trails.LABELS[step], form=form,
                           bodies=None, meetings=[])
