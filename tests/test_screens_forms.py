"""Issue 9, what the pages say (view tests): the minutes form folds and keeps its 保存 in reach, proposes a round start
time; the QR poster warns when its address is this machine's; a lost 异议 receipt is found by its 回执号 on the village's
public page (only in that village, without names or phones, and not by trying number after number); photos show as
thumbnails wherever they are attached, PDFs stay links."""
import io
import re
import uuid as uuidlib

from test_meetings import council, jpeg, meeting, minutes_form, new_minutes, post
from test_notices import file_objection, photo, post_notice, running_notice, town

from villageapp import attachments
from villageapp import store

from conftest import GUYAN_VILLAGE, MINGXING, MINGXING_VILLAGE

V = f"/v/{MINGXING_VILLAGE}"


# ---- 6. the minutes form -----------------------------------------------------------------------

def new_form_page(app, client, auth, name="村民代表会议"):
    auth.login(MINGXING)
    return client.get(f"{V}/meetings/new/{council(app, name)['uuid']}").text


def test_a_new_minutes_form_proposes_the_hour_or_half_hour_not_the_second_it_opened(app, client, auth):
    page = new_form_page(app, client, auth)
    time_input = re.search(r'<input[^>]*name="time"[^>]*>', page).group(0)
    assert re.search(r'value="\d\d:(00|30)"', time_input), time_input
    assert 'type="time"' in time_input and 'data-now="time"' in time_input  # forms.js proposes the same on the phone


def test_the_minutes_form_folds_its_sections_and_keeps_save_in_a_bar_at_the_bottom(app, client, auth):
    page = new_form_page(app, client, auth)
    folds = re.findall(r'<details class="fold"( open)?><summary>(?:<h2>)?([^<]+)', page)
    names = {name: bool(is_open) for is_open, name in folds}
    assert names == {"到会情况": True, "缺席的人和原因": False, "议题": True, "会后要办的事（可不填）": False,
                     "照片（如签到表）": False}, names
    bar = page[page.index('<div class="save-bar">'):]
    assert re.search(r'<button class="button block" type="submit">保存</button>\s*</div>', bar)
    assert page.index('<div class="save-bar">') > page.index("照片（如签到表）")  # last in the form: it sticks to the bottom


def test_sections_with_something_in_them_or_a_mistake_open_by_themselves(app, client, auth):
    auth.login(MINGXING)
    _, uid = new_minutes(app, client, auth, **{"absentees-0-name": "王五", "absentees-0-reason": "外出务工"},
                         photo_files=(io.BytesIO(jpeg()), "签到表.jpg"))
    page = client.get(f"{V}/meetings/{uid}/edit").text
    assert '<details class="fold" open><summary><h2>缺席的人和原因' in page
    assert '<details class="fold" open><summary>会后要办的事' in page  # the action 联系交通站测算造价 is in it
    assert '<details class="fold" open><summary><h2>照片' in page
    row = council(app, "红白理事会")
    fields = minutes_form(row, [], uuid=str(uuidlib.uuid4()), edit_id=str(uuidlib.uuid4()),
                          **{"absentees-0-name": "", "absentees-0-reason": "生病", "agenda-0-actions-0-task": "",
                             "agenda-0-actions-0-owner": "", "agenda-0-actions-0-due": "2026-13-40"})
    again = post(client, auth, f"{V}/meetings/new/{row['uuid']}", fields)
    assert again.status_code == 422
    assert '<details class="fold" open><summary><h2>缺席的人和原因' in again.text and "请写缺席人的姓名" in again.text
    assert '<details class="fold" open><summary>会后要办的事' in again.text


# ---- 7. the QR poster ----------------------------------------------------------------------------

def test_the_poster_says_in_plain_words_when_its_qr_code_points_to_this_machine(app, client, auth):
    app.config["PUBLIC_BASE_URL"] = ""
    auth.login(MINGXING)
    page = client.get(V + "/poster").text
    warning = re.search(r'<div class="warn noprint" role="alert">(.*?)</div>', page, re.S).group(1)
    assert "手机扫了打不开" in warning and "管理员" in warning and "http://localhost/" in warning
    assert '<a class="back" href="' in page and ">← 返回</a>" in page
    app.config["PUBLIC_BASE_URL"] = "https://cun.example.cn"
    page = client.get(V + "/poster").text
    assert "手机扫了打不开" not in page and "https://cun.example.cn/v/" in page


def test_the_rules_poster_has_a_real_back_button(app, client):
    page = client.get(V + "/rules/poster").text
    assert '<a class="back" href="' in page and ">← 返回</a>" in page and "noprint" in page


# ---- 10. a lost receipt, found by its number --------------------------------------------------

def receipt_no(location):
    return location.rstrip("/").split("/")[-2][:8].upper()


def test_a_villager_finds_the_answer_by_typing_the_receipt_number(app):
    villager = app.test_client()
    public = villager.get(V + "/").text
    assert f'action="{V}/receipt"' in public and 'name="no"' in public and "查异议的答复" in public
    location = file_objection(villager, running_notice(app), name="李大爷", phone="13800001111").headers["Location"]
    number = receipt_no(location)
    assert number in villager.get(location).text  # the receipt page shows the number to keep
    stranger = app.test_client()
    for typed in (number, number.lower(), f" {number[:4]}-{number[4:]} "):
        found = stranger.get(V + "/receipt", query_string={"no": typed})
        assert found.status_code == 302 and found.headers["Location"].endswith(location.split("/v/", 1)[1]), typed
    page = stranger.get(location).text
    assert "第三户不符合条件" in page and "李大爷" not in page and "13800001111" not in page


def test_an_unknown_or_malformed_number_gets_a_chinese_answer(app):
    villager = app.test_client()
    missing = villager.get(V + "/receipt", query_string={"no": "00000000"})
    assert missing.status_code == 404 and "没有找到回执号 00000000 的异议" in missing.text
    bad = villager.get(V + "/receipt", query_string={"no": "<script>"})
    assert bad.status_code == 400 and "回执号是 8 位" in bad.text and "<script>" not in bad.text
    assert villager.get(V + "/receipt").status_code == 302  # nothing typed: back to the public page


def test_a_receipt_is_found_only_in_its_own_village(app):
    location = file_objection(app.test_client(), running_notice(app)).headers["Location"]
    other = app.test_client().get(f"/v/{GUYAN_VILLAGE}/receipt", query_string={"no": receipt_no(location)})
    assert other.status_code == 404 and "没有找到" in other.text


def test_number_after_number_from_one_address_is_stopped(app):
    location = file_objection(app.test_client(), running_notice(app)).headers["Location"]
    guesser = app.test_client()
    for i in range(20):
        assert guesser.get(V + "/receipt", query_string={"no": f"{i:08X}"}).status_code in (302, 404)
    stopped = guesser.get(V + "/receipt", query_string={"no": receipt_no(location)})
    assert stopped.status_code == 429 and "输错的回执号太多了" in stopped.text and stopped.headers["Retry-After"]


# ---- 13. photos as thumbnails ----------------------------------------------------------------------

THUMB = re.compile(r'<a href="([^"]+)" class="photo-link"><img src="\1" width="160" height="120" loading="lazy" alt="[^"]+"></a>')


def test_notice_photos_are_thumbnails_for_cadres_and_the_public_and_pdfs_stay_links(app, client, auth):
    auth.login(MINGXING)
    response = post_notice(client, auth, title="修好的村道", files=[("photo.jpg", photo((800, 600))), ("名单.pdf", b"%PDF-1.4 x")])
    cadre_page = client.get(response.headers["Location"]).text
    public_page = app.test_client().get(response.headers["Location"].replace("/manage", "")).text
    for page in (cadre_page, public_page):
        assert len(THUMB.findall(page)) == 1 and 'alt="照片：photo.jpg"' in page
        assert re.search(r'<a class="button secondary" href="[^"]+">名单.pdf（\d+ KB）</a>', page)


def test_minutes_photos_are_thumbnails(app, client, auth):
    auth.login(MINGXING)
    _, uid = new_minutes(app, client, auth, photo_files=(io.BytesIO(jpeg()), "签到表.jpg"))
    assert meeting(app, uid)
    page = client.get(f"{V}/meetings/{uid}").text
    assert len(THUMB.findall(page)) == 1


def test_rule_version_documents_show_photos_as_thumbnails(app, client, auth):
    with app.app_context():
        db = town(app)
        version = next(db["rule_versions"].rows_where("village_code = ?", [MINGXING_VILLAGE]))
        with store.write(db):  # what the 村规民约 steps store for a 材料 file sent with the page
            attachments.add(db, version["uuid"], *attachments.prepare("表决现场.jpg", photo((800, 600))), MINGXING)
            attachments.add(db, version["uuid"], *attachments.prepare("表决结果.pdf", b"%PDF-1.4 x"), MINGXING)
    auth.login(MINGXING)
    page = client.get(f"{V}/rules/versions/{version['uuid']}").text
    assert len(THUMB.findall(page)) == 1 and 'alt="照片：表决现场.jpg"' in page and "表决结果.pdf（" in page
