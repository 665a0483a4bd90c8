"""一约四会 councils and the meeting bodies of village democracy, with their rosters (who served, in what
position, from when until when). Cadres of the village keep the rosters; the town, county and the adviser read them."""
from flask import Blueprint, url_for

from .. import kinds
from .data import COUNCILS, ensure_councils  # noqa: F401

bp = Blueprint("councils", __name__)


def _tiles(db, village_code, role):
    return [kinds.Tile("一约四会", url_for("councils.index", village=village_code), "各会名单", 30)]


COUNCIL = kinds.Kind(name="council", table="councils", label="一约四会", tiles=_tiles,
                     export=(("名称", "name"), ("类别", "kind")),
                     tables={"councils": "一约四会", "council_members": "会的成员"},
                     fields={"council_uuid": "会", "resident_uuid": "村民", "since": "任职起", "until": "任职止",
                             # a roster import's entry (imports.commit)
                             "council": "会", "filename": "文件", "sha256": "文件指纹", "rows": "行数",
                             "added": "新加入", "skipped": "已在名单上"},
                     values={"kind": {"council": "四会", "body": "会议"}})
FEATURE = kinds.Feature("councils", bp, (COUNCIL,))

from . import views  # noqa: E402,F401  (views register on bp)
from . import import_views  # noqa: E402,F401  (roster import from a sheet)
