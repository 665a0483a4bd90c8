"""村规民约 (居民公约 in a 社区): the village's rulebook, its versions and articles, the procedure from consultation to
publication (procedure.py), villagers' opinions, full-text search and the town's overview. Views in views.py and town.py."""
from flask import Blueprint

bp = Blueprint("rules", __name__)


@bp.app_template_global()
def rules_status(db, village_code):
    """For the village home tile: where the village's rulebook stands, in a few words."""
    from .procedure import LABELS
    book = next(db["rulebooks"].rows_where("village_code = ?", [village_code]), None)
    running = book and next(db["rule_versions"].rows_where("rulebook_uuid = ? and stage != 'published'",
                                                          [book["uuid"]]), None)
    if running:
        return f"第 {running['number']} 版：{LABELS[running['stage']]}"
    return f"现行第 {book['current_version']} 版" if book and book["current_version"] else "还没有，点这里开始"

from . import drafts, town, views  # noqa: F401  (views register on bp)
