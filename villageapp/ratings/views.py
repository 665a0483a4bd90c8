"""Views of the campaigns (written by the views helper)."""
from . import bp  # noqa: F401
