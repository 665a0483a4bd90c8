"""The town's exported lists of the register (kinds.Listing): households and residents, with exactly the columns the
register's pages show town staff (a resident's own phone is not on any page, so it is not in any file). Personal:
the file says so on its first row. The queries run while the file streams: their own store, nothing from Flask."""
from datetime import timedelta

from .. import kinds
from ..exports.filters import sql_where

GENDERS = {"男": "男", "女": "女"}


def _registered(alias, filters):
    """Clauses for village and 登记日期 (the day the row was entered)."""
    pairs = ((f"{alias}.village_code = ?", filters["village_code"]),
             (f"{alias}.created_at >= ?", filters["start"] and filters["start"].isoformat()),
             (f"{alias}.created_at < ?", filters["end"] and (filters["end"] + timedelta(days=1)).isoformat()))
    return [(clause, value) for clause, value in pairs if value]




def households(db, filters):
    """Households by village and group (the register's order), with how many people each has."""
    where, params = sql_where(_registered("h", filters))
    yield from db.query(f"""select h.uuid, h.village_code, v.name as village_name, gr.name as group_name, h.head_name,
            h.address, h.phone, substr(h.created_at, 1, 10) as registered_on,
            (select count(*) from residents r where r.household_uuid = h.uuid) as members
        from households h join villages v on v.code = h.village_code left join groups gr on gr.uuid = h.group_uuid
        {where} order by h.village_code, gr.name, h.head_name""", params)


HOUSEHOLD_COLUMNS = (
    ("村（社区）", "village_name"), ("组", lambda r: r["group_name"] or ""), ("户主", "head_name"),
    ("住址", lambda r: r["address"] or ""), ("电话", lambda r: r["phone"] or ""), ("人数", "members", "int"),
    ("登记日期", "registered_on", "date"))
HOUSEHOLDS = kinds.Listing("households", "户籍名册（户）", HOUSEHOLD_COLUMNS, households, dated="登记日期", order=60,
                           readers=("town", "county"))


def residents(db, filters):
    """Residents household by household (the head first, then by birth year, as a household's page lists them)."""
    pairs = _registered("r", filters)
    if filters.get("gender"):
        pairs.append(("r.gender = ?", filters["gender"]))
    where, params = sql_where(pairs)
    yield from db.query(f"""select r.uuid, r.village_code, v.name as village_name, gr.name as group_name,
            h.head_name, r.name, r.relation, r.gender, r.birth_year, substr(r.created_at, 1, 10) as registered_on
        from residents r join households h on h.uuid = r.household_uuid join villages v on v.code = r.village_code
        left join groups gr on gr.uuid = h.group_uuid
        {where} order by r.village_code, gr.name, h.head_name, h.uuid, r.relation != '户主', r.birth_year""", params)


RESIDENT_COLUMNS = (
    ("村（社区）", "village_name"), ("组", lambda r: r["group_name"] or ""), ("户主", "head_name"), ("姓名", "name"),
    ("与户主关系", lambda r: r["relation"] or ""), ("性别", lambda r: r["gender"] or ""), ("出生年份", "birth_year", "int"),
    ("登记日期", "registered_on", "date"))
RESIDENTS = kinds.Listing("residents", "户籍名册（人）", RESIDENT_COLUMNS, residents, dated="登记日期", order=61,
                          readers=("town", "county"), choices={"gender": ("性别", GENDERS)})
