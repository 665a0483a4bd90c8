"""道德评议: the procedure (procedure.take_step) step by step with its role rules, order, appeal window (the town's
setting moves it), 帮教 visits and consent; then the same walked through the pages (Flask test client, CSRF, real
SQLite), and who may open a case page. Every step leaves an audit row."""
import io
import json
import types
import uuid as uuidlib
from datetime import timedelta

import pytest
from conftest import CHENGGUAN, CHIHE, CHIHE_TOWN, COUNTY, GUYAN, LAWYER, MINGXING, MINGXING_VILLAGE, WUAI_VILLAGE, csrf_from
from PIL import Image

from villageapp import records, store
from villageapp.clock import today
from villageapp.councils import data as councils
from villageapp.meetings.forms import formdata, make_meeting_form, meeting_columns
from villageapp.registry.data import add_household
from villageapp.reviews import data
from villageapp.reviews.procedure import StepRefused, take_step

V = f"/v/{MINGXING_VILLAGE}"
T = f"/t/{CHIHE_TOWN}"
CADRE = types.SimpleNamespace(username=MINGXING, role="cadre")
TOWN = types.SimpleNamespace(username=CHIHE, role="town")
HELD = today() - timedelta(days=60)  # the session's day; the subject is told two days later
TOLD = HELD + timedelta(days=2)


# ---- helpers (also used by test_reviews_privacy.py) ------------------------------------------------------------

def open_town(app):
    return store.open_town(CHIHE_TOWN, app)


def review_meeting(db, village=MINGXING_VILLAGE, present=5, day=HELD):
    """Minutes of the village's 道德评议会 with `present` at the meeting (the session's votes are checked against it)."""
    council = councils.council_by_name(db, village, "道德评议会") or next(
        c for c in councils.ensure_councils(db, village, "test") if c["name"] == "道德评议会")
    form = make_meeting_form(db, village, formdata([
        ["council", council["uuid"]], ["date", day.isoformat()], ["time", "09:00"], ["present", str(present)],
        ["agenda-0-title", "道德评议"]]))
    assert form.validate(), form.errors
    return records.create(db, "meetings", {**meeting_columns(form), "village_code": village}, "test")[0]


def review_session(db, village=MINGXING_VILLAGE, present=5, day=HELD):
    meeting = review_meeting(db, village, present, day)
    return data.add_session(db, village, {"title": "半年道德评议会", "kind": "half_year", "held_on": day.isoformat(),
                                          "meeting_uuid": meeting["uuid"]}, "test")


def household(db, head_name, village=MINGXING_VILLAGE):
    return add_household(db, village, "一组", head_name, "test")


def new_case(db, house, kind="criticism", category="赌博", facts="在家中聚众赌博", village=MINGXING_VILLAGE):
    """A drafted case (stage new) about a household, as the sync path would have stored it."""
    return records.create(db, "review_cases", {
        "village_code": village, "subject_type": "household", "subject_uuid": house["uuid"],
        "household_uuid": house["uuid"], "subject_name": f"{house['head_name']}户", "kind": kind, "category": category,
        "facts": facts, "source": "member", "photos": "[]"}, MINGXING)[0]


def voted(db, case, session, conclusion=None, **fields):
    conclusion = conclusion or ("praise" if case["kind"] == "praise" else "education")
    return take_step(db, case, "vote", CADRE, session=session["uuid"], votes_for=4, votes_against=1, votes_abstain=0,
                     conclusion=conclusion, **fields)


def told(db, case, day=TOLD):
    return take_step(db, case, "tell", CADRE, done_on=day.isoformat(), how="当面告知")


def audit_actions(db, case_uuid):
    return [r["action"] for r in db["audit"].rows_where("record_id = ?", [case_uuid], order_by="id")]


def refused(call, *args, **kwargs):
    with pytest.raises(StepRefused) as info:
        call(*args, **kwargs)
    return info.value


@pytest.fixture
def db(app):
    with app.app_context():
        town = open_town(app)
        yield town
        town.close()


# ---- the procedure as data ---------------------------------------------------------------------------------

def test_each_step_in_order_by_its_role_with_a_chinese_reason(db):
    case = new_case(db, household(db, "程序甲"))
    session = review_session(db)
    # out of order: nothing can be told before the vote
    error = refused(take_step, db, case, "tell", CADRE, done_on=TOLD.isoformat(), how="当面告知")
    assert error.status == 409 and "新记的，待评议" in str(error) and "告知本人" in str(error)
    for step in ("reply", "appeal", "visit", "close", "consent", "decide_appeal"):
        assert refused(take_step, db, case, step, CADRE, done_on=TOLD.isoformat(), note="x").status == 409
    # the wrong role: the town does not vote, a cadre does not open a case to the adviser
    error = refused(take_step, db, case, "vote", TOWN, session=session["uuid"], votes_for=4, conclusion="education")
    assert error.status == 403 and "由村干部办理" in str(error)
    error = refused(take_step, db, case, "grant", CADRE, granted=True)
    assert error.status == 403 and "由镇里办理" in str(error)
    adviser = types.SimpleNamespace(username=LAWYER, role="adviser")
    assert refused(take_step, db, case, "vote", adviser, session=session["uuid"]).status == 403
    assert refused(take_step, db, case, "nonsense", CADRE).status == 404
    # nothing refused changed the case or left a step
    assert db["review_cases"].get(case["uuid"])["stage"] == "new" and data.steps(db, case["uuid"]) == []

    case = voted(db, case, session)
    assert (case["stage"], case["conclusion"], case["reviewed_on"], case["present"]) == ("reviewed", "education",
                                                                                        HELD.isoformat(), 5)
    assert refused(voted, db, case, session).status == 409  # voted once
    error = refused(take_step, db, case, "tell", CADRE, done_on=(HELD - timedelta(days=1)).isoformat(), how="当面告知")
    assert error.status == 422 and "不能早于评议日期" in str(error)
    assert refused(take_step, db, case, "tell", CADRE, done_on=TOLD.isoformat(), how="托人带话").status == 422
    case = told(db, case)
    case = take_step(db, case, "reply", CADRE, done_on=TOLD.isoformat(), note="我认错，以后不赌了")
    assert case["reply"] == "我认错，以后不赌了" and case["stage"] == "told"
    error = refused(take_step, db, case, "consent", CADRE, action="given", by_name="x", how="书面签字", done_on=TOLD.isoformat())
    assert "只有评议通过的表扬才能上红榜" in str(error)
    case = take_step(db, case, "visit", CADRE, done_on=(TOLD + timedelta(days=10)).isoformat(), note="已不再赌博")
    case = take_step(db, case, "close", CADRE, done_on=(TOLD + timedelta(days=20)).isoformat(), note="教育到位")
    assert case["stage"] == "closed" and case["closed_on"] == (TOLD + timedelta(days=20)).isoformat()
    assert refused(take_step, db, case, "visit", CADRE, done_on=TOLD.isoformat(), note="x").status == 409

    # every step is in the audit log under the case, and in the case's own history with who took it
    assert audit_actions(db, case["uuid"]) == ["create", "review_vote", "review_tell", "review_reply", "review_visit",
                                               "review_close"]
    assert [(s["step"], s["actor"], s["role"]) for s in data.steps(db, case["uuid"])] == [
        (step, MINGXING, "cadre") for step in ("vote", "tell", "reply", "visit", "close")]


def test_the_vote_counts_against_those_present_at_the_session(db):
    case = new_case(db, household(db, "程序乙"))
    session = review_session(db, present=5)
    assert refused(take_step, db, case, "vote", CADRE, session="", votes_for=3).status == 422
    error = refused(take_step, db, case, "vote", CADRE, session=session["uuid"], votes_for=4, votes_against=2,
                    conclusion="education")
    assert error.status == 422 and "实到的 5 人" in str(error)
    assert "请选择评议结论" in str(refused(take_step, db, case, "vote", CADRE, session=session["uuid"], votes_for=3,
                                          conclusion="praise"))  # praise is no conclusion for criticism
    assert "帮教计划和帮教人" in str(refused(take_step, db, case, "vote", CADRE, session=session["uuid"], votes_for=3,
                                          conclusion="help"))
    # not more than half of those present: the case is closed as not passed
    case = take_step(db, case, "vote", CADRE, session=session["uuid"], votes_for=2, votes_against=3)
    assert (case["stage"], case["conclusion"], case["close_note"]) == ("closed", "dismissed", "表决未过半数")
    # a session from another village is not one of this village's
    other = new_case(db, household(db, "程序丙"))
    foreign = review_session(db, village=WUAI_VILLAGE)
    assert refused(take_step, db, other, "vote", CADRE, session=foreign["uuid"], votes_for=5).status == 422


def test_the_appeal_window_is_the_towns_and_moving_it_moves_every_deadline(db):
    session = review_session(db)
    inside, outside = (told(db, voted(db, new_case(db, household(db, name)), session)) for name in ("复评甲", "复评乙"))
    deadline = TOLD + timedelta(days=15)
    assert data.setting(db, "review_appeal_days") == 15 and data.appeal_deadline(db, inside) == deadline

    # the last day of the window is inside; the next day is refused, saying the deadline and where to go
    case = take_step(db, inside, "appeal", CADRE, done_on=deadline.isoformat(), note="当时只是看别人打牌")
    assert (case["stage"], case["appeal_on"]) == ("appealed", deadline.isoformat())
    late = deadline + timedelta(days=1)
    error = refused(take_step, db, outside, "appeal", CADRE, done_on=late.isoformat(), note="我不服")
    assert error.status == 409 and "已过复评期限" in str(error) and "15 天" in str(error)
    assert deadline.isoformat() in str(error) and "向镇里反映" in str(error)
    assert db["review_cases"].get(outside["uuid"])["stage"] == "told"
    assert "理由" in str(refused(take_step, db, outside, "appeal", CADRE, done_on=TOLD.isoformat(), note=""))
    assert "不能早于告知日期" in str(refused(take_step, db, outside, "appeal", CADRE, done_on=HELD.isoformat(), note="x"))

    # the town gives 30 days: the same late appeal is now inside (no code changed, the case's told_on unchanged)
    data.save_setting(db, "review_appeal_days", 30, CHIHE)
    assert data.appeal_deadline(db, outside) == TOLD + timedelta(days=30)
    case = take_step(db, outside, "appeal", CADRE, done_on=late.isoformat(), note="我不服")
    assert case["stage"] == "appealed"
    # and 5 days: the window shrinks for everyone
    data.save_setting(db, "review_appeal_days", 5, CHIHE)
    third = told(db, voted(db, new_case(db, household(db, "复评丙")), session))
    assert "5 天" in str(refused(take_step, db, third, "appeal", CADRE, done_on=(TOLD + timedelta(days=6)).isoformat(),
                                 note="x"))
    audit = list(db["audit"].rows_where("action = 'review_settings'", order_by="id"))
    assert [(a["actor"], a["record_id"]) for a in audit] == [(CHIHE, "review_appeal_days")] * 2

    # the appeal decided: upheld keeps the conclusion; revoked closes the case
    case = take_step(db, case, "decide_appeal", CADRE, done_on=late.isoformat(), outcome="upheld", note="事实清楚")
    assert (case["stage"], case["appeal_outcome"], case["conclusion"]) == ("told", "upheld", "education")
    first = db["review_cases"].get(inside["uuid"])
    assert "请选择复评结果" in str(refused(take_step, db, first, "decide_appeal", CADRE, done_on=late.isoformat(),
                                          outcome="maybe", note="x"))
    first = take_step(db, first, "decide_appeal", CADRE, done_on=late.isoformat(), outcome="revoked", note="证据不足")
    assert (first["stage"], first["conclusion"]) == ("closed", "revoked")
    assert audit_actions(db, first["uuid"])[-2:] == ["review_appeal", "review_decide_appeal"]


def test_praise_has_no_appeal_and_help_needs_a_visit_before_closing(db):
    session = review_session(db)
    praise = told(db, voted(db, new_case(db, household(db, "表扬甲"), "praise", "孝老爱亲", "照顾婆婆"), session))
    assert "表扬不需要复评" in str(refused(take_step, db, praise, "appeal", CADRE, done_on=TOLD.isoformat(), note="x"))
    assert "回访用于批评教育和帮教" in str(refused(take_step, db, praise, "visit", CADRE, done_on=TOLD.isoformat(), note="x"))

    case = new_case(db, household(db, "帮教甲"), category="不赡养老人", facts="不给老母亲饭吃")
    case = told(db, voted(db, case, session, "help", help_plan="每月回访，督促赡养", helper="村妇联主任"))
    assert (case["help_plan"], case["helper"]) == ("每月回访，督促赡养", "村妇联主任")
    error = refused(take_step, db, case, "close", CADRE, done_on=TOLD.isoformat())
    assert error.status == 409 and "至少回访一次" in str(error)
    assert [c["uuid"] for c in data.overdue_visits(db, MINGXING_VILLAGE)] == [case["uuid"]]  # told 58 days ago
    assert "回访的情况" in str(refused(take_step, db, case, "visit", CADRE, done_on=today().isoformat(), note=""))
    take_step(db, case, "visit", CADRE, done_on=today().isoformat(), note="已按月给老人送粮")
    assert data.overdue_visits(db, MINGXING_VILLAGE) == []
    case = take_step(db, case, "close", CADRE, done_on=today().isoformat(), note="帮教结束")
    assert case["stage"] == "closed"


def test_consent_given_names_the_subject_and_withdrawn_takes_the_name_off_at_once(db):
    session = review_session(db)
    names = lambda: [r["name"] for r in data.red_list(db, MINGXING_VILLAGE)]
    before = names()  # the demo's own 红榜
    case = voted(db, new_case(db, household(db, "同意甲"), "praise", "热心公益", "修桥铺路"), session)
    assert names() == before  # no consent, not public: not on the 红榜 at all, not even as 某户
    error = refused(take_step, db, case, "consent", CADRE, action="given", by_name="同意甲", how="", done_on=TOLD.isoformat())
    assert error.status == 422 and "同意的方式" in str(error)
    assert "是谁" in str(refused(take_step, db, case, "consent", CADRE, action="given", by_name=" ", how="书面签字",
                                 done_on=TOLD.isoformat()))
    case = take_step(db, case, "consent", CADRE, action="given", by_name="同意甲", how="书面签字", done_on=TOLD.isoformat())
    assert "同意甲户" in names()
    case = take_step(db, case, "consent", CADRE, action="withdrawn", by_name="同意甲", done_on=today().isoformat())
    assert case["consent"] == "withdrawn" and names() == before  # off at once, and not even as 某户
    # the council may still want the praise public, without the name
    case = take_step(db, case, "public", CADRE, anonymous=True)
    assert "同意甲户" not in names() and names().count("某户") == before.count("某户") + 1
    consents = data.consents(db, case["uuid"])
    assert [(c["action"], c["by_name"], c["how"], c["recorded_by"]) for c in consents] == [
        ("given", "同意甲", "书面签字", MINGXING), ("withdrawn", "同意甲", "本人撤回", MINGXING)]
    assert audit_actions(db, case["uuid"])[-3:] == ["review_consent", "review_consent", "review_public"]


def test_old_cases_keep_their_category_when_the_town_renames_it(db):
    case = new_case(db, household(db, "类别甲"), category="大操大办", facts="儿子婚礼摆了八十桌")
    data.save_setting(db, "review_categories", {"praise": ["孝老爱亲"], "criticism": ["铺张浪费"]}, CHIHE)
    assert data.categories(db, "criticism") == ["铺张浪费"]
    assert db["review_cases"].get(case["uuid"])["category"] == "大操大办"


# ---- the same through the pages --------------------------------------------------------------------------------

class Walk:
    """Signs in as one demo login after another and takes steps through the pages (GET for the token, then POST)."""

    def __init__(self, client, auth):
        self.client, self.auth, self.who = client, auth, None

    def as_(self, login):
        if self.who:
            self.auth.logout()
        if login:
            self.auth.login(login)
        self.who = login
        return self

    def token(self, url):
        page = self.client.get(url)
        return csrf_from(page.text) if page.status_code == 200 else self.auth.token()

    def step(self, uuid, step, village=MINGXING_VILLAGE, **fields):
        url = f"/v/{village}/reviews/{uuid}/steps/{step}"
        return self.client.post(url, data={"csrf_token": self.token(url), **fields})

    def post(self, url, **fields):
        return self.client.post(url, data={"csrf_token": self.token(url), **fields})


@pytest.fixture
def walk(client, auth):
    return Walk(client, auth)


def case_of(app, uuid):
    with app.app_context():
        town = open_town(app)
        try:
            return next(town["review_cases"].rows_where("uuid = ?", [uuid]), None)
        finally:
            town.close()


def prepared(app, *cases, present=5):
    """(session, [households]) of 明星村 made in the store, for the page tests."""
    with app.app_context():
        town = open_town(app)
        session = review_session(town, present=present)
        houses = [household(town, name) for name in cases]
        town.close()
    return session, houses


def test_whole_procedure_through_the_pages_with_each_wrong_step_refused(app, client, walk):
    session, (house,) = prepared(app, "页面甲")
    walk.as_(MINGXING)
    form = client.get(f"{V}/reviews/new")
    assert form.status_code == 200 and form.headers.get("X-Offline-Copy") == "form"
    assert 'data-sync-type="review"' in form.text and "页面甲" in form.text
    # an error stays next to its field, what was typed is kept
    uuid = str(uuidlib.uuid4())
    fields = {"uuid": uuid, "edit_id": str(uuidlib.uuid4()), "base_version": "", "subject": f"h:{house['uuid']}",
              "kind": "criticism", "category": "赌博", "facts": "", "source": "report", "source_name": "邻居"}
    r = walk.post(f"{V}/reviews/new", **fields)
    assert r.status_code == 422 and "请写下事实经过" in r.text and case_of(app, uuid) is None
    r = walk.post(f"{V}/reviews/new", **{**fields, "category": "孝老爱亲", "facts": "在家聚众赌博"})
    assert r.status_code == 422 and "不属于所选的表扬或批评" in r.text
    r = walk.post(f"{V}/reviews/new", **{**fields, "facts": "在家聚众赌博", "edit_id": str(uuidlib.uuid4())})
    assert r.status_code == 302
    case = case_of(app, uuid)
    assert (case["stage"], case["subject_name"], case["category"]) == ("new", "页面甲户", "赌博")
    page = client.get(f"{V}/reviews/{uuid}")
    assert page.status_code == 200 and "在家聚众赌博" in page.text and "页面甲户" in page.text
    # editable while new
    edit = client.get(f"{V}/reviews/{uuid}/edit")
    assert edit.status_code == 200 and "在家聚众赌博" in edit.text

    # out of order: 409 with the reason; the wrong role: 403 with the reason
    r = walk.step(uuid, "close", done_on=TOLD.isoformat())
    assert r.status_code == 409 and "不能办「结案」" in r.text
    r = walk.step(uuid, "grant", granted="1")
    assert r.status_code == 403 and "由镇里办理" in r.text
    walk.as_(CHIHE)
    r = walk.step(uuid, "vote", session=session["uuid"], votes_for="4", conclusion="education")
    assert r.status_code == 403 and "由村干部办理" in r.text
    assert case_of(app, uuid)["stage"] == "new"

    walk.as_(MINGXING)
    r = walk.step(uuid, "vote", session=session["uuid"], votes_for="4", votes_against="2", votes_abstain="0",
                  conclusion="education")
    assert r.status_code == 422 and "实到的 5 人" in r.text
    r = walk.step(uuid, "vote", session=session["uuid"], votes_for="4", votes_against="1", votes_abstain="0",
                  conclusion="help", help_plan="每周回访一次", helper="王会长")
    assert r.status_code == 302, r.text
    assert client.get(f"{V}/reviews/{uuid}/edit").status_code in (302, 303)  # not editable once voted
    assert walk.post(f"{V}/reviews/{uuid}/edit", **{**fields, "facts": "改过的事实"}).status_code in (302, 303, 409)
    assert case_of(app, uuid)["facts"] == "在家聚众赌博"
    r = walk.step(uuid, "tell", done_on=TOLD.isoformat(), how="上门告知")
    assert r.status_code == 302
    r = walk.step(uuid, "reply", done_on=TOLD.isoformat(), note="我有异议")
    assert r.status_code == 302
    r = walk.step(uuid, "appeal", done_on=(TOLD + timedelta(days=3)).isoformat(), note="只是看别人打牌")
    assert r.status_code == 302
    r = walk.step(uuid, "decide_appeal", done_on=(TOLD + timedelta(days=10)).isoformat(), outcome="upheld",
                  note="有三人作证")
    assert r.status_code == 302
    r = walk.step(uuid, "close", done_on=(TOLD + timedelta(days=11)).isoformat())
    assert r.status_code == 409 and "至少回访一次" in r.text
    r = walk.step(uuid, "visit", done_on=(TOLD + timedelta(days=12)).isoformat(), note="态度好转")
    assert r.status_code == 302
    r = walk.step(uuid, "close", done_on=(TOLD + timedelta(days=30)).isoformat(), note="帮教结束")
    assert r.status_code == 302
    case = case_of(app, uuid)
    assert (case["stage"], case["appeal_outcome"], case["told_how"]) == ("closed", "upheld", "上门告知")
    page = client.get(f"{V}/reviews/{uuid}").text
    for text in ("只是看别人打牌", "有三人作证", "态度好转", "我有异议", "已结案"):
        assert text in page, text
    assert client.get(f"{V}/reviews/{uuid}/print").status_code == 200
    assert uuid in client.get(f"{V}/reviews/?stage=closed").text
    assert uuid not in client.get(f"{V}/reviews/?stage=all&kind=praise").text
    assert uuid not in client.get(f"{V}/reviews/").text  # the default list is the cases still open

    with app.app_context():
        town = open_town(app)
        actions = audit_actions(town, uuid)
        town.close()
    assert actions == ["create", "review_vote", "review_tell", "review_reply", "review_appeal", "review_decide_appeal",
                       "review_visit", "review_close"]


def test_the_appeal_deadline_through_the_pages_follows_the_towns_setting(app, client, walk):
    session, houses = prepared(app, "期限甲", "期限乙")
    with app.app_context():
        town = open_town(app)
        uuids = [told(town, voted(town, new_case(town, h), session))["uuid"] for h in houses]
        town.close()
    deadline, late = TOLD + timedelta(days=15), TOLD + timedelta(days=16)
    walk.as_(MINGXING)
    assert deadline.isoformat() in client.get(f"{V}/reviews/{uuids[0]}").text  # the case says until when
    assert walk.step(uuids[0], "appeal", done_on=deadline.isoformat(), note="不服").status_code == 302
    r = walk.step(uuids[1], "appeal", done_on=late.isoformat(), note="不服")
    assert r.status_code == 409 and "已过复评期限" in r.text and deadline.isoformat() in r.text
    assert case_of(app, uuids[1])["stage"] == "told"

    # the cadre may not change the town's setting; the town may, and the same late appeal is now inside
    assert client.get(f"{T}/reviews/settings").status_code == 403  # the town's setting is not the cadre's
    walk.as_(CHIHE)
    page = client.get(f"{T}/reviews/settings")
    assert page.status_code == 200 and "赌博" in page.text
    r = walk.post(f"{T}/reviews/settings", praise="\n".join(data.DEFAULTS["review_categories"]["praise"]),
                  criticism="\n".join(data.DEFAULTS["review_categories"]["criticism"]), appeal_days="91", visit_days="30")
    assert r.status_code == 422
    r = walk.post(f"{T}/reviews/settings", praise="\n".join(data.DEFAULTS["review_categories"]["praise"]),
                  criticism="\n".join(data.DEFAULTS["review_categories"]["criticism"]), appeal_days="20", visit_days="30")
    assert r.status_code in (302, 303)
    with app.app_context():
        town = open_town(app)
        assert data.setting(town, "review_appeal_days") == 20
        assert [a["actor"] for a in town["audit"].rows_where("action = 'review_settings'")] != []
        town.close()
    walk.as_(MINGXING)
    assert walk.step(uuids[1], "appeal", done_on=late.isoformat(), note="不服").status_code == 302
    assert case_of(app, uuids[1])["stage"] == "appealed"


def test_withdrawn_consent_takes_the_name_off_the_public_page_at_once(app, client, walk):
    session, (house,) = prepared(app, "红榜甲")
    with app.app_context():
        town = open_town(app)
        uuid = voted(town, new_case(town, house, "praise", "孝老爱亲", "照顾瘫痪的婆婆十年"), session)["uuid"]
        town.close()
    assert "红榜甲" not in client.get(f"{V}/").text
    walk.as_(MINGXING)
    r = walk.step(uuid, "consent", action="given", by_name="红榜甲", how="书面签字", done_on=TOLD.isoformat())
    assert r.status_code == 302
    walk.as_(None)
    public = client.get(f"{V}/")
    assert "红榜甲户" in public.text and "孝老爱亲" in public.text
    walk.as_(MINGXING)
    assert "红榜甲户" in client.get(f"{V}/reviews/red-list").text
    r = walk.step(uuid, "consent", action="withdrawn", by_name="红榜甲", done_on=today().isoformat())
    assert r.status_code == 302
    walk.as_(None)
    assert "红榜甲" not in client.get(f"{V}/").text
    walk.as_(MINGXING)
    assert "红榜甲" not in client.get(f"{V}/reviews/red-list").text
    page = client.get(f"{V}/reviews/{uuid}").text
    assert "已撤回" in page or "撤回" in page  # the consent's history stays on the case
    with app.app_context():
        town = open_town(app)
        assert audit_actions(town, uuid)[-2:] == ["review_consent", "review_consent"]
        town.close()


def test_a_session_is_linked_to_its_minutes_through_the_page(app, client, walk):
    with app.app_context():
        town = open_town(app)
        meeting = review_meeting(town, present=7)
        town.close()
    walk.as_(MINGXING)
    page = client.get(f"{V}/reviews/sessions/new")
    assert page.status_code == 200 and meeting["uuid"] in page.text
    r = walk.post(f"{V}/reviews/sessions/new", title="上半年道德评议会", kind="half_year", held_on=HELD.isoformat(),
                  meeting=meeting["uuid"], meeting_uuid=meeting["uuid"])
    assert r.status_code in (302, 303), r.text
    with app.app_context():
        town = open_town(app)
        session = next(s for s in data.sessions(town, MINGXING_VILLAGE) if s["title"] == "上半年道德评议会")
        town.close()
    assert (session["meeting_uuid"], session["present"]) == (meeting["uuid"], 7)


# ---- who may open a case -------------------------------------------------------------------------------------

def test_who_may_open_a_case_page(app, client, walk):
    session, (house,) = prepared(app, "权限甲")
    with app.app_context():
        town = open_town(app)
        uuid = voted(town, new_case(town, house, facts="权限甲的事实"), session)["uuid"]
        town.close()
    pages = [f"{V}/reviews/{uuid}", f"{V}/reviews/{uuid}/print", f"{V}/reviews/subjects/{house['uuid']}"]

    def answers(login):
        walk.as_(login)
        return [client.get(url).status_code for url in pages]

    assert answers(MINGXING) == [200, 200, 200]
    assert "权限甲的事实" in client.get(pages[0]).text
    assert uuid in client.get(pages[2]).text  # the history lists it
    assert answers(GUYAN) == [404, 404, 404]        # a cadre of another village (another town)
    assert answers(CHIHE) == [200, 200, 200]        # the village's town
    assert answers(CHENGGUAN) == [404, 404, 404]    # another town
    assert answers(COUNTY) == [403, 403, 403]       # least access: the county does not read cases
    assert answers(LAWYER)[:2] == [404, 404]        # the adviser: not until the town opens the case
    assert uuid not in client.get(pages[2]).text and uuid not in client.get(f"{V}/reviews/?stage=all").text
    walk.as_(None)
    for url in pages:
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"]

    # the town opens it to the adviser, then closes it again
    walk.as_(CHIHE)
    assert walk.step(uuid, "grant", granted="1").status_code == 302
    assert case_of(app, uuid)["adviser_granted"] == 1
    assert answers(LAWYER) == [200, 200, 200]
    assert uuid in client.get(f"{V}/reviews/?stage=all").text and uuid in client.get(pages[2]).text
    r = walk.step(uuid, "tell", done_on=TOLD.isoformat(), how="当面告知")
    assert r.status_code == 403 and "您的账号不能使用这个页面" in r.text  # reading is not acting (@access says so)
    walk.as_(CHIHE)
    assert walk.step(uuid, "grant").status_code == 302
    assert case_of(app, uuid)["adviser_granted"] == 0
    assert answers(LAWYER)[:2] == [404, 404]
    with app.app_context():
        town = open_town(app)
        assert audit_actions(town, uuid)[-2:] == ["review_grant", "review_grant"]
        town.close()


def test_a_cadre_of_another_village_of_the_same_town_gets_404(app, client, walk):
    """五爱村 is 池河镇's too; its case is not 明星村's cadre's to see, even with its uuid."""
    with app.app_context():
        town = open_town(app)
        house = household(town, "邻村甲", village=WUAI_VILLAGE)
        uuid = new_case(town, house, village=WUAI_VILLAGE)["uuid"]
        town.close()
    walk.as_(MINGXING)
    assert client.get(f"/v/{WUAI_VILLAGE}/reviews/{uuid}").status_code == 404
    assert client.get(f"{V}/reviews/{uuid}").status_code == 404  # nor through its own village's address
    assert client.get(f"/v/{WUAI_VILLAGE}/reviews/").status_code == 404
    walk.as_(CHIHE)
    assert client.get(f"/v/{WUAI_VILLAGE}/reviews/{uuid}").status_code == 200
    assert client.get(f"{V}/reviews/{uuid}").status_code == 404  # the case is 五爱村's, not 明星村's


def test_the_step_pages_answer_each_role(app, client, walk):
    """A step page asked by the wrong role: 403 with its Chinese reason; out of order: 409; outside one's scope: 404."""
    _session, (house,) = prepared(app, "步骤甲")
    with app.app_context():
        town = open_town(app)
        uuid = new_case(town, house)["uuid"]
        town.close()
    url = f"{V}/reviews/{uuid}/steps/"
    walk.as_(MINGXING)
    assert client.get(url + "vote").status_code == 200
    r = client.get(url + "tell")
    assert r.status_code == 409 and "不能办「告知本人」" in r.text
    assert client.get(url + "nonsense").status_code == 404
    walk.as_(CHIHE)
    r = client.get(url + "vote")
    assert r.status_code == 403 and "由村干部办理" in r.text
    assert client.get(url + "grant").status_code == 200
    walk.as_(GUYAN)
    assert client.get(url + "vote").status_code == 404
    walk.as_(COUNTY)
    r = client.get(url + "vote")
    assert r.status_code == 403 and "您的账号不能使用这个页面" in r.text


def test_a_photo_taken_without_js_is_served_only_to_those_who_may_read_the_case(app, client, walk):
    _session, (house,) = prepared(app, "照片甲")
    walk.as_(MINGXING)
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(picture, "JPEG")
    uuid = str(uuidlib.uuid4())
    r = client.post(f"{V}/reviews/new", content_type="multipart/form-data", data={
        "csrf_token": walk.token(f"{V}/reviews/new"), "uuid": uuid, "edit_id": str(uuidlib.uuid4()), "base_version": "",
        "subject": f"h:{house['uuid']}", "kind": "criticism", "category": "乱倒垃圾", "facts": "往河里倒垃圾",
        "source": "member", "photo_files": (io.BytesIO(picture.getvalue()), "河边.jpg")})
    assert r.status_code == 302
    (sha,) = json.loads(case_of(app, uuid)["photos"])
    url = f"{V}/reviews/{uuid}/files/{sha}"
    assert sha in client.get(f"{V}/reviews/{uuid}").text

    def answer(login):
        walk.as_(login)
        return client.get(url).status_code

    assert [answer(who) for who in (MINGXING, CHIHE, LAWYER, GUYAN, CHENGGUAN, COUNTY)] == [200, 200, 404, 404, 404, 403]
    walk.as_(None)
    r = client.get(url)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    # a file the village has but this case does not list is not served through this case
    with app.app_context():
        town = open_town(app)
        other = new_case(town, household(town, "照片乙"))["uuid"]
        town.close()
    walk.as_(MINGXING)
    assert client.get(f"{V}/reviews/{other}/files/{sha}").status_code == 404
    ok = client.get(url)
    assert ok.status_code == 200 and ok.mimetype == "image/jpeg"
    assert "public" not in ok.headers.get("Cache-Control", "")
