"""Registry data functions: villages, groups (组), households (户) and residents (村民)."""
from .. import records

def add_village(db, code, name, actor, kind="村", model=False):
    town = _town_code(db)
    if town and not code.startswith(town):
        raise ValueError("village code must start with its town code")
    row, _ = records.create(db, "villages", {"code": code, "name": name, "kind": kind, "model": int(bool(model)),
                                             "uuid": records.new_uuid()}, actor)
    return row


def _town_code(db):
    row = db.execute("select substr(code, 1, 9) from villages limit 1").fetchone()
    return row[0] if row else None


def group_for(db, village_code, name, actor):
    """The group (组) of that name in the village, created on first use."""
    row = next(db["groups"].rows_where("village_code = ? and name = ?", [village_code, name]), None)
    if row is None:
        row, _ = records.create(db, "groups", {"village_code": village_code, "name": name}, actor)
    return row


def add_household(db, village_code, group_name, head_name, actor, address=None, phone=None, uuid=None):
    with db.atomic():
        group = group_for(db, village_code, group_name, actor)
        row, _ = records.create(db, "households", {"uuid": uuid, "village_code": village_code,
                                                   "group_uuid": group["uuid"], "head_name": head_name,
                                                   "address": address, "phone": phone}, actor)
    return row


def add_resident(db, household_uuid, name, actor, gender=None, birth_year=None, relation=None, phone=None,
                 uuid=None):
    household = db["households"].get(household_uuid)
    row, _ = records.create(db, "residents", {"uuid": uuid, "village_code": household["village_code"],
                                              "household_uuid": household_uuid, "name": name, "gender": gender,
                                              "birth_year": birth_year, "relation": relation, "phone": phone}, actor)
    return row
