"""村规民约: the whole procedure walked through the views with the right roles, each wrong step refused with a clear
reason, the public text, poster and consultation, search by a two-character word, the town view and the diff."""
import re

import pytest
from conftest import CHENGGUAN, CHIHE, CHIHE_TOWN, GUYAN, LAWYER, MINGXING, MINGXING_VILLAGE, csrf_from

from villageapp import store
from villageapp import records
from villageapp.clock import today
from villageapp.councils import data as councils
from villageapp.meetings import data as meetings
from villageapp.meetings.forms import formdata, make_meeting_form, meeting_columns

V = f"/v/{MINGXING_VILLAGE}"


def _db(app):
    return store.open_town(CHIHE_TOWN, app)


def running(app):
    db = _db(app)
    try:
        return next(db["rule_versions"].rows_where("village_code = ? and stage != 'published'", [MINGXING_VILLAGE]))
    finally:
        db.close()


def vote_meeting(app, eligible_extra=0, votes_for=None, council="村民代表会议", confirm=True, day=None):
    """A 明星村 meeting with every representative present; eligible_extra raises 应到 (to fail the quorum)."""
    with app.app_context():
        db = _db(app)
        body = councils.council_by_name(db, MINGXING_VILLAGE, council)
        reps = councils.members(db, body["uuid"], current_only=True)
        votes = len(reps) if votes_for is None else votes_for
        payload = [["council", body["uuid"]], ["date", (day or today()).isoformat()], ["time", "14:00"],
                   ["place", "村委会"], ["host", reps[0]["name"]], ["recorder", reps[-1]["name"]], ["eligible", str(len(reps) + eligible_extra)],
                   *[["attendees", m["uuid"]] for m in reps], ["agenda-0-title", "表决村规民约修订稿"],
                   ["agenda-0-votes_for", str(votes)], ["agenda-0-votes_against", str(len(reps) - votes)],
                   ["agenda-0-votes_abstain", "0"]]
        form = make_meeting_form(db, MINGXING_VILLAGE, formdata(payload))
        assert form.validate(), form.errors
        row = records.create(db, "meetings", {**meeting_columns(form), "village_code": MINGXING_VILLAGE}, "test")[0]
        if confirm:
            row, problem = meetings.confirm(db, row, "test")
            assert problem is None
        db.close()
    return row["uuid"]


class Walk:
    def __init__(self, client, auth):
        self.client, self.auth, self.who = client, auth, None

    def as_(self, login):
        if self.who:
            self.auth.logout()
        self.auth.login(login)
        self.who = login
        return self

    def step(self, uuid, step, **fields):
        url = f"{V}/rules/versions/{uuid}/steps/{step}"
        page = self.client.get(url)
        token = csrf_from(page.text) if page.status_code == 200 else self.auth.token()
        data = {"csrf_token": token, "done_on": today().isoformat(), **fields}
        return self.client.post(url, data=data)

    def post(self, url, **fields):
        return self.client.post(url, data={"csrf_token": self.auth.token(), **fields})


@pytest.fixture
def walk(client, auth):
    return Walk(client, auth)


def test_whole_amendment_cycle_with_each_wrong_step_refused(app, client, walk):
    v = running(app)
    uuid = v["uuid"]
    assert v["stage"] == "review" and v["number"] == 2

    # the cadre may not review, nor jump ahead to filing
    walk.as_(MINGXING)
    r = walk.step(uuid, "review", outcome="passed")
    assert r.status_code == 403 and "由法律顾问办理" in r.text
    r = walk.step(uuid, "filing", filing_no="X")
    assert r.status_code == 409 and "还没到这一步" in r.text and "法律顾问审查" in r.text
    # articles are locked while the adviser reads them
    assert client.get(f"{V}/rules/versions/{uuid}/articles/new").status_code == 409

    # the adviser comments on one article: back to the draft, the comment shown next to the article
    walk.as_(LAWYER)
    page = client.get(f"{V}/rules/versions/{uuid}/steps/review")
    article = re.search(r'name="comment-([0-9a-f-]{36})"', page.text).group(1)
    r = walk.step(uuid, "review", outcome="commented")
    assert r.status_code == 409 and "至少对一条条文写明意见" in r.text
    r = walk.step(uuid, "review", outcome="commented", **{f"comment-{article}": "“宗旨”一条请写明依据的法律名称"})
    assert r.status_code == 302
    assert running(app)["stage"] == "draft"
    assert "请写明依据的法律名称" in client.get(f"{V}/rules/versions/{uuid}").text

    # the cadre fixes it (an error stays next to the field, the text typed is kept) and submits again
    walk.as_(MINGXING)
    url = f"{V}/rules/versions/{uuid}/articles/{article}/edit"
    base = re.search(r'name="base_version" value="(\d+)"', client.get(url).text).group(1)
    r = walk.post(url, version=uuid, base_version=base, chapter="总则", title="宗旨", body="", gift_amount="abc")
    assert r.status_code == 422 and "请填写条文内容" in r.text and 'value="宗旨"' in r.text
    r = walk.post(url, version=uuid, base_version=base, chapter="总则", title="宗旨",
                  body="为推进村民自治，根据《中华人民共和国村民委员会组织法》，经村民代表会议讨论通过，制定本村规民约。")
    assert r.status_code == 302 and "别人也同时改了" not in client.get(r.headers["Location"]).text
    assert walk.step(uuid, "draft", note="按顾问意见修改").status_code == 302

    walk.as_(LAWYER)
    assert walk.step(uuid, "review", outcome="passed").status_code == 302

    # the town returns it with a reason; the cadre resubmits; adviser passes; town approves
    walk.as_(CHIHE)
    r = walk.step(uuid, "approval", outcome="returned")
    assert r.status_code == 409 and "写明理由" in r.text
    assert walk.step(uuid, "approval", outcome="returned", note="礼金标准请与全镇倡议一致").status_code == 302
    assert running(app)["stage"] == "draft"
    walk.as_(MINGXING)
    assert walk.step(uuid, "draft").status_code == 302
    walk.as_(LAWYER)
    assert walk.step(uuid, "review", outcome="passed").status_code == 302
    walk.as_(CHIHE)
    assert walk.step(uuid, "approval", outcome="approved").status_code == 302
    r = walk.step(uuid, "vote", meeting="x", agenda_item="1")
    assert r.status_code == 403 and "由村干部办理" in r.text

    # the vote: a meeting without quorum, a vote below majority, a wrong body, an unconfirmed record — all refused
    walk.as_(MINGXING)
    no_quorum = vote_meeting(app, eligible_extra=20)
    r = walk.step(uuid, "vote", meeting=no_quorum, agenda_item="1")
    assert r.status_code == 422 and "到会人数不够" in r.text and "三分之二以上" in r.text
    reps_present = len(_reps(app))
    below = vote_meeting(app, votes_for=reps_present // 2)
    r = walk.step(uuid, "vote", meeting=below, agenda_item="1")
    assert r.status_code == 422 and "没有超过到会" in r.text and "表决没有通过" in r.text
    from datetime import timedelta
    early = vote_meeting(app, day=today() - timedelta(days=3))
    r = walk.step(uuid, "vote", meeting=early, agenda_item="1")
    assert r.status_code == 422 and "表决要在审核同意之后进行" in r.text
    r = walk.step(uuid, "vote", meeting=vote_meeting(app), agenda_item="1", done_on=(today() - timedelta(days=30)).isoformat())
    assert r.status_code == 422 and "日期不能早于上一步的日期" in r.text
    draft = vote_meeting(app, confirm=False)
    r = walk.step(uuid, "vote", meeting=draft, agenda_item="1")
    assert r.status_code == 422 and "还没确认" in r.text
    ok = vote_meeting(app)
    r = walk.step(uuid, "vote", meeting=ok, agenda_item="1")
    assert r.status_code == 302
    # the cadre cannot file; the town files with a number
    assert walk.step(uuid, "filing", filing_no="池备2026-1").status_code == 403
    walk.as_(CHIHE)
    r = walk.step(uuid, "filing", filing_no="")
    assert r.status_code == 422 and "备案编号" in r.text
    assert walk.step(uuid, "filing", filing_no="池备〔2026〕1号").status_code == 302
    assert walk.step(uuid, "publish").status_code == 302
    assert walk.step(uuid, "publish").status_code == 409  # already published

    # the public sees version 2; version 1 stays readable; the diff shows the changed articles
    walk.auth.logout()
    walk.who = None
    public = client.get(f"{V}/rules")
    assert public.status_code == 200 and public.headers["X-Offline-Copy"] == "public"
    assert "池备〔2026〕1号" in public.text and "村民委员会组织法" in public.text and "第 2 版" in public.text
    assert "礼金" in client.get(f"{V}/rules/poster").text
    assert "关于公布明星村村规民约（第 2 版）的公告" in client.get(f"{V}/").text
    walk.as_(MINGXING)
    db = _db(app)
    v1 = next(db["rule_versions"].rows_where("village_code = ? and number = 1", [MINGXING_VILLAGE]))
    db.close()
    old = client.get(f"{V}/rules/versions/{v1['uuid']}")
    assert "人情礼金不超过 300 元" in old.text and "已公布" in old.text
    diff = client.get(f"{V}/rules/versions/{uuid}/diff").text
    assert "<del>3</del>" in diff or "<del>300</del>" in diff or "<del>" in diff
    assert "<ins>" in diff and "修改" in diff

    # every step is in the audit log
    db = _db(app)
    actions = [r["action"] for r in db["audit"].rows_where("record_id = ?", [uuid], order_by="id")]
    db.close()
    for action in ("rule_review", "rule_draft", "rule_approval", "rule_vote", "rule_filing", "rule_publish"):
        assert action in actions


def _reps(app):
    with app.app_context():
        db = _db(app)
        body = councils.council_by_name(db, MINGXING_VILLAGE, "村民代表会议")
        out = councils.members(db, body["uuid"], current_only=True)
        db.close()
    return out


def test_a_council_that_is_not_a_village_meeting_cannot_vote(app):
    from villageapp.rules import procedure
    uuid = vote_meeting(app, council="红白理事会")
    db = _db(app)
    problem = procedure.vote_problem(db, MINGXING_VILLAGE, uuid, 0)
    db.close()
    assert "不能表决村规民约" in problem


def test_consultation_opinion_without_account_and_answer(app, client, walk):
    walk.as_(MINGXING)
    _publish_running(app)
    r = walk.post(f"{V}/rules/start", reason="落实新的移风易俗要求")
    assert r.status_code == 302
    assert running(app)["number"] == 3 and running(app)["stage"] == "consultation"
    walk.auth.logout()
    page = client.get(f"{V}/rules/consultation")
    assert page.status_code == 200 and "不用登录" in page.text
    token = csrf_from(page.text)
    assert client.post(f"{V}/rules/consultation", data={"body": ""}).status_code == 400  # CSRF on
    r = client.post(f"{V}/rules/consultation", data={"csrf_token": token, "body": "", "name": "老李"})
    assert "请写下您的意见" in r.text and "老李" in r.text
    r = client.post(f"{V}/rules/consultation", data={"csrf_token": token, "body": "宴席桌数建议再少一点"})
    assert "意见已收到" in r.text
    walk.who = None
    walk.as_(MINGXING)
    manage = client.get(f"{V}/rules/manage").text
    assert "宴席桌数建议再少一点" in manage
    db = _db(app)
    opinion = next(db["rule_opinions"].rows_where("body = ?", ["宴席桌数建议再少一点"]))
    db.close()
    assert walk.post(f"{V}/rules/opinions/{opinion['uuid']}", answer="采纳，改为 12 桌", adopt="y").status_code == 302
    walk.auth.logout()
    assert "采纳，改为 12 桌" in client.get(f"{V}/rules/consultation").text


def _publish_running(app):
    """Finish the demo's amendment the quick way (the views are walked in the first test)."""
    from villageapp.rules import procedure

    class U:
        def __init__(self, role):
            self.username, self.role = "test", role
    meeting = vote_meeting(app)
    db = _db(app)
    v = next(db["rule_versions"].rows_where("village_code = ? and stage != 'published'", [MINGXING_VILLAGE]))
    for step, role, extra in (("review", "adviser", {"outcome": "passed"}), ("approval", "town", {"outcome": "approved"}),
                              ("vote", "cadre", {"meeting_uuid": meeting, "agenda_item": 0}),
                              ("filing", "town", {"filing_no": "池备〔2026〕9号"}), ("publish", "cadre", {})):
        v = procedure.take_step(db, v, step, U(role), **extra)
    db.close()


def test_a_second_cycle_cannot_start_while_one_runs(app, client, walk):
    walk.as_(MINGXING)
    r = walk.post(f"{V}/rules/start", reason="再修订")
    assert r.status_code == 302
    assert "还在办理中" in client.get(r.headers["Location"]).text


def test_search_finds_two_character_word_and_three(app, client, walk):
    r = client.get(f"{V}/rules/search?q=礼金")  # two characters: LIKE
    assert r.status_code == 200 and "找到 3 条" in r.text and "<mark>礼金</mark>" in r.text
    assert r.headers["X-Offline-Copy"] == "public"
    r = client.get(f"{V}/rules/search?q=红白理事会")  # five characters: FTS5 trigram
    assert "找到 3 条" in r.text
    assert "找到 0 条" in client.get(f"{V}/rules/search?q=不存在的词").text
    # the public sees texts in force only (300 元); town staff also see the amendment in progress (200 元)
    assert "200 元" not in client.get(f"{V}/rules/search?q=礼金").text
    walk.as_(CHIHE)
    town = client.get(f"/t/{CHIHE_TOWN}/rules/search?q=礼金").text
    assert "找到 6 条" in town and "办理中" in town


def test_fts_trigram_is_available():
    import sqlite3
    assert tuple(int(x) for x in sqlite3.sqlite_version.split(".")) >= (3, 34)


def test_town_view_status_reminders_and_compare(app, client, walk):
    walk.as_(CHIHE)
    page = client.get(f"/t/{CHIHE_TOWN}/rules/").text
    assert "明星村" in page and "第 2 版办理中：法律顾问审查" in page
    compare = client.get(f"/t/{CHIHE_TOWN}/rules/compare").text
    assert compare.count("宴席桌数上限：20 桌") == 3
    assert "垃圾" in client.get(f"/t/{CHIHE_TOWN}/rules/compare?topic=垃圾").text


@pytest.mark.parametrize("login", [GUYAN, CHENGGUAN])
def test_other_town_cannot_see_or_step(client, auth, login):
    auth.login(login)
    assert client.get(f"{V}/rules/manage").status_code == 404


def test_public_page_links_the_rules(client):
    page = client.get(f"{V}/").text
    assert f"{V}/rules" in page


def _to_draft(app):
    """Send the demo amendment back to the draft (the adviser comments), so articles may be written again."""
    from villageapp.rules import procedure

    class U:
        username, role = "test", "adviser"
    db = _db(app)
    v = next(db["rule_versions"].rows_where("village_code = ? and stage = 'review'", [MINGXING_VILLAGE]))
    v = procedure.take_step(db, v, "review", U(), outcome="commented", note="请补一条禁止高价彩礼")
    db.close()
    return v


def test_articles_drafted_offline_go_through_the_sync_engine(app, client, auth):
    from villageapp.records import new_uuid
    v = _to_draft(app)
    auth.login(MINGXING)
    page = client.get(f"{V}/rules/versions/{v['uuid']}/articles/new")
    assert page.headers["X-Offline-Copy"] == "form" and 'data-sync-type="rule_article"' in page.text
    assert f"{V}/rules/versions/{v['uuid']}/articles/new" in client.get(f"{V}/home").text  # kept for offline use
    token = client.get("/api/session").json["csrf_token"]
    article = new_uuid()
    payload = [["version", v["uuid"]], ["chapter", "婚姻家庭"], ["title", "彩礼"], ["body", "提倡婚事新办，彩礼不超过 3 万元。"]]
    edit = {"edit_id": new_uuid(), "uuid": article, "type": "rule_article", "base_version": None, "payload": payload}
    api = f"/api/v/{MINGXING_VILLAGE}/edits"
    answer = client.post(api, json={"edits": [edit]}, headers={"X-CSRFToken": token}).json["results"][0]
    assert answer["status"] == "accepted"
    assert client.post(api, json={"edits": [edit]}, headers={"X-CSRFToken": token}).json["results"][0]["receipt"] == answer["receipt"]
    assert "彩礼不超过 3 万元" in client.get(f"{V}/rules/versions/{v['uuid']}").text
    # two phones changed the same article from version 1: the second is kept as a conflict
    changed = [p if p[0] != "body" else ["body", "彩礼不超过 2 万元。"] for p in payload]
    first = {"edit_id": new_uuid(), "uuid": article, "type": "rule_article", "base_version": 1, "payload": changed}
    second = {**first, "edit_id": new_uuid(), "payload": [*payload[:3], ["body", "彩礼从简。"]]}
    results = client.post(api, json={"edits": [first, second]}, headers={"X-CSRFToken": token}).json["results"]
    assert [r["status"] for r in results] == ["accepted", "conflict"]
    db = _db(app)
    revision = db.execute("select id from revisions where edit_id = ?", [second["edit_id"]]).fetchone()[0]
    db.close()
    shown = client.get(f"{V}/conflicts/{revision}")
    assert shown.status_code == 200 and "彩礼从简" in shown.text
    # after the draft is submitted, an edit still queued on a phone is refused with the reason, nothing lost on the phone
    from villageapp.rules import procedure

    class U:
        username, role = "test", "cadre"
    db = _db(app)
    procedure.take_step(db, db["rule_versions"].get(v["uuid"]), "draft", U())
    db.close()
    late = {"edit_id": new_uuid(), "uuid": new_uuid(), "type": "rule_article", "base_version": None, "payload": payload}
    result = client.post(api, json={"edits": [late]}, headers={"X-CSRFToken": token}).json["results"][0]
    assert result["status"] == "invalid" and "条文不能再改" in result["errors"]["version"][0]


def test_an_adviser_cannot_send_article_drafts(app, client, auth):
    from villageapp.records import new_uuid
    v = _to_draft(app)
    auth.login(LAWYER)
    token = client.get("/api/session").json["csrf_token"]
    edit = {"edit_id": new_uuid(), "uuid": new_uuid(), "type": "rule_article", "base_version": None,
            "payload": [["version", v["uuid"]], ["chapter", "总则"], ["body", "x"]]}
    assert client.post(f"/api/v/{MINGXING_VILLAGE}/edits", json={"edits": [edit]},
                       headers={"X-CSRFToken": token}).status_code == 403


def test_first_making_in_a_new_village_starts_with_consultation_and_needs_articles(app, client, walk):
    from villageapp import registry
    from villageapp.rules import data as rules
    new = "610922104204"
    db = _db(app)
    registry.add_village(db, new, "新民社区", "test", kind="社区")
    db.close()
    assert rules.title_for({"name": "新民社区", "kind": "社区"}) == "新民社区居民公约"
    walk.as_(CHIHE)
    status = client.get(f"/t/{CHIHE_TOWN}/rules/").text
    assert "新民社区" in status and "还没有村规民约，请督促启动制定" in status
    db = _db(app)
    row, problem = rules.start_cycle(db, db["villages"].get(new), "test", "首次制定")
    assert problem is None and row["number"] == 1 and row["stage"] == "consultation"
    assert rules.rulebook(db, new)["title"] == "新民社区居民公约"
    from villageapp.rules import procedure

    class U:
        username, role = "test", "cadre"
    row = procedure.take_step(db, row, "consultation", U())
    with pytest.raises(procedure.StepRefused, match="还没有任何条文"):
        procedure.take_step(db, row, "draft", U())
    db.close()
    assert "第 1 版办理中：草案" in client.get(f"/t/{CHIHE_TOWN}/rules/").text


def test_town_reminds_of_rules_filed_more_than_three_years_ago(app, client, walk):
    db = _db(app)
    db.execute("update rule_versions set filed_on = '2020-05-01' where village_code = ? and number = 1", [MINGXING_VILLAGE])
    db.execute("delete from rule_articles where version_uuid in (select uuid from rule_versions where "
               "village_code = ? and number = 2)", [MINGXING_VILLAGE])
    db.execute("delete from rule_opinions where village_code = ?", [MINGXING_VILLAGE])
    db.execute("delete from rule_steps where version_uuid in (select uuid from rule_versions where "
               "village_code = ? and number = 2)", [MINGXING_VILLAGE])
    db.execute("delete from rule_versions where village_code = ? and number = 2", [MINGXING_VILLAGE])
    db.conn.commit()
    db.close()
    walk.as_(CHIHE)
    page = client.get(f"/t/{CHIHE_TOWN}/rules/").text
    assert "备案已超过 3 年，建议修订" in page and "超过 3 年" in page


@pytest.mark.parametrize(("n", "words"), [(1, "一"), (10, "十"), (12, "十二"), (20, "二十"), (105, "一百零五"), (110, "一百一十")])
def test_articles_are_numbered_in_chinese(n, words):
    from villageapp.rules.data import cn_number
    assert cn_number(n) == words


def test_public_text_numbers_articles_in_chinese(client):
    text = client.get(f"{V}/rules").text
    assert "第一条" in text and "第七条" in text


def test_filing_keeps_the_scanned_receipt_and_a_bad_file_is_refused_next_to_the_field(app, client, walk):
    import io

    from villageapp.rules import procedure

    class U:
        def __init__(self, role):
            self.username, self.role = "test", role
    meeting = vote_meeting(app)
    db = _db(app)
    v = next(db["rule_versions"].rows_where("village_code = ? and stage = 'review'", [MINGXING_VILLAGE]))
    for step, role, extra in (("review", "adviser", {"outcome": "passed"}), ("approval", "town", {"outcome": "approved"}),
                              ("vote", "cadre", {"meeting_uuid": meeting, "agenda_item": 0})):
        v = procedure.take_step(db, v, step, U(role), **extra)
    db.close()
    walk.as_(CHIHE)
    url = f"{V}/rules/versions/{v['uuid']}/steps/filing"
    token = csrf_from(client.get(url).text)
    r = client.post(url, data={"csrf_token": token, "done_on": today().isoformat(), "filing_no": "池备〔2026〕3号",
                               "files": (io.BytesIO(b"not a pdf"), "回执.txt")}, content_type="multipart/form-data")
    assert r.status_code == 422 and "不能上传" in r.text and 'value="池备〔2026〕3号"' in r.text
    r = client.post(url, data={"csrf_token": token, "done_on": today().isoformat(), "filing_no": "池备〔2026〕3号",
                               "files": (io.BytesIO(b"%PDF-1.4 receipt"), "备案回执.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 302
    page = client.get(f"{V}/rules/versions/{v['uuid']}").text
    assert "备案回执.pdf" in page and "附件：备案回执.pdf" in page
    link = re.search(r'href="([^"]+/files/[0-9a-f]{64})"', page).group(1)
    assert client.get(link).data == b"%PDF-1.4 receipt"


def test_village_home_tile_says_where_the_rules_stand(client, auth):
    auth.login(MINGXING)
    assert "第 2 版：法律顾问审查" in client.get(f"{V}/home").text


@pytest.mark.parametrize("query", ["%", "_", '"', "礼金 OR", "NEAR("])
def test_search_takes_any_text_literally(client, query):
    r = client.get(f"{V}/rules/search", query_string={"q": query})
    assert r.status_code == 200 and "找到 0 条" in r.text


def test_two_cadres_at_once_start_one_cycle_and_take_a_step_once(app):
    """start_cycle and take_step decide under the write lock: two connections racing make one version, one step."""
    import threading

    from villageapp import registry
    from villageapp.rules import data as rules
    from villageapp.rules import procedure
    new = "610922104205"
    db = _db(app)
    registry.add_village(db, new, "同心村", "test")
    db.close()
    barrier, results = threading.Barrier(4), []

    def start():
        own = _db(app)
        barrier.wait()
        results.append(rules.start_cycle(own, own["villages"].get(new), "test", "首次制定"))
        own.close()
    threads = [threading.Thread(target=start) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    db = _db(app)
    assert db.execute("select count(*) from rule_versions where village_code = ?", [new]).fetchone()[0] == 1
    assert sorted(problem is None for _row, problem in results) == [False, False, False, True]

    class U:
        username, role = "test", "cadre"
    stale = results[0][0]  # both cadres loaded the page while the version waited for 征集意见
    procedure.take_step(db, stale, "consultation", U())
    with pytest.raises(procedure.StepRefused, match="这一步已经做过了"):
        procedure.take_step(db, stale, "consultation", U())
    assert db.execute("select count(*) from rule_steps where version_uuid = ?", [stale["uuid"]]).fetchone()[0] == 1
    db.close()
