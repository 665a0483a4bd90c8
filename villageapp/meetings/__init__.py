"""Meetings and minutes (会议记录) of a village's councils — drafted on a phone (offline through the sync engine),
confirmed and locked, corrected only by amendment — the 四议两公开 decision trails, and the town's overview.
Who may do what: the village's cadres write; the legal adviser, town staff and the county read everything
(the adviser checks that decisions such as a 村规民约 vote were taken with a quorum), and nobody else sees minutes."""
from flask import Blueprint, url_for

from .. import sync
from .forms import make_meeting_form, meeting_columns

bp = Blueprint("meetings", __name__)

sync.register(sync.RecordType(
    name="meeting", table="meetings", label="会议记录", form=make_meeting_form, to_record=meeting_columns,
    locked=lambda row: row["state"] != "draft",
    url=lambda row: url_for("meetings.show", village=row["village_code"], uuid=row["uuid"]),
    review_url=lambda row, revision: url_for("meetings.amend", village=row["village_code"], uuid=row["uuid"],
                                             revision=revision["id"])))


def _new_minutes_pages(village_code):
    """The "which council?" page and every council's new-minutes form: a cadre can start any minutes with no signal."""
    from .. import store
    from ..councils import data as councils
    rows = councils.councils(store.town_db(village_code[:9]), village_code)
    return [url_for("meetings.new", village=village_code)] + [
        url_for("meetings.new_for", village=village_code, council=c["uuid"]) for c in rows]


if _new_minutes_pages not in sync.OFFLINE_PAGES:
    sync.OFFLINE_PAGES.append(_new_minutes_pages)


@bp.app_template_global()
def meetings_to_do(db, village_code):
    """For the village home page: drafts to confirm and records that need a person."""
    from .data import to_do
    return to_do(db, village_code)


from . import town, trail_views, views  # noqa: E402,F401  (views register on bp)
