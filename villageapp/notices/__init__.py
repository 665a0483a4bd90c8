"""村务公开: notices per village, 公示 periods with objections (异议), the public village page
and the printable QR poster."""
from flask import Blueprint

bp = Blueprint("notices", __name__)

from . import views  # noqa: E402,F401  (views register on bp)
