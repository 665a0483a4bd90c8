"""镇工作台 (the town desk, /t/<town>/) and the county's overview of every town (the county admin's /): what waits for
the town (each kind's `town_tasks` hook), every village's figures for a quarter or a year (the kinds' `figures`, one
column group per kind), the model villages beside the town's average, and two SVG charts with their numbers."""
from flask import Blueprint

from .. import kinds

bp = Blueprint("desk", __name__)
FEATURE = kinds.Feature("desk", bp)

from . import views  # noqa: E402,F401  (views register on bp)
