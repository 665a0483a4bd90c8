"""The sync engine on the server: an edit applied exactly once, versions, conflicts kept for a person,
locked records, invalid content (422 in Chinese), sessions and files. Uses a small record type of its own
(a real table in the town file, validated by a real Flask-WTF form) so the rules are tested apart from any feature."""
import hashlib
import io
import json
import threading
import uuid as uuidlib

import pytest
from PIL import Image
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, NumberRange

from villageapp import store
from villageapp import kinds
from villageapp.forms import Form

from conftest import CHIHE, CHIHE_TOWN, GUYAN, MINGXING, MINGXING_VILLAGE, PASSWORD, csrf_from

V = MINGXING_VILLAGE
API = f"/api/v/{V}"


class NoteForm(Form):
    title = StringField("标题", validators=[DataRequired("请填写标题")])
    count = IntegerField("人数", validators=[NumberRange(min=0, max=500, message="人数要在 0 到 500 之间")])


def note_form(db, village_code, formdata, record=None):
    if formdata is None and record is not None:
        return NoteForm(data=record, meta={"csrf": False})
    return NoteForm(formdata=formdata, meta={"csrf": False})


NOTE = kinds.Kind(name="test_note", table="test_notes", label="测试记录", form=note_form,
                  to_record=lambda f: {"title": f.title.data, "count": f.count.data},
                  locked=lambda row: row["state"] == "confirmed")


@pytest.fixture(autouse=True)
def note_kind(app):
    """The test kind, registered on this test's app only (as a feature package would be, without pages)."""
    kinds.registry(app).add(app, kinds.Feature("test_notes", kinds=(NOTE,)))


@pytest.fixture
def notes(app):
    """The test type's table in the town file."""
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        db["test_notes"].create({**store.RECORD_COLUMNS, "village_code": str, "title": str, "count": int,
                                 "state": str, "conflict": int}, pk="uuid", defaults={"state": "draft", "conflict": 0})
        db.close()

    def rows():
        with app.app_context():
            db = store.open_town(CHIHE_TOWN, app)
            try:
                return list(db["test_notes"].rows), list(db["revisions"].rows_where("record_type = 'test_note'", order_by="id"))
            finally:
                db.close()
    return rows


def change_note(app, uuid, columns):
    """Change a test record behind the app's back (as another feature would: confirm it, move it)."""
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        db["test_notes"].update(uuid, columns)
        db.close()


def session_token(client):
    response = client.get("/api/session")
    assert response.status_code == 200
    return response.json["csrf_token"]


def edit(uuid=None, base=None, **fields):
    payload = [[k, str(v)] for k, v in {"title": "村道维修", "count": 12, **fields}.items()]
    return {"edit_id": str(uuidlib.uuid4()), "uuid": uuid or str(uuidlib.uuid4()), "type": "test_note",
            "base_version": base, "payload": payload}


def send(client, *edits, token=None):
    token = token or session_token(client)
    return client.post(API + "/edits", json={"edits": list(edits)}, headers={"X-CSRFToken": token})


@pytest.fixture
def cadre(app, auth):
    auth.login(MINGXING)
    return auth.client


def test_a_new_record_is_accepted_with_a_receipt(cadre, notes):
    e = edit()
    answer = send(cadre, e).json["results"][0]
    assert answer["status"] == "accepted" and answer["http"] == 201 and answer["version"] == 1 and answer["receipt"]
    rows, revisions = notes()
    assert [(r["uuid"], r["title"], r["count"], r["version"], r["created_by"]) for r in rows] == [
        (e["uuid"], "村道维修", 12, 1, MINGXING)]
    assert [r["edit_id"] for r in revisions] == [e["edit_id"]]


def test_the_same_edit_again_gets_the_same_answer_and_changes_nothing(cadre, notes):
    e = edit()
    first = send(cadre, e).json["results"][0]
    again = send(cadre, e).json["results"][0]
    assert again["receipt"] == first["receipt"] and again["version"] == first["version"] == 1
    rows, revisions = notes()
    assert len(rows) == 1 and len(revisions) == 1


def test_an_edit_id_reused_for_other_content_is_refused(cadre, notes):
    e = edit()
    send(cadre, e)
    other = {**e, "payload": [["title", "别的内容"], ["count", "1"]]}
    answer = send(cadre, other).json["results"][0]
    assert answer["status"] == "edit_id_reused" and answer["http"] == 409
    rows, _ = notes()
    assert rows[0]["title"] == "村道维修"


def test_the_same_edit_sent_five_times_at_once_makes_one_record(app, notes):
    e = edit()
    answers, errors = [], []

    def worker():
        try:
            client = app.test_client()
            token = csrf_from(client.get("/login").text)
            client.post("/login", data={"username": MINGXING, "password": PASSWORD, "csrf_token": token})
            answers.append(send(client, e).json["results"][0])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len({a["receipt"] for a in answers}) == 1 and len(answers) == 5
    rows, revisions = notes()
    assert len(rows) == 1 and len(revisions) == 1


def test_an_edit_on_the_current_version_makes_a_new_version(cadre, notes):
    e = edit()
    send(cadre, e)
    answer = send(cadre, edit(uuid=e["uuid"], base=1, title="村道维修（改）")).json["results"][0]
    assert answer["status"] == "accepted" and answer["version"] == 2
    rows, _ = notes()
    assert rows[0]["title"] == "村道维修（改）" and rows[0]["version"] == 2


def test_two_offline_edits_of_one_version_make_a_conflict_and_keep_both(app, cadre, notes):
    e = edit()
    send(cadre, e)
    first = send(cadre, edit(uuid=e["uuid"], base=1, title="甲改的")).json["results"][0]
    second = send(cadre, edit(uuid=e["uuid"], base=1, title="乙改的")).json["results"][0]
    assert first["status"] == "accepted" and second["status"] == "conflict" and second["receipt"]
    rows, revisions = notes()
    assert rows[0]["title"] == "甲改的" and rows[0]["conflict"] == 1 and rows[0]["version"] == 2
    assert [r["status"] for r in revisions] == ["accepted", "accepted", "conflict"]
    assert "乙改的" in revisions[-1]["payload"]


def test_a_person_resolves_a_conflict_field_by_field(app, cadre, notes, auth):
    e = edit()
    send(cadre, e)
    send(cadre, edit(uuid=e["uuid"], base=1, title="甲改的", count=20))
    send(cadre, edit(uuid=e["uuid"], base=1, title="乙改的", count=12))
    _, revisions = notes()
    url = f"/v/{V}/conflicts/{revisions[-1]['id']}"
    page = cadre.get(url)
    assert "甲改的" in page.text and "乙改的" in page.text
    assert "测试记录" in cadre.get(f"/v/{V}/conflicts/").text
    response = cadre.post(url, data={"csrf_token": auth.token(), "action": "merge", "pick-title": "other",
                                     "pick-count": "current"})
    assert response.status_code == 302
    rows, revisions = notes()
    assert (rows[0]["title"], rows[0]["count"], rows[0]["version"], rows[0]["conflict"]) == ("乙改的", 20, 3, 0)
    assert revisions[2]["resolved_by"] == MINGXING and revisions[2]["resolution"] == "merged"
    assert "待定的修改" in cadre.get(f"/v/{V}/conflicts/").text and "没有待定的修改" in cadre.get(f"/v/{V}/conflicts/").text


def test_town_staff_see_conflicts_but_only_cadres_decide(app, cadre, notes, auth):
    e = edit()
    send(cadre, e)
    send(cadre, edit(uuid=e["uuid"], base=1, title="甲"))
    send(cadre, edit(uuid=e["uuid"], base=1, title="乙"))
    _, revisions = notes()
    town = app.test_client()
    type(auth)(town).login(CHIHE)
    url = f"/v/{V}/conflicts/{revisions[-1]['id']}"
    assert town.get(url).status_code == 200
    assert town.post(url, data={"csrf_token": csrf_from(town.get(url).text), "action": "dismiss"}).status_code == 403


def test_an_edit_of_a_locked_record_is_kept_for_review(app, cadre, notes):
    e = edit()
    send(cadre, e)
    change_note(app, e["uuid"], {"state": "confirmed"})
    answer = send(cadre, edit(uuid=e["uuid"], base=1, title="确认后又改")).json["results"][0]
    assert answer["status"] == "needs_review"
    rows, revisions = notes()
    assert rows[0]["title"] == "村道维修" and rows[0]["conflict"] == 1 and revisions[-1]["status"] == "needs_review"


def test_invalid_content_is_422_with_chinese_field_errors_and_stores_nothing(cadre, notes):
    answer = send(cadre, edit(title="", count=900)).json["results"][0]
    assert answer["status"] == "invalid" and answer["http"] == 422
    assert answer["errors"] == {"title": ["请填写标题"], "count": ["人数要在 0 到 500 之间"]}
    assert notes() == ([], [])


def test_a_batch_is_answered_edit_by_edit(cadre, notes):
    good, bad = edit(), edit(title="")
    results = send(cadre, good, bad).json["results"]
    assert [r["status"] for r in results] == ["accepted", "invalid"]
    assert len(notes()[0]) == 1


def test_without_a_session_the_api_answers_401_json(client, notes):
    response = client.post(API + "/edits", json={"edits": [edit()]})
    assert response.status_code in (400, 401)  # CSRF or login: never a redirect to an HTML page
    assert client.get("/api/session").status_code == 401
    assert client.get("/api/session").json["error"] == "登录已过期，请重新登录"


def test_the_api_needs_the_csrf_header(cadre, notes):
    response = cadre.post(API + "/edits", json={"edits": [edit()]})
    assert response.status_code == 400 and response.json["ok"] is False
    assert notes() == ([], [])


def test_town_staff_and_other_villages_cannot_send(app, auth, notes):
    town = app.test_client()
    type(auth)(town).login(CHIHE)
    assert send(town, edit()).status_code == 403
    other = app.test_client()
    type(auth)(other).login(GUYAN)
    assert send(other, edit()).status_code == 404
    assert notes() == ([], [])


def test_a_record_of_another_village_cannot_be_edited_through_this_one(app, cadre, notes, auth):
    e = edit()
    send(cadre, e)
    change_note(app, e["uuid"], {"village_code": "610922104202"})
    answer = send(cadre, edit(uuid=e["uuid"], base=1, title="越权")).json["results"][0]
    assert answer["http"] == 403


def jpeg():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, "JPEG")
    return out.getvalue()


def test_files_go_up_once_by_their_hash(cadre, notes):
    data = jpeg()
    sha = hashlib.sha256(data).hexdigest()
    token = session_token(cadre)
    url = f"{API}/files/{sha}"
    assert cadre.head(url).status_code == 404
    assert cadre.put(url, data=data[:10], headers={"X-CSRFToken": token}).status_code == 400  # cut halfway
    assert cadre.put(url, data=data, headers={"X-CSRFToken": token, "Content-Type": "image/jpeg"}).status_code == 201
    assert cadre.head(url).status_code == 200
    assert cadre.put(url, data=data, headers={"X-CSRFToken": token}).json["stored"] is False
    text = b"just text"
    bad = hashlib.sha256(text).hexdigest()
    assert cadre.put(f"{API}/files/{bad}", data=text, headers={"X-CSRFToken": token}).status_code == 415


def test_session_gives_a_fresh_token_and_the_server_time(cadre):
    body = cadre.get("/api/session").json
    assert body["ok"] and body["csrf_token"] and body["server_time"] and body["user"]["username"] == MINGXING
    assert body["villages"] == [V]


def test_the_outbox_page_and_sync_bar_are_on_cadre_pages(cadre):
    home = cadre.get(f"/v/{V}/home").text
    assert 'id="sync-bar"' in home and "offline-pages" in home and "/outbox" in home
    page = cadre.get("/outbox")
    assert page.status_code == 200 and page.headers["X-Offline-Copy"] == "form" and "需处理" in page.text


def test_public_pages_do_not_load_the_outbox(app, cadre):
    text = cadre.get(f"/v/{V}/").text
    assert "outbox." not in text and "sync-bar" not in text
    assert json.loads(app.test_client().get("/manifest.webmanifest").data)["short_name"] == "村务通"


def test_the_village_home_points_to_waiting_conflicts(cadre, notes):
    e = edit()
    send(cadre, e)
    send(cadre, edit(uuid=e["uuid"], base=1, title="甲"))
    send(cadre, edit(uuid=e["uuid"], base=1, title="乙"))
    home = cadre.get(f"/v/{V}/home").text
    assert "1 处修改要比较两份后决定" in home and f"/v/{V}/conflicts/" in home
