"""Many writers on one town file: twenty browsers at once, each with its own sign-in (or none, for villagers),
write through HTTP to a real `villageapp serve` (waitress in a subprocess) on every kind of write route. No answer
is a 500 or says "database is locked", nor does the server's stderr, and the rows in the file are exactly the
writes the server accepted; where only one of the twenty may win, one wins and the others are told why.
The same code runs longer in bench/writers.py."""
import importlib.util
import os
import shutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("bench_writers", os.path.join(ROOT, "bench", "writers.py"))
writers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(writers)

WRITERS, WRITES = 20, 5  # 20 at once, 100 writes per route kind


@pytest.fixture(scope="module")
def served(demo_instance, tmp_path_factory):
    instance = tmp_path_factory.mktemp("writers") / "instance"
    shutil.copytree(demo_instance, instance)
    ctx = writers.prepare(instance)
    with writers.Server(instance, threads=32) as server:
        yield server, ctx


@pytest.mark.parametrize("kind", list(writers.KINDS))
def test_twenty_writers_at_once_lose_nothing_and_never_fail(served, kind):
    """Each kind's own check (writers.problems): every answer the expected one (no 500), no "database is locked"
    anywhere, the rows in the file exactly the accepted writes; where only one may win (the same 村规民约 step, the
    same minutes confirmed), exactly one accepted and one stored, the others refused with the reason."""
    server, ctx = served
    writes = writers.KINDS[kind].test_writes or WRITES
    seen = len(server.stderr())
    result = writers.run_kind(server, ctx, kind, writers=WRITERS, writes=writes)
    assert writers.problems(result, server.stderr()[seen:]) == []
    assert result["requests"] == WRITERS * writes
    assert len(result["accepted"]) == (1 if result["one_wins"] else WRITERS * writes)


def test_a_write_waits_for_another_process_holding_the_lock_and_nested_writes_are_savepoints(tmp_path):
    """What write() promises, on a real file: a write that reads first waits for a writer outside this process
    (a plain sqlite3 connection, as another worker's would be) instead of failing; an inner write that fails
    rolls back only itself."""
    import sqlite3
    import threading
    import time

    from villageapp import store
    path = tmp_path / "t.db"
    db = store.open_db(path)
    db["t"].create({"id": int, "v": str}, pk="id")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("insert into t (v) values ('other')")
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    t0 = time.monotonic()
    with store.write(db):
        seen = db.execute("select count(*) from t").fetchone()[0]  # read first …
        db["t"].insert({"v": "mine"})                                # … then write
    assert time.monotonic() - t0 >= 0.4 and seen == 1  # waited, and read the other writer's row
    release.join()
    other.close()
    with store.write(db):
        db["t"].insert({"v": "outer"})
        with pytest.raises(ValueError):
            with store.write(db):
                db["t"].insert({"v": "inner"})
                raise ValueError
    assert [r["v"] for r in db["t"].rows] == ["other", "mine", "outer"]
    assert not db.conn.in_transaction
    db.close()
