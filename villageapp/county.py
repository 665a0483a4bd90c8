"""A county-size instance (issue 14): 11 towns of 石泉县 × 15 villages × 300 households (≈ 165,000 residents), two years
of minutes, notices with objections, 村规民约 and the audit log that results; `villageapp demo --county`.

What goes through the app and what is bulk:
- through the app's own functions (records.create/update, audited, one by one): the towns' files (store.create_town_store),
  every village (registry.add_village) and its groups (registry.group_for), and every kind's `demo` hook except the
  register's, exactly as the demo runs them: councils with rosters, this month's minutes (a 四议两公开 trail in a
  示范村), this quarter's notices with a running 公示, 村规民约 v1 published and v2 under way, 道德评议 cases, ratings;
  the demo's logins (auth.create_user).
- bulk (sqlite-utils insert_all inside store.write, a village per transaction), rows identical in shape to what the
  app writes (every column of the table, its defaults, the audit entry with the stored row as `after`):
  households and residents (as registry.add_household/add_resident write them); two years of minutes (each one's
  columns made by the meeting form itself: make_meeting_form → validate → meeting_columns, with the revision a phone's
  sync leaves, then confirmed: version 2, its audit entry and its 第 1 版 snapshot, as meetings.confirm writes them);
  two years of notices (create_notice's row, action publish) with villagers' objections on 公示 (file_objection's row,
  actor 公众), most answered (answer_objection's update); one cadre account per village and one town clerk per town
  (one password hash for all: same password as the demo's logins).
The history's audit entries are written in time order, after them the entries of what the app wrote "now" (moved to
the end of the town's log), so the log reads newest first as a real one would. A town is one transaction; building
again adds only what is missing (a village already there is left as it is). Names are unique within a village (the
demo hooks tell people apart by name, as a rating's reviewer)."""
import json
import random
import sys
import time
from datetime import date, datetime, timedelta

from faker import Faker

from . import audit, auth, demo, kinds, passwords, records, registry, store, sync
from .clock import CST, now_iso, today
from .councils import data as councils
from .meetings.data import SNAPSHOT_SKIP
from .meetings.forms import formdata, make_meeting_form, meeting_columns
from .registry.demo import GROUPS

TOWNS = [  # 石泉县's 11 towns; the demo's two come first (their villages and logins are the demo's own)
    ("610922104", "池河镇"), ("610922100", "城关镇"), ("610922101", "饶峰镇"), ("610922102", "两河镇"),
    ("610922103", "迎丰镇"), ("610922105", "后柳镇"), ("610922106", "喜河镇"), ("610922107", "熨斗镇"),
    ("610922108", "云雾山镇"), ("610922109", "中池镇"), ("610922110", "曾溪镇"),
]
FIRST = "青石龙凤桃柳松梅竹杨黄白红金银双三五七马牛高长新永和太平安兴光明东西南北中大小前后茶枣"
SECOND = "河湾坪沟岭坝山岩坡垭溪塘林庄园院堡峪关口"
SCHEDULE = {  # council → meetings a year (三会一课: the branch monthly, the party congress quarterly, …)
    "党支部委员会": 12, "村“两委”会": 12, "党员大会": 4, "村民代表会议": 4, "村民议事会": 4, "红白理事会": 2,
    "道德评议会": 2, "禁毒禁赌会": 2,
}
TOPICS = {
    "党支部委员会": ["学习传达上级会议精神", "发展党员工作", "党费收缴情况", "主题党日安排"],
    "村“两委”会": ["产业发展项目", "村道维修", "低保户评议", "人居环境整治", "集体经济收支"],
    "党员大会": ["支部工作报告", "民主评议党员", "学习党章"],
    "村民代表会议": ["集体资金使用", "项目申报表决", "村务公开事项"],
    "村民议事会": ["组里饮水工程", "公共场地使用", "邻里纠纷调处"],
    "红白理事会": ["红白事操办情况", "移风易俗宣传"],
    "道德评议会": ["道德评议", "评选好媳妇好公婆"],
    "禁毒禁赌会": ["禁毒宣传", "排查赌博隐患"],
}
OBJECTIONS = ["名单里有一户家里有人常年在外，不符合条件。", "建议把评选标准再张贴一遍，说明白。", "我家也符合条件，为什么没有？",
              "金额和上次公布的对不上，请说明。"]


def towns_of(count):
    return TOWNS[:count]


def village_plan(town_code, count, rnd):
    """(code, name, kind, model) of a town's villages: the demo's first (its names and codes), then generated ones."""
    own = next((vs for code, _n, vs in demo.TOWNS if code == town_code), [])[:count]
    taken, names = {v[0] for v in own}, {v[1] for v in own}
    out, number = list(own), 200
    while len(out) < count:
        number += 1
        code = f"{town_code}{number:03d}"
        if code in taken:
            continue
        name = rnd.choice(FIRST) + rnd.choice(SECOND) + "村"
        while name in names:
            name = rnd.choice(FIRST) + rnd.choice(SECOND) + "村"
        names.add(name)
        out.append((code, name, "村", not own and len(out) == 0))
    return out


def cadre_username(village_code):
    return f"cun{village_code}"


def clerk_username(town_code):
    return f"zhen{town_code}"


def account(role, village_code):
    """Who takes a step in this village: the demo's login where there is one, else the generated village cadre or
    town clerk (the system's name for an adviser where the demo has none)."""
    user = demo._account(role, village_code)
    if user != demo.ACTOR:
        return user
    return {"cadre": cadre_username(village_code), "town": clerk_username(village_code[:9])}.get(role, demo.ACTOR)


class Bulk:
    """Rows as records.create/update and audit.record write them, kept until flush(): every column of the table in
    its order (defaults filled), the audit entry's `after` the stored row."""

    def __init__(self, db):
        self.db, self.rows, self.audit, self._columns = db, {}, [], {}

    def columns(self, table):
        if table not in self._columns:
            self._columns[table] = [(r[0], _literal(r[1])) for r in
                                    self.db.execute(f"select name, dflt_value from pragma_table_info('{table}')")]
        return self._columns[table]

    def create(self, table, data, actor, at, action="create", summary=None):
        given = {**data, "uuid": data.get("uuid") or records.new_uuid(), "created_at": at, "updated_at": at,
                 "created_by": actor, "version": 1}
        row = {name: given.get(name, default) for name, default in self.columns(table)}
        self.rows.setdefault(table, []).append(row)
        self._audit(at, actor, action, table, row["uuid"], row.get("village_code"), None, row, summary)
        return row

    def update(self, table, row, changes, actor, at, action="update", summary=None):
        before = dict(row)
        row.update({**changes, "updated_at": at, "version": row["version"] + 1})
        self._audit(at, actor, action, table, row["uuid"], row.get("village_code"), before, row, summary)
        return row

    def _audit(self, at, actor, action, table, record_id, village_code, before, after, summary):
        self.audit.append({"at": at, "actor": actor or "公众", "action": action, "table": table, "record_id": record_id,
                           "village_code": village_code, "summary": summary or audit._summary(before, after),
                           "before": audit._dump(before), "after": audit._dump(after)})

    def add(self, table, row):
        """A row that is not a record (a revision, a meeting's edition)."""
        self.rows.setdefault(table, []).append(row)

    def flush(self):
        """The records, in the order their tables were first used (parents first); the audit entries stay for the
        town's log (written in time order by flush_audit, in the same transaction)."""
        with store.write(self.db):
            for table, rows in self.rows.items():
                self.db[table].insert_all(rows, batch_size=500)
        self.rows = {}

    def flush_audit(self, since):
        """The history's entries in time order, then the app's own entries of this build (ids above `since`), written
        before them, moved after them."""
        if not self.audit:
            return
        with store.write(self.db):
            last = self.db.execute("select coalesce(max(id), 0) from audit").fetchone()[0]
            self.audit.sort(key=lambda r: r["at"])
            self.db["audit"].insert_all(self.audit, batch_size=1000)
            names = "at, actor, action, [table], record_id, village_code, summary, before, after"
            self.db.execute(f"insert into audit ({names}) select {names} from audit where id > ? and id <= ? "
                            "order by id", [since, last])
            self.db.execute("delete from audit where id > ? and id <= ?", [since, last])
        self.audit = []


def _literal(sql):
    if sql is None:
        return None
    if sql.startswith("'"):
        return sql[1:-1].replace("''", "'")
    try:
        return int(sql)
    except ValueError:
        return float(sql)


def _stamp(day, rnd, hour=(8, 20)):
    return datetime.combine(day, datetime.min.time()).replace(
        hour=rnd.randint(*hour), minute=rnd.randrange(60), second=rnd.randrange(60), tzinfo=CST).isoformat()


def build(app, towns=11, villages=15, households=300, years=2, seed=2026, log=print):
    """Build (or complete) the county in the app's instance folder. Returns the demo's logins (they work here too)."""
    started = time.monotonic()
    fake = Faker("zh_CN")
    Faker.seed(seed)
    rnd = random.Random(seed)
    counts = {"villages": 0, "households": 0, "residents": 0, "meetings": 0, "notices": 0}
    with app.app_context():
        directory = store.open_directory(app)
        try:
            plan = []
            for code, name in towns_of(towns):
                if not directory.execute("select 1 from towns where code = ?", [code]).fetchone():
                    directory["towns"].insert({"code": code, "name": name, "created_at": now_iso()})
                plan.append((code, name, village_plan(code, villages, rnd)))
            for code, name, village_rows in plan:
                db = store.create_town_store(code, app)
                try:
                    _town(app, db, name, village_rows, households, years, fake, rnd, counts, started, log)
                finally:
                    db.close()
            _accounts(directory, plan, fake, rnd)
        finally:
            directory.close()
    log(f"全县 {len(plan)} 个镇，新建 {counts['villages']} 个村、{counts['households']} 户、{counts['residents']} 人、"
        f"{counts['meetings']} 次会议、{counts['notices']} 条公开，用时 {time.monotonic() - started:.0f} 秒")
    return [(u, demo.PASSWORD, role, f"{name} · {demo.describe(role, town, vs, position)}")
            for u, name, role, town, vs, position in demo.ACCOUNTS]


def _town(app, db, town_name, village_rows, households, years, fake, rnd, counts, started, log):
    bulk = Bulk(db)
    ctx = kinds.DemoContext(actor=demo.ACTOR, fake=fake, rnd=rnd, households=households, account=account)
    hooks = [(k, h) for k, h in kinds.registry(app).collect("demo") if k.table != "households"]
    added = {}
    with store.write(db):  # a town in one transaction: a build stopped halfway leaves the town as it was
        since = db.execute("select coalesce(max(id), 0) from audit").fetchone()[0]
        for vcode, vname, kind, model in village_rows:
            if db.execute("select 1 from villages where code = ?", [vcode]).fetchone():
                continue
            cadre = account("cadre", vcode)
            registry.add_village(db, vcode, vname, demo.ACTOR, kind=kind, model=model)
            h, r = _households(db, bulk, vcode, households, years, cadre, fake, rnd)
            bulk.flush()
            village = db["villages"].get(vcode)
            for record_kind, hook in hooks:  # as the demo runs them (villageapp/demo.py)
                if not db.execute(f"select 1 from [{record_kind.table}] where village_code = ? limit 1",
                                  [vcode]).fetchone():
                    hook(db, village, ctx)
            m = _minutes(db, bulk, vcode, years, cadre, rnd)
            n = _notices(db, bulk, vcode, vname, years, cadre, fake, rnd)
            bulk.flush()
            for key, value in (("villages", 1), ("households", h), ("residents", r), ("meetings", m), ("notices", n)):
                added[key] = added.get(key, 0) + value
            log(f"  {town_name} {vname}: {h} 户 {r} 人，{m} 次会议，{n} 条公开  ({time.monotonic() - started:.0f} s)")
            sys.stdout.flush()  # progress also when the output goes to a file
        bulk.flush_audit(since)
    for key, value in added.items():
        counts[key] += value


def _households(db, bulk, code, count, years, actor, fake, rnd):
    """As registry.demo.build makes them (same draws), written in bulk; entered when the register was set up."""
    day = today() - timedelta(days=365 * years + 30)
    groups, taken = {}, set()
    residents = 0

    def unique(surname, male):
        """A name nobody else in the village has: the demo hooks tell people apart by name (a rating's reviewer)."""
        while True:
            name = surname + (fake.first_name_male() if male else fake.first_name_female())
            if name not in taken:
                taken.add(name)
                return name

    for _ in range(count):
        surname = fake.last_name()
        head_male = rnd.random() < 0.85
        head = unique(surname, head_male)
        group = rnd.choice(GROUPS[:rnd.randint(4, 6)])
        if group not in groups:
            groups[group] = registry.group_for(db, code, group, actor)
        at = _stamp(day + timedelta(days=rnd.randrange(20)), rnd)
        house = bulk.create("households", {"village_code": code, "group_uuid": groups[group]["uuid"], "head_name": head,
                                           "address": f"{group}{rnd.randint(1, 60)}号",
                                           "phone": f"1{rnd.choice('35789')}{rnd.randrange(10**9):09d}"}, actor, at)
        born = rnd.randint(1948, 1985)
        members = [(head, "男" if head_male else "女", born, "户主")]
        if rnd.random() < 0.8:
            spouse_male = not head_male
            members.append((unique(fake.last_name(), spouse_male), "男" if spouse_male else "女",
                            born + rnd.randint(-4, 4), "配偶"))
        for _child in range(rnd.randint(0, 3)):
            male = rnd.random() < 0.5
            members.append((unique(surname, male), "男" if male else "女", min(born + rnd.randint(20, 32), 2020),
                            "子" if male else "女"))
        for name, gender, year, relation in members:
            bulk.create("residents", {"village_code": code, "household_uuid": house["uuid"], "name": name,
                                      "gender": gender, "birth_year": year, "relation": relation, "phone": None},
                        actor, at)
        residents += len(members)
    return count, residents


def _minutes(db, bulk, code, years, actor, rnd):
    """Two years of each council's meetings, each made by the meeting form from the pairs a phone sends (with the
    revision sync leaves), then confirmed. Ends a week ago (this month's minutes are the demo hook's)."""
    end = today() - timedelta(days=7)
    start = end - timedelta(days=365 * years)
    made = 0
    revision = db.execute("select coalesce(max(id), 0) from revisions").fetchone()[0]
    for council in councils.councils(db, code):
        per_year = SCHEDULE.get(council["name"], 2)
        roster = councils.members(db, council["uuid"])
        topics = TOPICS.get(council["name"], ["村务"])
        count = per_year * years
        for n in range(count):
            day = start + timedelta(days=int((n + rnd.random()) * 365 * years / count))
            if day > end:
                continue
            present = [m for m in roster if councils.serves_on(m, day) and rnd.random() < 0.9]
            if not present:
                continue
            title = rnd.choice(topics)
            payload = [["uuid", records.new_uuid()], ["council", council["uuid"]], ["date", day.isoformat()],
                       ["time", rnd.choice(["09:00", "09:30", "14:00", "19:30"])], ["place", "村委会会议室"],
                       ["host", present[0]["name"]], ["recorder", present[-1]["name"]],
                       ["eligible", str(sum(councils.serves_on(m, day) for m in roster))],
                       *[["attendees", m["uuid"]] for m in present],
                       ["agenda-0-title", title], ["agenda-0-discussion", f"大家围绕{title}发表意见。"],
                       ["agenda-0-decision", f"同意{title}的安排，由村两委抓落实。"],
                       ["agenda-0-votes_for", str(len(present))], ["agenda-0-votes_against", "0"],
                       ["agenda-0-votes_abstain", "0"], *_action(title, present[0]["name"], day, end, n)]
            form = make_meeting_form(db, code, formdata(payload))
            if not form.validate():
                raise ValueError(f"county minutes {code} {council['name']} {day}: {form.errors}")
            at = _stamp(day, rnd, (18, 22))
            row = bulk.create("meetings", {**meeting_columns(form), "uuid": payload[0][1], "village_code": code},
                              actor, at)
            edit = {"edit_id": records.new_uuid(), "uuid": row["uuid"], "type": "meeting", "base_version": None,
                    "payload": payload}
            revision += 1
            bulk.add("revisions", {
                "id": revision, "edit_id": edit["edit_id"], "record_type": "meeting", "uuid": row["uuid"],
                "village_code": code, "base_version": None, "version": 1,
                "payload": json.dumps(sync.own_fields(form, payload), ensure_ascii=False),
                "content_hash": sync.content_hash(edit), "status": "accepted", "receipt": f"{revision:06d}",
                "created_at": at, "created_by": actor})
            confirmed = _stamp(day + timedelta(days=rnd.randint(1, 5)), rnd)
            bulk.update("meetings", row, {"state": "confirmed", "edition": 1, "confirmed_at": confirmed,
                                          "confirmed_by": actor}, actor, confirmed, action="confirm",
                        summary="确认会议记录（第 1 版）")
            snapshot = {k: v for k, v in row.items() if k not in SNAPSHOT_SKIP}
            snapshot["council_name"] = council["name"]
            bulk.add("meeting_editions", {"meeting_uuid": row["uuid"], "edition": 1, "reason": None,
                                          "snapshot": json.dumps(snapshot, ensure_ascii=False),
                                          "confirmed_at": confirmed, "confirmed_by": actor})
            made += 1
    return made


def _action(title, owner, day, end, n):
    """The minutes' follow-up action (会后要办的事), due a month on: done, but for every third of the last two months'
    (so each village has a few open, some overdue, on its page and on the town desk). The rows of meeting_actions
    come from the stored agenda by m015's triggers, as for the app's own writes."""
    due = day + timedelta(days=30)
    pairs = [["agenda-0-actions-0-task", f"落实{title}"], ["agenda-0-actions-0-owner", owner],
             ["agenda-0-actions-0-due", due.isoformat()]]
    return pairs if due >= end - timedelta(days=30) and n % 3 == 0 else [*pairs, ["agenda-0-actions-0-done", "y"]]


def _notices(db, bulk, code, vname, years, actor, fake, rnd):
    """Two years of notices as create_notice stores them: 财务 every quarter, 党务 every month, 村务 every other month,
    a 公示 every four months with villagers' objections (file_objection), most answered (answer_objection)."""
    end = today() - timedelta(days=20)
    made = 0
    for back in range(12 * years, 0, -1):
        month = _month_back(end, back)
        samples = [("党务", f"{month.month}月主题党日活动通知",
                    f"{vname}党支部定于{month.month}月25日上午9点在村委会会议室召开主题党日活动，请全体党员准时参加。", None)]
        if month.month % 3 == 0:
            samples.append(("财务", f"{month.year}年第{month.month // 3}季度村级财务收支公开",
                            f"本季度村集体收入 {rnd.randint(8, 30)} 万元，支出 {rnd.randint(5, 20)} 万元，明细表张贴在村委会公开栏。",
                            None))
        if month.month % 2 == 0:
            samples.append(("村务", f"{month.month}月村务安排", "近期组织清理河道垃圾、维修三组村道，请各组配合。", None))
        if month.month % 4 == 0:
            samples.append(("公示", f"{month.year}年{month.month}月低保对象拟评名单公示",
                            "经农户申请、村民代表评议，拟评定以下农户为低保对象。公示期内如有异议，请到村委会反映。", 7))
        for category, title, body, runs in samples:
            day = month + timedelta(days=rnd.randrange(25))
            at = _stamp(day, rnd)
            notice = bulk.create("notices", {"title": title, "category": category, "body": body,
                                             "publish_date": day.isoformat(), "village_code": code, "status": "published",
                                             "end_date": (day + timedelta(days=runs)).isoformat() if runs else None},
                                 actor, at, action="publish")
            made += 1
            for _ in range(rnd.randint(0, 2) if runs else 0):
                when = day + timedelta(days=rnd.randint(0, runs))
                named = rnd.random() < 0.5
                objection = bulk.create("objections", {
                    "village_code": code, "notice_uuid": notice["uuid"], "name": fake.name() if named else None,
                    "phone": f"13{rnd.randrange(10**9):09d}" if named else None, "body": rnd.choice(OBJECTIONS),
                    "status": "open"}, None, _stamp(when, rnd))
                if rnd.random() < 0.8:
                    answered = _stamp(when + timedelta(days=rnd.randint(1, 3)), rnd)
                    bulk.update("objections", objection, {"answer": "已核实，情况属实的已调整名单，并当面答复。",
                                                          "status": "answered", "answered_by": actor,
                                                          "answered_at": answered}, actor, answered,
                                action="answer", summary="答复异议")
    return made


def _month_back(day, months):
    total = day.year * 12 + day.month - 1 - months
    return date(total // 12, total % 12 + 1, 1)


def _accounts(directory, plan, fake, rnd):
    """The demo's logins (auth.create_user, as the demo makes them), then a cadre per village and a clerk per town
    that have no demo login, in bulk with one password hash (the demo's password)."""
    for username, name, role, town, villages, position in demo.ACCOUNTS:
        if not directory.execute("select 1 from users where username = ?", [username]).fetchone():
            auth.create_user(directory, username, demo.PASSWORD, name, role, demo.ACTOR, town_code=town,
                             villages=villages, position=position, phone=f"139{rnd.randrange(10**8):08d}")
    wanted = [(clerk_username(code), code, [], None, "town") for code, _n, _v in plan] + \
             [(cadre_username(v[0]), code, [v[0]], "书记", "cadre") for code, _n, vs in plan for v in vs]
    wanted = [w for w in wanted if account(w[4], (w[2] or [w[1]])[0]) == w[0]
              and not directory.execute("select 1 from users where username = ?", [w[0]]).fetchone()]
    if not wanted:
        return
    password_hash, stamp = passwords.make(demo.PASSWORD), now_iso()  # one hash for all: demo accounts
    with store.write(directory):
        for username, town, villages, position, role in wanted:
            user_id = directory["users"].insert({
                "username": username, "password_hash": password_hash, "name": fake.name(), "role": role,
                "town_code": town, "position": position, "phone": f"139{rnd.randrange(10**8):08d}", "active": 1,
                "created_at": stamp, "created_by": demo.ACTOR, "updated_at": stamp}).last_pk
            directory["user_villages"].insert_all([{"user_id": user_id, "village_code": v} for v in villages])
