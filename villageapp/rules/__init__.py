"""村规民约 (居民公约 in a 社区): the village's rulebook, its versions and articles, the procedure from consultation to
publication (procedure.py), villagers' opinions, full-text search and the town's overview. Views in views.py and town.py."""
from flask import Blueprint

bp = Blueprint("rules", __name__)

from . import drafts, town, views  # noqa: F401  (views register on bp)
