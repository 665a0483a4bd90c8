"""`villageapp backup DEST` while the app writes, and `villageapp restore SRC`: every copy whole (integrity_check),
every write committed before the backup started in it, writers never failed by it, and a restored instance served
by a real `villageapp serve` shows the public page and lets a cadre sign in."""
import importlib.util
import os
import sqlite3
import threading
import time

from conftest import CHIHE_TOWN, MINGXING, MINGXING_VILLAGE, _app

from villageapp import store
from villageapp import records

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("bench_writers", os.path.join(ROOT, "bench", "writers.py"))
writers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(writers)

TOWN_FILE = os.path.join("towns", f"{CHIHE_TOWN}.db")


def _rows(path, sql, args=()):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute(sql, args)]
    finally:
        conn.close()


def _write_while(app, threads):
    """THREADS writers (8 on the town file, the rest on directory.db) until the returned stop() is called;
    stop() returns [(mark, monotonic time it was committed)] and the writers' errors."""
    committed, errors, stop = [], [], threading.Event()
    lock = threading.Lock()

    def writer(w):
        town = w < 8
        db = store.open_town(CHIHE_TOWN, app) if town else store.open_directory(app)
        i = 0
        try:
            while not stop.is_set():
                mark = f"bk-{w}-{i}"
                if town:
                    records.create(db, "notices", {"village_code": MINGXING_VILLAGE, "title": mark, "category": "村务",
                                                   "body": "备份时写入", "publish_date": "2026-01-01"}, "test")
                else:
                    with store.write(db):
                        db["audit"].insert({"at": "2026-01-01", "actor": "test", "action": "test", "summary": mark})
                with lock:
                    committed.append((mark, time.monotonic()))
                i += 1
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(e)
        finally:
            db.close()
    pool = [threading.Thread(target=writer, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()

    def finish():
        stop.set()
        for t in pool:
            t.join()
        return committed, errors
    return finish, lock, committed


def test_a_backup_taken_while_ten_threads_write_is_whole_and_a_restored_copy_serves(app, runner, instance_path, tmp_path):
    dest = tmp_path / "backup"
    finish, lock, committed = _write_while(app, 10)
    time.sleep(0.5)
    with lock:
        before = {mark for mark, _t in committed}  # committed before the backup started
    started = time.monotonic()
    result = runner.invoke(args=["backup", str(dest)])
    ended = time.monotonic()
    time.sleep(0.2)
    done, errors = finish()
    assert result.exit_code == 0, result.output
    assert errors == []  # no writer was refused or failed while the backup ran
    assert any(started < t < ended for _mark, t in done), "no write committed during the backup: it tested nothing"
    copies = sorted(os.path.relpath(os.path.join(d, f), dest) for d, _s, files in os.walk(dest) for f in files if f.endswith(".db"))
    assert copies == sorted(["directory.db", *(os.path.join("towns", f) for f in os.listdir(instance_path / "towns")
                                               if f.endswith(".db"))])
    for name in copies:
        assert _rows(dest / name, "PRAGMA integrity_check") == ["ok"], name
        assert not os.path.exists(dest / (name + "-wal"))  # one self-contained file each
    in_backup = set(_rows(dest / TOWN_FILE, "select title from notices where title like 'bk-%'"))
    in_backup |= set(_rows(dest / "directory.db", "select summary from audit where summary like 'bk-%'"))
    assert before <= in_backup and len(before) > 10
    assert in_backup <= {mark for mark, _t in done}  # nothing that was not written

    restored = tmp_path / "restored"
    restore = _app(restored).test_cli_runner().invoke(args=["restore", str(dest)])
    assert restore.exit_code == 0, restore.output
    assert set(_rows(restored / TOWN_FILE, "select title from notices where title like 'bk-%'")) == \
        {m for m in in_backup if m.startswith("bk-") and int(m.split("-")[1]) < 8}
    with writers.Server(restored, threads=4) as server:
        public = writers.Browser(server.base)
        status, text = public.get(f"/v/{MINGXING_VILLAGE}/")
        assert status == 200 and "明星村" in text
        cadre = writers.Browser(server.base)
        cadre.login(MINGXING)  # raises unless the sign-in is answered with its redirect
        newest = _rows(restored / TOWN_FILE, "select title from notices order by created_at desc, rowid desc limit 1")[0]
        status, text = cadre.get(f"/v/{MINGXING_VILLAGE}/notices/")
        assert status == 200 and newest.startswith("bk-") and newest in text
        assert "Traceback" not in server.stderr()


def test_restore_refuses_a_damaged_backup_and_a_folder_with_data_unless_forced(app, runner, instance_path, tmp_path):
    dest = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(dest)]).exit_code == 0
    again = runner.invoke(args=["backup", str(dest)])
    assert again.exit_code != 0 and "已经有文件了" in again.output  # a backup never overwrites another one

    db = store.open_town(CHIHE_TOWN, app)  # written after the backup: a restore takes it away
    records.create(db, "notices", {"village_code": MINGXING_VILLAGE, "title": "备份之后发布", "category": "村务",
                                   "body": "", "publish_date": "2026-01-01"}, "test")
    db.close()
    client = app.test_client()
    assert "备份之后发布" in client.get(f"/v/{MINGXING_VILLAGE}/").text

    refused = runner.invoke(args=["restore", str(dest)])
    assert refused.exit_code != 0 and "--force" in refused.output
    assert "备份之后发布" in client.get(f"/v/{MINGXING_VILLAGE}/").text  # nothing replaced

    damaged = tmp_path / "damaged"
    os.makedirs(damaged / "towns")
    for name in os.listdir(dest / "towns"):
        (damaged / "towns" / name).write_bytes((dest / "towns" / name).read_bytes())
    (damaged / "directory.db").write_bytes((dest / "directory.db").read_bytes()[:4096] + b"\x00garbage" * 500)
    broken = runner.invoke(args=["restore", "--force", str(damaged)])
    assert broken.exit_code != 0 and "已损坏" in broken.output
    assert "备份之后发布" in client.get(f"/v/{MINGXING_VILLAGE}/").text  # a damaged backup changes nothing

    forced = runner.invoke(args=["restore", "--force", str(dest)])
    assert forced.exit_code == 0, forced.output
    page = client.get(f"/v/{MINGXING_VILLAGE}/")  # the same app opens the replaced files anew
    assert page.status_code == 200 and "明星村" in page.text and "备份之后发布" not in page.text
    aside = [d for d in os.listdir(instance_path) if d.startswith("before-restore-")]
    assert len(aside) == 1
    kept = instance_path / aside[0] / TOWN_FILE
    assert _rows(kept, "select count(*) from notices where title = '备份之后发布'") == [1]  # the replaced file is kept whole
