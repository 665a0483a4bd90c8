"""补录纸质会议记录 (issue 15, "Minutes kept on paper"): a past meeting entered from its paper minutes with fewer fields,
the photos of the pages as the record; confirmed at once, marked 补录 wherever minutes appear, counted on the town's
desk in the quarter it was held (not the day it was entered), corrected by the usual 更正. Real town file, test client."""
import csv
import io
import json
import re
import uuid as uuidlib
import zipfile
from datetime import date, timedelta

import pytest
from conftest import CHIHE, CHIHE_TOWN, COUNTY, GUYAN, LAWYER, MINGXING, MINGXING_VILLAGE, WUAI_VILLAGE, council_of
from PIL import Image

from villageapp import store
from villageapp.clock import today
from villageapp.councils import data as councils

V = f"/v/{MINGXING_VILLAGE}"
T = f"/t/{CHIHE_TOWN}"
PAPER = f"{V}/meetings/paper"


def town(app):
    return store.open_town(CHIHE_TOWN, app)


def council(app, name="村民代表会议", village=MINGXING_VILLAGE):
    return council_of(app, name, village)


def jpeg(colour="white", size=(60, 40)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def fields(app, **changes):
    """A 补录 as the page sends it, with two photos of the paper pages."""
    values = {"uuid": str(uuidlib.uuid4()), "council": council(app)["uuid"],
              "date": (today() - timedelta(days=400)).isoformat(), "present": "38", "eligible": "45",
              "decisions-0-title": "三组村道硬化", "decisions-0-decision": "同意，按每户 200 元筹资",
              "decisions-1-title": "修订村规民约", "decisions-1-decision": "同意启动修订",
              "note": "原件存村委会档案柜第 3 盒",
              "photo_files": [(io.BytesIO(jpeg("white")), "第1页.jpg"), (io.BytesIO(jpeg("grey")), "第2页.jpg")]}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def post(client, auth, data):
    return client.post(PAPER, data={**data, "csrf_token": auth.token()}, content_type="multipart/form-data")


def meeting(app, uid):
    with app.app_context():
        return town(app)["meetings"].get(uid)


def saved(app, client, auth, **changes):
    data = fields(app, **changes)
    response = post(client, auth, data)
    assert response.status_code == 302, response.text[:2000]
    assert response.headers["Location"].endswith(f"/meetings/{data['uuid']}")
    return data["uuid"]


def error_near(page, field_id):
    """The red text inside one field's box."""
    box = re.search(rf'<div class="field has-error[^"]*" id="field-{field_id}">(.*?)</div>\s*(?:<div|<fieldset|</fieldset|<h2|<p>)',
                    page, re.DOTALL)
    assert box, f"no error by {field_id}"
    return " ".join(re.findall(r'<p class="error" role="alert">([^<]+)</p>', box.group(1)))


# ---- the happy path ------------------------------------------------------------------------------------------

def test_the_meetings_page_offers_it_to_cadres_only(app, client, auth):
    auth.login(MINGXING)
    assert 'href="/v/610922104201/meetings/paper">补录纸质会议记录</a>' in client.get(f"{V}/meetings/").text
    page = client.get(PAPER).text
    for words in ("哪个会", "开会日期", "实到人数", "应到人数", "会上决定的事", "拍纸质记录的每一页", "备注", "不用再点“确认无误”"):
        assert words in page, words
    assert "村民代表会议" in page and 'type="radio"' in page and 'name="uuid" value="' in page
    auth.logout()
    auth.login(LAWYER)
    assert "补录纸质会议记录" not in client.get(f"{V}/meetings/").text
    assert client.get(PAPER).status_code == 403


def test_a_paper_record_with_two_photos_is_saved_confirmed_audited_and_linked(app, client, auth):
    auth.login(MINGXING)
    uid = saved(app, client, auth)
    row = meeting(app, uid)
    day = (today() - timedelta(days=400)).isoformat()
    assert row["paper"] == 1 and row["state"] == "confirmed" and row["edition"] == 1 and row["confirmed_by"] == MINGXING
    assert row["starts_at"] == f"{day}T00:00" and row["present"] == 38 and row["eligible"] == 45
    assert row["council_uuid"] == council(app)["uuid"] and row["eligible_basis"] == "representatives"
    assert json.loads(row["agenda"]) == [
        {"title": "三组村道硬化", "discussion": "", "decision": "同意，按每户 200 元筹资", "votes_for": None,
         "votes_against": None, "votes_abstain": None, "actions": []},
        {"title": "修订村规民约", "discussion": "", "decision": "同意启动修订", "votes_for": None, "votes_against": None,
         "votes_abstain": None, "actions": []}]
    photos = json.loads(row["photos"])
    assert len(photos) == 2
    with app.app_context():
        db = town(app)
        assert [r["sha256"] for r in db["record_files"].rows_where("record_uuid = ?", [uid], order_by="sort")] == photos
        entry = next(db["audit"].rows_where("record_id = ? and action = 'paper'", [uid]))
        assert entry["actor"] == MINGXING and "原件存村委会档案柜第 3 盒" in entry["summary"]
        assert db["meeting_editions"].count_where("meeting_uuid = ? and edition = 1", [uid]) == 1
    page = client.get(f"{V}/meetings/{uid}").text
    assert "已补录" in page and "补录</span>" in page and "已确认" in page and "备注：原件存村委会档案柜第 3 盒" in page
    assert "三组村道硬化" in page and "实到 38 人" in page and "照片（2/2 已上传）" in page
    assert "（见纸质记录）" in page and "00:00" not in page and "确认无误" not in page and "更正" in page
    for h in photos:
        assert client.get(f"{V}/files/{h}").status_code == 200
    print_view = client.get(f"{V}/meetings/{uid}/print").text
    assert "<strong>补录</strong>" in print_view and "修订村规民约" in print_view
    # sent twice (a double tap without JS): one record
    again = post(client, auth, fields(app, uuid=uid))
    assert again.status_code == 302 and "已经保存过了" in client.get(again.headers["Location"]).text
    with app.app_context():
        assert town(app)["meetings"].count_where("uuid = ?", [uid]) == 1


def test_a_photos_zip_of_the_town_holds_the_paper_pages(app, client, auth):
    auth.login(MINGXING)
    uid = saved(app, client, auth, date=(today() - timedelta(days=3)).isoformat())
    photos = json.loads(meeting(app, uid)["photos"])
    auth.logout()
    auth.login(CHIHE)
    day = (today() - timedelta(days=3)).isoformat()
    response = client.get(f"{T}/exports/meetings.zip", query_string={"village": MINGXING_VILLAGE, "start": day, "end": day})
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert len([n for n in names if n.startswith(f"明星村-{day}-村民代表会议-三组村道硬化")]) == len(photos) == 2


# ---- mistakes: said by the field, nothing typed lost -------------------------------------------------------------

@pytest.mark.parametrize("missing, field_id, words", [
    ("council", "council", "请选是哪个会"),
    ("date", "date", "请填开会日期"),
    ("present", "present", "请填实到多少人"),
    ("decisions", "decisions-0-title", "请至少写一件会上决定的事"),
    ("photos", "photo_files", "请至少拍一张纸质记录的照片"),
])
def test_each_required_field_missing_is_said_by_the_field_and_the_rest_is_kept(app, client, auth, missing, field_id, words):
    auth.login(MINGXING)
    changes = {"photo_files": None} if missing == "photos" else (
        {"decisions-0-title": "", "decisions-0-decision": "", "decisions-1-title": "", "decisions-1-decision": ""}
        if missing == "decisions" else {missing: ""})
    data = fields(app, **changes)
    response = post(client, auth, data)
    assert response.status_code == 422
    page = response.text
    assert words in error_near(page, field_id) and "您填的内容都还在" in page
    if missing != "present":
        assert 'value="38"' in page
    if missing != "decisions":
        assert "同意，按每户 200 元筹资" in page and 'value="修订村规民约"' in page
    assert "原件存村委会档案柜第 3 盒" in page
    if missing != "photos":  # the photos chosen are on the server already, ticked to keep: not chosen again
        assert page.count('name="photos" value="') == 2
        assert 'value="村民代表会议"' not in page  # (radio values are uuids)
    if missing != "council":
        assert re.search(rf'<input checked [^>]*value="{data["council"]}"', page)
    with app.app_context():
        assert town(app)["meetings"].count_where("uuid = ?", [data["uuid"]]) == 0
    if missing != "photos":  # sent again as the page has it now (photos kept by hash, no file chosen): saved
        kept = re.findall(r'name="photos" value="([0-9a-f]{64})"', page)
        fixed = {**fields(app, uuid=data["uuid"], photo_files=None), "photos": kept}
        assert post(client, auth, fixed).status_code == 302
        assert json.loads(meeting(app, data["uuid"])["photos"]) == kept


@pytest.mark.parametrize("changes, field_id, words", [
    ({"date": (today() + timedelta(days=1)).isoformat()}, "date", "开会日期不能晚于今天"),
    ({"date": "1900-01-01"}, "date", "日期太早了"),
    ({"date": "2026-02-30"}, "date", "日期"),
    ({"present": "-1"}, "present", "0 到 100000"),
    ({"present": "100001"}, "present", "0 到 100000"),
    ({"present": "46"}, "present", "实到人数不能多于应到的 45 人"),
    ({"eligible": "abc"}, "eligible", ""),
    ({"decisions-0-decision": ""}, "decisions-0-decision", "请写会上是怎么决定的"),
    ({"decisions-1-title": ""}, "decisions-1-title", "请写这是什么事"),
    ({"council": "not-a-council"}, "council", "请选是哪个会"),
    ({"note": "备" * 501}, "note", "备注不超过 500 个字"),
])
def test_wrong_values_are_refused_in_chinese_by_the_field(app, client, auth, changes, field_id, words):
    auth.login(MINGXING)
    response = post(client, auth, fields(app, **changes))
    assert response.status_code == 422
    message = error_near(response.text, field_id)
    assert message and words in message and not re.search(r"[A-Za-z]{3,}", message), message


def test_a_today_meeting_is_accepted_and_a_bad_file_is_refused_keeping_the_good_one(app, client, auth):
    auth.login(MINGXING)
    response = post(client, auth, fields(app, date=today().isoformat(), photo_files=[
        (io.BytesIO(jpeg()), "第1页.jpg"), (io.BytesIO(b"MZ\x90\x00not a photo"), "病毒.exe")]))
    assert response.status_code == 422
    assert "不是照片" in error_near(response.text, "photo_files")
    kept = re.findall(r'name="photos" value="([0-9a-f]{64})"', response.text)
    assert len(kept) == 1
    uid = re.search(r'name="uuid" value="([^"]+)"', response.text).group(1)
    assert post(client, auth, {**fields(app, uuid=uid, date=today().isoformat(), photo_files=None), "photos": kept}).status_code == 302


def test_one_more_decision_row_without_javascript_keeps_the_photos(app, client, auth):
    auth.login(MINGXING)
    response = post(client, auth, {**fields(app), "more": "decisions"})
    assert response.status_code == 200
    assert 'name="decisions-2-title"' in response.text and response.text.count('name="photos" value="') == 2
    assert "三组村道硬化" in response.text


def test_a_photo_of_another_village_or_not_on_the_server_is_refused(app, client, auth):
    with app.app_context():
        db = town(app)
        theirs = db.execute("select sha256 from file_villages where village_code = ? and sha256 not in "
                            "(select sha256 from file_villages where village_code = ?) limit 1",
                            [WUAI_VILLAGE, MINGXING_VILLAGE]).fetchone()
        if theirs is None:
            from villageapp import attachments
            theirs = [attachments.store_photo(db, WUAI_VILLAGE, "五爱.jpg", jpeg("red"), "test")]
    auth.login(MINGXING)
    foreign = post(client, auth, {**fields(app, photo_files=None), "photos": [theirs[0]]})
    assert foreign.status_code == 422 and "不是本村上传的" in error_near(foreign.text, "photos")
    absent = post(client, auth, {**fields(app, photo_files=None), "photos": ["ab" * 32]})
    assert absent.status_code == 422 and "没有传上来" in error_near(absent.text, "photos")
    bad = post(client, auth, {**fields(app, photo_files=None), "photos": ["../../etc/passwd"]})
    assert bad.status_code == 422 and "照片编号有误" in error_near(bad.text, "photos")


def test_hostile_posts_answer_4xx_in_chinese(app, client, auth):
    auth.login(MINGXING)
    broken = post(client, auth, fields(app, uuid="not-a-uuid"))
    assert broken.status_code == 422 and "表单编号有误" in broken.text and 'value="not-a-uuid"' not in broken.text
    no_csrf = client.post(PAPER, data=fields(app), content_type="multipart/form-data")
    assert no_csrf.status_code == 400 and "刷新" in no_csrf.text
    many = {**fields(app), **{f"decisions-{i}-title": "事" for i in range(200)}}
    assert post(client, auth, many).status_code in (302, 422)
    # a UUID already naming another cadre's record
    with app.app_context():
        other = next(town(app)["meetings"].rows_where("village_code = ?", [MINGXING_VILLAGE]))["uuid"]
    taken = post(client, auth, fields(app, uuid=other))
    assert taken.status_code == 400 or (taken.status_code == 302 and meeting(app, other)["paper"] == 0)


@pytest.mark.parametrize("login, status", [(None, 302), (LAWYER, 403), (CHIHE, 403), (COUNTY, 403), (GUYAN, 404)])
def test_only_the_village_cadres_enter_paper_minutes(app, client, auth, login, status):
    if login:
        auth.login(login)
    token = auth.token() if login else ""
    response = client.post(PAPER, data={**fields(app), "csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == (400 if not login else status) or response.status_code == status
    assert client.get(PAPER).status_code == status
    with app.app_context():
        assert town(app)["meetings"].count_where("paper = 1") == 0


# ---- marked 补录 where minutes appear, counted for its own date ---------------------------------------------------

def test_marked_in_the_lists_and_the_exports(app, client, auth):
    auth.login(MINGXING)
    uid = saved(app, client, auth, date=(today() - timedelta(days=2)).isoformat())
    listing = client.get(f"{V}/meetings/").text
    card = re.search(rf'<li class="card[^"]*"><a href="/v/{MINGXING_VILLAGE}/meetings/{uid}">(.*?)</li>', listing, re.DOTALL).group(1)
    assert '<span class="tag">补录</span>' in card and "00:00" not in card
    auth.logout()
    auth.login(CHIHE)
    town_list = client.get(f"{T}/meetings/", query_string={"village": MINGXING_VILLAGE}).text
    row = re.search(rf'<tr><td>[^<]*</td><td>明星村</td>\s*<td><a href="/v/{MINGXING_VILLAGE}/meetings/{uid}">.*?</tr>',
                    town_list, re.DOTALL).group(0)
    assert "补录" in row and "已确认" in row and "00:00" not in row
    assert "补录" in client.get(f"{V}/meetings/{uid}").text
    text = client.get(f"{T}/exports/meetings.csv", query_string={"village": MINGXING_VILLAGE}).data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text[1:])))
    header = rows[1]
    assert header[-1] == "补录"
    paper_rows = [r for r in rows[2:] if r[header.index("补录")] == "纸质补录"]
    assert len(paper_rows) == 1 and paper_rows[0][header.index("状态")] == "已确认"
    assert paper_rows[0][header.index("开会时间")] == (today() - timedelta(days=2)).isoformat()
    assert paper_rows[0][header.index("议题")] == "三组村道硬化；修订村规民约"
    assert all(r[header.index("补录")] == "" for r in rows[2:] if r is not paper_rows[0])


def desk_figure(client, period, figure="councils_met"):
    page = client.get(f"{T}/", query_string={"period": period}).text
    row = re.search(rf'<tr[^>]*data-village="{MINGXING_VILLAGE}">(.*?)</tr>', page, re.DOTALL).group(1)
    return int(re.search(rf'<td data-figure="{figure}">\s*(\d+)', row).group(1))


def quarter(day):
    return f"{day.year}-{(day.month - 1) // 3 + 1}"


def unmet_council(app, held):
    """A council of the village with no confirmed minutes in the quarter of `held` (so one more makes it 开了会)."""
    start = date(held.year, 3 * ((held.month - 1) // 3) + 1, 1)
    with app.app_context():
        db = town(app)
        for c in councils.ensure_councils(db, MINGXING_VILLAGE, "system"):
            if not db.execute("select 1 from meetings where council_uuid = ? and state != 'draft' and starts_at >= ? "
                              "and starts_at < ?", [c["uuid"], start.isoformat(),
                                                    (start + timedelta(days=92)).replace(day=1).isoformat()]).fetchone():
                return c
    raise AssertionError("every council met in that quarter")


def test_counted_on_the_desk_and_in_the_quarter_table_for_the_day_it_was_held(app, client, auth):
    held = today() - timedelta(days=400)
    then, now_ = quarter(held), quarter(today())
    chosen = unmet_council(app, held)
    auth.login(CHIHE)
    before_then, before_now = desk_figure(client, then), desk_figure(client, now_)
    cell_before = client.get(f"{T}/meetings/quarter", query_string={"q": then}).text
    auth.logout()
    auth.login(MINGXING)
    saved(app, client, auth, date=held.isoformat(), council=chosen["uuid"])
    auth.logout()
    auth.login(CHIHE)
    assert desk_figure(client, then) == before_then + 1  # the council met in the quarter it was held
    assert desk_figure(client, now_) == before_now       # not the day it was entered
    table = client.get(f"{T}/meetings/quarter", query_string={"q": then}).text
    assert "其中补录 1" in table and "其中补录" not in cell_before


def amend_fields(page):
    """What the 更正 page of a 补录 sends back as it is: its inputs (ticked photos) and textareas."""
    data = {}
    for tag in re.findall(r'<input[^>]*>', page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or name.group(1) in ("csrf_token", "more", "photo_files"):
            continue
        if 'type="radio"' in tag and "checked" not in tag:
            continue
        data.setdefault(name.group(1), []).append(value.group(1) if value else "")
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\n?([^<]*)</textarea>', page):
        data[name] = [value]
    return data


def amend_post(client, auth, uid, data):
    return client.post(f"{V}/meetings/{uid}/amend", data={**data, "csrf_token": auth.token()},
                       content_type="multipart/form-data")


def test_a_paper_record_is_corrected_on_its_own_short_form_as_a_new_edition(app, client, auth):
    auth.login(MINGXING)
    uid = saved(app, client, auth)
    first = meeting(app, uid)
    page = client.get(f"{V}/meetings/{uid}/amend")
    assert page.status_code == 200 and "更正补录的会议记录" in page.text and "第 2 版" in page.text
    for words in ("同意，按每户 200 元筹资", "原件存村委会档案柜第 3 盒", "更正的原因", 'value="38"', 'value="45"',
                  f'value="{first["starts_at"][:10]}"', "保留这张"):
        assert words in page.text, words
    for words in ("开始时间", "主持人", "记录人", "地点", "00:00"):  # nothing the paper never had
        assert words not in page.text, words
    data = amend_fields(page.text)
    assert len(data["photos"]) == 2
    new_day = (today() - timedelta(days=390)).isoformat()
    data.update({"date": [new_day], "decisions-0-decision": ["同意，按每户 150 元筹资"],
                 "reason": ["纸上是 150 元，日期也录错了"]})
    response = amend_post(client, auth, uid, {**data, "photo_files": [(io.BytesIO(jpeg("black")), "第3页.jpg")]})
    assert response.status_code == 302, re.findall(r'class="error"[^>]*>([^<]+)', response.text)
    row = meeting(app, uid)
    assert row["edition"] == 2 and row["state"] == "amended" and row["paper"] == 1
    assert row["amend_reason"] == "纸上是 150 元，日期也录错了" and row["starts_at"] == f"{new_day}T00:00"
    assert row["paper_note"] == "原件存村委会档案柜第 3 盒" and row["present"] == 38 and row["host"] == ""
    agenda = json.loads(row["agenda"])
    assert agenda[0]["decision"] == "同意，按每户 150 元筹资" and agenda[1]["title"] == "修订村规民约"
    photos = json.loads(row["photos"])
    assert len(photos) == 3 and photos[:2] == json.loads(first["photos"])
    with app.app_context():
        db = town(app)
        assert db["record_files"].count_where("record_uuid = ?", [uid]) == 3
        assert db["meeting_editions"].count_where("meeting_uuid = ?", [uid]) == 2
        entry = next(db["audit"].rows_where("record_id = ? and action = 'amend'", [uid]))
        assert entry["actor"] == MINGXING and "纸上是 150 元" in entry["summary"]
    shown = client.get(f"{V}/meetings/{uid}").text
    assert "已更正，现在是第 2 版" in shown and "补录</span>" in shown and "备注：原件存村委会档案柜第 3 盒" in shown
    assert "每户 150 元" in shown and "00:00" not in shown
    earlier = client.get(f"{V}/meetings/{uid}/editions/1").text
    assert "每户 200 元筹资" in earlier and "第 1 版" in earlier and "补录</span>" in earlier
    # unchanged but for the reason: nothing to correct
    again = amend_fields(client.get(f"{V}/meetings/{uid}/amend").text)
    again["reason"] = ["再看一遍"]
    same = amend_post(client, auth, uid, again)
    assert same.status_code == 422 and "内容没有改动" in error_near(same.text, "reason")


def test_a_paper_amendment_without_a_reason_is_said_by_the_field_and_keeps_what_was_typed(app, client, auth):
    auth.login(MINGXING)
    uid = saved(app, client, auth)
    data = amend_fields(client.get(f"{V}/meetings/{uid}/amend").text)
    data.update({"decisions-1-decision": ["不同意启动修订"], "present": ["41"], "note": ["原件在镇档案室"]})
    response = amend_post(client, auth, uid, {**data, "photo_files": [(io.BytesIO(jpeg("black")), "第3页.jpg")]})
    assert response.status_code == 422
    assert "请写明为什么更正" in error_near(response.text, "reason")
    for words in ("不同意启动修订", 'value="41"', "原件在镇档案室"):
        assert words in response.text, words
    assert response.text.count("保留这张") == 3  # the photo added is kept on the server, ticked
    bad = amend_post(client, auth, uid, {**data, "present": ["60"], "reason": ["改人数"]})
    assert bad.status_code == 422 and "不能多于应到的 45 人" in error_near(bad.text, "present")
    row = meeting(app, uid)
    assert row["edition"] == 1 and row["present"] == 38


@pytest.mark.parametrize("login, status", [(GUYAN, 404), (LAWYER, 403)])
def test_a_paper_amendment_is_for_the_village_cadres_only(app, client, auth, login, status):
    auth.login(MINGXING)
    uid = saved(app, client, auth)
    data = amend_fields(client.get(f"{V}/meetings/{uid}/amend").text)
    auth.logout()
    auth.login(login)
    assert client.get(f"{V}/meetings/{uid}/amend").status_code == status
    response = amend_post(client, auth, uid, {**data, "present": ["40"], "reason": ["改人数"]})
    assert response.status_code == status
    assert meeting(app, uid)["edition"] == 1
    assert client.post(f"{V}/meetings/{uid}/amend", data=data).status_code in (400, status)


def test_the_normal_minutes_keep_the_full_amendment_form(app, client, auth):
    auth.login(MINGXING)
    with app.app_context():
        other = next(town(app)["meetings"].rows_where("village_code = ? and paper = 0 and state != 'draft'",
                                                      [MINGXING_VILLAGE]))["uuid"]
    page = client.get(f"{V}/meetings/{other}/amend").text
    assert "更正会议记录" in page and "主持人" in page and "更正补录" not in page
