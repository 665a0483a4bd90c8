"""星级文明户 / 文明家庭: the procedure (procedure.take_step) with its role rules and order, the results computed from each
reviewer's scores (checked against numbers worked out here), the 考核 adjustment with its reason beside the computed result,
the 公示 period and its objections, the town's approve/return, 摘星 and the re-award bar, and a town changing its stars
while an old campaign keeps its own; then the same walked through the pages (Flask test client, CSRF, real SQLite)."""
import types
from datetime import timedelta

import pytest
from conftest import CHIHE, MINGXING, MINGXING_VILLAGE
from test_reviews import new_case, open_town
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
