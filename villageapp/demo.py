"""The demo county: two real 石泉县 towns, three villages each, and one account per role. Each village's sample
records (households, notices, councils with rosters and minutes, 村规民约) come from the kinds' `demo` hooks, run in
the order the features are registered. Building it twice changes nothing."""
import random

from faker import Faker

from . import auth, kinds, registry, store
from .clock import now_iso

PASSWORD = "shiquan2026"
ACTOR = "demo"
TOWNS = [
    ("610922100", "城关镇", [("610922100201", "古堰村", "村", True), ("610922100202", "红岩村", "村", False),
                          ("610922100003", "新春社区", "社区", False)]),
    ("610922104", "池河镇", [("610922104201", "明星村", "村", True), ("610922104202", "五爱村", "村", False),
                          ("610922104203", "谭家湾村", "村", False)]),
]
ACCOUNTS = [  # username, name, role, town, villages, position
    ("admin", "王建国", "county", None, [], None),
    ("chengguan", "李秀英", "town", "610922100", [], None),
    ("chihe", "陈志强", "town", "610922104", [], None),
    ("mingxing", "张德明", "cadre", "610922104", ["610922104201"], "书记"),
    ("guyan", "刘桂兰", "cadre", "610922100", ["610922100201"], "主任"),
    ("hongyan", "周长林", "cadre", "610922100", ["610922100202"], "书记"),
    ("lawyer", "赵敏", "adviser", "610922104", ["610922104201", "610922104202"], None),
]


def build(app, households=40, seed=2026, log=print):
    """Create whatever part of the demo county is missing. Returns the list of demo logins."""
    fake = Faker("zh_CN")
    Faker.seed(seed)
    rnd = random.Random(seed)
    with app.app_context():
        directory = store.open_directory(app)
        try:
            for code, name, villages in TOWNS:
                _town(app, directory, code, name, villages, households, fake, rnd, log)
            for username, name, role, town, villages, position in ACCOUNTS:
                if not directory.execute("select 1 from users where username = ?", [username]).fetchone():
                    auth.create_user(directory, username, PASSWORD, name, role, ACTOR, town_code=town,
                                     villages=villages, position=position,
                                     phone=f"139{rnd.randrange(10**8):08d}")
        finally:
            directory.close()
    return [(u, PASSWORD, role, f"{name} · {describe(role, town, villages, position)}")
            for u, name, role, town, villages, position in ACCOUNTS]


def describe(role, town, villages, position):
    """Who an account is, in the words of the interface (for the printed logins)."""
    towns = {code: name for code, name, _v in TOWNS}
    names = {code: name for _c, _n, vs in TOWNS for code, name, *_ in vs}
    return {"county": "县级管理员（全县）", "town": f"{towns.get(town)}干部",
            "cadre": f"{'、'.join(names[v] for v in villages)}{position}",
            "adviser": f"法律顾问（{'、'.join(names[v] for v in villages)}）"}[role]


def _town(app, directory, code, name, villages, households, fake, rnd, log):
    if not directory.execute("select 1 from towns where code = ?", [code]).fetchone():
        directory["towns"].insert({"code": code, "name": name, "created_at": now_iso()})
    db = store.create_town_store(code, app)
    ctx = kinds.DemoContext(actor=ACTOR, fake=fake, rnd=rnd, households=households, account=_account)
    try:
        for vcode, vname, kind, model in villages:
            with store.write(db):
                new = not db.execute("select 1 from villages where code = ?", [vcode]).fetchone()
                if new:
                    registry.add_village(db, vcode, vname, ACTOR, kind=kind, model=model)
                village = db["villages"].get(vcode)
                for record_kind, demo in kinds.registry(app).collect("demo"):
                    # a kind with no record in the village yet gets its sample (also a demo built before it existed)
                    if not db.execute(f"select 1 from [{record_kind.table}] where village_code = ? limit 1",
                                      [vcode]).fetchone():
                        demo(db, village, ctx)
            if new:
                log(f"  {name} {vname}: {households} 户")
    finally:
        db.close()


def _account(role, village):
    """The demo login that would take a step of the procedure in this village (the system's name where none would)."""
    return next((u for u, _n, r, town, villages, _p in ACCOUNTS
                 if r == role and (village in villages or (role == "town" and town == village[:9]))), ACTOR)
