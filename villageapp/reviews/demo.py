"""Demo 道德评议 data (written by the demo helper)."""


def build(db, village, ctx):
    return None
