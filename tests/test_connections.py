"""Connections kept per thread (issue 14): a second request on the same thread reuses the open files (no new
sqlite3.connect, no PRAGMAs again), a file replaced by a restore is opened anew, no transaction outlives a request,
and the remembered schema sees a table another connection added."""
import sqlite3

from villageapp import backup, records, store

from conftest import CHIHE_TOWN, MINGXING_VILLAGE

PAGE = f"/v/{MINGXING_VILLAGE}/"


def _count_connects(monkeypatch):
    opened = []
    real = sqlite3.connect

    def connect(path, *args, **kwargs):
        opened.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    return opened


def _notice(db, title):
    records.create(db, "notices", {"village_code": MINGXING_VILLAGE, "title": title, "category": "村务", "body": "",
                                   "publish_date": "2026-01-01"}, "test")


def test_a_second_request_on_the_same_thread_reuses_the_connections(app, client, monkeypatch):
    store.forget_open_stores()
    opened = _count_connects(monkeypatch)
    assert client.get(PAGE).status_code == 200
    assert sorted(p.rsplit("/", 1)[-1] for p in opened) == ["610922104.db", "directory.db"]
    statements = []
    with app.test_request_context():
        for db in (store.directory(), store.town_db(CHIHE_TOWN)):
            db.conn.set_trace_callback(statements.append)
    opened.clear()
    for _ in range(3):
        assert client.get(PAGE).status_code == 200
    assert opened == []  # no new sqlite3.connect
    assert statements and not [s for s in statements if "sqlite_master" in s or s.upper().startswith("PRAGMA")
                               and "schema_version" not in s]


def test_a_town_file_replaced_by_a_restore_is_opened_anew(app, client, instance_path, tmp_path):
    db = store.open_town(CHIHE_TOWN, app)
    _notice(db, "备份之前发布")
    db.close()
    assert "备份之前发布" in client.get(PAGE).text  # the thread now holds the town file open
    assert backup.backup(str(instance_path), str(tmp_path / "backup"), log=lambda *_: None) is not None
    kept = store.open_db(tmp_path / "backup" / "towns" / f"{CHIHE_TOWN}.db")
    _notice(kept, "只在备份里")
    kept.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    kept.close()
    db = store.open_town(CHIHE_TOWN, app)
    _notice(db, "备份之后发布")
    db.close()
    assert "备份之后发布" in client.get(PAGE).text
    backup.restore(str(tmp_path / "backup"), str(instance_path), force=True, log=lambda *_: None)
    page = client.get(PAGE).text
    assert "只在备份里" in page and "备份之前发布" in page and "备份之后发布" not in page


def test_no_transaction_outlives_a_request_and_the_connection_stays_open(app):
    with app.test_request_context():
        db = store.town_db(CHIHE_TOWN)
        db.conn.execute("BEGIN")
        db.conn.execute("update villages set name = name")
        assert db.conn.in_transaction
    assert not db.conn.in_transaction  # rolled back at teardown, not left holding the file
    with app.test_request_context():
        assert store.town_db(CHIHE_TOWN) is db
        assert db.execute("select count(*) from villages").fetchone()[0] > 0  # still open


def test_the_remembered_schema_sees_a_table_another_connection_added(app):
    with app.test_request_context():
        assert "added_elsewhere" not in store.town_db(CHIHE_TOWN).table_names()
    other = sqlite3.connect(store.town_path(CHIHE_TOWN, app))
    other.execute("create table added_elsewhere (id integer primary key, note text)")
    other.commit()
    other.close()
    with app.test_request_context():
        db = store.town_db(CHIHE_TOWN)
        assert "added_elsewhere" in db.table_names()
        assert [c.name for c in db["added_elsewhere"].columns] == ["id", "note"]
        db["added_elsewhere"].insert({"id": 1, "note": "x"})
        assert db["added_elsewhere"].count == 1
