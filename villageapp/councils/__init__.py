"""一约四会 councils and the meeting bodies of village democracy, with their rosters (who served, in what
position, from when until when). Cadres of the village keep the rosters; the town, county and the adviser read them."""
from flask import Blueprint

from .data import COUNCILS, ensure_councils  # noqa: F401

bp = Blueprint("councils", __name__)

from . import views  # noqa: E402,F401  (views register on bp)
