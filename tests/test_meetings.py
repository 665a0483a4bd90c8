"""Meetings and minutes: quorum and vote arithmetic, the one form shared by the page and the sync engine,
the state machine (draft → confirmed → amended, earlier editions readable), photos, rosters in old minutes,
the role rules, the town's filters and quarter table, and 四议两公开 trails that publish notices."""
import io
import json
import uuid as uuidlib

import pytest
from PIL import Image

from villageapp import auth as accounts
from villageapp import store
from villageapp import records, sync
from villageapp.clock import today
from villageapp.councils import data as councils
from villageapp.meetings import data, quorum, trails
from villageapp.meetings.forms import formdata, make_meeting_form, meeting_columns, meeting_payload

from conftest import CHIHE, CHIHE_TOWN, COUNTY, GUYAN, LAWYER, MINGXING, MINGXING_VILLAGE

V = f"/v/{MINGXING_VILLAGE}"
T = f"/t/{CHIHE_TOWN}"


# ---- the arithmetic (pure functions) ----------------------------------------------------------

@pytest.mark.parametrize("basis, eligible, needed", [
    ("adults", 100, 51), ("adults", 101, 51), ("adults", 1, 1),      # more than half (过半数)
    ("households", 30, 20), ("households", 31, 21), ("representatives", 45, 30), ("representatives", 44, 30),
    ("members", 9, None), ("adults", 0, None), ("adults", None, None),
])
def test_quorum_needed(basis, eligible, needed):
    assert quorum.quorum_needed(basis, eligible) == needed


def test_quorum_is_checked_only_for_villagers_and_representatives_meetings():
    assert quorum.quorum("红白理事会", "members", 5, 1) is None
    met = quorum.quorum("村民会议", "adults", 100, 51)
    assert met["met"] and "达到过半数" in met["text"]
    short = quorum.quorum("村民会议", "adults", 100, 50)
    assert short["met"] is False and "所作决定无效" in short["text"]
    assert quorum.quorum("村民会议", "households", 30, 20)["met"]
    assert not quorum.quorum("村民代表会议", "representatives", 45, 29)["met"]
    assert quorum.quorum("村民会议", "adults", None, 10)["met"] is None


@pytest.mark.parametrize("votes, present, problem", [
    ((5, 3, 2), 10, None), ((None, None, None), 0, None), ((10, 0, 0), 10, None),
    ((6, 3, 2), 10, "同意、反对、弃权一共 11 票，比到会的 10 人还多，请核对"),
    ((1, 0, 0), 0, "同意、反对、弃权一共 1 票，比到会的 0 人还多，请核对"),
    ((-1, 0, 0), 5, "票数不能是负数"),
])
def test_vote_counts_cannot_exceed_those_present(votes, present, problem):
    assert quorum.vote_error(*votes, present) == problem


@pytest.mark.parametrize("votes_for, present, passed", [(6, 10, True), (5, 10, False), (5, 9, True), (0, 0, False)])
def test_a_decision_needs_more_than_half_of_those_present(votes_for, present, passed):
    assert quorum.passes(votes_for, present) is passed


def test_quarters():
    start, end, label, key = data.quarter_of("2026-4")
    assert (start.isoformat(), end.isoformat(), label, key) == ("2026-10-01", "2026-12-31", "2026年第四季度", "2026-4")
    assert data.quarter_of("2026-1")[1].isoformat() == "2026-03-31"
    assert data.shift_quarter("2026-1", -1) == "2025-4" and data.shift_quarter("2026-4", 1) == "2027-1"
    assert data.quarter_of("nonsense")[0] <= today() <= data.quarter_of("nonsense")[1]


# ---- helpers ------------------------------------------------------------------------------

def town(app):
    return store.open_town(CHIHE_TOWN, app)


def council(app, name, village=MINGXING_VILLAGE):
    with app.app_context():
        return councils.council_by_name(town(app), village, name)


def members(app, council_row):
    with app.app_context():
        return councils.members(town(app), council_row["uuid"], current_only=True)


def minutes_form(council_row, roster, **changes):
    """Minutes as the page sends them without JavaScript (flat names, one value or a list per name)."""
    fields = {
        "uuid": "", "edit_id": "", "base_version": "", "council": council_row["uuid"], "date": today().isoformat(),
        "time": "14:30", "place": "村委会会议室", "host": "张德明", "recorder": "李秀兰",
        "attendees": [m["uuid"] for m in roster], "others": "", "eligible_basis": "members",
        "eligible": str(len(roster)), "present": "",
        "agenda-0-title": "三组村道硬化", "agenda-0-discussion": "大家同意先测算造价。", "agenda-0-decision": "同意实施",
        "agenda-0-votes_for": str(len(roster)), "agenda-0-votes_against": "0", "agenda-0-votes_abstain": "0",
        "agenda-0-actions-0-task": "联系交通站测算造价", "agenda-0-actions-0-owner": "王主任", "agenda-0-actions-0-due": "",
        "absentees-0-name": "", "absentees-0-reason": "",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def post(client, auth, url, fields):
    return client.post(url, data={**fields, "csrf_token": auth.token()}, content_type="multipart/form-data")


def new_minutes(app, client, auth, name="红白理事会", **changes):
    """Save new minutes through the page; returns (response, uuid)."""
    row = council(app, name)
    fields = minutes_form(row, members(app, row), uuid=str(uuidlib.uuid4()), edit_id=str(uuidlib.uuid4()), **changes)
    return post(client, auth, f"{V}/meetings/new/{row['uuid']}", fields), fields["uuid"]


def meeting(app, uuid):
    with app.app_context():
        return next(town(app)["meetings"].rows_where("uuid = ?", [uuid]), None)


def cadre(app):
    with app.app_context():
        directory = store.open_directory(app)
        user_id = directory.execute("select id from users where username = ?", [MINGXING]).fetchone()[0]
        return accounts.load_user_row(directory, user_id)


def jpeg():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "JPEG")
    return out.getvalue()


# ---- saving through the sync engine -----------------------------------------------------------

def test_new_minutes_from_the_page_are_one_audited_revision(app, client, auth):
    auth.login(MINGXING)
    response, uid = new_minutes(app, client, auth)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/meetings/{uid}")
    row = meeting(app, uid)
    assert row["state"] == "draft" and row["version"] == 1 and row["created_by"] == MINGXING and row["conflict"] == 0
    attendees = json.loads(row["attendees"])
    assert attendees and all(a["name"] and a["position"] for a in attendees)  # names kept, not only ids
    assert row["present"] == len(attendees) and row["starts_at"] == today().isoformat() + "T14:30"
    agenda = json.loads(row["agenda"])
    assert agenda[0]["actions"] == [{"task": "联系交通站测算造价", "owner": "王主任", "due": None, "done": False}]
    with app.app_context():
        db = town(app)
        assert db["revisions"].count_where("uuid = ? and status = 'accepted'", [uid]) == 1
        assert db["audit"].count_where("record_id = ? and action = 'create'", [uid]) == 1
    page = client.get(f"{V}/meetings/{uid}")
    assert "三组村道硬化" in page.text and "草稿" in page.text and "确认无误" in page.text


def test_the_form_page_is_ready_for_the_offline_engine(app, client, auth):
    row = council(app, "红白理事会")
    auth.login(MINGXING)
    page = client.get(f"{V}/meetings/new/{row['uuid']}")
    assert page.headers["X-Offline-Copy"] == "form"
    for marker in ('data-sync-type="meeting"', f'data-village="{MINGXING_VILLAGE}"', 'name="edit_id"',
                   'name="base_version" value=""', 'data-entry="agenda"', 'data-photo-list', 'name="agenda-0-actions-0-owner"'):
        assert marker in page.text
    assert 'name="uuid" value=""' in page.text  # the phone makes the record's identity, not the cached page


def test_sent_twice_is_one_record(app, client, auth):
    auth.login(MINGXING)
    row = council(app, "红白理事会")
    fields = minutes_form(row, members(app, row), uuid=str(uuidlib.uuid4()), edit_id=str(uuidlib.uuid4()))
    url = f"{V}/meetings/new/{row['uuid']}"
    assert post(client, auth, url, fields).status_code == 302
    assert post(client, auth, url, fields).status_code == 302  # same edit_id: the stored answer again
    no_js = {**fields, "edit_id": ""}  # a page without JS has no edit_id: the same content is recognised
    follow = client.post(url, data={**no_js, "csrf_token": auth.token()}, follow_redirects=True)
    assert "没有重复保存" in follow.text
    with app.app_context():
        db = town(app)
        assert db["meetings"].count_where("uuid = ?", [fields["uuid"]]) == 1
        assert db["revisions"].count_where("uuid = ?", [fields["uuid"]]) == 1


def test_invalid_minutes_come_back_with_chinese_errors_and_everything_typed(app, client, auth):
    auth.login(MINGXING)
    response, uid = new_minutes(app, client, auth, **{"agenda-0-votes_for": "99", "agenda-0-title": "保留我的议题",
                                                     "time": "", "absentees-0-reason": "生病"})
    assert response.status_code == 422
    assert "比到会的" in response.text and "请填写开始时间" in response.text and "请写缺席人的姓名" in response.text
    assert "保留我的议题" in response.text and "生病" in response.text
    assert f'value="{uid}"' in response.text  # sending it again after fixing is the same record
    assert meeting(app, uid) is None


def sync_new(app, fields):
    """New minutes sent as a phone sends them (name/value pairs) straight to the sync engine; its answer."""
    payload = [[k, v] for k, vs in fields.items() for v in (vs if isinstance(vs, list) else [vs])
               if k not in ("uuid", "edit_id", "base_version")]
    with app.test_request_context():
        return sync.apply_edit(town(app), cadre(app), MINGXING_VILLAGE, {
            "edit_id": str(uuidlib.uuid4()), "uuid": str(uuidlib.uuid4()), "type": "meeting", "base_version": None,
            "payload": payload})


def test_the_sync_answer_names_the_field_of_each_error(app):
    row = council(app, "红白理事会")
    fields = minutes_form(row, members(app, row), **{"agenda-0-votes_for": "50", "present": "1"})
    result = sync_new(app, fields)
    assert result["status"] == "invalid" and result["http"] == 422
    assert "比到会的 1 人还多" in result["errors"]["agenda-0-votes_for"][0]
    assert "实到人数比打勾和写上的" in result["errors"]["present"][0]


@pytest.mark.parametrize("field, value, message", [
    ("agenda-0-votes_for", "99", "比到会的"),            # the only problem is inside an agenda row
    ("agenda-0-title", "", "请写这个议题是什么"),
    ("absentees-0-reason", "生病", None),               # a reason without a name
])
def test_an_error_inside_a_row_alone_makes_the_minutes_invalid(app, field, value, message):
    row = council(app, "红白理事会")
    fields = minutes_form(row, members(app, row), **{field: value})
    result = sync_new(app, fields)
    assert result["status"] == "invalid", result
    if message:
        assert any(message in m for ms in result["errors"].values() for m in ms)


def test_a_stored_meeting_reads_back_as_the_same_form(app):
    with app.app_context():
        db = town(app)
        for row in db["meetings"].rows_where("village_code = ?", [MINGXING_VILLAGE]):
            form = make_meeting_form(db, MINGXING_VILLAGE, formdata(meeting_payload(row)), record=row)
            assert form.validate(), form.errors
            columns = meeting_columns(form)
            assert {k: row[k] for k in columns} == columns


def test_empty_rows_are_not_saved_and_more_rows_come_without_javascript(app, client, auth):
    auth.login(MINGXING)
    row = council(app, "红白理事会")
    url = f"{V}/meetings/new/{row['uuid']}"
    fields = minutes_form(row, members(app, row), more="agenda")
    page = post(client, auth, url, fields)
    assert page.status_code == 200 and 'name="agenda-1-title"' in page.text and "三组村道硬化" in page.text
    page = post(client, auth, url, {**fields, "more": "agenda-0-actions"})
    assert 'name="agenda-0-actions-1-task"' in page.text
    with app.app_context():
        assert town(app)["revisions"].count_where("record_type = 'meeting'") == 0  # nothing saved yet
    _response, uid = new_minutes(app, client, auth, **{"agenda-1-title": "", "agenda-1-discussion": "",
                                                     "absentees-1-name": "", "agenda-0-actions-1-task": ""})
    assert len(json.loads(meeting(app, uid)["agenda"])) == 1 and json.loads(meeting(app, uid)["absentees"]) == []


def test_two_edits_on_the_same_version_keep_both_and_flag_a_conflict(app, client, auth):
    auth.login(MINGXING)
    _response, uid = new_minutes(app, client, auth)
    row = council(app, "红白理事会")
    url = f"{V}/meetings/{uid}/edit"
    first = minutes_form(row, members(app, row), uuid=uid, edit_id=str(uuidlib.uuid4()), base_version="1", place="村小学")
    second = {**first, "edit_id": str(uuidlib.uuid4()), "place": "文化广场"}
    assert post(client, auth, url, first).status_code == 302
    response = client.post(url, data={**second, "csrf_token": auth.token()}, follow_redirects=True)
    assert "别人已经改过这份会议记录" in response.text and "需处理" in response.text
    saved = meeting(app, uid)
    assert saved["place"] == "村小学" and saved["version"] == 2 and saved["conflict"] == 1
    with app.app_context():
        statuses = [r["status"] for r in town(app)["revisions"].rows_where("uuid = ?", [uid], order_by="id")]
    assert statuses == ["accepted", "accepted", "conflict"]


# ---- the state machine ---------------------------------------------------------------------

def confirm(client, auth, uid):
    return client.post(f"{V}/meetings/{uid}/confirm", data={"csrf_token": auth.token()}, follow_redirects=True)


def test_confirmed_minutes_are_locked_and_can_only_be_amended(app, client, auth):
    auth.login(MINGXING)
    _response, uid = new_minutes(app, client, auth)
    page = confirm(client, auth, uid)
    assert "已确认（第 1 版）" in page.text and "更正" in page.text
    row = meeting(app, uid)
    assert row["state"] == "confirmed" and row["edition"] == 1 and row["confirmed_by"] == MINGXING
    refused = client.get(f"{V}/meetings/{uid}/edit", follow_redirects=True)
    assert "已经确认，不能直接修改" in refused.text
    council_row = council(app, "红白理事会")
    fields = minutes_form(council_row, members(app, council_row), uuid=uid, edit_id=str(uuidlib.uuid4()),
                          base_version=str(row["version"]), place="改了地点")
    refused = client.post(f"{V}/meetings/{uid}/edit", data={**fields, "csrf_token": auth.token()}, follow_redirects=True)
    assert "已经确认，不能直接修改" in refused.text and meeting(app, uid)["place"] == "村委会会议室"
    # a phone that edited offline before the lock: kept as a proposed correction, not applied
    with app.test_request_context():
        result = sync.apply_edit(town(app), cadre(app), MINGXING_VILLAGE, {
            "edit_id": fields["edit_id"], "uuid": uid, "type": "meeting", "base_version": 1,
            "payload": [[k, v] for k, vs in fields.items() for v in (vs if isinstance(vs, list) else [vs])
                        if k not in ("uuid", "edit_id", "base_version")]})
    assert result["status"] == "needs_review" and meeting(app, uid)["place"] == "村委会会议室"
    assert "已经确认过了" in confirm(client, auth, uid).text


def test_a_change_sent_after_the_lock_can_become_the_next_edition(app, client, auth):
    auth.login(MINGXING)
    _response, uid = new_minutes(app, client, auth)
    confirm(client, auth, uid)
    council_row = council(app, "红白理事会")
    fields = minutes_form(council_row, members(app, council_row), place="村文化广场")
    payload = [[k, v] for k, vs in fields.items() for v in (vs if isinstance(vs, list) else [vs])
               if k not in ("uuid", "edit_id", "base_version")]
    with app.test_request_context():
        result = sync.apply_edit(town(app), cadre(app), MINGXING_VILLAGE, {
            "edit_id": str(uuidlib.uuid4()), "uuid": uid, "type": "meeting", "base_version": 1, "payload": payload})
    assert result["status"] == "needs_review" and meeting(app, uid)["conflict"] == 1
    with app.app_context():
        revision = next(town(app)["revisions"].rows_where("uuid = ? and status = 'needs_review'", [uid]))
    page = client.get(f"{V}/meetings/{uid}")
    assert "按它更正" in page.text
    assert client.get(f"/v/{MINGXING_VILLAGE}/conflicts/{revision['id']}").status_code == 200  # the lead's view reads it
    form = client.get(f"{V}/meetings/{uid}/amend", query_string={"revision": revision["id"]})
    assert 'value="村文化广场"' in form.text and revision["receipt"] in form.text
    row = meeting(app, uid)
    done = amend(client, auth, uid, {**fields, "uuid": uid, "base_version": str(row["version"]), "revision": str(revision["id"]),
                                     "reason": "地点记错了，手机上改过"})
    assert "现在是第 2 版" in done.text
    row = meeting(app, uid)
    assert row["place"] == "村文化广场" and row["conflict"] == 0 and row["edition"] == 2
    with app.app_context():
        assert town(app)["revisions"].get(revision["id"])["resolution"] == "amended"
    again = client.get(f"{V}/meetings/{uid}/amend", query_string={"revision": revision["id"]}, follow_redirects=True)
    assert "已经处理过了" in again.text


def test_an_incomplete_draft_cannot_be_confirmed(app, client, auth):
    auth.login(MINGXING)
    _response, uid = new_minutes(app, client, auth, host="", recorder="")
    page = confirm(client, auth, uid)
    assert "还缺：主持人、记录人" in page.text and meeting(app, uid)["state"] == "draft"


def amend(client, auth, uid, fields):
    return client.post(f"{V}/meetings/{uid}/amend", data={**fields, "csrf_token": auth.token()},
                       content_type="multipart/form-data", follow_redirects=True)


def test_an_amendment_is_a_new_edition_and_the_earlier_one_stays_readable(app, client, auth):
    auth.login(MINGXING)
    _response, uid = new_minutes(app, client, auth)
    confirm(client, auth, uid)
    row = meeting(app, uid)
    council_row = council(app, "红白理事会")
    fields = minutes_form(council_row, members(app, council_row), uuid=uid, base_version=str(row["version"]),
                          **{"agenda-0-votes_for": "1", "agenda-0-votes_against": "1"})
    assert "请写明为什么更正" in amend(client, auth, uid, fields).text
    assert meeting(app, uid)["edition"] == 1
    page = amend(client, auth, uid, {**fields, "reason": "表决票数记错了"})
    assert "现在是第 2 版" in page.text and "表决票数记错了" in page.text
    row = meeting(app, uid)
    assert row["state"] == "amended" and row["edition"] == 2 and json.loads(row["agenda"])[0]["votes_against"] == 1
    assert f"/meetings/{uid}/editions/1" in page.text
    first = client.get(f"{V}/meetings/{uid}/editions/1")
    assert first.status_code == 200 and "这是以前的第 1 版" in first.text
    assert "反对 0" in first.text and "反对 1" not in first.text
    assert client.get(f"{V}/meetings/{uid}/editions/3").status_code == 404
    same = amend(client, auth, uid, {**fields, "base_version": str(row["version"]), "reason": "再看一遍"})
    assert "内容没有改动" in same.text and meeting(app, uid)["edition"] == 2
    stale = amend(client, auth, uid, {**fields, "base_version": "1", "reason": "晚了", "place": "别处"})
    assert "别人已经更正过" in stale.text and meeting(app, uid)["place"] == "村委会会议室"


def test_the_print_view_is_a4_with_signature_lines(app, client, auth):
    auth.login(MINGXING)
    _response, uid = new_minutes(app, client, auth)
    confirm(client, auth, uid)
    page = client.get(f"{V}/meetings/{uid}/print")
    assert "size: A4" in page.text and "主持人（签字）" in page.text and "记录人（签字）" in page.text
    assert "明星村" in page.text and "红白理事会会议记录" in page.text and today().strftime("%-m月%-d日") in page.text
    assert 'rel="stylesheet"' not in page.text and "color: #000; background: #fff" in page.text  # black on white
    assert "确认无误" not in page.text and "草稿（未确认）" not in page.text


def test_follow_up_actions_are_ticked_off_without_a_new_edition(app, client, auth):
    auth.login(MINGXING)
    _response, uid = new_minutes(app, client, auth, **{"agenda-0-actions-0-due": "2001-01-01"})
    draft = client.post(f"{V}/meetings/{uid}/actions/0/0/done", data={"csrf_token": auth.token()}, follow_redirects=True)
    assert "请点“修改”" in draft.text and not json.loads(meeting(app, uid)["agenda"])[0]["actions"][0]["done"]
    confirm(client, auth, uid)
    listing = client.get(f"{V}/meetings/")
    assert "联系交通站测算造价" in listing.text and "已超期" in listing.text
    done = client.post(f"{V}/meetings/{uid}/actions/0/0/done?back=list", data={"csrf_token": auth.token()})
    assert done.headers["Location"].endswith("/meetings/")
    row = meeting(app, uid)
    assert json.loads(row["agenda"])[0]["actions"][0]["done"] and row["edition"] == 1 and row["state"] == "confirmed"
    assert "已超期" not in client.get(f"{V}/meetings/").text
    with app.app_context():
        first = json.loads(next(town(app)["meeting_editions"].rows_where("meeting_uuid = ? and edition = 1", [uid]))["snapshot"])
    assert not json.loads(first["agenda"])[0]["actions"][0]["done"]  # the confirmed text is kept as it was
    assert client.post(f"{V}/meetings/{uid}/actions/3/0/done", data={"csrf_token": auth.token()}).status_code == 404


def actions_of(app, uid):
    with app.app_context():
        return [tuple(r) for r in town(app).execute(
            "select item, action, task, owner, due, done, done_on is not null from meeting_actions where meeting_uuid = ? "
            "order by item, action", [uid])]


def test_follow_up_actions_are_a_table_kept_in_step_with_the_minutes(app, client, auth):
    """m015: the desk and the village's list read meeting_actions, which triggers keep from the stored agenda."""
    auth.login(MINGXING)
    _response, uid = new_minutes(app, client, auth, **{"agenda-0-actions-0-due": "2001-01-01"})
    assert actions_of(app, uid) == []  # a draft has none
    confirm(client, auth, uid)
    assert actions_of(app, uid) == [(0, 0, "联系交通站测算造价", "王主任", "2001-01-01", 0, 0)]
    row = meeting(app, uid)
    council_row = council(app, "红白理事会")
    fields = minutes_form(council_row, members(app, council_row), uuid=uid, base_version=str(row["version"]),
                          reason="补记一件事", **{"agenda-0-actions-0-due": "2001-01-01",
                                              "agenda-0-actions-1-task": "通知三组村民", "agenda-0-actions-1-owner": "",
                                              "agenda-0-actions-1-due": ""})
    assert "现在是第 2 版" in amend(client, auth, uid, fields).text
    assert actions_of(app, uid) == [(0, 0, "联系交通站测算造价", "王主任", "2001-01-01", 0, 0),
                                    (0, 1, "通知三组村民", None, None, 0, 0)]
    auth.logout()
    auth.login(CHIHE)
    assert "联系交通站测算造价" in client.get(f"{T}/").text  # overdue on the town desk
    auth.logout()
    auth.login(MINGXING)
    client.post(f"{V}/meetings/{uid}/actions/0/0/done", data={"csrf_token": auth.token()})
    assert actions_of(app, uid)[0][5:] == (1, 1)
    auth.logout()
    auth.login(CHIHE)
    assert "联系交通站测算造价" not in client.get(f"{T}/").text
    auth.logout()
    auth.login(MINGXING)
    listing = client.get(f"{V}/meetings/").text
    assert "通知三组村民" in listing and "联系交通站测算造价" not in listing.split("会后要办的事")[1]
    row = meeting(app, uid)
    fields = {**fields, "base_version": str(row["version"]), "reason": "那件事不办了", "agenda-0-actions-0-done": "y",
              "agenda-0-actions-1-task": ""}
    assert "现在是第 3 版" in amend(client, auth, uid, fields).text
    assert actions_of(app, uid) == [(0, 0, "联系交通站测算造价", "王主任", "2001-01-01", 1, 1)]
    with app.app_context():  # the migration's back-fill makes the same rows from the meetings already there
        db = town(app)
        before = list(db.execute("select * from meeting_actions order by meeting_uuid, item, action"))
        assert before
        for sql in ("drop trigger meeting_actions_insert", "drop trigger meeting_actions_update",
                    "drop trigger meeting_actions_delete", "drop table meeting_actions"):
            db.execute(sql)
        with store.write(db):
            store.m015_meeting_actions(db)
        assert list(db.execute("select * from meeting_actions order by meeting_uuid, item, action")) == before


# ---- rosters in minutes ------------------------------------------------------------------------

def test_a_member_who_left_stays_in_old_minutes_but_not_on_new_ones(app, client, auth):
    auth.login(MINGXING)
    _response, uid = new_minutes(app, client, auth)
    leaver = json.loads(meeting(app, uid)["attendees"])[0]
    with app.app_context():
        db = town(app)
        councils.end_member(db, db["council_members"].get(leaver["uuid"]), today(), MINGXING)
    assert leaver["name"] in client.get(f"{V}/meetings/{uid}").text
    row = council(app, "红白理事会")
    assert leaver["uuid"] not in client.get(f"{V}/meetings/new/{row['uuid']}").text
    assert leaver["uuid"] in client.get(f"{V}/meetings/{uid}/edit").text  # still ticked in the draft that had them
    response, _uid = new_minutes(app, client, auth, attendees=[leaver["uuid"]], eligible="", **{"agenda-0-votes_for": "1"})
    assert response.status_code == 422 and "不在列表里" in response.text


def test_a_villagers_meeting_shows_whether_it_had_a_quorum(app, client, auth):
    auth.login(MINGXING)
    response, uid = new_minutes(app, client, auth, name="村民会议", attendees=[], eligible_basis="adults",
                                eligible="100", present="40",
                                **{"agenda-0-votes_for": "30", "agenda-0-votes_against": "5"})
    assert response.status_code == 302
    page = client.get(f"{V}/meetings/{uid}")
    assert "人数不够" in page.text and "不足过半数（至少 51）" in page.text
    assert "未通过" not in page.text  # 30 of 40 present is a majority of those present, even if the meeting was invalid
    too_many, _ = new_minutes(app, client, auth, name="村民会议", attendees=[], eligible_basis="adults",
                              eligible="100", present="120", **{"agenda-0-votes_for": "30"})
    assert "实到人数不能多于应到的 100 人" in too_many.text


# ---- photos -------------------------------------------------------------------------------

def test_photos_sent_with_the_page_are_kept_and_served_to_the_village_only(app, client, auth):
    auth.login(MINGXING)
    row = council(app, "红白理事会")
    fields = minutes_form(row, members(app, row), uuid=str(uuidlib.uuid4()))
    fields["photo_files"] = (io.BytesIO(jpeg()), "签到表.jpg")
    assert post(client, auth, f"{V}/meetings/new/{row['uuid']}", fields).status_code == 302
    photos = json.loads(meeting(app, fields["uuid"])["photos"])
    assert len(photos) == 1 and len(photos[0]) == 64
    image = client.get(f"{V}/files/{photos[0]}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and "private" in image.headers["Cache-Control"]
    assert "照片（1/1 已上传）" in client.get(f"{V}/meetings/{fields['uuid']}").text
    assert client.get(f"/v/610922104202/files/{photos[0]}").status_code == 404  # not a photo of that village
    bad = post(client, auth, f"{V}/meetings/new/{row['uuid']}", {**fields, "photo_files": (io.BytesIO(b"MZ..."), "x.exe"),
                                                               "uuid": str(uuidlib.uuid4())})
    assert bad.status_code == 422 and "不是照片" in bad.text and "三组村道硬化" in bad.text


def test_a_photo_hash_not_yet_arrived_is_shown_as_waiting(app, client, auth):
    auth.login(MINGXING)
    missing = "ab" * 32
    response, uid = new_minutes(app, client, auth, photos=[missing])
    assert response.status_code == 302
    assert "还在手机上" in client.get(f"{V}/meetings/{uid}").text
    assert "照片编号有误" in new_minutes(app, client, auth, photos=["not-a-hash"])[0].text


# ---- who may do what --------------------------------------------------------------------------

@pytest.mark.parametrize("login", [CHIHE, COUNTY, LAWYER])
def test_only_the_village_cadres_write_minutes(app, client, auth, login):
    with app.app_context():
        draft = next(town(app)["meetings"].rows_where("village_code = ? and state = 'draft'", [MINGXING_VILLAGE]))
    row = council(app, "红白理事会")
    auth.login(login)
    assert client.get(f"{V}/meetings/{draft['uuid']}").status_code == 200  # they read everything
    token = auth.token()
    fields = {**minutes_form(row, members(app, row), uuid=str(uuidlib.uuid4())), "csrf_token": token}
    assert client.post(f"{V}/meetings/new/{row['uuid']}", data=fields).status_code == 403
    assert client.post(f"{V}/meetings/{draft['uuid']}/confirm", data={"csrf_token": token}).status_code == 403
    assert client.post(f"{V}/meetings/trails/new", data={"csrf_token": token, "title": "x"}).status_code == 403
    assert meeting(app, draft["uuid"])["state"] == "draft"


def test_a_cadre_of_another_village_cannot_see_the_minutes(app, client, auth):
    with app.app_context():
        row = next(town(app)["meetings"].rows_where("village_code = ?", [MINGXING_VILLAGE]))
    auth.login(GUYAN)
    assert client.get(f"{V}/meetings/{row['uuid']}").status_code == 404
    with app.app_context():
        wuai = next(town(app)["meetings"].rows_where("village_code = '610922104202'"))
    auth.logout()
    auth.login(MINGXING)
    assert client.get(f"{V}/meetings/{wuai['uuid']}").status_code == 404  # a uuid of the next village is not found here


# ---- the town --------------------------------------------------------------------------------

def test_town_staff_filter_all_meetings_of_their_villages(app, client, auth):
    auth.login(CHIHE)
    everything = client.get(f"{T}/meetings/")
    assert "明星村" in everything.text and "五爱村" in everything.text and "谭家湾村" in everything.text
    one = client.get(f"{T}/meetings/", query_string={"village": MINGXING_VILLAGE, "council": "红白理事会"})
    rows = one.text.split("<tbody>")[1]
    assert rows.count("<tr>") >= 1 and "五爱村" not in rows and "道德评议会" not in rows
    day = today().isoformat()
    todays = client.get(f"{T}/meetings/", query_string={"start": day, "end": day})
    assert "没有符合条件的会议记录" in todays.text
    drafts = client.get(f"{T}/meetings/", query_string={"state": "draft"}).text.split("<tbody>")[1]
    assert "草稿" in drafts and "已确认" not in drafts
    csv = client.get(f"{T}/exports/meetings.csv", query_string={"council": "道德评议会"})
    lines = csv.data.decode("utf-8").splitlines()
    assert lines[0].startswith("\ufeff本表含个人信息") and lines[1].startswith("村（社区）,会,开会时间")
    assert sum("道德评议会" in line for line in lines[2:]) == 3 and "红白理事会" not in "".join(lines)


def test_the_quarter_table_shows_which_councils_have_not_met(app, client, auth):
    auth.login(MINGXING)
    _response, uid = new_minutes(app, client, auth, name="禁毒禁赌会")
    auth.logout()
    auth.login(CHIHE)

    def row_of(page, village):
        return page.split(f">{village}</a>")[1].split("</tr>")[0]

    names = councils.COUNCIL_NAMES
    page = client.get(f"{T}/meetings/quarter").text
    cells = row_of(page, "明星村").split("<td>")[1:]
    assert "未开" in cells[names.index("禁毒禁赌会")] and "草稿 1" in cells[names.index("禁毒禁赌会")]
    assert "明星村</strong>：" in page and "禁毒禁赌会" in page.split("四会本季度没开会的")[1]
    auth.logout()
    auth.login(MINGXING)
    confirm(client, auth, uid)
    auth.logout()
    auth.login(CHIHE)
    page = client.get(f"{T}/meetings/quarter").text
    assert "1 次" in row_of(page, "明星村").split("<td>")[1:][names.index("禁毒禁赌会")]
    assert "未开" in row_of(page, "五爱村").split("<td>")[1:][names.index("禁毒禁赌会")]
    earlier = client.get(f"{T}/meetings/quarter", query_string={"q": "2020-1"}).text
    assert "2020年第一季度" in earlier and "1 次" not in earlier


# ---- 四议两公开 ---------------------------------------------------------------------------------

def confirmed_minutes(app, client, auth, name, **changes):
    response, uid = new_minutes(app, client, auth, name=name, **changes)
    assert response.status_code == 302, response.text
    confirm(client, auth, uid)
    return uid


def step(client, auth, trail, number, **fields):
    url = f"{V}/meetings/trails/{trail}/steps/{number}"
    return client.post(url, data={"csrf_token": auth.token(), **fields}, follow_redirects=True)


def test_a_trail_links_six_steps_in_order_and_publishes_two_notices(app, client, auth):
    auth.login(MINGXING)
    response = client.post(f"{V}/meetings/trails/new", data={"csrf_token": auth.token(), "uuid": str(uuidlib.uuid4()),
                                                            "title": "修建村文化广场", "matter": "在村委会旁修建文化广场"})
    trail = response.headers["Location"].rsplit("/", 1)[1]
    branch = confirmed_minutes(app, client, auth, "党支部委员会")
    assert "请按顺序来：下一步是“党支部提议”" in step(client, auth, trail, 2, meeting=branch).text
    assert "已记下：党支部提议" in step(client, auth, trail, 1, meeting=branch, note="支部提议").text
    two = confirmed_minutes(app, client, auth, "村“两委”会")
    assert "不能作为这一步的依据" in step(client, auth, trail, 2, meeting=branch).text  # a branch meeting is not the 两委会
    step(client, auth, trail, 2, meeting=two)
    _response, party_uid = new_minutes(app, client, auth, name="党员大会")
    assert "不能作为这一步的依据" in step(client, auth, trail, 3, meeting=party_uid).text  # drafts are not evidence
    confirm(client, auth, party_uid)
    step(client, auth, trail, 3, meeting=party_uid)
    invalid = confirmed_minutes(app, client, auth, "村民会议", attendees=[], eligible_basis="adults", eligible="100",
                                present="40", **{"agenda-0-votes_for": "30"})
    refused = step(client, auth, trail, 4, meeting=invalid)
    assert "没有达到法定人数" in refused.text
    valid = confirmed_minutes(app, client, auth, "村民会议", attendees=[], eligible_basis="adults", eligible="100",
                              present="60", **{"agenda-0-title": "修建村文化广场", "agenda-0-decision": "同意修建",
                                               "agenda-0-votes_for": "55", "agenda-0-votes_against": "3"})
    assert "已记下" in step(client, auth, trail, 4, meeting=valid).text
    form = client.get(f"{V}/meetings/trails/{trail}/steps/5").text
    assert "关于修建村文化广场的决议公开" in form and "同意修建" in form and "同意 55" in form
    notice_uuid = str(uuidlib.uuid4())
    end = today().isoformat()
    published = step(client, auth, trail, 5, uuid=notice_uuid, title="关于修建村文化广场的决议公开",
                     body="村民会议决议：同意修建。", end_date=end)
    assert "已发布到村务公开" in published.text
    step(client, auth, trail, 6, uuid=str(uuidlib.uuid4()), title="村文化广场建成公开", body="已建成并通过验收。", end_date="")
    public = app.test_client().get(f"{V}/")
    assert "关于修建村文化广场的决议公开" in public.text and "村文化广场建成公开" in public.text
    with app.app_context():
        db = town(app)
        notice = db["notices"].get(notice_uuid)
        assert notice["category"] == "公示" and notice["end_date"] == end
        assert db["trail_steps"].count_where("trail_uuid = ?", [trail]) == 6
        assert db["audit"].count_where("record_id = ? and [table] = 'trails'", [trail]) == 7
    page = client.get(f"{V}/meetings/trails/{trail}").text
    assert page.count("已做") == 6 and "达到过半数" in page
    assert "六个步骤都已完成" not in page and "已经记过了" in client.get(
        f"{V}/meetings/trails/{trail}/steps/6", follow_redirects=True).text


def test_a_step_cannot_use_a_meeting_older_than_the_step_before(app):
    with app.app_context():
        db = town(app)
        trail = next(db["trails"].rows_where("village_code = ?", [MINGXING_VILLAGE]))  # the demo's: steps 1–2 done
        party = councils.council_by_name(db, MINGXING_VILLAGE, "党员大会")
        done = db["trail_steps"].get((trail["uuid"], 2))
        old = {"uuid": records.new_uuid(), "state": "confirmed", "starts_at": "2001-01-01T09:00", "eligible_basis": "members",
               "eligible": 3, "present": 3, "council_uuid": party["uuid"]}
        assert done["done_on"] > old["starts_at"]
        assert "顺序不对" in trails.record_meeting_step(db, trail, 3, old, "党员大会", None, "test")
        assert db["trail_steps"].count_where("trail_uuid = ?", [trail["uuid"]]) == 2
