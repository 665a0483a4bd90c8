"""村务公开: publishing with attachments, what the public sees when, 公示 objections and answers."""
import io
import uuid as uuidlib
from datetime import timedelta

from PIL import Image

from villageapp import store
from villageapp.clock import today

from conftest import CHIHE, CHIHE_TOWN, LAWYER, MINGXING, MINGXING_VILLAGE

V = f"/v/{MINGXING_VILLAGE}"


def town(app):
    return store.open_town(CHIHE_TOWN, app)


def post_notice(client, auth, files=(), **fields):
    token = auth.token(V + "/notices/new")
    data = {"uuid": str(uuidlib.uuid4()), "category": "村务", "title": "修村道的通知", "body": "下周一开始修三组村道。",
            "publish_date": today().isoformat(), "end_date": "", "csrf_token": token, **fields}
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(V + "/notices/new", data=data, content_type="multipart/form-data")


def photo(size=(2400, 1800)):
    out = io.BytesIO()
    Image.effect_noise(size, 80).convert("RGB").save(out, "JPEG", quality=95)
    return out.getvalue()


def test_cadre_publishes_a_notice_the_public_can_read(app, client, auth):
    auth.login(MINGXING)
    response = post_notice(client, auth, files=[("名单.pdf", b"%PDF-1.4 list")])
    assert response.status_code == 302
    public = app.test_client()
    page = public.get(V + "/")
    assert "修村道的通知" in page.text
    assert "Set-Cookie" not in page.headers  # public pages set no cookie
    with app.app_context():
        db = town(app)
        row = next(db["notices"].rows_where("title = '修村道的通知'"))
        assert row["created_by"] == MINGXING and row["version"] == 1
        assert db["attachments"].count_where("record_uuid = ?", [row["uuid"]]) == 1
        assert next(db["audit"].rows_where("record_id = ?", [row["uuid"]]))["action"] == "publish"
    detail = public.get(f"{V}/notices/{row['uuid']}")
    assert "下周一开始修三组村道" in detail.text and "名单.pdf" in detail.text


def test_the_same_form_sent_twice_makes_one_notice(app, client, auth):
    auth.login(MINGXING)
    form_uuid = str(uuidlib.uuid4())
    post_notice(client, auth, uuid=form_uuid)
    second = post_notice(client, auth, uuid=form_uuid)
    assert second.status_code == 302
    with app.app_context():
        assert town(app)["notices"].count_where("title = '修村道的通知'") == 1


def test_a_uuid_of_another_village_cannot_be_reused(app, client, auth):
    with app.app_context():
        other = next(town(app)["notices"].rows_where("village_code = '610922104202'"))
    auth.login(MINGXING)
    assert post_notice(client, auth, uuid=other["uuid"]).status_code == 400


def test_big_photos_are_shrunk_for_3g(app, client, auth):
    auth.login(MINGXING)
    original = photo()
    post_notice(client, auth, files=[("现场.jpg", original)])
    with app.app_context():
        stored = next(town(app)["attachments"].rows_where("filename = '现场.jpg'"))
    assert stored["size"] < len(original) and max(Image.open(io.BytesIO(stored["data"])).size) <= 1600


def test_wrong_type_attachment_is_refused_and_the_text_is_kept(app, client, auth):
    auth.login(MINGXING)
    response = post_notice(client, auth, title="保留我的标题", files=[("病毒.exe", b"MZ\x90\x00 not a photo")])
    assert response.status_code == 422
    assert "不是照片（JPG、PNG）或 PDF 文件" in response.text
    assert 'value="保留我的标题"' in response.text and "下周一开始修三组村道" in response.text
    assert "附件需要重新选一次" in response.text
    with app.app_context():
        assert town(app)["notices"].count_where("title = '保留我的标题'") == 0


def test_oversized_attachment_is_refused_with_the_limit(app, client, auth):
    app.config["MAX_ATTACHMENT_BYTES"] = 1024 * 1024
    auth.login(MINGXING)
    big = b"%PDF-1.4 " + b"0" * (1024 * 1024 + 10)
    response = post_notice(client, auth, files=[("大文件.pdf", big)])
    assert "超过了 1 MB 的上限" in response.text
    assert 'value="修村道的通知"' in response.text


def test_a_request_over_the_body_limit_gets_a_chinese_413(app, client, auth):
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    auth.login(MINGXING)
    response = post_notice(client, auth, files=[("大文件.pdf", b"%PDF-" + b"0" * (3 * 1024 * 1024))])
    assert response.status_code == 413
    assert "文件太大" in response.text


def test_notice_period_needs_an_end_date_not_before_the_start(client, auth):
    auth.login(MINGXING)
    missing = post_notice(client, auth, category="公示")
    assert "公示要写截止日期" in missing.text
    backwards = post_notice(client, auth, category="公示", end_date=(today() - timedelta(days=1)).isoformat())
    assert "截止日期不能早于公开日期" in backwards.text
    bad_date = post_notice(client, auth, publish_date="2026-13-45")
    assert "请选择公开日期" in bad_date.text or "不是有效的日期值" in bad_date.text


def test_future_and_withdrawn_notices_are_not_public(app, client, auth):
    auth.login(MINGXING)
    post_notice(client, auth, title="下个月的通知", publish_date=(today() + timedelta(days=30)).isoformat())
    with app.app_context():
        future = next(town(app)["notices"].rows_where("title = '下个月的通知'"))
    public = app.test_client()
    assert "下个月的通知" not in public.get(V + "/").text
    assert public.get(f"{V}/notices/{future['uuid']}").status_code == 404
    assert client.get(f"{V}/notices/{future['uuid']}/manage").status_code == 200

    post_notice(client, auth, title="要撤回的通知")
    with app.app_context():
        gone = next(town(app)["notices"].rows_where("title = '要撤回的通知'"))
    assert public.get(f"{V}/notices/{gone['uuid']}").status_code == 200
    response = client.post(f"{V}/notices/{gone['uuid']}/withdraw", data={"csrf_token": auth.token()})
    assert response.status_code == 302
    assert public.get(f"{V}/notices/{gone['uuid']}").status_code == 404
    with app.app_context():
        assert next(town(app)["audit"].rows_where("record_id = ? and action = 'withdraw'", [gone["uuid"]]))


def test_editing_a_notice_bumps_its_version_and_is_audited(app, client, auth):
    auth.login(MINGXING)
    post_notice(client, auth)
    with app.app_context():
        row = next(town(app)["notices"].rows_where("title = '修村道的通知'"))
    url = f"{V}/notices/{row['uuid']}/edit"
    response = client.post(url, data={"category": "村务", "title": "修村道的通知（改期）", "body": "改到下周三。",
                                      "publish_date": row["publish_date"], "csrf_token": auth.token(url)})
    assert response.status_code == 302
    with app.app_context():
        db = town(app)
        assert db["notices"].get(row["uuid"])["version"] == 2
        entry = next(db["audit"].rows_where("record_id = ? and action = 'update'", [row["uuid"]]))
        assert "title" in entry["summary"] and "修村道的通知（改期）" in entry["after"]


def running_notice(app):
    with app.app_context():
        from villageapp.clock import today
        return next(town(app)["notices"].rows_where(  # one still running (the demo's campaign 公示 of last year has ended)
            "village_code = ? and category = '公示' and status = 'published' and end_date >= ?",
            [MINGXING_VILLAGE, today().isoformat()], order_by="end_date desc"))


def file_objection(client, notice, **fields):
    url = f"{V}/notices/{notice['uuid']}/objection"
    from conftest import csrf_from
    token = csrf_from(client.get(url).text)
    data = {"uuid": str(uuidlib.uuid4()), "body": "第三户不符合条件", "name": "", "phone": "", "csrf_token": token, **fields}
    return client.post(url, data=data)


def test_a_villager_files_an_objection_without_an_account(app):
    notice = running_notice(app)
    villager = app.test_client()
    response = file_objection(villager, notice, name="李大爷", phone="13800001111")
    assert response.status_code == 302
    receipt = villager.get(response.headers["Location"])
    assert "异议已收到" in receipt.text and "等待答复" in receipt.text
    with app.app_context():
        db = town(app)
        rows = list(db["objections"].rows_where("notice_uuid = ?", [notice["uuid"]]))
        assert len(rows) == 1 and rows[0]["name"] == "李大爷" and rows[0]["created_by"] is None
        assert next(db["audit"].rows_where("record_id = ?", [rows[0]["uuid"]]))["actor"] == "公众"


def test_objection_errors_are_chinese_and_keep_the_input(app):
    villager = app.test_client()
    response = file_objection(villager, running_notice(app), body="", name="李大爷", phone="123")
    assert response.status_code == 200
    assert "请写下您的异议" in response.text and "请填写11位手机号" in response.text
    assert 'value="李大爷"' in response.text


def test_objections_are_refused_outside_the_notice_period(app):
    with app.app_context():
        plain = next(town(app)["notices"].rows_where("village_code = ? and category = '财务'", [MINGXING_VILLAGE]))
    response = app.test_client().get(f"{V}/notices/{plain['uuid']}/objection")
    assert response.status_code == 410 and "不收异议" in response.text


def test_cadre_answers_and_the_villager_sees_the_answer(app, client, auth):
    villager = app.test_client()
    receipt_url = file_objection(villager, running_notice(app), name="李大爷", phone="13800001111").headers["Location"]
    objection_uuid = receipt_url.split("/")[-2]
    auth.login(MINGXING)
    listing = client.get(V + "/objections/")
    assert "第三户不符合条件" in listing.text and "李大爷" in listing.text
    url = f"{V}/objections/{objection_uuid}"
    empty = client.post(url, data={"answer": "", "csrf_token": auth.token(url)})
    assert "请写答复内容" in empty.text
    response = client.post(url, data={"answer": "经核实，第三户符合条件，已电话说明。", "csrf_token": auth.token(url)})
    assert response.status_code == 302
    assert "经核实，第三户符合条件" in villager.get(receipt_url).text
    with app.app_context():
        assert next(town(app)["audit"].rows_where("record_id = ? and action = 'answer'", [objection_uuid]))


def test_objectors_name_and_phone_are_never_public(app):
    notice = running_notice(app)
    file_objection(app.test_client(), notice, name="李大爷", phone="13800001111")
    public = app.test_client()
    for url in (V + "/", f"{V}/notices/{notice['uuid']}"):
        text = public.get(url).text
        assert "李大爷" not in text and "13800001111" not in text


def test_town_staff_read_objections_but_only_cadres_answer(app, client, auth):
    receipt = file_objection(app.test_client(), running_notice(app)).headers["Location"]
    url = f"{V}/objections/{receipt.split('/')[-2]}"
    auth.login(CHIHE)
    assert client.get(url).status_code == 200
    assert client.post(url, data={"answer": "镇里答复", "csrf_token": auth.token(url)}).status_code == 403


def test_adviser_cannot_see_objections(client, auth):
    auth.login(LAWYER)
    assert client.get(V + "/objections/").status_code == 403


def test_poster_has_a_qr_code_to_the_public_page(app, client, auth):
    app.config["PUBLIC_BASE_URL"] = "https://cun.example.cn"
    auth.login(MINGXING)
    page = client.get(V + "/poster").text
    assert "<svg" in page and f"https://cun.example.cn/v/{MINGXING_VILLAGE}/" in page and "明星村" in page


def test_attachment_of_a_withdrawn_notice_is_not_public(app, client, auth):
    auth.login(MINGXING)
    post_notice(client, auth, title="带附件", files=[("表.pdf", b"%PDF-1.4 x")])
    with app.app_context():
        db = town(app)
        row = next(db["notices"].rows_where("title = '带附件'"))
        sha = next(db["attachments"].rows_where("record_uuid = ?", [row["uuid"]]))["sha256"]
    url = f"{V}/notices/{row['uuid']}/files/{sha}"
    assert app.test_client().get(url).status_code == 200
    client.post(f"{V}/notices/{row['uuid']}/withdraw", data={"csrf_token": auth.token()})
    assert app.test_client().get(url).status_code == 404
    assert client.get(url).status_code == 200  # the village's cadres still have it
