"""Exports: every list the town sees, as CSV (UTF-8 with BOM), XLSX and its photos as a zip, with the filters on the
screen, and the town archive (every table, every file and a snapshot of the town's SQLite file in one zip). The lists
are the kinds' manifests (kinds.Listing); the files stream (formats.py), so the first bytes leave at once and memory
stays flat, and they only read, so they never hold the write lock."""
from flask import Blueprint

from .. import kinds
from .formats import cell, csv_safe  # noqa: F401  (the names other modules import from here)
from .responses import csv_response, kind_csv  # noqa: F401

bp = Blueprint("exports", __name__)
FEATURE = kinds.Feature("exports", bp)


@bp.app_template_global("export_choices")
def export_choices(listing):
    from .filters import choices
    return choices(listing)


from . import views  # noqa: F401  (the routes, on bp)
