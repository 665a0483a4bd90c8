"""The stores: one SQLite file per town (WAL, foreign keys, migrations), records with UUID and versions,
and the audit log written with every change."""
import shutil

import pytest
import sqlite_utils

from villageapp import audit, records
from villageapp import store
from villageapp.registry import data as registry

from conftest import CHIHE_TOWN, MINGXING, MINGXING_VILLAGE


@pytest.fixture
def town_db():
    db = sqlite_utils.Database(memory=True)
    store.town_migrations.apply(db)
    registry.add_village(db, MINGXING_VILLAGE, "明星村", "test")
    return db


def test_town_file_is_wal_with_foreign_keys(app):
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert db.execute("pragma foreign_keys").fetchone()[0] == 1
        with pytest.raises(Exception):
            db["households"].insert({"uuid": records.new_uuid(), "village_code": "610922104999", "head_name": "x"})


def test_migrations_are_recorded_and_run_once(app):
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        applied = [m.name for m in store.town_migrations.applied(db)]
        assert applied[:3] == ["m001_registry", "m002_notices", "m003_sync"]
        store.town_migrations.apply(db)
        assert [m.name for m in store.town_migrations.applied(db)] == applied
        assert not store.town_migrations.pending(db)


def test_every_person_made_record_carries_identity_and_version(town_db):
    for table in ("groups", "households", "residents", "notices", "objections", "villages"):
        columns = town_db[table].columns_dict
        for column in ("uuid", "created_at", "updated_at", "created_by", "version"):
            assert column in columns, f"{table}.{column}"


def test_create_is_idempotent_for_the_same_uuid(town_db):
    uid = records.new_uuid()
    first = registry.add_household(town_db, MINGXING_VILLAGE, "一组", "张三", "cadre", uuid=uid)
    again = registry.add_household(town_db, MINGXING_VILLAGE, "一组", "张三", "cadre", uuid=uid)
    assert first == again and town_db["households"].count == 1
    assert town_db["audit"].count_where("record_id = ?", [uid]) == 1


def test_create_refuses_a_uuid_that_names_someone_elses_record(town_db):
    uid = records.new_uuid()
    registry.add_household(town_db, MINGXING_VILLAGE, "一组", "张三", "cadre", uuid=uid)
    with pytest.raises(records.UuidTaken):
        registry.add_household(town_db, MINGXING_VILLAGE, "一组", "张三", "someone-else", uuid=uid)


def test_update_bumps_version_and_audits_before_and_after(town_db):
    house = registry.add_household(town_db, MINGXING_VILLAGE, "一组", "张三", "cadre")
    after = records.update(town_db, "households", house["uuid"], {"address": "一组8号"}, "town-clerk")
    assert after["version"] == 2 and after["updated_at"] >= house["updated_at"]
    entry = audit.entries(town_db, record_id=house["uuid"], action="update")[0]
    assert entry["actor"] == "town-clerk" and entry["summary"] == "修改 address"
    assert '"address": null' in entry["before"] and "一组8号" in entry["after"]


def test_a_failed_change_leaves_no_audit_entry(town_db):
    before = town_db["audit"].count
    with pytest.raises(Exception):
        with town_db.atomic():
            registry.add_household(town_db, MINGXING_VILLAGE, "一组", "李四", "cadre")
            raise RuntimeError("power cut")
    assert town_db["audit"].count == before and town_db["households"].count == 0


def test_village_code_must_start_with_the_town_code(town_db):
    with pytest.raises(ValueError):
        registry.add_village(town_db, "610922100201", "古堰村", "test")


def test_copying_a_town_file_copies_all_its_records(app, instance_path, tmp_path):
    source = instance_path / "towns" / f"{CHIHE_TOWN}.db"
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        db.execute("pragma wal_checkpoint(TRUNCATE)")
        counts = {t: db[t].count for t in db.table_names()}
        db.close()
    copy = tmp_path / "backup.db"
    shutil.copy(source, copy)
    copied = sqlite_utils.Database(copy)
    assert {t: copied[t].count for t in copied.table_names()} == counts
    assert counts["households"] > 0 and counts["notices"] > 0 and counts["audit"] > 0


def test_town_file_sits_under_the_instance_folder(app, instance_path):
    assert (instance_path / "towns" / f"{CHIHE_TOWN}.db").exists()
    assert (instance_path / "directory.db").exists()
    assert str(app.instance_path) == str(instance_path)


def test_audit_log_view_filters_by_village_and_action(app, client, auth):
    auth.login("chihe")
    page = client.get(f"/t/{CHIHE_TOWN}/audit/?village_code={MINGXING_VILLAGE}&action=publish")
    assert page.status_code == 200
    assert "发布" in page.text and "明星村" in page.text
    assert "五爱村" not in page.text.split('class="audit-log"')[1]


def test_audit_log_records_who_did_what(app, client, auth):
    auth.login(MINGXING)
    from conftest import csrf_from
    notice = next(iter(store.open_town(CHIHE_TOWN, app)["notices"].rows_where(
        "village_code = ? and category = '村务'", [MINGXING_VILLAGE])))
    client.post(f"/v/{MINGXING_VILLAGE}/notices/{notice['uuid']}/withdraw",
                data={"csrf_token": csrf_from(client.get("/account/password").text)})
    entries = audit.entries(store.open_town(CHIHE_TOWN, app), record_id=notice["uuid"])
    assert entries[0]["actor"] == MINGXING and entries[0]["action"] == "withdraw"
    assert entries[0]["village_code"] == MINGXING_VILLAGE


def test_an_anonymous_resend_matches_only_with_the_same_content(town_db):
    from villageapp.notices import data as notices
    from villageapp.clock import today
    notice, _ = notices.create_notice(town_db, MINGXING_VILLAGE, {"title": "公示", "category": "公示", "body": "名单",
                                                                  "publish_date": today().isoformat(),
                                                                  "end_date": today().isoformat()}, [], "cadre")
    uid = records.new_uuid()
    first = notices.file_objection(town_db, notice, {"uuid": uid, "body": "有异议", "name": None, "phone": None})
    assert notices.file_objection(town_db, notice, {"uuid": uid, "body": "有异议", "name": None, "phone": None}) == first
    with pytest.raises(records.UuidTaken):  # someone who learnt the UUID cannot read the first one back
        notices.file_objection(town_db, notice, {"uuid": uid, "body": "别的内容", "name": None, "phone": None})
    assert town_db["objections"].count == 1
