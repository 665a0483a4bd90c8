"""The directory database (towns, accounts) and the per-town stores (one SQLite file per town):
opening them for a request, closing them, and their schemas as sqlite-utils migrations."""
import contextlib
import itertools
import os
import re
import sqlite3
import threading

import sqlite_utils
from flask import current_app, g
from sqlite_utils.migrations import Migrations

TOWN_CODE = re.compile(r"^\d{9}$")  # 统计用区划代码: county (6) + town (3)
VILLAGE_CODE = re.compile(r"^\d{12}$")  # town (9) + village (3)

RECORD_COLUMNS = {  # every record a person creates carries these
    "uuid": str, "created_at": str, "updated_at": str, "created_by": str, "version": int,
}

directory_migrations = Migrations("villageapp.directory")
town_migrations = Migrations("villageapp.town")
_migrated = set()  # files this process has already brought up to date (checked once, not on every request)


# How long a write waits for another writer of the same file to finish before giving up. Write transactions take
# milliseconds, but twenty at once (plus a WAL checkpoint) queue up, and SQLite's busy handler is not a fair queue:
# an unlucky writer can lose several rounds. 30 s is far beyond any queue measured (bench/writers.py) and still
# shorter than a proxy's usual 60 s: a cadre's save waits a little rather than failing. Readers never wait (WAL).
BUSY_TIMEOUT_MS = 30_000
_savepoints = itertools.count()
# One queue per file inside this process, in front of SQLite's lock. SQLite's busy handler polls (sleeps of up to
# 100 ms), so among twenty waiting threads the one that wins is the one that happens to wake when the lock is free:
# some waited 12 s under load. A threading.Lock wakes a waiter as soon as the writer before it finishes. Other
# processes (gunicorn -w 3) still meet at SQLite's lock, one writer per process at most.
_write_locks = {}
_write_locks_guard = threading.Lock()


def _write_lock(path):
    key = os.path.realpath(str(path))
    with _write_locks_guard:
        return _write_locks.setdefault(key, threading.Lock())


class Store(sqlite_utils.Database):
    """A sqlite-utils database whose every transaction is a write(): sqlite-utils' own atomic() (used inside
    insert, update, upsert, migrations…) becomes BEGIN IMMEDIATE, or a savepoint inside a write already open.

    A store kept by a thread across requests (town_db, directory) also remembers its schema: sqlite-utils asks
    sqlite_master for the table and view names and PRAGMA table_info for the columns on nearly every call (rows_where,
    get, insert: 38 look-ups per synced record). Checked once per request against PRAGMA schema_version (another
    connection's migration is seen at the next request); DDL through this store stops the remembering until the
    request ends."""
    schema = None  # None: not remembered (stores opened for a command or a test); else a dict, see _schema

    def _schema(self):
        memo = self.schema
        if memo is None or memo.get("off"):
            return None
        if not memo.get("checked"):
            version = self.conn.execute("PRAGMA schema_version").fetchone()[0]
            if memo.get("version") != version:
                memo.clear()
                memo["version"] = version
            memo["checked"] = True
        return memo

    def end_request(self):
        """The schema is checked again at the next request (and forgotten if this one changed it)."""
        if self.schema is not None:
            if self.schema.get("off"):
                self.schema.clear()
            self.schema["checked"] = False

    def execute(self, sql, parameters=None):
        if self.schema is not None and _DDL.match(sql):
            self.schema["off"] = True
        return super().execute(sql, parameters)

    def executescript(self, sql):
        if self.schema is not None:
            self.schema["off"] = True
        return super().executescript(sql)

    def table_names(self, fts4=False, fts5=False):
        memo = None if fts4 or fts5 else self._schema()
        if memo is None:
            return super().table_names(fts4, fts5)
        if "tables" not in memo:
            memo["tables"] = frozenset(super().table_names())
        return list(memo["tables"])

    def view_names(self):
        memo = self._schema()
        if memo is None:
            return super().view_names()
        if "views" not in memo:
            memo["views"] = frozenset(super().view_names())
        return list(memo["views"])

    def table(self, table_name, **kwargs):
        table = super().table(table_name, **kwargs)
        if self.schema is not None:
            table.__class__ = _RememberedTable
        return table


_DDL = re.compile(r"\s*(create|drop|alter)\b", re.IGNORECASE)


def rows(db, sql, params=()):
    """Plain SQL → a list of dicts, for hot paths: no schema look-ups, no savepoint around it (db.query has one)."""
    cursor = db.conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values)) for values in cursor]


def row(db, sql, params=()):
    """The first row of plain SQL as a dict, or None."""
    found = rows(db, sql, params)
    return found[0] if found else None


_PLAIN = (str, int, float, bytes, type(None))


def insert_row(db, table, row):
    """Insert one row with plain SQL inside write() (sqlite-utils' insert costs more than the INSERT on the sync
    path: it builds and checks the statement each time). Values that are not plain (a dict, a date) go the sqlite-utils
    way, which turns them into JSON or text. Returns the new rowid."""
    if not all(isinstance(value, _PLAIN) for value in row.values()):
        return db[table].insert(row).last_rowid
    names = list(row)
    sql = (f"INSERT INTO [{table}] ({', '.join(f'[{name}]' for name in names)}) "
           f"VALUES ({', '.join('?' * len(names))})")
    if db.conn.in_transaction:  # inside a write() already (the usual case): no savepoint needed for one statement
        return db.conn.execute(sql, [row[name] for name in names]).lastrowid
    with write(db):
        return db.conn.execute(sql, [row[name] for name in names]).lastrowid


class _RememberedTable(sqlite_utils.db.Table):
    """A table of a store that remembers its schema: its columns are read once (PRAGMA table_info)."""

    @property
    def columns(self):
        memo = self.db._schema()
        if memo is None:
            return super().columns
        known = memo.setdefault("columns", {})
        if self.name not in known:
            known[self.name] = tuple(super().columns)
        return list(known[self.name])


def open_db(path):
    """Open one SQLite file the way the app always wants it: WAL, foreign keys, a busy timeout, and no implicit
    transactions (isolation_level=None): a statement outside write() commits on its own, so the only transactions
    are the BEGIN IMMEDIATE ones write() opens."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    db = Store(conn)
    db.write_lock = _write_lock(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return db


@contextlib.contextmanager
def write(db):
    """The one way the app writes. Starts with BEGIN IMMEDIATE, which takes the file's write lock before anything is
    read and waits for it (busy timeout). A deferred BEGIN that reads first and then writes cannot wait: SQLite answers
    "database is locked" at once when another writer holds the lock, as it cannot upgrade a read snapshot that may
    be stale. Nested inside an open write, it is a savepoint: an error rolls back only the inner part."""
    conn = db.conn
    if conn.in_transaction:
        name = f"write_{next(_savepoints)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:  # an error such as a RAISE(ROLLBACK) may have ended the whole transaction
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    queue = getattr(db, "write_lock", None)  # None for a database not opened by open_db
    if queue is not None and not queue.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
        raise sqlite3.OperationalError("database is locked (another writer of this process took too long)")
    try:
        conn.execute("BEGIN IMMEDIATE")
        db.writing = True  # close_all leaves an open write() alone (a request inside it, on the same thread)
        try:
            yield db
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        db.writing = False
        if queue is not None:
            queue.release()


def directory_path(app=None):
    return os.path.join((app or current_app).instance_path, "directory.db")


def town_path(code, app=None):
    if not TOWN_CODE.match(code or ""):
        raise ValueError(f"bad town code {code!r}")
    return os.path.join((app or current_app).instance_path, "towns", f"{code}.db")


def _upgrade(db, path, migrations):
    stat = os.stat(path)
    key = (path, stat.st_dev, stat.st_ino)  # a file replaced at the same path is checked again
    if key not in _migrated:
        if migrations.pending(db):
            with write(db):  # two processes opening an old file at once: the second finds nothing left to apply
                migrations.apply(db)
        _migrated.add(key)
    return db


def open_directory(app=None):
    path = directory_path(app)
    return _upgrade(open_db(path), path, directory_migrations)


def open_town(code, app=None):
    """Open (and upgrade) a town's store. The file must exist: towns are created by create_town_store."""
    path = town_path(code, app)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    return _upgrade(open_db(path), path, town_migrations)


def create_town_store(code, app=None):
    path = town_path(code, app)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    db = open_db(path)
    with write(db):
        town_migrations.apply(db)
    return db


# ---- connections kept per thread ---------------------------------------------------------------------------
# Each thread keeps its open stores across requests (a worker thread serves many), so a request does not pay for
# connect + three PRAGMAs + the migrations check twice. Keyed by the file's real path; an entry is used only while the
# file is still the same one (device, inode): a file replaced at its path (a restore) is opened anew. Within a request
# the stores are also kept in g, so the file is stat'ed once per request.
OPEN_STORES_PER_THREAD = 32  # a county is ~12 files; least recently used ones are closed beyond this
_threads = threading.local()
_inherited = []  # connections a forked worker found open from its parent: kept unused until the worker exits
_real_paths = {}  # path as the app names it → the file's real path (resolved once: realpath costs a stat per part)


def _cached(path, opener):
    stat = os.stat(path)  # FileNotFoundError for a town file that is gone, as open_town
    key = _real_paths.get(path) or _real_paths.setdefault(path, os.path.realpath(path))
    same = (stat.st_dev, stat.st_ino)
    stores = getattr(_threads, "stores", None)
    if stores is None or _threads.pid != os.getpid():
        if stores:  # opened before a fork (gunicorn --preload): never use them here, and never close them here either
            _inherited.append(stores)  # (closing would drop the parent's SQLite locks on those files)
        stores = _threads.stores = {}
        _threads.pid = os.getpid()
    entry = stores.pop(key, None)
    if entry is not None and entry[0] != same:
        _close_quietly(entry[1])
        entry = None
    if entry is None:
        entry = (same, opener())
        entry[1].schema = {}  # kept across requests: remember the schema (see Store)
    stores[key] = entry  # last used at the end (dicts keep insertion order)
    while len(stores) > OPEN_STORES_PER_THREAD:
        _close_quietly(stores.pop(next(iter(stores)))[1])
    return entry[1]


def _close_quietly(db):
    try:
        db.close()
    except sqlite3.Error:
        pass


def forget_open_stores():
    """Close the stores this thread keeps (tests and benches that want a fresh connection)."""
    for _same, db in getattr(_threads, "stores", {}).values():
        _close_quietly(db)
    _threads.stores, _threads.pid = {}, os.getpid()


def directory():
    """The directory database for this request (this thread's connection, kept across requests)."""
    if "directory" not in g:
        path = directory_path()
        g.directory = _cached(path, open_directory)
    return g.directory


def town_db(code):
    """The store of one town for this request (this thread's connection, kept across requests)."""
    stores = g.setdefault("town_stores", {})
    if code not in stores:
        path = town_path(code)
        stores[code] = _cached(path, lambda: open_town(code))
    return stores[code]


def close_all(_exc=None):
    """End of a request: the connections stay open for the thread's next request, but no transaction may stay open
    (every write() ends its own; anything left is rolled back, so the next request starts clean)."""
    used = [g.pop("directory", None), *g.pop("town_stores", {}).values()]
    for db in used:
        if db is None:
            continue
        if db.conn.in_transaction and not getattr(db, "writing", False):
            db.conn.execute("ROLLBACK")
        db.end_request()


def init_app(app):
    os.makedirs(os.path.join(app.instance_path, "towns"), exist_ok=True)
    app.teardown_appcontext(close_all)
    app.register_error_handler(sqlite3.OperationalError, _busy)


def _busy(error):
    """A write that waited the whole busy timeout: say so and when to try again, rather than a bare 500."""
    if "locked" not in str(error) and "busy" not in str(error):
        raise error
    current_app.logger.warning("write gave up after %s ms: %s", BUSY_TIMEOUT_MS, error)
    return "服务器正忙，这次没有保存。请过一会儿再点一次。", 503, {"Retry-After": "5", "Content-Type": "text/plain; charset=utf-8"}


# ---- schemas ---------------------------------------------------------------

def _record(**columns):
    return {**RECORD_COLUMNS, **columns}


def synced_table(db, name, columns, *, foreign_keys=(), indexes=(), unique_indexes=(), not_null=(), defaults=None):
    """Create the table of a kind of record that phones sync (for new kinds; the tables made before it are not rebuilt).
    It always has the record columns (uuid as the key, version, created/updated), village_code (a village of this town)
    and conflict (0, or 1 while two edits wait for a person), an index on (village_code, created_at), and is STRICT:
    SQLite refuses a value of the wrong type instead of storing it. `columns` are the kind's own: {name: type}."""
    clash = set(columns) & {*RECORD_COLUMNS, "village_code", "conflict"}
    if clash:
        raise ValueError(f"{name}: {sorted(clash)} are record columns, added by synced_table")
    table = db[name]
    table.create({"uuid": str, "village_code": str, **columns, **RECORD_COLUMNS, "conflict": int}, pk="uuid",
                 not_null={"village_code", "version", "created_at", "updated_at", "conflict", *not_null},
                 defaults={"conflict": 0, **(defaults or {})},
                 foreign_keys=[("village_code", "villages", "code"), *foreign_keys], strict=True)
    table.create_index(["village_code", "created_at"])
    for index in indexes:
        table.create_index(list(index))
    for index in unique_indexes:
        table.create_index(list(index), unique=True)
    return table


@directory_migrations()
def m001_directory(db):
    db["towns"].create({"code": str, "name": str, "created_at": str}, pk="code", not_null={"name"})
    db["users"].create({
        "id": int, "username": str, "password_hash": str, "name": str, "role": str,
        "town_code": str, "position": str, "phone": str, "active": int,
        "created_at": str, "created_by": str, "updated_at": str,
    }, pk="id", not_null={"username", "password_hash", "name", "role"}, defaults={"active": 1},
        foreign_keys=[("town_code", "towns", "code")])
    db["users"].create_index(["username"], unique=True)
    db["user_villages"].create({"user_id": int, "village_code": str}, pk=("user_id", "village_code"),
                               foreign_keys=[("user_id", "users", "id")])
    db["login_failures"].create({"id": int, "username": str, "at": str, "ip": str}, pk="id")
    db["login_failures"].create_index(["username", "at"])
    # county-level changes (towns, town staff accounts) are audited here; everything else in the town file
    db["audit"].create({"id": int, "at": str, "actor": str, "action": str, "table": str, "record_id": str,
                        "village_code": str, "summary": str, "before": str, "after": str}, pk="id")


@directory_migrations()
def m002_sign_in(db):
    # wrong-password limits count per (account, address) and per address: index what the throttle asks
    db["login_failures"].create_index(["username", "ip", "at"])
    db["login_failures"].create_index(["ip", "at"])
    # one row per sign-in; the cookie carries only a random token whose SHA-256 is the id here, so signing out,
    # a password reset or a deactivation ends the sign-in on the server, and a copied cookie stops working
    db["sessions"].create({"id": str, "user_id": int, "remember": int, "ip": str, "created_at": str, "expires_at": str,
                           "revoked_at": str}, pk="id", not_null={"user_id", "created_at", "expires_at"},
                          foreign_keys=[("user_id", "users", "id")])
    db["sessions"].create_index(["user_id", "revoked_at"])
    db["sessions"].create_index(["expires_at"])


@town_migrations()
def m001_registry(db):
    db["villages"].create(_record(code=str, name=str, kind=str, model=int), pk="code",
                          not_null={"name", "uuid"}, defaults={"kind": "村", "model": 0})
    db["villages"].create_index(["uuid"], unique=True)
    db["groups"].create(_record(village_code=str, name=str), pk="uuid", not_null={"name", "village_code"},
                        foreign_keys=[("village_code", "villages", "code")])
    db["groups"].create_index(["village_code", "name"], unique=True)
    db["households"].create(_record(village_code=str, group_uuid=str, head_name=str, address=str, phone=str),
                            pk="uuid", not_null={"village_code", "head_name"},
                            foreign_keys=[("village_code", "villages", "code"), ("group_uuid", "groups", "uuid")])
    db["households"].create_index(["village_code", "group_uuid"])
    db["residents"].create(_record(village_code=str, household_uuid=str, name=str, gender=str, birth_year=int,
                                   relation=str, phone=str),
                           pk="uuid", not_null={"village_code", "household_uuid", "name"},
                           foreign_keys=[("village_code", "villages", "code"), ("household_uuid", "households", "uuid")])
    db["residents"].create_index(["household_uuid"])
    db["audit"].create({"id": int, "at": str, "actor": str, "action": str, "table": str, "record_id": str,
                        "village_code": str, "summary": str, "before": str, "after": str}, pk="id")
    db["audit"].create_index(["village_code", "at"])
    db["audit"].create_index(["record_id"])


@town_migrations()
def m002_notices(db):
    db["notices"].create(_record(village_code=str, title=str, category=str, body=str, publish_date=str,
                                 end_date=str, status=str),
                         pk="uuid", not_null={"village_code", "title", "category", "publish_date"},
                         defaults={"status": "published"},
                         foreign_keys=[("village_code", "villages", "code")])
    db["notices"].create_index(["village_code", "publish_date"])
    # attachments live inside the town file, so copying the file copies them too
    db["attachments"].create({"sha256": str, "record_uuid": str, "filename": str, "content_type": str,
                              "size": int, "data": bytes, "created_at": str, "created_by": str},
                             pk=("record_uuid", "sha256"), not_null={"filename", "content_type", "data"})
    db["objections"].create(_record(village_code=str, notice_uuid=str, name=str, phone=str, body=str,
                                    status=str, answer=str, answered_by=str, answered_at=str),
                            pk="uuid", not_null={"village_code", "notice_uuid", "body"},
                            defaults={"status": "open"},
                            foreign_keys=[("village_code", "villages", "code"), ("notice_uuid", "notices", "uuid")])
    db["objections"].create_index(["village_code", "status"])


@town_migrations()
def m003_sync(db):
    # every accepted, conflicting or review-needing edit sent by a phone (or a plain form POST);
    # UNIQUE(edit_id) is what makes a re-sent edit harmless, not a lookup before the insert
    db["revisions"].create({"id": int, "edit_id": str, "record_type": str, "uuid": str, "village_code": str,
                            "base_version": int, "version": int, "payload": str, "content_hash": str, "status": str,
                            "receipt": str, "created_at": str, "created_by": str,
                            "resolved_at": str, "resolved_by": str, "resolution": str},
                           pk="id", not_null={"edit_id", "record_type", "uuid", "payload", "content_hash", "status"},
                           foreign_keys=[("village_code", "villages", "code")])
    db["revisions"].create_index(["edit_id"], unique=True)
    db["revisions"].create_index(["uuid", "id"])
    db["revisions"].create_index(["village_code", "status"])
    # files (photos) sent one at a time before the record that lists them, named by their SHA-256
    db["files"].create({"sha256": str, "village_code": str, "content_type": str, "size": int, "data": bytes,
                        "created_at": str, "created_by": str}, pk="sha256", not_null={"data", "content_type"},
                       foreign_keys=[("village_code", "villages", "code")])


@town_migrations()
def m004_meetings(db):
    # 一约四会 councils and the meeting bodies of village democracy, one set per village (made on first use)
    db["councils"].create(_record(village_code=str, name=str, kind=str, sort=int), pk="uuid",
                          not_null={"village_code", "name", "kind"}, foreign_keys=[("village_code", "villages", "code")])
    db["councils"].create_index(["village_code", "name"], unique=True)
    # a roster row is a term of office: leaving sets `until`, nothing is deleted, so old minutes still make sense
    db["council_members"].create(_record(village_code=str, council_uuid=str, resident_uuid=str, name=str, position=str,
                                         since=str, until=str, note=str),
                                 pk="uuid", not_null={"village_code", "council_uuid", "name", "position"},
                                 foreign_keys=[("village_code", "villages", "code"), ("council_uuid", "councils", "uuid"),
                                               ("resident_uuid", "residents", "uuid")])
    db["council_members"].create_index(["council_uuid", "until"])
    # list-like content (attendees with their names, agenda items, photo hashes) is JSON text, as the phone sends it
    db["meetings"].create(_record(village_code=str, council_uuid=str, state=str, conflict=int, starts_at=str, place=str,
                                  host=str, recorder=str, attendees=str, others=str, absentees=str, present=int,
                                  eligible=int, eligible_basis=str, agenda=str, photos=str, edition=int,
                                  confirmed_at=str, confirmed_by=str, amend_reason=str),
                          pk="uuid", not_null={"village_code", "council_uuid", "state", "starts_at"},
                          defaults={"state": "draft", "conflict": 0, "edition": 0},
                          foreign_keys=[("village_code", "villages", "code"), ("council_uuid", "councils", "uuid")])
    db["meetings"].create_index(["village_code", "starts_at"])
    db["meetings"].create_index(["council_uuid", "starts_at"])
    # every confirmed text (第 1 版, and each 更正) is kept whole, so an earlier version stays readable
    db["meeting_editions"].create({"id": int, "meeting_uuid": str, "edition": int, "snapshot": str, "reason": str,
                                   "confirmed_at": str, "confirmed_by": str},
                                  pk="id", not_null={"meeting_uuid", "edition", "snapshot"},
                                  foreign_keys=[("meeting_uuid", "meetings", "uuid")])
    db["meeting_editions"].create_index(["meeting_uuid", "edition"], unique=True)
    # 四议两公开: a village-wide matter and the meeting (steps 1–4) or notice (5–6) of each step
    db["trails"].create(_record(village_code=str, title=str, matter=str), pk="uuid",
                        not_null={"village_code", "title"}, foreign_keys=[("village_code", "villages", "code")])
    db["trail_steps"].create({"trail_uuid": str, "step": int, "meeting_uuid": str, "notice_uuid": str, "note": str,
                              "done_on": str, "created_at": str, "created_by": str},
                             pk=("trail_uuid", "step"), not_null={"done_on"},
                             foreign_keys=[("trail_uuid", "trails", "uuid"), ("meeting_uuid", "meetings", "uuid"),
                                           ("notice_uuid", "notices", "uuid")])


@town_migrations()
def m005_rules(db):
    # 村规民约 / 居民公约: one rulebook per village; each cycle (first making or an amendment) is a version that holds
    # a full copy of its articles, so a filed text stays readable whatever later cycles change
    db["rulebooks"].create(_record(village_code=str, title=str, current_version=int), pk="uuid",
                           not_null={"village_code", "title"}, foreign_keys=[("village_code", "villages", "code")])
    db["rulebooks"].create_index(["village_code"], unique=True)
    db["rule_versions"].create(_record(village_code=str, rulebook_uuid=str, number=int, base_number=int, stage=str,
                                       reason=str, meeting_uuid=str, agenda_item=int, filing_no=str, filed_on=str,
                                       published_on=str),
                               pk="uuid", not_null={"village_code", "rulebook_uuid", "number", "stage"},
                               foreign_keys=[("village_code", "villages", "code"), ("rulebook_uuid", "rulebooks", "uuid")])
    db["rule_versions"].create_index(["rulebook_uuid", "number"], unique=True)
    # limits: JSON of structured 红白理事会 values ({"banquet_tables": 15, "gift_amount": 200}) for later checks
    db["rule_articles"].create(_record(village_code=str, version_uuid=str, chapter=str, sort=int, title=str, body=str,
                                       limits=str, origin_uuid=str),
                               pk="uuid", not_null={"village_code", "version_uuid", "body"},
                               foreign_keys=[("village_code", "villages", "code"), ("version_uuid", "rule_versions", "uuid")])
    db["rule_articles"].create_index(["version_uuid", "sort"])
    # the procedure's trail: one row per step taken (or returned), with per-article comments as JSON
    db["rule_steps"].create({"id": int, "version_uuid": str, "village_code": str, "step": str, "outcome": str,
                             "done_on": str, "note": str, "documents": str, "comments": str, "actor": str, "role": str,
                             "created_at": str},
                            pk="id", not_null={"version_uuid", "step", "outcome", "done_on"},
                            foreign_keys=[("version_uuid", "rule_versions", "uuid")])
    db["rule_steps"].create_index(["version_uuid", "id"])
    db["rule_opinions"].create(_record(village_code=str, version_uuid=str, name=str, body=str, status=str, answer=str,
                                       answered_by=str, answered_at=str),
                               pk="uuid", not_null={"village_code", "version_uuid", "body"}, defaults={"status": "open"},
                               foreign_keys=[("village_code", "villages", "code"), ("version_uuid", "rule_versions", "uuid")])
    # trigram full text of every article (chapter, title, body); 1–2 character words are found with LIKE instead
    db.execute("create virtual table rule_fts using fts5(text, uuid unindexed, tokenize='trigram')")
    db.executescript("""
        create trigger rule_articles_ai after insert on rule_articles begin
          insert into rule_fts(rowid, text, uuid) values (new.rowid,
            coalesce(new.chapter, '') || ' ' || coalesce(new.title, '') || ' ' || new.body, new.uuid); end;
        create trigger rule_articles_ad after delete on rule_articles begin
          delete from rule_fts where rowid = old.rowid; end;
        create trigger rule_articles_au after update on rule_articles begin
          delete from rule_fts where rowid = old.rowid;
          insert into rule_fts(rowid, text, uuid) values (new.rowid,
            coalesce(new.chapter, '') || ' ' || coalesce(new.title, '') || ' ' || new.body, new.uuid); end;
    """)


@town_migrations()
def m006_rule_drafts(db):
    # articles are drafted offline through the sync engine, which flags a record two phones changed at once
    db["rule_articles"].add_column("conflict", int, not_null_default=0)


@town_migrations()
def m007_file_villages(db):
    # a file sent by its SHA-256 belongs to each village that sent it: the bytes are kept once, a village sees only
    # its own (another village's photo answers as absent, and a record may not list it)
    db["file_villages"].create({"sha256": str, "village_code": str, "created_at": str, "created_by": str},
                               pk=("sha256", "village_code"), foreign_keys=[("sha256", "files", "sha256"),
                                                                             ("village_code", "villages", "code")])
    db["file_villages"].create_index(["village_code"])
    db.execute("insert or ignore into file_villages (sha256, village_code, created_at, created_by) "
               "select sha256, village_code, created_at, created_by from files where village_code is not null")


@town_migrations()
def m008_chinese_quotes(db):
    # the 两委会 was stored as 村"两委"会 (ASCII quotes); Chinese text uses “”. Its rows keep their uuids, so minutes,
    # rosters and 四议两公开 steps follow; the audit log keeps what was written then and shows it with “”
    db.execute("""update councils set name = '村“两委”会' where name = '村"两委"会' and not exists
                  (select 1 from councils c where c.village_code = councils.village_code and c.name = '村“两委”会')""")


@town_migrations()
def m009_rule_fts(db):
    # the article index becomes sqlite-utils' own: rule_articles_fts (chapter, title, body, trigram) reads its text
    # from rule_articles (external content: nothing stored twice), sqlite-utils' triggers keep it in step, and
    # enable_fts indexes the articles already there. m005's triggers carry the same names, so they go first. Inside
    # write() sqlite-utils runs its scripts statement by statement (no implicit COMMIT): this stays one transaction.
    for trigger in ("rule_articles_ai", "rule_articles_ad", "rule_articles_au"):
        db.execute(f"drop trigger if exists {trigger}")
    db.execute("drop table if exists rule_fts")
    db["rule_articles"].enable_fts(["chapter", "title", "body"], fts_version="FTS5", tokenize="trigram",
                                   create_triggers=True)


@town_migrations()
def m010_record_files(db):
    # which files (sent by their SHA-256) a record lists, in its order: a link per (record, file), so "the photos of
    # this meeting" and "the records that show this photo" are lookups, not searches through JSON text. A file may be
    # linked before its bytes arrive (a phone sends each photo on its own), so sha256 is not a foreign key of files.
    db["record_files"].create({"table": str, "record_uuid": str, "village_code": str, "sha256": str, "sort": int,
                               "created_at": str, "created_by": str}, pk=("record_uuid", "sha256"),
                              not_null={"table", "village_code", "sort", "created_at"},
                              foreign_keys=[("village_code", "villages", "code")], strict=True)
    db["record_files"].create_index(["sha256"])
    db["record_files"].create_index(["village_code"])
    # the meetings of before list their photos as a JSON list (meetings.photos, still kept as the phone sends it)
    db.execute("""insert or ignore into record_files ([table], record_uuid, village_code, sha256, sort, created_at, created_by)
                  select 'meetings', m.uuid, m.village_code, p.value, p.key, coalesce(m.updated_at, m.created_at, ''),
                    m.created_by
                  from meetings m, json_each(case when json_valid(m.photos) and json_type(m.photos) = 'array'
                                                  then m.photos end) p
                  where p.type = 'text'""")


@town_migrations()
def m011_reviews(db):
    # settings a town changes without code (as JSON values): 道德评议 categories, the appeal window, …
    db["town_settings"].create({"key": str, "value": str, "updated_at": str, "updated_by": str}, pk="key",
                               not_null={"value"}, strict=True)
    # 道德评议: sessions of the village's 道德评议会 (each linked to its minutes: who attended comes from there) and cases
    synced_table(db, "review_sessions", {"title": str, "kind": str, "held_on": str, "meeting_uuid": str, "note": str},
                 not_null=("title", "kind", "held_on"), foreign_keys=[("meeting_uuid", "meetings", "uuid")],
                 indexes=[("village_code", "held_on")])
    # a case keeps the subject's name as it was filed (the register may change), and the category as words: a town that
    # renames its categories later does not rewrite old cases
    synced_table(db, "review_cases", {
        "subject_type": str, "subject_uuid": str, "household_uuid": str, "subject_name": str, "kind": str, "category": str,
        "facts": str, "photos": str, "source": str, "source_name": str, "stage": str, "session_uuid": str,
        "present": int, "votes_for": int, "votes_against": int, "votes_abstain": int, "conclusion": str, "help_plan": str,
        "helper": str, "reviewed_on": str, "told_on": str, "told_how": str, "reply": str, "replied_on": str,
        "appeal_on": str, "appeal_reason": str, "appeal_outcome": str, "appeal_note": str, "appeal_decided_on": str,
        "closed_on": str, "close_note": str, "consent": str, "public_anonymous": int, "adviser_granted": int},
        not_null=("subject_type", "subject_uuid", "subject_name", "kind", "category", "facts", "stage", "consent",
                  "public_anonymous", "adviser_granted"),
        defaults={"stage": "new", "consent": "none", "public_anonymous": 0, "adviser_granted": 0},
        foreign_keys=[("session_uuid", "review_sessions", "uuid"), ("household_uuid", "households", "uuid")],
        indexes=[("village_code", "stage"), ("subject_uuid",), ("household_uuid",), ("session_uuid",)])
    # every step taken on a case (vote, telling, reply, appeal, visits, closure), with who took it and when
    db["review_steps"].create({"id": int, "case_uuid": str, "village_code": str, "step": str, "done_on": str, "note": str,
                               "data": str, "actor": str, "role": str, "created_at": str},
                              pk="id", not_null={"case_uuid", "village_code", "step", "done_on", "created_at"},
                              foreign_keys=[("case_uuid", "review_cases", "uuid"), ("village_code", "villages", "code")],
                              strict=True)
    db["review_steps"].create_index(["case_uuid", "id"])
    # the praised subject's consent to be named in public (given or withdrawn: who, when, how), kept as a history
    db["review_consents"].create({"id": int, "case_uuid": str, "village_code": str, "action": str, "by_name": str,
                                  "how": str, "on_date": str, "recorded_by": str, "created_at": str},
                                 pk="id", not_null={"case_uuid", "village_code", "action", "by_name", "how", "on_date"},
                                 foreign_keys=[("case_uuid", "review_cases", "uuid"), ("village_code", "villages", "code")],
                                 strict=True)
    db["review_consents"].create_index(["case_uuid", "id"])


@town_migrations()
def m012_ratings(db):
    # 星级文明户 / 文明家庭 …: the town's campaign types (criteria as data: stars with a pass rule, or points and a threshold)
    db["campaign_types"].create({"uuid": str, "name": str, "cycle_years": int, "subject": str, "mode": str, "criteria": str,
                                 "threshold": float, "publicity_days": int, "rebar_years": int, "active": int,
                                 "created_at": str, "updated_at": str, "created_by": str, "version": int},
                                pk="uuid", not_null={"name", "cycle_years", "subject", "mode", "criteria", "publicity_days",
                                                     "rebar_years", "active"}, defaults={"active": 1}, strict=True)
    # a campaign in a village keeps a copy of its type as it was run (criteria, threshold, days), so old results read right
    synced_table(db, "campaigns", {"type_uuid": str, "name": str, "year": int, "rules": str, "stage": str,
                                   "reviewers": str, "notice_uuid": str, "publicity_end": str, "returned_reason": str},
                 not_null=("type_uuid", "name", "year", "rules", "stage"), defaults={"stage": "apply"},
                 foreign_keys=[("type_uuid", "campaign_types", "uuid"), ("notice_uuid", "notices", "uuid")],
                 indexes=[("village_code", "year")])
    # a household (or person) in a campaign: how it came in, its consent to be named in public, the computed result
    # (from the reviewers' scores) and the 考核 adjustment beside it, with its written reason
    synced_table(db, "campaign_entries", {"campaign_uuid": str, "subject_type": str, "subject_uuid": str,
                                          "household_uuid": str, "subject_name": str, "how": str, "came_on": str,
                                          "nominated_by": str, "consent": str, "consent_by": str, "consent_how": str,
                                          "consent_on": str, "computed": str, "adjusted": str, "adjust_reason": str},
                 not_null=("campaign_uuid", "subject_type", "subject_uuid", "subject_name", "how", "came_on", "consent"),
                 defaults={"consent": "none"},
                 foreign_keys=[("campaign_uuid", "campaigns", "uuid"), ("household_uuid", "households", "uuid")],
                 unique_indexes=[("campaign_uuid", "subject_uuid")], indexes=[("household_uuid",)])
    # one reviewer's scores of one entry (sent from a phone, offline): each reviewer owns theirs, so two reviewers
    # scoring the same household are two records, never a conflict
    synced_table(db, "campaign_scores", {"campaign_uuid": str, "entry_uuid": str, "reviewer": str, "scores": str},
                 not_null=("campaign_uuid", "entry_uuid", "reviewer", "scores"),
                 foreign_keys=[("campaign_uuid", "campaigns", "uuid"), ("entry_uuid", "campaign_entries", "uuid")],
                 unique_indexes=[("entry_uuid", "reviewer")], indexes=[("campaign_uuid",)])
    # what a household was awarded (a title, with its stars), and 摘星: withdrawn with a reason (and the 道德评议 case)
    synced_table(db, "awards", {"campaign_uuid": str, "type_uuid": str, "entry_uuid": str, "household_uuid": str,
                                "subject_uuid": str, "subject_name": str, "title": str, "stars": str, "year": int,
                                "awarded_on": str, "plaque_on": str, "withdrawn_on": str, "withdraw_reason": str,
                                "review_uuid": str},
                 not_null=("campaign_uuid", "type_uuid", "subject_uuid", "subject_name", "title", "year", "awarded_on"),
                 foreign_keys=[("campaign_uuid", "campaigns", "uuid"), ("type_uuid", "campaign_types", "uuid"),
                               ("review_uuid", "review_cases", "uuid")],
                 indexes=[("subject_uuid",), ("household_uuid",), ("campaign_uuid",)])
    db["campaign_steps"].create({"id": int, "campaign_uuid": str, "village_code": str, "step": str, "done_on": str,
                                 "note": str, "actor": str, "role": str, "created_at": str},
                                pk="id", not_null={"campaign_uuid", "village_code", "step", "done_on", "created_at"},
                                foreign_keys=[("campaign_uuid", "campaigns", "uuid"), ("village_code", "villages", "code")],
                                strict=True)
    db["campaign_steps"].create_index(["campaign_uuid", "id"])


@town_migrations()
def m013_desk_indexes(db):
    # the town desk counts households and residents per village registered before the period's end: an index each,
    # so the count reads the village's rows only (residents had none on village_code: every desk view scanned them all)
    db["households"].create_index(["village_code", "created_at"], if_not_exists=True)
    db["residents"].create_index(["village_code", "created_at"], if_not_exists=True)


@town_migrations()
def m014_list_indexes(db):
    # issue 14: every filter, join and order the pages use reads through an index, so a page costs its own rows and
    # not the town's history (tests/test_plans.py puts each page's queries to EXPLAIN QUERY PLAN)
    for table, columns in (
            ("audit", ["actor", "id"]), ("audit", ["action", "id"]), ("audit", ["table", "id"]),  # the log's filters
            ("meetings", ["starts_at"]),  # the town's list (newest first, paged) and the desk's months
            ("notices", ["status", "publish_date"]), ("notices", ["publish_date"]),  # the desk; the town's list
            ("objections", ["notice_uuid", "status"]), ("objections", ["created_at"]), ("objections", ["status"]),
            ("revisions", ["status", "resolved_at"]), ("revisions", ["village_code", "created_at"]),
            ("review_cases", ["stage"]), ("review_cases", ["created_at"]), ("review_cases", ["closed_on"]),
            ("campaigns", ["stage"]), ("campaigns", ["year"]),
            ("rule_versions", ["stage"]), ("rule_versions", ["village_code", "stage"]),
            ("rule_opinions", ["village_code", "status"]), ("rule_opinions", ["version_uuid", "created_at"])):
        db[table].create_index(columns, if_not_exists=True)


# the follow-up actions (会后要办的事) of confirmed minutes, one row each, kept by triggers from meetings.agenda on every
# insert, update and delete of a meeting (the form, confirm, amend, 办好了, sync, the county's bulk rows alike); drafts
# have none. done_on: the day the row was first seen done (back-filled rows: the day the minutes last changed).
# A rebuild of meetings (sqlite-utils transform) drops these triggers: a migration doing one must make them again.
def _meeting_actions_sql(new):
    agenda = (f"case when json_valid({new}.agenda) and json_type({new}.agenda) = 'array' "
              f"then {new}.agenda else '[]' end")
    return f"""
        delete from meeting_actions where meeting_uuid = {new}.uuid and ({new}.state = 'draft'
            or json_type({agenda}, '$[' || item || '].actions[' || action || ']') is null);
        insert into meeting_actions (village_code, meeting_uuid, item, action, title, task, owner, due, done, done_on)
            select {new}.village_code, {new}.uuid, i.key, a.key, json_extract(i.value, '$.title'),
                json_extract(a.value, '$.task'), nullif(json_extract(a.value, '$.owner'), ''),
                nullif(json_extract(a.value, '$.due'), ''), coalesce(json_extract(a.value, '$.done'), 0) != 0,
                case when coalesce(json_extract(a.value, '$.done'), 0) then substr({new}.updated_at, 1, 10) end
            from json_each({agenda}) i,
                json_each(case when i.type = 'object' and json_type(i.value, '$.actions') = 'array'
                          then json_extract(i.value, '$.actions') else '[]' end) a
            where {new}.state != 'draft' and a.type = 'object'
        on conflict (meeting_uuid, item, action) do update set village_code = excluded.village_code,
            title = excluded.title, task = excluded.task, owner = excluded.owner, due = excluded.due,
            done = excluded.done, done_on = case when excluded.done then coalesce(done_on, excluded.done_on) end;"""


@town_migrations()
def m015_meeting_actions(db):
    db["meeting_actions"].create({"village_code": str, "meeting_uuid": str, "item": int, "action": int, "title": str,
                                  "task": str, "owner": str, "due": str, "done": int, "done_on": str},
                                 pk=("meeting_uuid", "item", "action"), not_null={"village_code", "meeting_uuid", "done"},
                                 foreign_keys=[("village_code", "villages", "code"), ("meeting_uuid", "meetings", "uuid")])
    # the open ones: the village's list (soonest due first) and the town desk's overdue ones (due before today)
    db.execute("create index idx_meeting_actions_open_village on meeting_actions (village_code, due) where not done")
    db.execute("create index idx_meeting_actions_open_due on meeting_actions (due) where not done")
    for event in ("insert", "update of state, agenda, village_code"):
        name = event.split()[0]
        db.execute(f"create trigger meeting_actions_{name} after {event} on meetings begin"
                   f"{_meeting_actions_sql('new')}\nend")
    db.execute("create trigger meeting_actions_delete after delete on meetings begin "
               "delete from meeting_actions where meeting_uuid = old.uuid; end")
    db.execute("update meetings set agenda = agenda where state != 'draft'")  # the back-fill: the update trigger's work


@town_migrations()
def m016_rule_imports(db):
    # a 村规民约 the village adopted before it used the app, brought in from its text: origin 'imported' (NULL: made
    # in the app through the procedure), with the adoption facts as the village knows them; the town confirms it
    for column in ("origin", "adopted_on", "adopted_meeting", "return_reason"):
        db["rule_versions"].add_column(column, str)


@town_migrations()
def m017_paper_meetings(db):
    # 补录: minutes of a past meeting kept on paper, entered afterwards (fewer fields, the photos of the pages as the record)
    db["meetings"].add_column("paper", int, not_null_default=0)


@town_migrations()
def m018_paper_meeting_notes(db):
    # the 备注 of a 补录 (where the paper original is kept, what is missing from it)
    db["meetings"].add_column("paper_note", str)


@town_migrations()
def m019_rule_preamble(db):
    # a rulebook's preamble (为了……，制定本村规民约) is part of its text: each version keeps it, an amendment copies it
    db["rule_versions"].add_column("preamble", str)
    db.execute("update rule_versions set preamble = reason, reason = null where origin = 'imported'")


@town_migrations()
def m020_rule_effective(db):
    # an imported 村规民约's own 施行 date when its closing lines give one (自2020年5月1日起施行); NULL: from its publication
    db["rule_versions"].add_column("effective_on", str)
