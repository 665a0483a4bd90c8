"""The role × route matrix: every route of the app, asked by every kind of user, answers as the rules say —
public pages to anyone, a village's records only to its own cadres/adviser and its town, 404 outside one's scope."""
import io

import pytest
import sqlite_utils
from PIL import Image

from villageapp import attachments
from villageapp import store

from conftest import (CHENGGUAN, CHIHE, CHIHE_TOWN, COUNTY, GUYAN, LAWYER, MINGXING, MINGXING_VILLAGE, PASSWORD)

ANON = "anon"
ROLES = {  # login → (role, where they belong relative to 明星村 / 池河镇)
    ANON: ("public", None),
    COUNTY: ("county", "all"),
    CHIHE: ("town", "same"),        # town staff of 池河镇, which 明星村 belongs to
    CHENGGUAN: ("town", "other"),   # town staff of 城关镇
    MINGXING: ("cadre", "same"),    # 书记 of 明星村
    GUYAN: ("cadre", "other"),      # cadre of 古堰村 in 城关镇
    LAWYER: ("adviser", "same"),    # legal adviser of 明星村 and 五爱村 (池河镇)
}
V = f"/v/{MINGXING_VILLAGE}"
T = f"/t/{CHIHE_TOWN}"

# endpoint: (method, url template, who may use it, answer when allowed)
ROUTES = {
    "home.index": ("GET", "/", "public", None),
    "home.village": ("GET", V + "/home", "cadre adviser town county", 200),
    "desk.town": ("GET", T + "/", "town county", 200),
    "desk.figures_file": ("GET", T + "/figures.xlsx?period=2026", "town county", 200),
    "desk.figures_json": ("GET", T + "/figures.json?period=2026", "town county", 200),
    "auth.login": ("GET", "/login", "public", None),
    "auth.logout": ("POST", "/logout", "cadre adviser town county", 302),
    "auth.own_password": ("GET", "/account/password", "cadre adviser town county", 200),
    "auth.accounts": ("GET", T + "/accounts/", "town county", 200),
    "auth.new_account": ("GET", T + "/accounts/new", "town county", 200),
    "auth.reset_password": ("GET", T + "/accounts/{cadre_id}/password", "town county", 200),
    "auth.toggle_active": ("POST", T + "/accounts/{cadre_id}/active", "town county", 302),
    "audit.town_log": ("GET", T + "/audit/", "town county", 200),
    "registry.villages": ("GET", T + "/villages/", "town county", 200),
    "registry.households": ("GET", V + "/households/", "cadre town county", 200),
    "registry.household": ("GET", V + "/households/{household}", "cadre town county", 200),
    "registry.new_household": ("GET", V + "/households/new", "cadre town county", 200),
    "registry.new_resident": ("GET", V + "/households/{household}/residents/new", "cadre town county", 200),
    "registry.import_households": ("GET", V + "/households/import", "cadre town county", 200),
    "registry.import_template": ("GET", V + "/households/template.xlsx", "cadre town county", 200),
    "registry.new_village": ("GET", T + "/villages/new", "town county", 200),
    "registry.edit_village": ("GET", T + f"/villages/{MINGXING_VILLAGE}/edit", "town county", 200),
    "notices.village_page": ("GET", V + "/", "public", 200),
    "notices.show": ("GET", V + "/notices/{notice}", "public", 200),
    "notices.file": ("GET", V + "/notices/{notice}/files/{sha256}", "public", 200),
    "notices.object": ("GET", V + "/notices/{notice}/objection", "public", 200),
    "notices.receipt": ("GET", V + "/objections/{objection}/receipt", "public", 200),
    "notices.find_receipt": ("GET", V + "/receipt", "public", 302),
    "notices.manage": ("GET", V + "/notices/", "cadre adviser town county", 200),
    "notices.new": ("GET", V + "/notices/new", "cadre", 200),
    "notices.manage_show": ("GET", V + "/notices/{notice}/manage", "cadre adviser town county", 200),
    "notices.edit": ("GET", V + "/notices/{notice}/edit", "cadre", 200),
    "notices.withdraw": ("POST", V + "/notices/{notice}/withdraw", "cadre", 302),
    "notices.objections": ("GET", V + "/objections/", "cadre town county", 200),
    "notices.objection": ("GET", V + "/objections/{objection}", "cadre town county", 200),
    "notices.poster": ("GET", V + "/poster", "cadre town county", 200),
    "councils.index": ("GET", V + "/councils/", "cadre adviser town county", 200),
    "councils.show": ("GET", V + "/councils/{council}", "cadre adviser town county", 200),
    "councils.new_member": ("GET", V + "/councils/{council}/members/new", "cadre", 200),
    "councils.end_member": ("GET", V + "/councils/{council}/members/{member}/end", "cadre", 200),
    "councils.import_members": ("GET", V + "/councils/{council}/import", "cadre", 200),
    "councils.import_template": ("GET", V + "/councils/{council}/import/template.xlsx", "cadre", 200),
    "meetings.index": ("GET", V + "/meetings/", "cadre adviser town county", 200),
    "meetings.new": ("GET", V + "/meetings/new", "cadre", 200),
    "meetings.new_for": ("GET", V + "/meetings/new/{council}", "cadre", 200),
    "meetings.paper": ("GET", V + "/meetings/paper", "cadre", 200),
    "meetings.show": ("GET", V + "/meetings/{confirmed}", "cadre adviser town county", 200),
    "meetings.edit": ("GET", V + "/meetings/{draft}/edit", "cadre", 200),
    "meetings.confirm": ("POST", V + "/meetings/{draft}/confirm", "cadre", 302),
    "meetings.amend": ("GET", V + "/meetings/{confirmed}/amend", "cadre", 200),
    "meetings.action_done": ("POST", V + "/meetings/{confirmed}/actions/0/0/done", "cadre", 302),
    "meetings.print_view": ("GET", V + "/meetings/{confirmed}/print", "cadre adviser town county", 200),
    "meetings.edition": ("GET", V + "/meetings/{confirmed}/editions/1", "cadre adviser town county", 200),
    "meetings.file": ("GET", V + "/files/{photo}", "cadre adviser town county", 200),
    "meetings.trails_index": ("GET", V + "/meetings/trails/", "cadre adviser town county", 200),
    "meetings.new_trail": ("GET", V + "/meetings/trails/new", "cadre", 200),
    "meetings.trail": ("GET", V + "/meetings/trails/{trail}", "cadre adviser town county", 200),
    "meetings.trail_step": ("GET", V + "/meetings/trails/{trail}/steps/3", "cadre", 200),
    "meetings.town": ("GET", T + "/meetings/", "town county", 200),
    "exports.index": ("GET", T + "/exports/", "town county", 200),
    "exports.show": ("GET", T + "/exports/meetings", "town county", 200),
    "exports.file": ("GET", T + "/exports/meetings.xlsx", "town county", 200),
    "exports.archive": ("GET", T + "/exports/archive.zip", "town", 200),
    "meetings.town_quarter": ("GET", T + "/meetings/quarter", "town county", 200),
    "rules.public": ("GET", V + "/rules", "public", 200),
    "rules.poster": ("GET", V + "/rules/poster", "public", 200),
    "rules.consultation": ("GET", V + "/rules/consultation", "public", 410),
    "rules.public_search": ("GET", V + "/rules/search?q=宴席", "public", 200),
    "rules.manage": ("GET", V + "/rules/manage", "cadre adviser town county", 200),
    "rules.start": ("GET", V + "/rules/start", "cadre", 200),
    "rules.version": ("GET", V + "/rules/versions/{rule_version}", "cadre adviser town county", 200),
    "rules.diff": ("GET", V + "/rules/versions/{rule_version}/diff", "cadre adviser town county", 200),
    "rules.new_article": ("GET", V + "/rules/versions/{rule_version}/articles/new", "cadre", 409),
    "rules.edit_article": ("GET", V + "/rules/versions/{rule_version}/articles/{rule_article}/edit", "cadre", 409),
    "rules.file": ("GET", V + "/rules/versions/{rule_version}/files/{rule_file}", "cadre adviser town county", 200),
    "rules.step": ("GET", V + "/rules/versions/{rule_version}/steps/review", "adviser", 200),
    "rules.answer": ("GET", V + "/rules/opinions/{rule_opinion}", "cadre", 200),
    "rules.town": ("GET", T + "/rules/", "town county", 200),
    "rules.town_search": ("GET", T + "/rules/search?q=彩礼", "town county", 200),
    "rules.compare": ("GET", T + "/rules/compare", "town county", 200),
    "rules.import_text": ("GET", V + "/rules/import", "cadre", 409),  # 明星村 has a rulebook: 发起修订 instead
    "rules.import_check": ("GET", V + "/rules/import/check", "cadre", 409),
    "rules.import_answer": ("POST", V + "/rules/versions/{rule_version}/town-answer", "town", 422),  # neither answer
    "reviews.index": ("GET", V + "/reviews/", "cadre adviser town", 200),
    "reviews.new": ("GET", V + "/reviews/new", "cadre", 200),
    "reviews.edit": ("GET", V + "/reviews/{review_new}/edit", "cadre", 200),
    "reviews.show": ("GET", V + "/reviews/{review}", "cadre adviser town", 200),  # the adviser: granted by the town
    "reviews.step": ("GET", V + "/reviews/{review}/steps/tell", "cadre", 200),
    "reviews.print_case": ("GET", V + "/reviews/{review}/print", "cadre adviser town", 200),
    "reviews.file": ("GET", V + "/reviews/{review}/files/{review_photo}", "cadre adviser town", 200),
    "reviews.red_list": ("GET", V + "/reviews/red-list", "cadre town", 200),
    "reviews.new_session": ("GET", V + "/reviews/sessions/new", "cadre", 200),
    "reviews.history": ("GET", V + "/reviews/subjects/{household}", "cadre adviser town", 200),
    "reviews.settings": ("GET", T + "/reviews/settings", "town", 200),
    "ratings.index": ("GET", V + "/ratings/", "cadre adviser town county", 200),
    "ratings.new": ("GET", V + "/ratings/new", "cadre", 200),
    "ratings.show": ("GET", V + "/ratings/{rating_checked}", "cadre adviser town county", 200),
    "ratings.new_entry": ("GET", V + "/ratings/{rating_scoring}/entries/new", "cadre", 200),
    "ratings.score": ("GET", V + "/ratings/{rating_scoring}/score", "cadre", 200),
    "ratings.edit_score": ("GET", V + "/ratings/{rating_scoring}/scores/{rating_score}/edit", "cadre", 200),
    "ratings.adjust": ("GET", V + "/ratings/{rating_checked}/entries/{rating_entry}/adjust", "cadre", 200),
    "ratings.consent": ("GET", V + "/ratings/{rating_checked}/entries/{rating_entry}/consent", "cadre", 200),
    "ratings.step": ("GET", V + "/ratings/{rating_checked}/steps/publicize", "cadre", 200),
    "ratings.certificates": ("GET", V + "/ratings/{rating_approved}/certificates", "cadre adviser town county", 200),
    "ratings.plaques": ("GET", V + "/ratings/{rating_approved}/plaques", "cadre adviser town county", 200),
    "ratings.withdraw": ("GET", V + "/ratings/awards/{rating_award}/withdraw", "cadre town", 200),
    "ratings.history": ("GET", V + "/ratings/subjects/{household}", "cadre adviser town county", 200),
    "ratings.town": ("GET", T + "/ratings/", "town county", 200),
    "ratings.types": ("GET", T + "/ratings/types", "town county", 200),
    "ratings.new_type": ("GET", T + "/ratings/types/new", "town", 200),
    "ratings.edit_type": ("GET", T + "/ratings/types/{rating_type}/edit", "town", 200),
    "conflicts.index": ("GET", V + "/conflicts/", "cadre town county", 200),
    "conflicts.show": ("GET", V + "/conflicts/{revision}", "cadre town county", 200),
    "sync.outbox": ("GET", "/outbox", "cadre adviser town county", 200),
    "sync.session": ("GET", "/api/session", "cadre adviser town county", 200),
    "sync.edits": ("POST", "/api/v/" + MINGXING_VILLAGE + "/edits", "cadre", 400),
    "sync.file": ("HEAD", "/api/v/" + MINGXING_VILLAGE + "/files/" + "0" * 64, "cadre", 404),
    "pwa.manifest": ("GET", "/manifest.webmanifest", "public", 200),
    "pwa.service_worker": ("GET", "/sw.js", "public", 200),
    "pwa.offline": ("GET", "/offline", "public", 200),
}
# answers that differ by who asks, for the few routes where that is the design
SPECIAL = {
    # the front door: a directory for the public and the county, one's own desk or village for the others
    ("home.index", CHIHE): 302, ("home.index", CHENGGUAN): 302, ("home.index", MINGXING): 302,
    ("home.index", GUYAN): 302, ("home.index", LAWYER): 200, ("home.index", COUNTY): 200, ("home.index", ANON): 200,
    # signed-in people are sent on from the login page
    **{("auth.login", login): 302 for login in ROLES if login != ANON}, ("auth.login", ANON): 200,
}


def expected(endpoint, login):
    """The rule the app must follow, written independently of its @access declarations."""
    if (endpoint, login) in SPECIAL:
        return SPECIAL[endpoint, login]
    _method, url, allowed, ok = ROUTES[endpoint]
    role, where = ROLES[login]
    if "public" in allowed.split():
        return ok
    if login == ANON:
        return 401 if url.startswith("/api/") else 302  # the phone's outbox must see 401, never a login page
    if where == "other" and url.startswith(("/v/", "/t/", "/api/v/")):
        return 404  # another town's (or village's) records: not even their existence is told
    return ok if role in allowed.split() else 403


@pytest.fixture
def matrix_app(instance_path):
    from conftest import _app
    app = _app(instance_path, WTF_CSRF_ENABLED=False)  # CSRF is tested on its own; here only access counts
    return add_ids(app)


def add_ids(app):
    """Records behind every route's {placeholders} (a 公示 with a file and an objection, meetings, rules…): app.ids."""
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        notice = next(db["notices"].rows_where("village_code = ? and category = '公示'", [MINGXING_VILLAGE],
                                               order_by="end_date desc"))  # one still running (a demo campaign's has ended)
        sha = attachments.add(db, notice["uuid"], "名单.pdf", "application/pdf", b"%PDF-1.4 demo", "test")
        from villageapp.notices import data
        objection = data.file_objection(db, notice, {"body": "名单有误"})
        household = next(db["households"].rows_where("village_code = ?", [MINGXING_VILLAGE]))
        cadre_id = store.open_directory(app).execute("select id from users where username = ?", [MINGXING]).fetchone()[0]
        meeting_ids = _meeting_ids(db)
        rule_version = next(db["rule_versions"].rows_where("village_code = ? and stage = 'review'", [MINGXING_VILLAGE]))
        rule_article = next(db["rule_articles"].rows_where("version_uuid = ?", [rule_version["uuid"]]))
        rule_opinion = next(db["rule_opinions"].rows_where("version_uuid = ?", [rule_version["uuid"]]))
        rule_file = attachments.add(db, rule_version["uuid"], "审查意见.pdf", "application/pdf", b"%PDF-1.4 rules", "test")
        review_ids = _review_ids(db, household, meeting_ids["photo"])
        rating_ids = _rating_ids(db)
        db.close()
    app.ids = {"notice": notice["uuid"], "sha256": sha, "objection": objection["uuid"],
               "household": household["uuid"], "cadre_id": cadre_id, **meeting_ids,
               "rule_version": rule_version["uuid"], "rule_article": rule_article["uuid"],
               "rule_opinion": rule_opinion["uuid"], "rule_file": rule_file, **review_ids, **rating_ids}
    return app


def _review_ids(db, household, photo):
    """明星村's 道德评议: a case just written (to edit) and a voted praise with a photo that the town opened to the
    adviser (to read, to tell the subject, to print)."""
    from types import SimpleNamespace

    from villageapp import records
    from villageapp.reviews import _example_meeting, data, procedure
    v, cadre = MINGXING_VILLAGE, SimpleNamespace(username=MINGXING, role="cadre")
    meeting = _example_meeting(db, v)
    session = data.add_session(db, v, {"title": "矩阵评议会", "kind": "ad_hoc", "held_on": meeting["starts_at"][:10],
                                       "meeting_uuid": meeting["uuid"]}, MINGXING)
    columns = {"village_code": v, "subject_type": "household", "subject_uuid": household["uuid"],
               "household_uuid": household["uuid"], "subject_name": household["head_name"] + "户", "kind": "praise",
               "category": "孝老爱亲", "facts": "照顾老人", "source": "member"}
    voted, _ = records.create(db, "review_cases", {**columns, "photos": f'["{photo}"]'}, MINGXING)
    voted = procedure.take_step(db, voted, "vote", cadre, session=session["uuid"], votes_for=3, conclusion="praise")
    procedure.take_step(db, voted, "grant", SimpleNamespace(username=CHIHE, role="town"), granted=True)
    new, _ = records.create(db, "review_cases", {**columns, "photos": "[]"}, MINGXING)
    return {"review": voted["uuid"], "review_new": new["uuid"], "review_photo": photo}


def _rating_ids(db):
    """明星村's 星级文明户 campaigns for the matrix: one being scored (a reviewer's scores to change), one checked (an entry
    to adjust, a step to take) and one the town approved (its award to print and to withdraw)."""
    from types import SimpleNamespace

    from villageapp import records
    from villageapp.ratings import data, procedure
    v, cadre = MINGXING_VILLAGE, SimpleNamespace(username=MINGXING, role="cadre")
    kind = next(t for t in data.types(db) if t["mode"] == "stars")
    household = next(h for h in db["households"].rows_where("village_code = ?", [v])  # not under the demo's re-award bar
                     if not data.bar(db, h["uuid"], kind["uuid"]))
    subject = {"type": "household", "uuid": household["uuid"], "household_uuid": household["uuid"],
               "name": household["head_name"] + "户"}
    out = {"rating_type": kind["uuid"]}
    for stage, year in (("approved", 2023), ("checked", 2024), ("scoring", 2025)):
        campaign = data.start_campaign(db, v, kind, year, ["矩阵代表甲", "矩阵代表乙"], MINGXING)
        entry = procedure.add_entry(db, campaign, subject, "apply", f"{year}-03-01", cadre)
        campaign = procedure.take_step(db, campaign, "score", cadre)
        score, _ = records.create(db, "campaign_scores", {
            "village_code": v, "campaign_uuid": campaign["uuid"], "entry_uuid": entry["uuid"], "reviewer": "矩阵代表甲",
            "scores": '{"c0": true, "c1": true, "c2": true, "c3": true, "c4": true, "c5": true}'}, MINGXING)
        out[f"rating_{stage}"] = campaign["uuid"]
        if stage == "scoring":
            out["rating_score"] = score["uuid"]
            continue
        campaign = procedure.take_step(db, campaign, "check", cadre)
        out["rating_entry"] = entry["uuid"]
        if stage == "approved":
            campaign = procedure.take_step(db, campaign, "publicize", cadre)
            with store.write(db):
                db["campaigns"].update(campaign["uuid"], {"publicity_end": f"{year}-12-31"})
            for step, who in (("confirm", cadre), ("report", cadre), ("approve", SimpleNamespace(username=CHIHE, role="town"))):
                campaign = procedure.take_step(db, campaign, step, who)
            out["rating_award"] = next(db["awards"].rows_where("campaign_uuid = ?", [campaign["uuid"]]))["uuid"]
    return out


def _meeting_ids(db):
    """明星村's demo council, a current member, a draft and a confirmed meeting, its trail and a photo."""
    from villageapp.meetings import data as meetings
    v = MINGXING_VILLAGE
    council = next(db["councils"].rows_where("village_code = ? and name = '红白理事会'", [v]))
    member = next(db["council_members"].rows_where("council_uuid = ? and until is null", [council["uuid"]]))
    draft = next(db["meetings"].rows_where("village_code = ? and state = 'draft'", [v]))
    two = next(db["councils"].rows_where("village_code = ? and name = ?", [v, "村“两委”会"]))
    confirmed = next(db["meetings"].rows_where("council_uuid = ? and state = 'confirmed'", [two["uuid"]]))  # has an action
    trail = next(db["trails"].rows_where("village_code = ?", [v]))
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG")
    photo = meetings.store_photo(db, v, "签到表.jpg", out.getvalue(), "test")
    return {"council": council["uuid"], "member": member["uuid"], "draft": draft["uuid"],
            "confirmed": confirmed["uuid"], "trail": trail["uuid"], "photo": photo, "revision": _conflict(db, draft)}


def _conflict(db, draft):
    """A second cadre's offline edit of the draft, made on an older version: a conflict waiting for a person."""
    from flask import current_app

    from villageapp import auth, records, sync
    from villageapp.meetings.forms import meeting_payload
    directory = store.open_directory(current_app)
    cadre = auth.load_user_row(directory, directory.execute("select id from users where username = ?", [MINGXING]).fetchone()[0])
    payload = [[k, v if k != "place" else "另一个地点"] for k, v in meeting_payload(draft)]
    with current_app.test_request_context():
        answer = sync.apply_edit(db, cadre, MINGXING_VILLAGE, {"edit_id": records.new_uuid(), "uuid": draft["uuid"],
                                                               "type": "meeting", "base_version": draft["version"] - 1,
                                                               "payload": payload})
    assert answer["status"] == "conflict", answer
    return db.execute("select id from revisions where edit_id = ?", [answer["edit_id"]]).fetchone()[0]


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints == set(ROUTES), "add new routes to ROUTES with who may use them"


def test_every_view_states_who_may_use_it(app):
    for endpoint, view in app.view_functions.items():
        if endpoint != "static":
            assert getattr(view, "access_roles", None), f"{endpoint} has no @access declaration"


@pytest.mark.parametrize("login", list(ROLES))
def test_role_route_matrix(matrix_app, login):
    client = matrix_app.test_client()
    if login != ANON:
        response = client.post("/login", data={"username": login, "password": PASSWORD})
        assert response.status_code == 302, f"{login} could not log in"
    # state-changing routes last, logout at the very end
    order = sorted(ROUTES, key=lambda e: (ROUTES[e][0] == "POST", e == "auth.logout"))
    got, want = {}, {}
    for endpoint in order:
        method, template, _allowed, _ok = ROUTES[endpoint]
        url = template.format(**matrix_app.ids)
        response = client.open(url, method=method)
        got[endpoint], want[endpoint] = response.status_code, expected(endpoint, login)
    assert got == want


def test_other_village_of_the_same_town_is_404_for_a_cadre(client, auth):
    auth.login(MINGXING)
    assert client.get("/v/610922104202/home").status_code == 404
    assert client.get("/v/610922104202/households/").status_code == 404
    assert client.get("/v/610922104202/").status_code == 200  # but its public page is public


def test_record_of_another_village_is_404_even_with_its_uuid(app, client, auth):
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        other = next(db["households"].rows_where("village_code = '610922104202'"))
        db.close()
    auth.login(MINGXING)
    assert client.get(f"{V}/households/{other['uuid']}").status_code == 404


def test_json_clients_get_401_not_a_login_page(client):
    response = client.get(V + "/households/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json == {"ok": False, "status": 401, "error": "登录已过期，请重新登录"}


def test_unknown_village_and_town_give_a_chinese_404(client):
    for url in ("/v/610922104999/", "/v/abc/", "/t/610922199/", "/v/610922999201/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "找不到这个页面" in response.text


def test_post_without_csrf_token_is_refused(client, auth):
    auth.login(MINGXING)
    response = client.post("/logout")
    assert response.status_code == 400
    assert "请刷新后再提交" in response.text


def test_a_deleted_town_file_leaves_other_towns_working(app, client, instance_path):
    (instance_path / "towns" / f"{CHIHE_TOWN}.db").unlink()
    assert client.get(V + "/").status_code == 404
    assert client.get("/v/610922100201/").status_code == 200
    assert "古堰村" in client.get("/").text
    sqlite_utils.Database(instance_path / "towns" / "610922100.db")["villages"].count  # still readable
