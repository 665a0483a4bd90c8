"""星级文明户 privacy (PIPL), tested with planted names, as for 道德评议: passing households without consent, with
consent, and with consent given then withdrawn; one that did not pass; one whose star was taken off (摘星) with a
planted reason; a planted 考核 reason and planted reviewers. Every public route of the app (tests/publicroutes.py: the
url map and each view's @access) and the 公示 notice are walked: no name without consent shows (they read 某户), the
consented one does — on its own village's page and notice only — and nothing public is a spreadsheet. Nothing under
/ratings/ is public, nor kept by the service worker as a public page."""
import re

import pytest
from conftest import CHIHE_TOWN, MINGXING, MINGXING_VILLAGE, WUAI_VILLAGE
from publicroutes import PUBLIC, public_endpoints, public_urls, walk
from test_ratings import CADRE, TOWN, enter, passing_stars, publicity_over, score, start
from test_reviews import open_town

from villageapp import exports, pwa
from villageapp.clock import today
from villageapp.notices import data as notices_data
from villageapp.ratings import AWARD, data
from villageapp.ratings.procedure import adjust, consent, take_step, withdraw

V = f"/v/{MINGXING_VILLAGE}"
NO_CONSENT = "星隐未同意"
WITHDRAWN = "星隐撤回"
FAILED = "星隐未过"
STRIPPED = "星隐摘星"
CONSENTED = "星公开同意"
REASON = "星隐考核理由"            # the 考核 adjustment's reason
STRIP_REASON = "星隐摘星理由"      # the 摘星 reason
REVIEWERS = ["星隐评议甲", "星隐评议乙", "星隐评议丙"]


def hidden():
    """Everything planted that must never be public."""
    return [NO_CONSENT, WITHDRAWN, FAILED, STRIPPED, REASON, STRIP_REASON, *REVIEWERS]


def planted_campaign(db, consent_after_notice=False):
    """A 星级文明信用户 campaign in 明星村 through 公示 (and, unless told otherwise, the town's approval), with the planted
    entries. consent_after_notice: CONSENTED's family withdraws only after the 公示 notice is up."""
    campaign = start(db, reviewers=REVIEWERS)
    rows = {name: enter(db, campaign, name) for name in (NO_CONSENT, WITHDRAWN, FAILED, STRIPPED, CONSENTED)}
    consent(db, rows[CONSENTED], True, CONSENTED, "书面签字", today(), CADRE)
    consent(db, rows[WITHDRAWN], True, WITHDRAWN, "书面签字", today(), CADRE)
    consent(db, data.entry(db, campaign["uuid"], rows[WITHDRAWN]["uuid"]), False, WITHDRAWN, "电话同意", today(), CADRE)
    campaign = take_step(db, campaign, "score", CADRE)
    for name, e in rows.items():
        if name == FAILED:
            for reviewer in REVIEWERS:
                score(db, campaign, e, reviewer, [0])
        else:
            passing_stars(db, campaign, e)
    campaign = take_step(db, campaign, "check", CADRE)
    e = data.entry(db, campaign["uuid"], rows[NO_CONSENT]["uuid"])
    adjust(db, campaign, e, {**e["computed"], "stars": e["computed"]["stars"][:5], "total": 5}, REASON, CADRE)
    campaign = take_step(db, campaign, "publicize", CADRE)
    if consent_after_notice:
        return campaign, rows
    campaign = take_step(db, publicity_over(db, campaign), "confirm", CADRE)
    campaign = take_step(db, take_step(db, campaign, "report", CADRE), "approve", TOWN)
    award = next(db["awards"].rows_where("entry_uuid = ?", [rows[STRIPPED]["uuid"]]))
    withdraw(db, award, STRIP_REASON, CADRE)
    return campaign, rows


@pytest.fixture
def planted(app):
    with app.app_context():
        db = open_town(app)
        campaign, rows = planted_campaign(db)
        notice = db["notices"].get(campaign["notice_uuid"])
        objection = notices_data.file_objection(db, notice, {"body": "名单有误"})
        notices = [n["uuid"] for n in db["notices"].rows_where("village_code = ?", [MINGXING_VILLAGE])]
        db.close()
    return {"notice": notice["uuid"], "notices": notices, "sha256": "0" * 64, "objection": objection["uuid"],
            "campaign": campaign, "entries": rows, "notice_body": notice["body"]}


def test_no_ratings_route_is_public(app):
    assert public_endpoints(app) == set(PUBLIC), "a public route is new (or gone): check it and list it in publicroutes"
    assert not any("/ratings" in rule.rule for rule in app.url_map.iter_rules() if rule.endpoint in PUBLIC)


def test_the_publicity_notice_names_only_consenting_families(planted):
    body = planted["notice_body"]
    assert f"{CONSENTED}户：6星级文明信用户" in body          # the test can fail: the consented name does show
    assert body.count("某户：") == 3                        # no consent, consent withdrawn, 摘星 (not yet taken)
    assert "某户：5星级文明信用户" in body                    # the adjusted result, without the name nor the reason
    for text in hidden():
        assert text not in body


def test_no_public_route_shows_a_name_without_consent(app, client, planted):
    seen = {}
    for village in (MINGXING_VILLAGE, WUAI_VILLAGE):
        urls = public_urls(app, planted, village, searches=("星级", "文明", "某户", CONSENTED[:2]))
        seen |= {(endpoint, village, url): body for (endpoint, url), body in walk(client, urls, hidden()).items()}
    assert set(PUBLIC) <= {endpoint for endpoint, _v, _u in seen}
    page = seen["notices.village_page", MINGXING_VILLAGE, f"{V}/"]
    assert f"{CONSENTED}户" in page and "6星级文明信用户" in page and "某户" in page
    notice = seen["notices.show", MINGXING_VILLAGE, f"{V}/notices/{planted['notice']}"]
    assert f"{CONSENTED}户" in notice and "某户" in notice
    assert not any(CONSENTED in body for (_e, village, _u), body in seen.items() if village == WUAI_VILLAGE)


def test_signed_in_the_public_page_stays_the_same(app, client, auth, planted):
    auth.login(MINGXING)
    page = client.get(f"{V}/").text
    assert f"{CONSENTED}户" in page
    for text in hidden():
        assert text not in page


def test_the_public_list_takes_a_withdrawn_consent_and_a_withdrawn_star_off_at_once(app, client, planted):
    with app.app_context():
        db = open_town(app)
        names = [a["name"] for a in data.public_awards(db, MINGXING_VILLAGE)]
        assert f"{CONSENTED}户" in names and names.count("某户") >= 2   # no consent and withdrawn: 某户; 摘星: gone
        e = data.entry(db, planted["campaign"]["uuid"], planted["entries"][CONSENTED]["uuid"])
        consent(db, e, False, CONSENTED, "电话同意", today(), CADRE)
        db.close()
    page = client.get(f"{V}/").text
    assert f"{CONSENTED}户" not in page


def test_consent_withdrawn_during_the_publicity_takes_the_name_off_the_notice(app, client):
    with app.app_context():
        db = open_town(app)
        campaign, rows = planted_campaign(db, consent_after_notice=True)
        consent(db, data.entry(db, campaign["uuid"], rows[CONSENTED]["uuid"]), False, CONSENTED, "电话同意", today(), CADRE)
        db.close()
    notice = client.get(f"{V}/notices/{campaign['notice_uuid']}")
    assert notice.status_code == 200 and "某户" in notice.text
    assert CONSENTED not in notice.text and CONSENTED not in client.get(f"{V}/").text


def test_the_service_worker_keeps_no_ratings_page(app, client, planted):
    worker = client.get("/sw.js").text
    for text in [*hidden(), CONSENTED]:
        assert text not in worker
    assert "/ratings" not in worker
    with app.test_request_context():
        pattern = re.compile(pwa.public_pages())
    assert pattern.match(f"{V}/") and pattern.match(f"{V}/notices/{planted['notice']}")  # the pattern in use (can fail)
    campaign, entry = planted["campaign"]["uuid"], planted["entries"][NO_CONSENT]
    for tail in ("", "new", campaign, f"{campaign}/score", f"{campaign}/certificates", f"{campaign}/plaques",
                 f"{campaign}/entries/{entry['uuid']}/adjust", f"subjects/{entry['subject_uuid']}"):
        assert not pattern.match(f"{V}/ratings/{tail}"), tail


def test_the_ratings_pages_are_not_public(app, client, planted):
    campaign, entry = planted["campaign"]["uuid"], planted["entries"][NO_CONSENT]
    for tail in ("", campaign, f"{campaign}/certificates", f"{campaign}/plaques", f"subjects/{entry['subject_uuid']}"):
        response = client.get(f"{V}/ratings/{tail}")
        assert response.status_code == 302 and "/login" in response.headers["Location"], tail
    for url in (f"/t/{CHIHE_TOWN}/ratings/", f"/t/{CHIHE_TOWN}/ratings/types"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_the_staff_export_holds_every_award_and_no_public_one_exists(app, planted):
    """AWARD's export is the town's and cadres' (never served to the public: the routes above): it lists the withdrawn
    star with its reason."""
    with app.test_request_context():
        db = open_town(app)
        body = exports.kind_csv(AWARD, AWARD.export_rows(db, MINGXING_VILLAGE), "awards.csv").get_data(as_text=True)
        db.close()
    for name in (NO_CONSENT, WITHDRAWN, STRIPPED, CONSENTED):
        assert f"{name}户" in body
    assert STRIP_REASON in body and FAILED not in body
