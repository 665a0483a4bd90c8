"""Views of 道德评议 (written by the views helper)."""
from . import bp  # noqa: F401
