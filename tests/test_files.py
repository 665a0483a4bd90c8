"""Files of records (issue 10): the link table between records and the files they list (and its back-fill from the
meetings of before), the one way a stored file is served (the three file addresses answer as they did), and the one
helper that creates the table of a synced kind of record (record columns, keys, indexes, STRICT)."""
import hashlib
import io
import json
import sqlite3

import pytest
import sqlite_utils
from PIL import Image

from villageapp import attachments, records, store, sync
from villageapp import auth as accounts
from villageapp.meetings import data as meetings
from villageapp.registry import data as registry

from conftest import GUYAN, MINGXING, MINGXING_VILLAGE, Auth

V = f"/v/{MINGXING_VILLAGE}"
YEAR = "max-age=31536000, immutable"


def sha(n):
    return hashlib.sha256(str(n).encode()).hexdigest()


@pytest.fixture
def db():
    db = sqlite_utils.Database(memory=True)
    store.town_migrations.apply(db)
    registry.add_village(db, MINGXING_VILLAGE, "明星村", "test")
    return db


def jpeg(shade=255):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (shade, shade, shade)).save(out, "JPEG")
    return out.getvalue()


# ---- record_files: which files a record lists ------------------------------------------------------------------

def test_link_sets_a_records_files_to_exactly_the_list_in_its_order(db):
    record = records.new_uuid()
    attachments.link(db, "meetings", record, MINGXING_VILLAGE, [sha(1), sha(2), sha(3)], "mingxing")
    assert attachments.linked(db, record) == [sha(1), sha(2), sha(3)]
    first = db["record_files"].get((record, sha(2)))
    assert first["table"] == "meetings" and first["created_by"] == "mingxing"
    attachments.link(db, "meetings", record, MINGXING_VILLAGE, [sha(3), sha(2), sha(4), sha(3)], "guyan")  # reordered, one gone, one new
    assert attachments.linked(db, record) == [sha(3), sha(2), sha(4)]
    assert db["record_files"].get((record, sha(2)))["created_by"] == "mingxing"  # a link kept is the same link
    attachments.link(db, "meetings", record, MINGXING_VILLAGE, [], "mingxing")
    assert attachments.linked(db, record) == []
    assert attachments.linked(db, records.new_uuid()) == []


def test_links_of_one_record_leave_the_others_alone_and_a_file_may_be_linked_by_several(db):
    one, two = records.new_uuid(), records.new_uuid()
    attachments.link(db, "meetings", one, MINGXING_VILLAGE, [sha(1), sha(2)], "mingxing")
    attachments.link(db, "meetings", two, MINGXING_VILLAGE, [sha(2)], "mingxing")
    attachments.link(db, "meetings", one, MINGXING_VILLAGE, [sha(1)], "mingxing")
    assert attachments.linked(db, one) == [sha(1)] and attachments.linked(db, two) == [sha(2)]
    plan = " ".join(r[3] for r in db.execute("explain query plan select record_uuid from record_files where sha256 = ?",
                                             [sha(2)]))
    assert "USING INDEX" in plan  # "the records that show this photo" is a lookup, not a scan


def test_the_link_table_is_strict_and_refuses_a_record_without_its_table(db):
    assert "STRICT" in db["record_files"].schema
    with pytest.raises(sqlite3.IntegrityError):
        db["record_files"].insert({"table": "meetings", "record_uuid": records.new_uuid(), "village_code": MINGXING_VILLAGE,
                                   "sha256": sha(1), "sort": "first", "created_at": "2026-01-01"})
    with pytest.raises(sqlite3.IntegrityError):
        db["record_files"].insert({"record_uuid": records.new_uuid(), "sha256": sha(1), "sort": 0,
                                   "created_at": "2026-01-01"})


def test_the_migration_links_the_photos_old_meetings_list(db):
    old = sqlite_utils.Database(memory=True)
    store.town_migrations.apply(old, stop_before="m010_record_files")
    registry.add_village(old, MINGXING_VILLAGE, "明星村", "test")
    council_uuid = _council(old)
    rows = {"two": json.dumps([sha(1), sha(2), sha(1)]), "none": "[]", "null": None, "broken": "[not json",
            "object": json.dumps({"a": sha(3)}), "mixed": json.dumps([sha(4), 7, None])}
    uuids = {}
    for key, photos in rows.items():
        uuids[key] = records.create(old, "meetings", {"village_code": MINGXING_VILLAGE, "council_uuid": council_uuid,
                                                      "starts_at": "2026-03-01T14:00", "photos": photos}, "mingxing")[0]["uuid"]
    store.town_migrations.apply(old)
    assert attachments.linked(old, uuids["two"]) == [sha(1), sha(2)]  # in the list's order, a repeat once
    assert attachments.linked(old, uuids["mixed"]) == [sha(4)]
    for key in ("none", "null", "broken", "object"):
        assert attachments.linked(old, uuids[key]) == [], key
    link = old["record_files"].get((uuids["two"], sha(2)))
    assert link["table"] == "meetings" and link["created_by"] == "mingxing" and link["sort"] == 1


def _council(db):
    stamp = "2026-01-01T00:00:00"
    uid = records.new_uuid()
    db["councils"].insert({"uuid": uid, "village_code": MINGXING_VILLAGE, "name": "红白理事会", "kind": "council",
                           "sort": 1, "created_at": stamp, "updated_at": stamp, "version": 1})
    return uid


def _meeting_kind(app):
    registry_ = app.extensions.get("villageapp")
    if registry_ is not None:
        return registry_.kinds["meeting"]
    from villageapp import sync
    return sync.TYPES["meeting"]


def test_minutes_saved_through_the_sync_path_link_their_photos(app):
    if not getattr(_meeting_kind(app), "files", None):
        pytest.skip("the meeting kind does not declare files='photos' yet")
    with app.test_request_context():
        db = store.open_town(MINGXING_VILLAGE[:9], app)
        directory = store.open_directory(app)
        cadre = accounts.load_user_row(directory, directory.execute("select id from users where username = ?",
                                                                    [MINGXING]).fetchone()[0])
        photos = [meetings.store_photo(db, MINGXING_VILLAGE, f"签到表{n}.jpg", jpeg(n), MINGXING) for n in (1, 2)]
        council = next(db["councils"].rows_where("village_code = ? and name = '红白理事会'", [MINGXING_VILLAGE]))
        uid = records.new_uuid()
        payload = [["council", council["uuid"]], ["date", "2026-03-01"], ["time", "14:00"]]

        def send(photo_list, base):
            answer = sync.apply_edit(db, cadre, MINGXING_VILLAGE, {
                "edit_id": records.new_uuid(), "uuid": uid, "type": "meeting", "base_version": base,
                "payload": payload + [["photos", p] for p in photo_list]})
            assert answer["status"] == "accepted", answer
            return answer["version"]

        version = send([photos[1], photos[0]], None)
        assert attachments.linked(db, uid) == [photos[1], photos[0]]
        send([photos[0]], version)
        assert attachments.linked(db, uid) == [photos[0]]
        assert attachments.linked(db, uid) == json.loads(db["meetings"].get(uid)["photos"])


# ---- one way to serve a stored file: the three addresses answer as before ---------------------------------------

def _files(app):
    """A photo of 明星村, an attachment of a public notice and of a rule version under review."""
    with app.app_context():
        db = store.open_town(MINGXING_VILLAGE[:9], app)
        photo = meetings.store_photo(db, MINGXING_VILLAGE, "签到表.jpg", jpeg(), MINGXING)
        notice = next(db["notices"].rows_where("village_code = ? and category = '公示' and status = 'published'",
                                               [MINGXING_VILLAGE]))
        notice_file = attachments.add(db, notice["uuid"], "名单.pdf", "application/pdf", b"%PDF-1.4 list", "test")
        version = next(db["rule_versions"].rows_where("village_code = ? and stage = 'review'", [MINGXING_VILLAGE]))
        rule_file = attachments.add(db, version["uuid"], "审查意见.pdf", "application/pdf", b"%PDF-1.4 rules", "test")
        db.close()
    return {"photo": f"{V}/files/{photo}", "notice": f"{V}/notices/{notice['uuid']}/files/{notice_file}",
            "rule": f"{V}/rules/versions/{version['uuid']}/files/{rule_file}", "photo_sha": photo,
            "notice_uuid": notice["uuid"]}


def _sent(response, content_type, disposition, cache):
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Disposition"] == disposition
    assert response.headers["Cache-Control"] == cache
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == attachments.FILE_CSP


def test_the_three_file_addresses_answer_with_the_same_headers_as_before(app, client, auth):
    urls = _files(app)
    public = app.test_client()
    _sent(public.get(urls["notice"]), "application/pdf", "attachment; filename=.pdf; filename*=UTF-8''%E5%90%8D%E5%8D%95.pdf",
          f"public, {YEAR}")
    assert public.get(urls["notice"]).data == b"%PDF-1.4 list"
    for url in (urls["photo"], urls["rule"]):
        assert public.get(url).status_code in (302, 401, 403)  # not for the public
    auth.login(MINGXING)
    photo = client.get(urls["photo"])
    _sent(photo, "image/jpeg", f"inline; filename={urls['photo_sha'][:12]}", f"private, {YEAR}")
    upper = client.get(urls["photo"].replace(urls["photo_sha"], urls["photo_sha"].upper()))  # found by its hash in any case
    _sent(upper, "image/jpeg", f"inline; filename={urls['photo_sha'][:12].upper()}", f"private, {YEAR}")
    _sent(client.get(urls["rule"]), "application/pdf",
          "attachment; filename=.pdf; filename*=UTF-8''%E5%AE%A1%E6%9F%A5%E6%84%8F%E8%A7%81.pdf", f"private, {YEAR}")
    client.post(f"{V}/notices/{urls['notice_uuid']}/withdraw", data={"csrf_token": auth.token()})
    _sent(client.get(urls["notice"]), "application/pdf", "attachment; filename=.pdf; filename*=UTF-8''%E5%90%8D%E5%8D%95.pdf",
          f"private, {YEAR}")  # a withdrawn notice's file: the village's cadres only, and not kept by shared caches
    assert public.get(urls["notice"]).status_code == 404


def test_a_file_that_is_not_there_or_not_the_villages_answers_404(app, client, auth):
    urls = _files(app)
    auth.login(MINGXING)
    for url in (urls["photo"], urls["notice"], urls["rule"]):
        assert client.get(url[:-64] + sha("absent")).status_code == 404
    other = app.test_client()
    Auth(other).login(GUYAN)  # another town's cadre
    for url in (urls["photo"], urls["rule"]):
        assert other.get(url).status_code in (403, 404)


# ---- synced_table: the table of a new kind of record --------------------------------------------------------------

def test_synced_table_adds_the_record_columns_keys_and_indexes(db):
    table = store.synced_table(db, "cases", {"title": str, "household_uuid": str, "stars": int},
                               foreign_keys=[("household_uuid", "households", "uuid")],
                               indexes=[("household_uuid",)], unique_indexes=[("village_code", "title")],
                               not_null={"title"}, defaults={"stars": 0})
    columns = table.columns_dict
    for column, kind in {"uuid": str, "village_code": str, "version": int, "created_at": str, "updated_at": str,
                         "created_by": str, "conflict": int, "title": str, "household_uuid": str, "stars": int}.items():
        assert columns[column] is kind, column
    assert table.pks == ["uuid"]
    assert {(fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys} == {
        ("village_code", "villages", "code"), ("household_uuid", "households", "uuid")}
    indexes = {tuple(i.columns): i.unique for i in table.indexes}
    assert indexes[("village_code", "created_at")] == 0 and indexes[("household_uuid",)] == 0
    assert indexes[("village_code", "title")] == 1
    assert "STRICT" in table.schema
    row, _ = records.create(db, "cases", {"village_code": MINGXING_VILLAGE, "title": "邻里纠纷"}, "mingxing")
    assert row["conflict"] == 0 and row["stars"] == 0 and row["version"] == 1


def test_a_synced_table_refuses_a_value_of_the_wrong_type_and_a_missing_village(db):
    store.synced_table(db, "cases", {"title": str, "stars": int})
    base = {"uuid": records.new_uuid(), "village_code": MINGXING_VILLAGE, "title": "邻里纠纷", "version": 1,
            "created_at": "2026-01-01", "updated_at": "2026-01-01"}
    with pytest.raises(sqlite3.IntegrityError, match="cannot store TEXT value in INTEGER column"):
        db["cases"].insert({**base, "stars": "five"})
    db["cases"].insert({**base, "stars": "5"})  # text that is a number is still taken as one (SQLite's STRICT rule)
    assert db["cases"].get(base["uuid"])["stars"] == 5
    db.execute("pragma foreign_keys = on")
    with pytest.raises(sqlite3.IntegrityError):
        db["cases"].insert({**base, "uuid": records.new_uuid(), "village_code": "610922104999"})
    with pytest.raises(sqlite3.IntegrityError):
        db["cases"].insert({**base, "uuid": records.new_uuid(), "village_code": None})


def test_synced_table_refuses_to_redefine_a_record_column(db):
    with pytest.raises(ValueError, match="record columns"):
        store.synced_table(db, "cases", {"title": str, "version": str})
    assert not db["cases"].exists()
