"""Registry data functions: villages, groups (组), households (户) and residents (村民).
Every change goes through records.create/records.update, so it carries a UUID, a version and an audit entry."""
from .. import records
from ..store import write


def add_village(db, code, name, actor, kind="村", model=False, uuid=None):
    town = _town_code(db)
    if town and not code.startswith(town):
        raise ValueError("village code must start with its town code")
    row, _ = records.create(db, "villages", {"code": code, "name": name, "kind": kind, "model": int(bool(model)),
                                             "uuid": uuid or records.new_uuid()}, actor)
    return row


def update_village(db, code, actor, **changes):
    """Rename a village, change its kind or toggle 示范村 (model); code and uuid never change."""
    allowed = {k: v for k, v in changes.items() if k in ("name", "kind", "model")}
    if "model" in allowed:
        allowed["model"] = int(bool(allowed["model"]))
    return records.update(db, "villages", code, allowed, actor)


def model_villages(db):
    return db.execute("select count(*) from villages where model = 1").fetchone()[0]


def _town_code(db):
    row = db.execute("select substr(code, 1, 9) from villages limit 1").fetchone()
    return row[0] if row else None


def group_names(db, village_code):
    return [r["name"] for r in db["groups"].rows_where("village_code = ?", [village_code], order_by="name")]


def group_for(db, village_code, name, actor):
    """The group (组) of that name in the village, created on first use."""
    row = next(db["groups"].rows_where("village_code = ? and name = ?", [village_code, name]), None)
    if row is None:
        row, _ = records.create(db, "groups", {"village_code": village_code, "name": name}, actor)
    return row


class Duplicate(ValueError):
    """The same household or person is already in the register (found under the write lock, so two cadres adding
    them at the same instant make one)."""

    def __init__(self, row):
        super().__init__(row["uuid"])
        self.row = row


def find_household(db, village_code, group_name, head_name, address):
    """The household with that group, head and address (how the import and the form recognise one), or None."""
    return next(iter(db.query(
        "select h.* from households h join groups gr on gr.uuid = h.group_uuid where h.village_code = ? "
        "and gr.name = ? and h.head_name = ? and coalesce(h.address, '') = ?",
        [village_code, group_name, head_name, address or ""])), None)


def add_household(db, village_code, group_name, head_name, actor, address=None, phone=None, uuid=None):
    with write(db):
        group = group_for(db, village_code, group_name, actor)
        row, _ = records.create(db, "households", {"uuid": uuid, "village_code": village_code,
                                                   "group_uuid": group["uuid"], "head_name": head_name,
                                                   "address": address, "phone": phone}, actor)
    return row


def add_household_with_head(db, village_code, group_name, head_name, actor, address=None, phone=None,
                            gender=None, birth_year=None, uuid=None):
    """A household entered by hand, with its head as its first resident. The same uuid sent again
    (a double tap, a form re-sent after a lost signal) returns the first household and adds nobody.
    Returns (household, created)."""
    with write(db):
        if uuid:
            existing = records.by_uuid(db, "households", uuid)
            if existing is not None:
                if existing["village_code"] != village_code or existing["created_by"] != actor:
                    raise records.UuidTaken(uuid)
                return existing, False
        same = find_household(db, village_code, group_name, head_name, address)
        if same is not None:
            raise Duplicate(same)
        household = add_household(db, village_code, group_name, head_name, actor, address=address, phone=phone,
                                  uuid=uuid)
        add_resident(db, household["uuid"], head_name, actor, gender=gender, birth_year=birth_year,
                     relation="户主", phone=phone)
    return household, True


def find_resident(db, household_uuid, name, birth_year):
    return next(db["residents"].rows_where("household_uuid = ? and name = ? and birth_year is ?",
                                           [household_uuid, name, birth_year]), None)


def add_resident_once(db, household_uuid, name, actor, uuid=None, **person):
    """A person entered by hand: the same form sent again returns (first row, False); the same name and birth year
    already in the household raises Duplicate. Decided under the write lock. Returns (resident, created)."""
    with write(db):
        existing = records.by_uuid(db, "residents", uuid) if uuid else None
        if existing is not None:
            if existing["household_uuid"] != household_uuid or existing["created_by"] != actor:
                raise records.UuidTaken(uuid)
            return existing, False
        same = find_resident(db, household_uuid, name, person.get("birth_year"))
        if same is not None:
            raise Duplicate(same)
        return add_resident(db, household_uuid, name, actor, uuid=uuid, **person), True


def add_resident(db, household_uuid, name, actor, gender=None, birth_year=None, relation=None, phone=None,
                 uuid=None):
    household = db["households"].get(household_uuid)
    row, _ = records.create(db, "residents", {"uuid": uuid, "village_code": household["village_code"],
                                              "household_uuid": household_uuid, "name": name, "gender": gender,
                                              "birth_year": birth_year, "relation": relation, "phone": phone}, actor)
    return row
