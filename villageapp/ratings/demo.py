"""Demo campaigns (written by the demo helper)."""


def build(db, village, ctx):
    return None
