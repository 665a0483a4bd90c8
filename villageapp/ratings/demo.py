"""Demo campaigns: each town's first village (a 示范村 in the demo county) has last year's 星级文明信用户 campaign approved
and plaqued (some families consented to be named, some not; one result adjusted at the 考核 with its reason; one
household's title since withdrawn after its 道德评议 criticism) and this year's 文明家庭 campaign being scored; the
second village has a campaign in 公示 with an open objection filed on its notice; the third one reported, waiting for
the town. Reviewers are the village's 村民代表会议; each reviewer's scores go through the sync engine as a phone sends
them; every step through procedure.take_step by the village's demo accounts. Its random stream is seeded by the
village's code."""
import random
from datetime import date, timedelta

from .. import records, sync
from ..clock import today
from ..councils import data as councils
from ..notices.data import file_objection
from ..registry import add_household
from ..steps import Actor
from . import data, procedure

REVIEWERS = 5  # 村民代表 scoring each campaign


def build(db, village, ctx):
    code = village["code"]
    rnd = random.Random(code)
    cadre, town = Actor(ctx.account("cadre", code), "cadre"), Actor(ctx.account("town", code), "town")
    board = councils.council_by_name(db, code, "村民代表会议")
    roster = [m["name"] for m in councils.members(db, board["uuid"], current_only=True)] if board else []
    houses = list(db.query("select uuid, head_name from households where village_code = ? order by rowid", [code]))
    if len(roster) < 3 or len(houses) < 3:  # a village without the meetings' demo or with too few households
        return
    rnd.shuffle(houses)
    reviewers = roster[:REVIEWERS]
    by_name = {t["name"]: t for t in data.types(db)}
    stars, families = by_name["星级文明信用户"], by_name["文明家庭"]
    place = db.execute("select count(*) from villages where rowid < (select rowid from villages where code = ?)",
                       [code]).fetchone()[0] % 3  # the village's place in its town: which campaigns it shows
    demo = _Campaigns(db, code, rnd, cadre, town, reviewers)
    day = today()
    if place == 0:
        criticised = _criticised_household(db, code)
        # the criticised household first: it was awarded last year, and its title is withdrawn after the criticism
        first = sorted(houses, key=lambda h: not criticised or h["uuid"] != criticised["household_uuid"])
        award = demo.plaqued(stars, first[:8], date(day.year - 1, 10, 20))
        if criticised and award:
            procedure.withdraw(db, award, f"经道德评议会评议，该户{criticised['category']}，受到批评教育，"
                               "不再符合星级文明信用户的条件，摘去称号", cadre, review_uuid=criticised["uuid"])
        demo.scoring(families, houses[-6:], day - timedelta(days=14))
    elif place == 1:
        demo.in_publicity(stars, houses[:7], day - timedelta(days=21))  # 公示 began three days ago
    else:
        demo.reported(families, houses[:6], day - timedelta(days=40))


def _criticised_household(db, code):
    """The village's 道德评议 criticism case about a household (the reviews' demo made one), or None."""
    return next(db["review_cases"].rows_where("village_code = ? and kind = 'criticism' and household_uuid is not null",
                                              [code], order_by="subject_type = 'household' desc, created_at"), None)


class _Campaigns:
    """One village's demo campaigns, each brought to its stage through the procedure."""

    def __init__(self, db, code, rnd, cadre, town, reviewers):
        self.db, self.code, self.rnd, self.cadre, self.town, self.reviewers = db, code, rnd, cadre, town, reviewers

    def start(self, kind, year, houses, came_on):
        """A campaign with its entries (applications recorded by the cadre, or nominated by a 村民代表) and, for each
        household, how well the reviewers think of it (a star it deserves, or its points per criterion)."""
        db, rnd = self.db, self.rnd
        campaign = data.start_campaign(db, self.code, kind, year, self.reviewers, self.cadre.username)
        merit = {}
        for n, house in enumerate(houses):
            nominate = n % 3 == 2
            entry = procedure.add_entry(
                db, campaign, {"type": "household", "uuid": house["uuid"], "household_uuid": house["uuid"],
                               "name": f"{house['head_name']}户"}, "nominate" if nominate else "apply",
                (came_on + timedelta(days=n % 5)).isoformat(), self.cadre,
                nominated_by=rnd.choice(self.reviewers) if nominate else None)
            good = n < 2 or rnd.random() < 0.7  # the first two always pass: a campaign has something to show
            if kind["mode"] == "stars":
                merit[entry["uuid"]] = set(rnd.sample(range(len(kind["criteria"])), rnd.randint(6, 9) if good else 3))
            else:
                merit[entry["uuid"]] = [rnd.randint(17, 19) if good else rnd.randint(12, 15) for _c in kind["criteria"]]
        return campaign, merit

    def score(self, campaign, merit, reviewers=None, entries=None):
        """Each reviewer's scores of each entry, sent as a phone sends them (the rating_score kind)."""
        criteria = campaign["rules"]["criteria"]
        for reviewer in reviewers or campaign["reviewers"]:
            for entry in entries or data.entries(self.db, campaign["uuid"]):
                good = merit[entry["uuid"]]
                if campaign["rules"]["mode"] == "stars":
                    pairs = [[f"c{i}", "y"] for i in range(len(criteria))
                             if self.rnd.random() < (0.9 if i in good else 0.1)]
                else:
                    pairs = [[f"c{i}", str(max(0, min(c["max"], good[i] + self.rnd.randint(-2, 1))))]
                             for i, c in enumerate(criteria)]
                edit = {"edit_id": records.new_uuid(), "uuid": records.new_uuid(), "type": "rating_score",
                        "base_version": None, "payload": [["campaign", campaign["uuid"]], ["entry", entry["uuid"]],
                                                          ["reviewer", reviewer], *pairs]}
                answer = sync.apply_edit(self.db, self.cadre, self.code, edit)
                if answer["status"] != "accepted":
                    raise ValueError(answer)

    def checked(self, kind, houses, came_on):
        """Applied, scored by every reviewer and checked; families of the first passing entries consented to be named."""
        campaign, merit = self.start(kind, came_on.year, houses, came_on)
        campaign = procedure.take_step(self.db, campaign, "score", self.cadre, on=came_on + timedelta(days=6))
        self.score(campaign, merit)
        campaign = procedure.take_step(self.db, campaign, "check", self.cadre, note="按评议打分算出结果", on=came_on + timedelta(days=16))
        passed = [e for e in data.entries(self.db, campaign["uuid"]) if e["result"]["passed"]]
        for n, entry in enumerate(passed):
            if n % 3 != 2:  # every third family would rather not be named: 某户
                head = entry["subject_name"].removesuffix("户")
                procedure.consent(self.db, entry, True, head, data.CONSENT_HOW[n % 2], came_on + timedelta(days=17),
                                  self.cadre)
        return campaign

    def publicized(self, kind, houses, came_on):
        campaign = self.checked(kind, houses, came_on)
        return procedure.take_step(self.db, campaign, "publicize", self.cadre, on=came_on + timedelta(days=18))

    def reported(self, kind, houses, came_on):
        campaign = self.publicized(kind, houses, came_on)
        end = date.fromisoformat(campaign["publicity_end"])
        campaign = procedure.take_step(self.db, campaign, "confirm", self.cadre, note="公示期满，无异议", on=end + timedelta(days=1))
        return procedure.take_step(self.db, campaign, "report", self.cadre, on=end + timedelta(days=2))

    def in_publicity(self, kind, houses, came_on):
        """In 公示 now, with a villager's objection filed on its notice and not yet answered."""
        campaign = self.publicized(kind, houses, came_on)
        notice = self.db["notices"].get(campaign["notice_uuid"])
        file_objection(self.db, notice, {"body": "名单里有一户去年秋收后在田边烧秸秆，被镇里通报过，“环境卫生星”评得不合适，"
                                                 "请村里再核实一下。", "name": None, "phone": None})
        return campaign

    def plaqued(self, kind, houses, came_on):
        """Last year's campaign, all the way: one result adjusted at the 考核 with its reason, 公示, the town's approval
        and the plaques. Returns the first household's award (or None)."""
        db, cadre = self.db, self.cadre
        campaign = self.checked(kind, houses, came_on)
        adjusted = next((e for e in data.entries(db, campaign["uuid"])[::-1]
                         if e["result"]["passed"] and "环境卫生星" in e["result"]["stars"]), None)
        if adjusted:
            result = dict(adjusted["result"])
            result["stars"] = [s for s in result["stars"] if s != "环境卫生星"]
            result["total"] = len(result["stars"])
            result["passed"] = result["total"] >= campaign["rules"]["threshold"]
            procedure.adjust(db, campaign, adjusted, result, "村两委考核：该户今年秋收后在田边焚烧秸秆，被镇里通报，"
                             "「环境卫生星」不予评定", cadre)
        campaign = procedure.take_step(db, campaign, "publicize", cadre, on=came_on + timedelta(days=18))
        end = date.fromisoformat(campaign["publicity_end"])
        for step, user, after, note in (("confirm", cadre, 1, "公示期满，无异议"), ("report", cadre, 2, None),
                                        ("approve", self.town, 6, "同意"), ("plaque", cadre, 12, "统一挂牌")):
            campaign = procedure.take_step(db, campaign, step, user, note=note, on=end + timedelta(days=after))
        return next(db["awards"].rows_where("campaign_uuid = ? and household_uuid = ?",
                                            [campaign["uuid"], houses[0]["uuid"]]), None)

    def scoring(self, kind, houses, came_on):
        """Being scored now: two reviewers have been round every household, a third half of them, the rest not yet."""
        campaign, merit = self.start(kind, came_on.year, houses, came_on)
        campaign = procedure.take_step(self.db, campaign, "score", self.cadre, on=came_on + timedelta(days=4))
        entries = data.entries(self.db, campaign["uuid"])
        self.score(campaign, merit, reviewers=campaign["reviewers"][:2])
        self.score(campaign, merit, reviewers=campaign["reviewers"][2:3], entries=entries[:len(entries) // 2])
        return campaign


def public_example(db, village_code):
    """Three households awarded in the village: one whose family consented to be named, one who did not (某户) and one
    who consented and then withdrew it. Only the first is named on the public page."""
    cadre, town = Actor("system", "cadre"), Actor("system", "town")
    names = ["周示范", "吴示范", "郑示范"]
    houses = [add_household(db, village_code, "一组", name, "system") for name in names]
    kind = next(t for t in data.types(db) if t["name"] == "星级文明信用户")
    reviewers = ["王代表", "李代表", "陈代表"]
    demo = _Campaigns(db, village_code, random.Random(village_code), cadre, town, reviewers)
    came_on = today() - timedelta(days=60)
    campaign, _merit = demo.start(kind, came_on.year, houses, came_on)
    good = {e["uuid"]: set(range(8)) for e in data.entries(db, campaign["uuid"])}
    campaign = procedure.take_step(db, campaign, "score", cadre, on=came_on + timedelta(days=5))
    demo.score(campaign, good)
    entries = {e["subject_name"]: e for e in data.entries(db, campaign["uuid"])}
    campaign = procedure.take_step(db, campaign, "check", cadre, on=came_on + timedelta(days=10))
    procedure.consent(db, entries["周示范户"], True, "周示范", "书面签字", came_on + timedelta(days=10), cadre)
    campaign = procedure.take_step(db, campaign, "publicize", cadre, on=came_on + timedelta(days=10))
    procedure.consent(db, entries["郑示范户"], True, "郑示范", "书面签字", came_on + timedelta(days=12), cadre)
    end = date.fromisoformat(campaign["publicity_end"])
    for step, user, after in (("confirm", cadre, 1), ("report", cadre, 1), ("approve", town, 2)):
        campaign = procedure.take_step(db, campaign, step, user, on=end + timedelta(days=after))
    procedure.consent(db, data.entry(db, campaign["uuid"], entries["郑示范户"]["uuid"]), False, "郑示范", "电话同意",
                      today(), cadre)
    return "周示范户", ["吴示范户", "郑示范户"]
