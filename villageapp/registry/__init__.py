"""The registry of a town: villages (and 示范村), groups (组), households (户) and residents (村民),
entered by hand or imported from the cadres' CSV/XLSX household lists."""
from flask import Blueprint

from .data import add_household, add_resident, add_village, group_for  # noqa: F401

bp = Blueprint("registry", __name__)

from . import views  # noqa: E402,F401  (views register on bp)
