"""星级文明户 / 文明家庭: the procedure (procedure.take_step) with its role rules and order, the results computed from each
reviewer's scores (checked against numbers worked out here), the 考核 adjustment with its reason beside the computed result,
the 公示 period and its objections, the town's approve/return, 摘星 and the re-award bar, and a town changing its stars
while an old campaign keeps its own; then the same walked through the pages (Flask test client, CSRF, real SQLite)."""
import types
import uuid as uuidlib
from datetime import timedelta

import pytest
from conftest import CHENGGUAN, CHIHE, CHIHE_TOWN, COUNTY, GUYAN, MINGXING, MINGXING_VILLAGE
from test_notices import file_objection
from test_reviews import Walk, new_case, open_town
from werkzeug.datastructures import MultiDict

from villageapp import records
from villageapp.clock import today
from villageapp.notices import data as notices_data
from villageapp.ratings import data
from villageapp.ratings.forms import make_score_form, score_columns
from villageapp.ratings.procedure import StepRefused, add_entry, adjust, consent, take_step, withdraw
from villageapp.registry.data import add_household

V = f"/v/{MINGXING_VILLAGE}"
CADRE = types.SimpleNamespace(username=MINGXING, role="cadre")
TOWN = types.SimpleNamespace(username=CHIHE, role="town")
ADVISER = types.SimpleNamespace(username="lawyer", role="adviser")
REVIEWERS = ["评议甲", "评议乙", "评议丙", "评议丁"]
STARS_TYPE, POINTS_TYPE = "星级文明信用户", "文明家庭"


# ---- helpers (also used by test_ratings_privacy.py) ------------------------------------------------------------

def type_named(db, name):
    return next(t for t in data.types(db) if t["name"] == name)


def start(db, type_name=STARS_TYPE, year=2026, reviewers=REVIEWERS, village=MINGXING_VILLAGE):
    return data.start_campaign(db, village, type_named(db, type_name), year, list(reviewers), MINGXING)


def subject(db, head_name, village=MINGXING_VILLAGE):
    house = add_household(db, village, "一组", head_name, "test")
    return {"type": "household", "uuid": house["uuid"], "household_uuid": house["uuid"], "name": f"{head_name}户"}


def enter(db, campaign, head_name, how="apply"):
    return add_entry(db, campaign, subject(db, head_name), how, (today() - timedelta(days=30)).isoformat(), CADRE,
                     nominated_by="村妇联" if how == "nominate" else None)


def score(db, campaign, entry, reviewer, values):
    """One reviewer's scores of one entry through the synced score form (as a phone would send them): for stars a list
    of the criteria indexes ticked, for points {index: points}."""
    pairs = [("campaign", campaign["uuid"]), ("entry", entry["uuid"]), ("reviewer", reviewer)]
    pairs += [(f"c{i}", "y") for i in values] if isinstance(values, list) else [(f"c{i}", str(v)) for i, v in values.items()]
    form = make_score_form(db, campaign["village_code"], MultiDict(pairs))
    assert form.validate(), form.errors
    return records.create(db, "campaign_scores", {**score_columns(form), "village_code": campaign["village_code"]},
                          MINGXING)[0]


def stage(db, campaign):
    return data.campaign(db, campaign["village_code"], campaign["uuid"])


def publicity_over(db, campaign):
    """The 公示 period ends: the campaign's publicity_end moved to yesterday (the app has no clock override)."""
    db["campaigns"].update(campaign["uuid"], {"publicity_end": (today() - timedelta(days=1)).isoformat()})
    return stage(db, campaign)


def passing_stars(db, campaign, entry):
    """Every reviewer ticks the first six stars: 6 stars, over the threshold of 5."""
    for reviewer in campaign["reviewers"]:
        score(db, campaign, entry, reviewer, [0, 1, 2, 3, 4, 5])


def approved(db, campaign):
    """check → 公示 → (period over) confirm → report → the town approves."""
    campaign = take_step(db, campaign, "check", CADRE)
    campaign = take_step(db, campaign, "publicize", CADRE)
    campaign = take_step(db, publicity_over(db, campaign), "confirm", CADRE)
    campaign = take_step(db, campaign, "report", CADRE)
    return take_step(db, campaign, "approve", TOWN)


def refused(call, *args, **kwargs):
    with pytest.raises(StepRefused) as info:
        call(*args, **kwargs)
    return info.value


def audit_actions(db, uuid):
    return [r["action"] for r in db["audit"].rows_where("record_id = ?", [uuid], order_by="id")]


@pytest.fixture
def db(app):
    with app.app_context():
        town = open_town(app)
        yield town
        town.close()


# ---- the procedure as data ---------------------------------------------------------------------------------------

def test_each_step_in_order_by_its_role_with_a_chinese_reason(db):
    campaign = start(db)
    assert campaign["stage"] == "apply" and campaign["rules"]["criteria"][0]["name"] == data.STARS[0]
    # nothing to score yet
    error = refused(take_step, db, campaign, "score", CADRE)
    assert error.status == 409 and "先添加" in str(error)
    first = enter(db, campaign, "程序甲")
    enter(db, campaign, "程序乙", how="nominate")
    assert "已经在这次评选里了" in str(refused(add_entry, db, campaign, {**subject(db, "x"), "uuid": first["subject_uuid"],
                                                                      "name": "程序甲户"}, "apply", "2026-01-01", CADRE))
    # out of order: 409 naming the stage and the step
    for step in ("check", "publicize", "confirm", "report", "plaque"):
        error = refused(take_step, db, campaign, step, CADRE)
        assert error.status == 409 and "申请和推荐" in str(error) and f"不能办「{data_steps()[step]}」" in str(error)
    # the wrong role: 403 with who does it
    error = refused(take_step, db, campaign, "score", TOWN)
    assert error.status == 403 and "由村干部办理" in str(error)
    for step in ("approve", "return"):
        error = refused(take_step, db, campaign, step, CADRE, note="x")
        assert error.status == 403 and "由镇里办理" in str(error)
    assert refused(take_step, db, campaign, "score", ADVISER).status == 403
    assert refused(take_step, db, campaign, "nonsense", CADRE).status == 404
    assert refused(add_entry, db, campaign, subject(db, "镇加"), "apply", "2026-01-01", TOWN).status == 403
    # nothing refused changed the campaign or left a step
    assert stage(db, campaign)["stage"] == "apply" and data.steps(db, campaign["uuid"]) == []

    campaign = take_step(db, campaign, "score", CADRE)
    assert campaign["stage"] == "scoring"
    rows = data.entries(db, campaign["uuid"])
    error = refused(take_step, db, campaign, "check", CADRE)
    assert error.status == 409 and "没有人打分" in str(error)
    for e in rows:
        passing_stars(db, campaign, e)
    campaign = take_step(db, campaign, "check", CADRE)
    assert campaign["stage"] == "checked"
    assert refused(add_entry, db, campaign, subject(db, "迟到"), "apply", "2026-01-01", CADRE).status == 409
    campaign = take_step(db, campaign, "publicize", CADRE)
    assert campaign["stage"] == "publicity" and campaign["notice_uuid"]
    assert campaign["publicity_end"] == (today() + timedelta(days=7)).isoformat()
    # the 公示 period: confirming before its end is refused, saying until when
    error = refused(take_step, db, campaign, "confirm", CADRE)
    assert error.status == 409 and campaign["publicity_end"] in str(error) and "公示期" in str(error)
    db["campaigns"].update(campaign["uuid"], {"publicity_end": today().isoformat()})  # its last day is still inside
    assert refused(take_step, db, stage(db, campaign), "confirm", CADRE).status == 409
    campaign = take_step(db, publicity_over(db, campaign), "confirm", CADRE)
    campaign = take_step(db, campaign, "report", CADRE)
    assert refused(take_step, db, campaign, "plaque", CADRE).status == 409
    # the town returns it: only with a reason, and it goes back to 考核 with the reason kept
    error = refused(take_step, db, campaign, "return", TOWN, note=" ")
    assert error.status == 422 and "理由" in str(error)
    campaign = take_step(db, campaign, "return", TOWN, note="程序乙户的推荐材料不全")
    assert (campaign["stage"], campaign["returned_reason"]) == ("checked", "程序乙户的推荐材料不全")
    campaign = take_step(db, campaign, "publicize", CADRE)
    campaign = take_step(db, publicity_over(db, campaign), "confirm", CADRE)
    campaign = take_step(db, campaign, "report", CADRE)
    assert campaign["returned_reason"] is None
    campaign = take_step(db, campaign, "approve", TOWN)
    assert campaign["stage"] == "approved"
    awards = list(db["awards"].rows_where("campaign_uuid = ?", [campaign["uuid"]], order_by="subject_name"))
    assert [(a["subject_name"], a["title"], a["year"]) for a in awards] == [
        ("程序乙户", "6星级文明信用户", 2026), ("程序甲户", "6星级文明信用户", 2026)]
    campaign = take_step(db, campaign, "plaque", CADRE)
    assert campaign["stage"] == "plaqued"
    assert all(a["plaque_on"] == today().isoformat() for a in db["awards"].rows_where("campaign_uuid = ?", [campaign["uuid"]]))

    steps = ["score", "check", "publicize", "confirm", "report", "return", "publicize", "confirm", "report", "approve",
             "plaque"]
    assert [(s["step"], s["role"]) for s in data.steps(db, campaign["uuid"])] == [
        (s, "town" if s in ("return", "approve") else "cadre") for s in steps]
    assert audit_actions(db, campaign["uuid"]) == ["create", *(f"campaign_{s}" for s in steps)]


def data_steps():
    from villageapp.ratings.procedure import STEPS
    return {step: words for step, (words, _roles, _stages) in STEPS.items()}


def expected_stars(rules, ticks):
    """Worked out here, not by compute(): a star is reached when MORE than its pass share of the reviewers ticked it."""
    n = len(ticks)
    return [c["name"] for i, c in enumerate(rules["criteria"]) if sum(i in t for t in ticks) > c["pass"] * n]


def test_stars_are_reached_only_with_more_than_the_pass_share_of_reviewers(db):
    campaign = start(db)
    six, four, none = (enter(db, campaign, name) for name in ("星多", "星少", "星无"))
    campaign = take_step(db, campaign, "score", CADRE)
    # 4 reviewers, pass share 0.5: 3 ticks reach a star, 2 (exactly half) do not
    ticks = {six["uuid"]: [[0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5, 9]],
             four["uuid"]: [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4], [0, 1, 2, 3], [0, 1, 2, 3, 8]],
             none["uuid"]: [[], [], [], [9]]}
    for e in (six, four, none):
        for reviewer, ticked in zip(REVIEWERS, ticks[e["uuid"]]):
            score(db, campaign, e, reviewer, ticked)
    # a reviewer scores a household once: a second record is refused by the form (never a conflict)
    form = make_score_form(db, MINGXING_VILLAGE, MultiDict([("campaign", campaign["uuid"]), ("entry", six["uuid"]),
                                                            ("reviewer", REVIEWERS[0]), ("c0", "y")]))
    assert not form.validate() and "已经给这一户打过分了" in form.reviewer.errors[0]
    take_step(db, campaign, "check", CADRE)
    rules = campaign["rules"]
    results = {e["uuid"]: e["computed"] for e in data.entries(db, campaign["uuid"])}
    for e in (six, four, none):
        stars = expected_stars(rules, ticks[e["uuid"]])
        assert results[e["uuid"]] == {"reviewers": 4, "stars": stars, "total": len(stars),
                                      "passed": len(stars) >= rules["threshold"]}
    assert results[six["uuid"]]["stars"] == data.STARS[:6]  # star 7 had exactly 2 of 4: not reached
    assert results[four["uuid"]]["total"] == 4 and not results[four["uuid"]]["passed"]
    assert results[none["uuid"]]["stars"] == []
    assert data.title(rules, results[six["uuid"]]) == "6星级文明信用户"


def test_points_are_the_reviewers_average_against_the_threshold(db):
    campaign = start(db, POINTS_TYPE, reviewers=REVIEWERS[:3])
    assert campaign["rules"]["threshold"] == 80
    high, low, edge = (enter(db, campaign, name) for name in ("分高", "分低", "分边"))
    campaign = take_step(db, campaign, "score", CADRE)
    points = {high["uuid"]: [[18, 17, 16, 15, 14], [20, 20, 19, 18, 17], [15, 15, 15, 15, 14]],   # 248 / 3 = 82.7
              low["uuid"]: [[16, 16, 16, 16, 15], [16, 16, 16, 16, 16], [16, 16, 16, 16, 16]],    # 239 / 3 = 79.7
              edge["uuid"]: [[16, 16, 16, 16, 16], [20, 20, 20, 20, 20], [12, 12, 12, 12, 12]]}   # 240 / 3 = 80
    for e in (high, low, edge):
        for reviewer, given in zip(REVIEWERS, points[e["uuid"]]):
            score(db, campaign, e, reviewer, dict(enumerate(given)))
    # over a criterion's maximum: the form says the range
    form = make_score_form(db, MINGXING_VILLAGE, MultiDict([("campaign", campaign["uuid"]), ("entry", high["uuid"]),
                                                            ("reviewer", "x"), ("c0", "21")]))
    assert not form.validate() and "0 到 20" in form.c0.errors[0]
    take_step(db, campaign, "check", CADRE)
    results = {e["uuid"]: e["computed"] for e in data.entries(db, campaign["uuid"])}
    for e in (high, low, edge):
        average = round(sum(map(sum, points[e["uuid"]])) / 3, 1)
        assert results[e["uuid"]] == {"reviewers": 3, "stars": [], "total": average, "passed": average >= 80}
    assert (results[high["uuid"]]["total"], results[high["uuid"]]["passed"]) == (82.7, True)
    assert (results[low["uuid"]]["total"], results[low["uuid"]]["passed"]) == (79.7, False)
    assert (results[edge["uuid"]]["total"], results[edge["uuid"]]["passed"]) == (80.0, True)  # the threshold itself passes


def test_an_adjustment_needs_a_reason_and_keeps_the_computed_result_beside_it(db):
    campaign = start(db)
    e = enter(db, campaign, "调整甲")
    campaign = take_step(db, campaign, "score", CADRE)
    passing_stars(db, campaign, e)
    lowered = {"reviewers": 4, "stars": data.STARS[:4], "total": 4, "passed": False}
    assert refused(adjust, db, campaign, e, lowered, "早了", CADRE).status == 409  # not before the 考核
    campaign = take_step(db, campaign, "check", CADRE)
    e = data.entry(db, campaign["uuid"], e["uuid"])
    error = refused(adjust, db, campaign, e, lowered, "  ", CADRE)
    assert error.status == 422 and "理由" in str(error)
    assert refused(adjust, db, campaign, e, lowered, "镇里要改", TOWN).status == 403
    assert data.entry(db, campaign["uuid"], e["uuid"])["adjusted"] is None
    adjust(db, campaign, e, lowered, "去年有违建未拆除，两委考核不给勤劳致富、团结互助星", CADRE)
    e = data.entry(db, campaign["uuid"], e["uuid"])
    assert e["computed"]["stars"] == data.STARS[:6] and e["computed"]["passed"]       # the computed one is kept
    assert e["adjusted"] == lowered and e["result"] == lowered                        # the adjusted one is used
    assert e["adjust_reason"] == "去年有违建未拆除，两委考核不给勤劳致富、团结互助星"
    assert audit_actions(db, e["uuid"])[-1] == "campaign_adjust"
    # nobody passes now: there is nothing to publicize
    assert "没有达到标准" in str(refused(take_step, db, campaign, "publicize", CADRE))
    assert refused(adjust, db, {**campaign, "stage": "publicity"}, e, lowered, "再改", CADRE).status == 409


def test_an_objection_during_the_publicity_blocks_confirmation_until_answered(db):
    campaign = start(db)
    e = enter(db, campaign, "异议甲")
    campaign = take_step(db, campaign, "score", CADRE)
    passing_stars(db, campaign, e)
    campaign = take_step(db, take_step(db, campaign, "check", CADRE), "publicize", CADRE)
    notice = db["notices"].get(campaign["notice_uuid"])
    assert notice["category"] == "公示" and notices_data.in_notice_period(notice)
    objection = notices_data.file_objection(db, notice, {"body": "异议甲户去年有违建"})
    campaign = publicity_over(db, campaign)
    error = refused(take_step, db, campaign, "confirm", CADRE)
    assert error.status == 409 and "1 条没有答复" in str(error)
    notices_data.answer_objection(db, objection["uuid"], "经核实违建已拆除", MINGXING)
    assert take_step(db, campaign, "confirm", CADRE)["stage"] == "confirmed"


def test_withdrawing_a_star_needs_a_reason_and_bars_a_new_entry(db):
    campaign = start(db)
    e = enter(db, campaign, "摘星甲")
    campaign = take_step(db, campaign, "score", CADRE)
    passing_stars(db, campaign, e)
    campaign = approved(db, campaign)
    (award,) = db["awards"].rows_where("campaign_uuid = ?", [campaign["uuid"]])
    assert [a["title"] for a in data.current_awards(db, MINGXING_VILLAGE) if a["uuid"] == award["uuid"]] == ["6星级文明信用户"]
    criticism = new_case(db, db["households"].get(e["household_uuid"]), "criticism", "赌博", "在家中聚众赌博")
    praise = new_case(db, db["households"].get(e["household_uuid"]), "praise", "孝老爱亲", "照顾婆婆")

    assert refused(withdraw, db, award, "赌博", ADVISER).status == 403
    error = refused(withdraw, db, award, " ", CADRE)
    assert error.status == 422 and "理由" in str(error)
    assert "批评案件" in str(refused(withdraw, db, award, "赌博", CADRE, review_uuid=praise["uuid"]))
    award = withdraw(db, award, "聚众赌博，经道德评议会批评教育", CADRE, review_uuid=criticism["uuid"])
    assert (award["withdrawn_on"], award["review_uuid"]) == (today().isoformat(), criticism["uuid"])
    assert "已经在" in str(refused(withdraw, db, award, "再摘", TOWN))
    assert award["uuid"] not in {a["uuid"] for a in data.current_awards(db, MINGXING_VILLAGE)}
    assert [(h["title"], h["withdraw_reason"]) for h in data.history(db, MINGXING_VILLAGE, e["subject_uuid"])] == [
        ("6星级文明信用户", "聚众赌博，经道德评议会批评教育")]
    assert audit_actions(db, award["uuid"])[-1] == "campaign_withdraw"

    # the re-award bar (2 years in this type's rules): a new campaign of the same type refuses the household, saying why
    following = start(db, year=2027)
    error = refused(add_entry, db, following, {"type": "household", "uuid": e["subject_uuid"],
                                               "household_uuid": e["household_uuid"], "name": "摘星甲户"},
                    "apply", today().isoformat(), CADRE)
    until = today().replace(year=today().year + 2).isoformat()
    assert error.status == 409 and "聚众赌博" in str(error) and "2 年内不能再评" in str(error) and until in str(error)
    assert data.entries(db, following["uuid"]) == []
    assert data.bar(db, e["subject_uuid"], following["type_uuid"], on=today() + timedelta(days=2 * 366)) is None
    # another type is not barred
    other = start(db, POINTS_TYPE)
    add_entry(db, other, {"type": "household", "uuid": e["subject_uuid"], "household_uuid": e["household_uuid"],
                          "name": "摘星甲户"}, "apply", today().isoformat(), CADRE)


def test_a_town_changing_its_stars_leaves_an_old_campaign_with_its_own(db):
    old = start(db, year=2025)
    e = enter(db, old, "旧星甲")
    old = take_step(db, old, "score", CADRE)
    passing_stars(db, old, e)
    old = approved(db, old)
    kind = type_named(db, STARS_TYPE)
    new_stars = [{"name": "平安守法星", "pass": 0.5}, {"name": "乡风文明星", "pass": 0.6}, {"name": "绿色生态星", "pass": 0.5}]
    data.save_type(db, kind["uuid"], {"name": STARS_TYPE, "cycle_years": 1, "subject": "household", "mode": "stars",
                                      "threshold": 2, "criteria": new_stars, "publicity_days": 5, "rebar_years": 3,
                                      "active": 1}, CHIHE)
    assert type_named(db, STARS_TYPE)["criteria"] == new_stars
    # the old campaign keeps its rules, its computed stars and its award read with the old stars
    old = stage(db, old)
    assert [c["name"] for c in old["rules"]["criteria"]] == data.STARS and old["rules"]["threshold"] == 5
    entry = data.entry(db, old["uuid"], e["uuid"])
    assert entry["computed"]["stars"] == data.STARS[:6] and data.title(old["rules"], entry["result"]) == "6星级文明信用户"
    (award,) = db["awards"].rows_where("campaign_uuid = ?", [old["uuid"]])
    assert award["title"] == "6星级文明信用户" and data.STARS[0] in award["stars"]
    # a new campaign gets the new stars and rules
    new = start(db, year=2026)
    assert new["rules"]["criteria"] == new_stars and (new["rules"]["threshold"], new["rules"]["publicity_days"]) == (2, 5)
    n = enter(db, new, "新星乙")
    new = take_step(db, new, "score", CADRE)
    for reviewer in REVIEWERS:
        score(db, new, n, reviewer, [0, 1])
    take_step(db, new, "check", CADRE)
    assert data.entry(db, new["uuid"], n["uuid"])["computed"]["stars"] == ["平安守法星", "乡风文明星"]
    # and the old one is still as it was
    assert data.entry(db, old["uuid"], e["uuid"])["computed"]["stars"] == data.STARS[:6]


def test_consent_needs_who_and_withdrawal_takes_the_name_off_the_public_list(db):
    campaign = start(db)
    e = enter(db, campaign, "同意甲")
    campaign = take_step(db, campaign, "score", CADRE)
    passing_stars(db, campaign, e)
    assert "是谁" in str(refused(consent, db, e, True, " ", "书面签字", today(), CADRE))
    consent(db, e, True, "同意甲", "书面签字", today(), CADRE)
    approved(db, campaign)
    names = lambda: [a["name"] for a in data.public_awards(db, MINGXING_VILLAGE)]
    assert "同意甲户" in names()
    consent(db, data.entry(db, campaign["uuid"], e["uuid"]), False, "同意甲", "电话同意", today(), CADRE)
    assert "同意甲户" not in names() and "某户" in names()
    assert audit_actions(db, e["uuid"])[-2:] == ["campaign_consent", "campaign_consent"]


# ---- the same through the pages ----------------------------------------------------------------------------------

def in_store(app, call, *args, **kwargs):
    """Run call(db, ...) on the town file outside a request (setting up, or reading back what the pages did)."""
    with app.app_context():
        town = open_town(app)
        try:
            return call(town, *args, **kwargs)
        finally:
            town.close()


def campaign_of(app, uuid):
    return in_store(app, lambda db: data.campaign(db, MINGXING_VILLAGE, uuid))


def step_url(uuid, step):
    return f"{V}/ratings/{uuid}/steps/{step}"


def score_on_page(walk, campaign_uuid, entry_uuid, reviewer, ticked):
    fields = {"uuid": str(uuidlib.uuid4()), "edit_id": str(uuidlib.uuid4()), "base_version": "",
              "campaign": campaign_uuid, "entry": entry_uuid, "reviewer": reviewer}
    fields |= {f"c{i}": "y" for i in ticked}
    return walk.post(f"{V}/ratings/{campaign_uuid}/score", **fields)


@pytest.fixture
def walk(client, auth):
    return Walk(client, auth)


def test_whole_procedure_through_the_pages_with_each_wrong_step_refused(app, client, walk):
    houses = in_store(app, lambda db: [add_household(db, MINGXING_VILLAGE, "一组", name, "test")
                                       for name in ("页面甲", "页面乙")])
    kind = in_store(app, type_named, STARS_TYPE)
    walk.as_(MINGXING)
    assert client.get(f"{V}/ratings/new").status_code == 200
    r = walk.post(f"{V}/ratings/new", type_uuid=kind["uuid"], year="2026", reviewers="\n".join(REVIEWERS))
    assert r.status_code == 302, r.text
    uuid = r.headers["Location"].rstrip("/").split("/")[-1]
    assert campaign_of(app, uuid)["reviewers"] == REVIEWERS
    r = walk.post(f"{V}/ratings/new", type_uuid=kind["uuid"], year="2026", reviewers="\n".join(REVIEWERS))
    assert r.status_code == 422 and "已经开始了" in r.text  # one campaign of a type a year

    entry_url = f"{V}/ratings/{uuid}/entries/new"
    for house, how, by in ((houses[0], "apply", ""), (houses[1], "nominate", "第一村民小组")):
        r = walk.post(entry_url, subject=f"h:{house['uuid']}", how=how, came_on=today().isoformat(), nominated_by=by)
        assert r.status_code == 302, r.text
    entries = {e["subject_name"]: e for e in in_store(app, data.entries, uuid)}
    first, second = entries["页面甲户"], entries["页面乙户"]
    assert (second["how"], second["nominated_by"]) == ("nominate", "第一村民小组")

    # out of order: 409 with the reason; the wrong role: 403 with the reason
    r = walk.post(step_url(uuid, "publicize"))
    assert r.status_code == 409 and "不能办「公示」" in r.text
    r = client.get(step_url(uuid, "approve"))
    assert r.status_code == 403 and "由镇里办理" in r.text
    walk.as_(CHIHE)
    r = walk.post(step_url(uuid, "score"))
    assert r.status_code == 403 and "由村干部办理" in r.text
    assert campaign_of(app, uuid)["stage"] == "apply"

    walk.as_(MINGXING)
    assert walk.post(step_url(uuid, "score")).status_code == 302
    page = client.get(f"{V}/ratings/{uuid}/score")
    assert page.status_code == 200 and page.headers.get("X-Offline-Copy") == "form"
    assert 'data-sync-type="rating_score"' in page.text and "页面甲户" in page.text and REVIEWERS[0] in page.text
    ticks = {first["uuid"]: [[0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4]],
             second["uuid"]: [[0, 1, 2], [0, 1, 2, 3], [0, 1], [9]]}
    for entry_uuid, given in ticks.items():
        for reviewer, ticked in zip(REVIEWERS, given):
            assert score_on_page(walk, uuid, entry_uuid, reviewer, ticked).status_code == 302
    r = score_on_page(walk, uuid, first["uuid"], REVIEWERS[0], [0])
    assert r.status_code == 422 and "已经给这一户打过分了" in r.text
    assert in_store(app, lambda db: db["campaign_scores"].count_where("campaign_uuid = ?", [uuid])) == 8
    assert walk.post(step_url(uuid, "check")).status_code == 302

    # the computed results, against the stars worked out here
    rules = campaign_of(app, uuid)["rules"]
    expected = {e: expected_stars(rules, given) for e, given in ticks.items()}
    assert expected[first["uuid"]] == data.STARS[:6]  # star 7: 2 of 4 is not more than half
    for e in in_store(app, data.entries, uuid):
        stars = expected[e["uuid"]]
        assert e["computed"] == {"reviewers": 4, "stars": stars, "total": len(stars), "passed": len(stars) >= 5}
    page = client.get(f"{V}/ratings/{uuid}").text
    assert "6星级文明信用户" in page and "、".join(data.STARS[:6]) in page

    # the 考核 adjustment: refused without a reason, kept beside the computed result with it
    adjust_url = f"{V}/ratings/{uuid}/entries/{second['uuid']}/adjust"
    lifted = {"stars": data.STARS[:5], "passed": "yes", "total": "5"}
    r = walk.post(adjust_url, **lifted, reason="")
    assert r.status_code == 422 and "调整结果要写明理由" in r.text
    assert in_store(app, data.entry, uuid, second["uuid"])["adjusted"] is None
    r = walk.post(adjust_url, **lifted, reason="常年照顾五保老人，两委考核补评三颗星")
    assert r.status_code == 302, r.text
    adjusted = in_store(app, data.entry, uuid, second["uuid"])
    assert adjusted["computed"]["stars"] == expected[second["uuid"]] and adjusted["result"]["stars"] == data.STARS[:5]
    page = client.get(f"{V}/ratings/{uuid}").text
    assert "常年照顾五保老人，两委考核补评三颗星" in page and "考核调整后" in page and "算出的结果" in page

    # 公示: a villager objects through the notice's public form; confirming waits for the period and the answer
    assert walk.post(step_url(uuid, "publicize")).status_code == 302
    campaign = campaign_of(app, uuid)
    assert campaign["stage"] == "publicity" and campaign["notice_uuid"] in client.get(f"{V}/ratings/{uuid}").text
    villager = app.test_client()
    public = villager.get(f"{V}/notices/{campaign['notice_uuid']}").text
    assert "某户：6星级文明信用户" in public and "某户：5星级文明信用户" in public and "页面甲" not in public
    receipt = file_objection(villager, {"uuid": campaign["notice_uuid"]}, body="第二户的星是补的，不服")
    assert receipt.status_code == 302
    objection = receipt.headers["Location"].split("/")[-2]
    r = walk.post(step_url(uuid, "confirm"))
    assert r.status_code == 409 and campaign["publicity_end"] in r.text and "公示期" in r.text
    in_store(app, publicity_over, campaign)
    r = walk.post(step_url(uuid, "confirm"))
    assert r.status_code == 409 and "1 条没有答复" in r.text
    assert "1 条还没答复" in client.get(f"{V}/ratings/{uuid}").text
    r = walk.post(f"{V}/objections/{objection}", answer="补评理由已写明，经村两委考核")
    assert r.status_code == 302
    assert walk.post(step_url(uuid, "confirm")).status_code == 302
    assert walk.post(step_url(uuid, "report")).status_code == 302
    assert walk.post(step_url(uuid, "approve")).status_code == 403

    # the town returns it (only with a reason), then approves it the second time
    walk.as_(CHIHE)
    r = walk.post(step_url(uuid, "return"), note="")
    assert r.status_code == 422 and "退回要写明理由" in r.text
    assert walk.post(step_url(uuid, "return"), note="请附上补评的会议记录").status_code == 302
    assert campaign_of(app, uuid)["stage"] == "checked"
    walk.as_(MINGXING)
    assert "请附上补评的会议记录" in client.get(f"{V}/ratings/{uuid}").text
    assert walk.post(step_url(uuid, "publicize")).status_code == 302
    in_store(app, publicity_over, campaign_of(app, uuid))
    for step in ("confirm", "report"):
        assert walk.post(step_url(uuid, step)).status_code == 302, step
    walk.as_(CHIHE)
    assert walk.post(step_url(uuid, "approve")).status_code == 302
    walk.as_(MINGXING)
    assert walk.post(step_url(uuid, "plaque")).status_code == 302
    awards = in_store(app, lambda db: list(db["awards"].rows_where("campaign_uuid = ?", [uuid], order_by="subject_name")))
    assert sorted((a["subject_name"], a["title"]) for a in awards) == [("页面乙户", "5星级文明信用户"),
                                                                       ("页面甲户", "6星级文明信用户")]
    assert campaign_of(app, uuid)["stage"] == "plaqued"
    for tail in ("certificates", "plaques"):
        sheet = client.get(f"{V}/ratings/{uuid}/{tail}")
        assert sheet.status_code == 200 and "页面甲户" in sheet.text, tail
    steps = ["score", "check", "publicize", "confirm", "report", "return", "publicize", "confirm", "report", "approve",
             "plaque"]
    assert in_store(app, audit_actions, uuid) == ["create", *(f"campaign_{s}" for s in steps)]


def test_withdrawing_a_star_through_the_page_and_the_bar_shown_on_a_new_entry(app, client, walk):
    def setup(db):
        campaign = start(db, year=2025)
        e = enter(db, campaign, "摘星页")
        campaign = take_step(db, campaign, "score", CADRE)
        passing_stars(db, campaign, e)
        approved(db, campaign)
        house = db["households"].get(e["household_uuid"])
        case = new_case(db, house, "criticism", "赌博", "在家中聚众赌博")
        award = next(db["awards"].rows_where("entry_uuid = ?", [e["uuid"]]))
        return e, case, award, start(db, year=2026)

    e, case, award, following = in_store(app, setup)
    url = f"{V}/ratings/awards/{award['uuid']}/withdraw"
    walk.as_(MINGXING)
    page = client.get(url)
    assert page.status_code == 200 and case["uuid"] in page.text and "赌博" in page.text
    r = walk.post(url, reason="", review=case["uuid"], on=today().isoformat())
    assert r.status_code == 422 and "请写明摘星的理由" in r.text
    r = walk.post(url, reason="聚众赌博，经道德评议会批评教育", review=case["uuid"], on=today().isoformat())
    assert r.status_code == 302, r.text
    stored = in_store(app, lambda db: db["awards"].get(award["uuid"]))
    assert (stored["withdrawn_on"], stored["review_uuid"]) == (today().isoformat(), case["uuid"])
    history = client.get(f"{V}/ratings/subjects/{e['subject_uuid']}").text
    assert "聚众赌博，经道德评议会批评教育" in history
    r = walk.post(url, reason="再摘", review="", on=today().isoformat())
    assert r.status_code == 409 and "已经在" in r.text
    # the re-award bar: the household is refused by the new campaign's entry page, the reason shown by the field
    r = walk.post(f"{V}/ratings/{following['uuid']}/entries/new", subject=f"h:{e['subject_uuid']}", how="apply",
                  came_on=today().isoformat(), nominated_by="")
    until = today().replace(year=today().year + 2).isoformat()
    assert r.status_code == 409 and "聚众赌博，经道德评议会批评教育" in r.text and "2 年内不能再评" in r.text
    assert until in r.text and in_store(app, data.entries, following["uuid"]) == []
    # an adviser may not take a star off
    walk.as_("lawyer")
    assert client.get(url).status_code in (403, 404)


def test_a_town_changing_its_stars_through_its_page_leaves_the_old_campaign_read_with_the_old_stars(app, client, walk):
    def setup(db):
        old = start(db, year=2025)
        e = enter(db, old, "旧星页")
        old = take_step(db, old, "score", CADRE)
        passing_stars(db, old, e)
        return approved(db, old), type_named(db, STARS_TYPE)

    old, kind = in_store(app, setup)
    walk.as_(CHIHE)
    url = f"/t/{CHIHE_TOWN}/ratings/types/{kind['uuid']}/edit"
    page = client.get(url)
    assert page.status_code == 200 and data.STARS[0] in page.text
    r = walk.post(url, name=STARS_TYPE, cycle_years="1", subject="household", mode="stars",
                  criteria="平安守法星\n乡风文明星\n绿色生态星", threshold="2", publicity_days="7", rebar_years="2", active="y")
    assert r.status_code == 302, r.text
    assert [c["name"] for c in in_store(app, type_named, STARS_TYPE)["criteria"]] == ["平安守法星", "乡风文明星", "绿色生态星"]
    walk.as_(MINGXING)
    page = client.get(f"{V}/ratings/{old['uuid']}").text
    assert "、".join(data.STARS[:6]) in page and "6星级文明信用户" in page and "平安守法星" not in page
    assert "10 颗星里评上" in page
    r = walk.post(f"{V}/ratings/new", type_uuid=kind["uuid"], year="2026", reviewers="\n".join(REVIEWERS))
    assert r.status_code == 302
    new = r.headers["Location"].rstrip("/").split("/")[-1]
    page = client.get(f"{V}/ratings/{new}").text
    assert "平安守法星" in page and "3 颗星里评上" in page and data.STARS[0] not in page


def test_who_may_open_the_ratings_pages(app, client, walk):
    def setup(db):
        campaign = start(db)
        e = enter(db, campaign, "权限页")
        return campaign, e

    campaign, e = in_store(app, setup)
    uuid = campaign["uuid"]
    pages = [f"{V}/ratings/", f"{V}/ratings/{uuid}", f"{V}/ratings/subjects/{e['subject_uuid']}"]

    def answers(login):
        walk.as_(login)
        return [client.get(url).status_code for url in pages]

    assert answers(MINGXING) == [200, 200, 200]
    assert answers(CHIHE) == [200, 200, 200]
    assert answers(COUNTY) == [200, 200, 200]
    assert answers("lawyer") == [200, 200, 200]
    assert answers(GUYAN) == [404, 404, 404]
    assert answers(CHENGGUAN) == [404, 404, 404]
    walk.as_(COUNTY)
    r = client.get(step_url(uuid, "score"))
    assert r.status_code == 403
    walk.as_("lawyer")
    assert client.get(f"{V}/ratings/new").status_code == 403
    walk.as_(None)
    for url in pages:
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url


def test_a_nomination_needs_who_nominated(app, client, walk):
    campaign = in_store(app, lambda db: start(db))
    house = in_store(app, add_household, MINGXING_VILLAGE, "一组", "推荐页", "test")
    walk.as_(MINGXING)
    r = walk.post(f"{V}/ratings/{campaign['uuid']}/entries/new", subject=f"h:{house['uuid']}", how="nominate",
                  came_on=today().isoformat(), nominated_by="")
    assert r.status_code == 422 and "要写推荐人" in r.text
    assert in_store(app, data.entries, campaign["uuid"]) == []


def test_the_threshold_reads_as_a_whole_number_of_stars(app, client, walk):
    campaign = in_store(app, lambda db: start(db))
    walk.as_(MINGXING)
    assert "10 颗星里评上 5 颗以上" in client.get(f"{V}/ratings/{campaign['uuid']}").text


def test_points_through_the_pages_are_the_average_against_the_threshold(app, client, walk):
    def setup(db):
        campaign = start(db, POINTS_TYPE, reviewers=REVIEWERS[:3])
        rows = [enter(db, campaign, name) for name in ("分页高", "分页低")]
        return take_step(db, campaign, "score", CADRE), rows

    campaign, (high, low) = in_store(app, setup)
    uuid = campaign["uuid"]
    points = {high["uuid"]: [[18, 17, 16, 15, 14], [20, 20, 19, 18, 17], [15, 15, 15, 15, 14]],
              low["uuid"]: [[16, 16, 16, 16, 15], [16, 16, 16, 16, 16], [16, 16, 16, 16, 16]]}
    walk.as_(MINGXING)
    page = client.get(f"{V}/ratings/{uuid}/score")
    assert page.status_code == 200 and "满分 20" in page.text
    base = {"base_version": "", "campaign": uuid}
    r = walk.post(f"{V}/ratings/{uuid}/score", **base, uuid=str(uuidlib.uuid4()), edit_id=str(uuidlib.uuid4()),
                  entry=high["uuid"], reviewer=REVIEWERS[0], c0="21")
    assert r.status_code == 422 and "0 到 20" in r.text
    for entry_uuid, given in points.items():
        for reviewer, row in zip(REVIEWERS, given):
            r = walk.post(f"{V}/ratings/{uuid}/score", **base, uuid=str(uuidlib.uuid4()), edit_id=str(uuidlib.uuid4()),
                          entry=entry_uuid, reviewer=reviewer, **{f"c{i}": str(v) for i, v in enumerate(row)})
            assert r.status_code == 302, r.text
    assert walk.post(step_url(uuid, "check")).status_code == 302
    averages = {e: round(sum(map(sum, given)) / 3, 1) for e, given in points.items()}
    assert averages == {high["uuid"]: 82.7, low["uuid"]: 79.7}
    for e in in_store(app, data.entries, uuid):
        assert (e["computed"]["total"], e["computed"]["passed"]) == (averages[e["uuid"]], averages[e["uuid"]] >= 80)
    page = client.get(f"{V}/ratings/{uuid}").text
    assert "82.7 分 · <strong>评上</strong>" in page and "79.7 分 · 没评上" in page
