"""道德评议 privacy (PIPL), tested with planted names: a criticised household, a praised one without consent, one shown
as 某户, one who consented and withdrew, and one who consented. Every public route of the app (found from the url map and
each view's @access: a new public route must be added to tests/publicroutes.py), the public search of 村规民约, the
service worker and its public-page pattern, and anything downloadable by the public are checked: no planted name, fact
or criticism category shows — while the consented name does show on the village page, so the test can fail."""
import re

import pytest
from conftest import CHIHE, GUYAN, LAWYER, MINGXING, MINGXING_VILLAGE, TANJIAWAN_VILLAGE, WUAI_VILLAGE
from publicroutes import PUBLIC, public_endpoints, public_urls, walk
from test_reviews import CADRE, TOLD, Walk, household, new_case, open_town, review_session, told, voted

from villageapp import attachments, exports, pwa
from villageapp.reviews import REVIEW, data
from villageapp.reviews.procedure import take_step

V = f"/v/{MINGXING_VILLAGE}"
CATEGORY = "聚众赌博隐类"   # the town's own criticism category, planted: never on a public page
CRITICISED = "隐名批评子"
HELPED = "隐名帮教午"
NO_CONSENT = "隐名未同意丑"
ANONYMOUS = "隐名某户寅"
WITHDRAWN = "隐名撤回卯"
CONSENTED = "公开同意辰"
FACT = "隐事实"  # every case's facts, reply, appeal and plan carry it, with the case's own name

def hidden():
    """Everything planted that must never be public."""
    names = (CRITICISED, HELPED, NO_CONSENT, ANONYMOUS, WITHDRAWN)
    return [*names, CATEGORY, FACT, *(f"{name}{FACT}" for name in (*names, CONSENTED))]


@pytest.fixture
def planted(app):
    """The planted cases in 明星村 (each at the step that matters), and the records behind the public routes' URLs."""
    with app.app_context():
        db = open_town(app)
        cats = data.categories(db)
        data.save_setting(db, "review_categories", {**cats, "criticism": [*cats["criticism"], CATEGORY]}, CHIHE)
        session = review_session(db)

        def case(name, kind, category, conclusion=None, **fields):
            row = new_case(db, household(db, name), kind, category, f"{name}{FACT}")
            return told(db, voted(db, row, session, conclusion, **fields))

        criticised = case(CRITICISED, "criticism", CATEGORY)
        take_step(db, criticised, "reply", CADRE, done_on=TOLD.isoformat(), note=f"{CRITICISED}{FACT}的意见")
        take_step(db, criticised, "appeal", CADRE, done_on=TOLD.isoformat(), note=f"{CRITICISED}{FACT}的复评理由")
        case(HELPED, "criticism", "不赡养老人", "help", help_plan=f"{HELPED}{FACT}的帮教计划", helper="隐名帮教人")
        case(NO_CONSENT, "praise", "孝老爱亲")
        anonymous = case(ANONYMOUS, "praise", "邻里和睦")
        take_step(db, anonymous, "public", CADRE, anonymous=True)
        withdrawn = case(WITHDRAWN, "praise", "诚实守信")
        take_step(db, withdrawn, "consent", CADRE, action="given", by_name=WITHDRAWN, how="书面签字", done_on=TOLD.isoformat())
        take_step(db, withdrawn, "consent", CADRE, action="withdrawn", by_name=WITHDRAWN, done_on=TOLD.isoformat())
        consented = case(CONSENTED, "praise", "热心公益")
        take_step(db, consented, "consent", CADRE, action="given", by_name=CONSENTED, how="书面签字", done_on=TOLD.isoformat())

        notices = list(db["notices"].rows_where("village_code = ?", [MINGXING_VILLAGE], order_by="created_at"))
        notice = next(n for n in notices if n["category"] == "公示")
        sha = attachments.add(db, notice["uuid"], "名单.pdf", "application/pdf", b"%PDF-1.4 demo", "test")
        from villageapp.notices import data as notices_data
        objection = notices_data.file_objection(db, notice, {"body": "名单有误"})
        cases = list(db["review_cases"].rows_where("village_code = ? and facts like ?", [MINGXING_VILLAGE, f"%{FACT}%"]))
        everything = db["review_cases"].count_where("village_code = ?", [MINGXING_VILLAGE])
        db.close()
    return {"notice": notice["uuid"], "notices": [n["uuid"] for n in notices], "sha256": sha,
            "objection": objection["uuid"], "cases": cases, "count": everything, "houses": [c["subject_uuid"] for c in cases]}


def test_every_public_route_is_checked(app):
    public = public_endpoints(app)
    assert public == set(PUBLIC), "a public route is new (or gone): check it for 道德评议 privacy and list it in PUBLIC"
    assert not any(rule.rule.startswith("/v/<village>/reviews") for rule in app.url_map.iter_rules()
                   if rule.endpoint in public), "no page under /v/<v>/reviews/ is public"


def test_no_public_route_shows_a_planted_name_fact_or_criticism_category(app, client, planted):
    seen = {}
    for village in (MINGXING_VILLAGE, WUAI_VILLAGE):
        urls = public_urls(app, planted, village, searches=("赌博", "表扬", "红榜", "孝老爱亲", "评议"))
        seen |= {(endpoint, village, url): body for (endpoint, url), body in walk(client, urls, hidden()).items()}
    assert set(PUBLIC) <= {endpoint for endpoint, _v, _u in seen}
    # the consented name does show: on its own village's page, and only there
    assert CONSENTED in seen["notices.village_page", MINGXING_VILLAGE, f"{V}/"]
    assert "某户" in seen["notices.village_page", MINGXING_VILLAGE, f"{V}/"]  # the praise shown without a name
    assert CONSENTED not in seen["notices.village_page", WUAI_VILLAGE, f"/v/{WUAI_VILLAGE}/"]


def test_the_public_search_of_the_rules_finds_no_planted_text(app, client, planted):
    """Searched for the planted words themselves, the page shows them no more often than any word it cannot find
    (the search box says back what was asked)."""
    def count(needle):
        return client.get(f"{V}/rules/search", query_string={"q": needle}).text.count(needle)

    for needle in [*hidden(), CONSENTED]:
        control = "查无此词" + "无" * max(0, len(needle) - 4)
        assert count(needle) == count(control), needle


def test_signed_in_the_public_pages_stay_the_same(app, client, auth, planted):
    """A cadre who opens the public page sees what the public sees: the 红榜, not the cases."""
    auth.login(MINGXING)
    page = client.get(f"{V}/").text
    assert CONSENTED in page
    for text in hidden():
        assert text not in page


def test_the_service_worker_keeps_no_review_page(app, client, auth, planted):
    worker = client.get("/sw.js").text
    for text in [*hidden(), CONSENTED]:
        assert text not in worker
    assert "/reviews" not in worker
    with app.test_request_context():
        pattern = re.compile(pwa.public_pages())
    assert pattern.match(f"{V}/") and pattern.match(f"{V}/notices/{planted['notice']}")  # the pattern in use (can fail)
    case = planted["cases"][0]
    urls = [f"/v/{v}/reviews/{tail}" for v in (MINGXING_VILLAGE, TANJIAWAN_VILLAGE) for tail in (
        "", "new", "red-list", "sessions/new", f"{case['uuid']}", f"{case['uuid']}/edit", f"{case['uuid']}/print",
        f"{case['uuid']}/steps/vote", f"{case['uuid']}/files/{'0' * 64}", f"subjects/{case['subject_uuid']}")]
    for url in urls:
        assert not pattern.match(url), url
    # and no review page says it may be kept as a public page (the worker's other test)
    auth.login(MINGXING)
    for url in urls[:10]:
        response = client.get(url)
        assert response.headers.get("X-Offline-Copy") != "public", url
        assert "public" not in response.headers.get("Cache-Control", ""), url


def test_the_case_pages_of_a_planted_subject_are_not_public(app, client, planted):
    for case in planted["cases"]:
        for tail in ("", "/print", "/steps/vote"):
            response = client.get(f"{V}/reviews/{case['uuid']}{tail}")
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        assert client.get(f"{V}/reviews/subjects/{case['subject_uuid']}").status_code == 302
    assert client.get(f"{V}/reviews/red-list").status_code == 302


def test_the_red_list_sheet_for_the_notice_board_is_exactly_the_public_red_list(app, client, auth, planted):
    """The printed 红榜 goes on the village's notice board: what it shows is public, so the same rules hold."""
    auth.login(MINGXING)
    sheet = client.get(f"{V}/reviews/red-list").text
    assert f"{CONSENTED}户" in sheet and "某户" in sheet
    for text in hidden():
        assert text not in sheet
    with app.app_context():
        db = open_town(app)
        rows = data.red_list(db, MINGXING_VILLAGE, limit=200)
        db.close()
    assert [r["name"] for r in rows].count(f"{CONSENTED}户") == 1
    for row in rows:
        assert row["name"] in sheet


def test_the_kinds_export_is_for_staff_and_holds_every_case(app, planted):
    """exports.kind_csv on REVIEW (the town's and cadres' export, never served to the public: see the route test above)
    lists every case of the village, criticism included, with its facts."""
    with app.test_request_context():
        db = open_town(app)
        rows = REVIEW.export_rows(db, MINGXING_VILLAGE)
        body = exports.kind_csv(REVIEW, rows, "reviews.csv").get_data(as_text=True)
        db.close()
    assert len(planted["cases"]) == 6 and len(rows) == planted["count"]
    for name in (CRITICISED, HELPED, NO_CONSENT, ANONYMOUS, WITHDRAWN, CONSENTED):
        assert f"{name}户" in body and f"{name}{FACT}" in body
    assert CATEGORY in body and body.startswith("\ufeff对象,")


def test_the_other_village_cadre_and_the_adviser_see_no_planted_case(app, client, auth, planted):
    """Outside the public pages: a cadre of another village and the adviser (no case opened to them) read nothing."""
    walk = Walk(client, auth)
    walk.as_(GUYAN)
    for case in planted["cases"]:
        assert client.get(f"{V}/reviews/{case['uuid']}").status_code == 404
    walk.as_(LAWYER)
    listing = client.get(f"{V}/reviews/?stage=all").text
    for name in (CRITICISED, HELPED, NO_CONSENT, ANONYMOUS, WITHDRAWN, CONSENTED):
        assert name not in listing
    for case in planted["cases"]:
        assert client.get(f"{V}/reviews/{case['uuid']}").status_code == 404
        history = client.get(f"{V}/reviews/subjects/{case['subject_uuid']}")
        assert history.status_code in (200, 404) and f"{FACT}" not in history.text


def test_the_county_reads_the_audit_log_without_a_cases_content(app, client, auth, planted):
    """The county admin reads the town's audit log (who did what, when) but not what a 道德评议 entry holds: not on the
    screen, not in its export; the town's clerk reads both whole."""
    from conftest import CHIHE_TOWN, COUNTY
    T = f"/t/{CHIHE_TOWN}"
    walk = Walk(client, auth).as_(COUNTY)
    pages = [client.get(f"{T}/audit/", query_string={"table": table, "page": page}).text
             for table in ("review_cases", "review_steps") for page in (1, 2)]
    export = client.get(f"{T}/exports/audit.csv").data.decode("utf-8")
    for text in (*pages, export):
        for secret in hidden():
            assert secret not in text
    assert "道德评议" in pages[0] and "内容只给有权查看的人看" in pages[0]
    walk.as_(CHIHE)
    town_export = client.get(f"{T}/exports/audit.csv", query_string={"table": "review_cases"}).data.decode("utf-8")
    assert f"{CRITICISED}{FACT}的意见" in town_export
