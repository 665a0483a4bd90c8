"""The registry of a town: villages (and 示范村), groups (组), households (户) and residents (村民),
entered by hand or imported from the cadres' CSV/XLSX household lists."""
from flask import Blueprint, url_for

from .. import kinds
from . import lists
from .data import add_household, add_resident, add_village, group_for  # noqa: F401

bp = Blueprint("registry", __name__)


def _tiles(db, village_code, role):
    if role == "adviser":  # the register is personal data: not the adviser's to read
        return []
    households, residents = db.execute("select (select count(*) from households where village_code = :v),"
                                       " (select count(*) from residents where village_code = :v)",
                                       {"v": village_code}).fetchone()
    return [kinds.Tile("户籍名册", url_for("registry.households", village=village_code), f"{households} 户 {residents} 人", 90)]


# households and residents registered by the end of the period: one query for both, counted per village in its
# (village_code, created_at) indexes (m013), never by reading the town's whole register
REGISTERED = ("from (select v.code as village_code,"
              " (select count(*) from households h where h.village_code = v.code and h.created_at < :end) as households,"
              " (select count(*) from residents r where r.village_code = v.code and r.created_at < :end) as residents"
              " from villages v) x")
HOUSEHOLD = kinds.Kind(
    name="household", table="households", label="户", readers=("cadre", "town", "county"), tiles=_tiles,
    figures=(kinds.Figure("households", "户", "sum(x.households)", REGISTERED, group="户籍"),
             kinds.Figure("residents", "人", "sum(x.residents)", REGISTERED, group="户籍")),
    export=(("户主", "head_name"), ("住址", "address"), ("电话", "phone")),
    lists=(lists.HOUSEHOLDS, lists.RESIDENTS),
    tables={"villages": "村（社区）", "groups": "村民小组", "households": "户", "residents": "村民"},
    fields={"model": "示范村", "head_name": "户主", "address": "住址", "group_uuid": "组", "household_uuid": "户",
            "gender": "性别", "birth_year": "出生年份", "relation": "与户主关系"},
    values={"model": {0: "否", 1: "是"}},
    demo=kinds.later("villageapp.registry.demo", "build"))
FEATURE = kinds.Feature("registry", bp, (HOUSEHOLD,))

from . import views  # noqa: E402,F401  (views register on bp)
