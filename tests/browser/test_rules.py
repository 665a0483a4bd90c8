"""村规民约 in a real Chromium on a phone-sized screen: a villager with no account leaves an opinion on a consultation,
and the text published after filing shows on the village's public page."""
import pytest
from conftest import CHIHE_TOWN, MINGXING_VILLAGE
from playwright.sync_api import expect

from villageapp import records
from villageapp.clock import today
from villageapp.councils import data as councils
from villageapp.store import open_town
from villageapp.meetings import data as meetings
from villageapp.meetings.forms import formdata, make_meeting_form, meeting_columns
from villageapp.rules import data, procedure

pytestmark = pytest.mark.browser
V = MINGXING_VILLAGE
PHONE = {"width": 360, "height": 740}
NEW_TEXT = "提倡婚事新办，婚事宴席不超过 10 桌，人情礼金不超过 100 元。"


class Actor:
    def __init__(self, role):
        self.username, self.role = "test", role


def _vote_meeting(db):
    body = councils.council_by_name(db, V, "村民代表会议")
    reps = councils.members(db, body["uuid"], current_only=True)
    payload = [["council", body["uuid"]], ["date", today().isoformat()], ["time", "14:00"], ["place", "村委会"],
               ["host", reps[0]["name"]], ["recorder", reps[-1]["name"]], ["eligible", str(len(reps))],
               *[["attendees", m["uuid"]] for m in reps], ["agenda-0-title", "表决村规民约"],
               ["agenda-0-votes_for", str(len(reps))], ["agenda-0-votes_against", "0"], ["agenda-0-votes_abstain", "0"]]
    form = make_meeting_form(db, V, formdata(payload))
    assert form.validate(), form.errors
    row = records.create(db, "meetings", {**meeting_columns(form), "village_code": V}, "test")[0]
    return meetings.confirm(db, row, "test")[0]["uuid"]


def _finish(db, version):
    """Take the remaining steps of a version, each by the role that owns it."""
    extra = {"review": {"outcome": "passed"}, "approval": {"outcome": "approved"},
             "vote": {"meeting_uuid": _vote_meeting(db), "agenda_item": 0}, "filing": {"filing_no": "池备〔2026〕12号"}}
    while version["stage"] != "published":
        step = version["stage"]
        version = procedure.take_step(db, version, step, Actor(procedure.OWNERS[step][0]), **extra.get(step, {}))
    return version


def test_villager_leaves_an_opinion_from_a_phone_and_sees_the_filed_text(app, live_server, page):
    with app.app_context():
        db = open_town(CHIHE_TOWN, app)
        _finish(db, next(db["rule_versions"].rows_where("village_code = ? and stage = 'review'", [V])))
        v3, problem = data.start_cycle(db, db["villages"].get(V), "test", "再降宴席标准")
        assert problem is None
        db.close()

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/v/{V}/")
    page.get_by_role("link", name="村规民约全文").click()
    page.get_by_role("link", name="看草案，提意见").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("征求意见")
    page.get_by_role("button", name="提交意见").click()  # empty: the error shows next to the field
    expect(page.locator(".error").first).to_contain_text("请写下您的意见")
    page.get_by_label("您的意见或建议").fill("宴席 10 桌就够了，礼金 100 元。")
    page.get_by_label("您的称呼（可不填）").fill("五组老王")
    page.get_by_role("button", name="提交意见").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("意见已收到")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone

    with app.app_context():
        db = open_town(CHIHE_TOWN, app)
        opinion = next(db["rule_opinions"].rows_where("version_uuid = ?", [v3["uuid"]]))
        assert opinion["name"] == "五组老王" and opinion["created_by"] is None
        data.answer_opinion(db, opinion, "采纳", True, "test")
        v3 = procedure.take_step(db, v3, "consultation", Actor("cadre"))
        thrift = next(a for a in data.articles(db, v3["uuid"]) if a["limit_values"])
        data.save_article(db, v3, {"chapter": thrift["chapter"], "title": thrift["title"], "body": NEW_TEXT,
                                   "banquet_tables": 10, "gift_amount": 100}, "test", thrift)
        v3 = db["rule_versions"].get(v3["uuid"])
        # before filing the public page still shows the text in force
        v3 = procedure.take_step(db, v3, "draft", Actor("cadre"))
        db.close()
    page.goto(f"{live_server.url}/v/{V}/rules")
    expect(page.locator("main")).not_to_contain_text(NEW_TEXT)

    with app.app_context():
        db = open_town(CHIHE_TOWN, app)
        _finish(db, v3)
        db.close()
    page.reload()
    expect(page.locator("main")).to_contain_text(NEW_TEXT)
    expect(page.locator("main")).to_contain_text("第 3 版")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
