"""Server throughput of the sync API against a raw insert (target: the API ≤ 10× a raw sqlite-utils insert_all).

    python bench/sync_throughput.py [--records 10000] [--batch 50] [--profile]

Builds a demo county in a temp folder. Then:
  1. API: cadre mingxing logs in through the Flask test client, fetches a CSRF token from /api/session and POSTs
     N meeting minutes to /api/v/<village>/edits in batches of 50, as a phone does (each edit validated by the
     meeting's Flask-WTF form, stored with its revision, receipt and audit entry, exactly-once by UNIQUE(edit_id)).
  2. Raw: the same N rows, read back from the meetings table, inserted with sqlite-utils insert_all into an empty
     copy of the table (same columns, keys and indexes) in a copy of the same town file, opened the app's way
     (WAL, foreign keys, busy timeout).
Prints both times and the ratio. With --profile, runs the API part again under cProfile and prints the top costs.
Prints figures; it is not a test."""
import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
import uuid as uuidlib
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from villageapp import create_app  # noqa: E402
from villageapp import store  # noqa: E402
from villageapp import demo  # noqa: E402
from villageapp.store import open_db, open_town, town_path  # noqa: E402

TARGET_RATIO = 10.0
VILLAGE, TOWN = "610922104201", "610922104"


def minutes(council, tag, i):
    fields = {"council": council, "date": "2026-03-02", "time": "14:30", "place": f"{tag}-{i}", "host": "张德明",
              "recorder": "王会计", "present": "5", "others": "", "agenda-0-title": "修村道",
              "agenda-0-discussion": "大家同意先修东头，费用按户分摊。", "agenda-0-decision": "下月动工",
              "agenda-0-votes_for": "4", "agenda-0-votes_against": "0", "agenda-0-votes_abstain": "1"}
    return {"edit_id": str(uuidlib.uuid4()), "uuid": str(uuidlib.uuid4()), "type": "meeting", "base_version": None,
            "payload": [[k, v] for k, v in fields.items()]}


def login(app):
    client = app.test_client()
    page = client.get("/login").text
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"username": "mingxing", "password": demo.PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


def sync_all(client, edits, batch):
    token = client.get("/api/session").json["csrf_token"]
    requests = 0
    for start in range(0, len(edits), batch):
        response = client.post(f"/api/v/{VILLAGE}/edits", json={"edits": edits[start:start + batch]},
                               headers={"X-CSRFToken": token})
        requests += 1
        assert response.status_code == 200, response.text
        statuses = {r["status"] for r in response.json["results"]}
        assert statuses == {"accepted"}, response.json["results"][:3]
    return requests


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="profile the API run (cProfile) and print the top costs")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="sync-throughput-")
    os.environ["VILLAGEAPP_INSTANCE_PATH"] = folder
    app = create_app({"SECRET_KEY": "bench"})
    demo.build(app, households=6, log=lambda *_: None)
    pristine = os.path.join(folder, "pristine-town.db")
    shutil.copy(town_path(TOWN, app), pristine)  # before the API run: the raw insert starts from the same file

    with app.app_context():
        db = open_town(TOWN, app)
        council = db.execute("select uuid from councils where village_code = ? and name = '村民议事会'", [VILLAGE]).fetchone()[0]
        db.close()

    # 1. through the HTTP API
    client = login(app)
    edits = [minutes(council, "api", i) for i in range(args.records)]
    t = time.perf_counter()
    requests = sync_all(client, edits, args.batch)
    api_seconds = time.perf_counter() - t

    with app.app_context():
        db = open_town(TOWN, app)
        rows = list(db.query("select * from meetings where place like 'api-%' order by place"))
        revisions = db.execute("select count(*) from revisions where uuid in (select uuid from meetings where place like 'api-%')").fetchone()[0]
        table_sql = db.execute("select sql from sqlite_master where type = 'table' and name = 'meetings'").fetchone()[0]
        index_sql = [r[0] for r in db.execute("select sql from sqlite_master where type = 'index' and tbl_name = 'meetings' and sql is not null")]
        db.close()
    assert len(rows) == args.records and revisions == args.records, (len(rows), revisions)

    # 2. raw: the same rows into an empty copy of the table, in a copy of the same town file
    raw = open_db(pristine)
    raw.execute(re.sub(r'^CREATE TABLE ["\[]?meetings["\]]?', 'CREATE TABLE "meetings_raw"', table_sql))
    for sql in index_sql:
        sql = re.sub(r'INDEX ["\[]?idx_meetings_', 'INDEX "idx_meetings_raw_', sql)
        raw.execute(re.sub(r'ON ["\[]?meetings["\]]? ', 'ON "meetings_raw" ', sql))
    assert raw["meetings_raw"].count == 0 and raw["meetings_raw"].columns_dict == raw["meetings"].columns_dict
    t = time.perf_counter()
    raw["meetings_raw"].insert_all(rows)
    raw_seconds = time.perf_counter() - t
    assert raw["meetings_raw"].count == args.records
    raw.close()

    ratio = api_seconds / raw_seconds
    print(f"{args.records} meeting records")
    print(f"  HTTP API (Flask test client, {requests} POSTs of {args.batch}): {api_seconds:.2f} s "
          f"({args.records / api_seconds:.0f} records/s, {api_seconds / args.records * 1000:.2f} ms each)")
    print(f"  raw sqlite-utils insert_all of the same rows:  {raw_seconds:.3f} s ({args.records / raw_seconds:.0f} rows/s, "
          f"{raw_seconds / args.records * 1000:.3f} ms each)")
    print(f"  ratio API / raw: {ratio:.1f}× (target ≤ {TARGET_RATIO:.0f}×) {'OK' if ratio <= TARGET_RATIO else 'MISSED'}")

    if args.profile:
        more = [minutes(council, "prof", i) for i in range(min(args.records, 2000))]
        statements = Counter()
        original_open = store.open_db

        def traced_open(path):  # count what the app asks SQLite for, by kind
            db = original_open(path)
            db.conn.set_trace_callback(lambda sql: statements.update([_kind(sql)]))
            return db

        store.open_db = traced_open
        store.forget_open_stores()  # the app keeps this thread's connections: open them again, traced
        profiler = cProfile.Profile()
        profiler.enable()
        sync_all(client, more, args.batch)
        profiler.disable()
        store.open_db = original_open
        store.forget_open_stores()
        stats = pstats.Stats(profiler, stream=io.StringIO())
        total = cumulative(stats, "sync_throughput.py", "sync_all")
        print(f"\ncProfile of the API syncing {len(more)} more records ({total:.2f} s under the profiler): where the time goes")
        for label, where, name in PARTS:
            seconds = cumulative(stats, where, name)
            print(f"  {seconds:6.2f} s {seconds / total:5.0%}  {seconds / len(more) * 1000:5.2f} ms/record  {label}")
        total_sql = sum(statements.values())
        print(f"  SQL statements: {total_sql} ({total_sql / len(more):.0f} per record); the most frequent kinds, per record:")
        for kind, n in statements.most_common(10):
            print(f"    {n / len(more):5.1f}  {kind}")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print("\ntop 15 functions by own time:")
        print(_trim(out.getvalue()))


# (label, file ends with, function): cumulative time of each, nested parts indented
PARTS = [
    ("the /edits view (JSON in, answers out, inside Flask)", "villageapp/sync.py", "edits"),
    ("apply_edits: all the sync work", "villageapp/sync.py", "apply_edits"),
    ("  _check: look-up + form + validation, per edit", "villageapp/sync.py", "_check"),
    ("    _stored: is this edit_id known?", "villageapp/sync.py", "_stored"),
    ("    make_meeting_form: build the WTForms form (5 forms, 35 fields per record)", "meetings/forms.py", "make_meeting_form"),
    ("      councils.councils: the village's councils, queried per edit", "councils/data.py", "councils"),
    ("      councils.members: the roster, queried per edit", "councils/data.py", "members"),
    ("    MeetingForm.validate", "meetings/forms.py", "validate"),
    ("  _write: store record + revision + receipt + audit", "villageapp/sync.py", "_write"),
    ("    records.create (insert, read back, audit)", "villageapp/records.py", "create"),
    ("      audit.record", "villageapp/audit.py", "record"),
    ("    meeting_columns (form → columns, JSON)", "meetings/forms.py", "meeting_columns"),
    ("    content_hash", "villageapp/sync.py", "content_hash"),
    ("  sqlite-utils Table.insert (all inserts)", "sqlite_utils/db.py", "insert"),
    ("opening the town file per request (open_town + migrations check)", "villageapp/store.py", "open_town"),
]


def _kind(sql):
    """A statement without its values: its first words and the table it is about."""
    sql = " ".join(sql.split())
    match = re.match(r"(PRAGMA \w+(?:\(\[?\w+\]?\))?|\w+(?: \w+)?(?: INTO| FROM)? \[?\"?\w+)", sql, re.IGNORECASE)
    return match.group(1) if match else sql[:40]


def cumulative(stats, where, name):
    return sum(v[3] for k, v in stats.stats.items() if k[0].endswith(where) and k[2] == name)


def _trim(text):
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    return "\n".join(line.replace(os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/", "")
                     for line in lines[start:] if line.strip())


if __name__ == "__main__":
    main()
