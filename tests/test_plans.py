"""Every page's cost depends on its own rows (issue 14): each main page's SQL, recorded as the request runs it, is put
to SQLite's EXPLAIN QUERY PLAN on the same files, and a full SCAN of a table that grows with history fails the test.
Lookup tables (villages, councils, settings, campaign types…) may be scanned; a scan bounded by the page's own rows
is allowed by name below, with its reason."""
import re
import sqlite3
import uuid as uuidlib

import pytest

from conftest import CHIHE, CHIHE_TOWN, COUNTY, MINGXING, MINGXING_VILLAGE
from test_meetings import council, members, minutes_form

V, T = f"/v/{MINGXING_VILLAGE}", f"/t/{CHIHE_TOWN}"

# tables whose size does not grow with the villages' history: a town's villages, their councils, groups and rulebooks
# (one a village), the town's settings and campaign types; in the directory, the towns and the staff's accounts
SMALL = {"villages", "councils", "groups", "rulebooks", "town_settings", "campaign_types", "towns", "users",
         "user_villages"}

# (table, a piece of the statement) → why that scan is bounded by the page's own rows
EXPORT = "the export page counts every row its file carries: the whole filtered list, by design"
ALLOWED = {
    ("audit", 'from "audit" order by id desc limit'): "the log's page, newest first down the rowid: stops after its rows",
    ("audit", "from audit a left join villages v on v.code = a.village_code"): EXPORT,
    ("meetings", "join villages v on v.code = m.village_code order by m.starts_at desc"):
        "newest first down the starts_at index: the town's page stops after its rows; " + EXPORT,
    ("households", "as members from households h join villages v"): EXPORT,
    ("notices", "as objections from notices n join villages v"): EXPORT,
    ("objections", "as objections from notices n join villages v"): EXPORT,
    ("campaigns", "as award_count from campaigns c join villages v"): EXPORT,
}

# scans known and not yet fixed (none left: the last, the follow-up actions' json_each, has its table since m015)
NOT_YET = {}

CADRE_PAGES = [V + "/home", V + "/meetings/", V + "/households/", V + "/notices/", V + "/rules/manage",
               V + "/reviews/", V + "/ratings/", V + "/objections/"]
TOWN_PAGES = [T + "/", T + "/meetings/", T + "/audit/", T + f"/audit/?actor={MINGXING}", T + "/audit/?action=create",
              T + "/audit/?table=meetings", T + f"/audit/?village_code={MINGXING_VILLAGE}", T + "/rules/",
              T + "/ratings/", T + "/exports/", T + "/exports/meetings", T + "/exports/notices",
              T + "/exports/households", T + "/exports/audit", T + "/audit/?page=2",
              V + "/meetings/"]
PUBLIC_PAGES = [V + "/", V + "/rules", V + "/rules/search?q=宴席"]
COUNTY_PAGES = ["/"]


class Trace:
    """Every statement run on a connection opened during the test: (how it was opened, the SQL with its values)."""

    def __init__(self):
        self.statements = []
        self.on = False

    def connect(self, real):
        def connect(database, *args, **kwargs):
            conn = real(database, *args, **kwargs)
            opened = (str(database), kwargs.get("uri", False))
            conn.set_trace_callback(lambda sql: self.on and self.statements.append((opened, sql)))
            return conn
        return connect


@pytest.fixture
def trace(monkeypatch):
    t = Trace()
    monkeypatch.setattr(sqlite3, "connect", t.connect(sqlite3.connect))
    return t


WRITES_OR_READS = re.compile(r"^\s*(with|select|update|delete|insert|replace)\b", re.I)
ALIAS = re.compile(r"\b(?:from|join|update|into)\s+\[?(\w+)\]?(?:\s+(?:as\s+)?(?!where|on|join|left|inner|order|group"
                   r"|limit|using|set|values|cross|natural|union|select)(\w+))?", re.I)
SCAN = re.compile(r"^SCAN (\w+)(?: USING (?:COVERING )?INDEX \w+)?$")


def scans(plan_conn, sql):
    """The growing tables this statement reads whole (a subquery's or a CTE's own rows are not a table)."""
    tables = {row[0] for row in plan_conn.execute("select name from sqlite_master where type = 'table'")}
    names = {}
    for table, alias in ALIAS.findall(sql):
        names[table] = table
        if alias:
            names[alias] = table
    found = []
    for row in plan_conn.execute("explain query plan " + sql):
        match = SCAN.match(row[3])
        if match:
            table = names.get(match.group(1), match.group(1))
            if table in tables and table not in SMALL and not table.startswith("sqlite_"):
                found.append(table)
    return found


def full_scans(trace):
    found = []
    conns = {}
    for (database, uri), sql in trace.statements:
        sql = " ".join(sql.split())
        if not WRITES_OR_READS.match(sql) or "explain query plan" in sql.lower():
            continue
        if (database, uri) not in conns:
            conns[database, uri] = sqlite3.connect(database, uri=uri)
        conn = conns[database, uri]
        for table in scans(conn, sql):
            if not any(t == table and piece in sql for t, piece in {**ALLOWED, **NOT_YET}):
                found.append(f"SCAN {table}: {sql[:300]}")
    for conn in conns.values():
        conn.close()
    return sorted(set(found))


def visit(client, trace, paths):
    trace.on = True
    for path in paths:
        before = len(trace.statements)
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        response.close()
        # a connection opened before the trace (kept from an earlier request) would hide its statements
        assert any(WRITES_OR_READS.match(sql) for _opened, sql in trace.statements[before:]), f"no SQL traced for {path}"
    trace.on = False


def test_the_public_pages_read_only_their_rows(client, trace):
    visit(client, trace, PUBLIC_PAGES)
    assert full_scans(trace) == []


def test_a_cadres_pages_read_only_their_rows(client, auth, trace):
    auth.login(MINGXING)
    visit(client, trace, CADRE_PAGES)
    assert full_scans(trace) == []


def test_the_town_desk_and_lists_read_only_their_rows(client, auth, trace):
    auth.login(CHIHE)
    visit(client, trace, TOWN_PAGES)
    assert full_scans(trace) == []


def test_the_county_home_reads_only_its_rows(client, auth, trace):
    auth.login(COUNTY)
    visit(client, trace, COUNTY_PAGES)
    assert full_scans(trace) == []


def test_a_phones_edits_are_written_without_scans(app, client, auth, trace):
    auth.login(MINGXING)
    token = client.get("/api/session").json["csrf_token"]
    row = council(app, "红白理事会")
    payload = [[k, v] for k, vs in minutes_form(row, members(app, row)).items()
               for v in (vs if isinstance(vs, list) else [vs]) if k not in ("uuid", "edit_id", "base_version")]
    minutes = {"edit_id": str(uuidlib.uuid4()), "uuid": str(uuidlib.uuid4()), "type": "meeting", "base_version": None,
               "payload": payload}
    trace.on = True
    response = client.post(f"/api/v/{MINGXING_VILLAGE}/edits", json={"edits": [minutes]}, headers={"X-CSRFToken": token})
    trace.on = False
    assert response.status_code == 200 and response.json["results"][0]["status"] == "accepted", response.json
    assert any("insert" in sql.lower() for _opened, sql in trace.statements)
    assert full_scans(trace) == []


def test_no_scan_is_left_for_later():
    assert not NOT_YET


# ---- paging: every list that grows shows a page of it, newest first, with 上一页/下一页 --------------------------------

LINK = re.compile(r'href="[^"]*/(?:meetings|notices)/([0-9a-f-]{36})(?:/manage)?"')


def listed(html):
    """The records a list page links to (not the village's follow-up actions below the list)."""
    return LINK.findall(html.split("会后要办的事")[0])


@pytest.mark.parametrize("login, module, path", [
    (MINGXING, "villageapp.meetings.views", V + "/meetings/"),
    (CHIHE, "villageapp.meetings.town", T + "/meetings/"),
    (MINGXING, "villageapp.notices.views", V + "/notices/"),
])
def test_the_lists_come_a_page_at_a_time(client, auth, monkeypatch, login, module, path):
    import importlib
    monkeypatch.setattr(importlib.import_module(module), "PAGE", 2)  # the demo's few records: two to a page
    auth.login(login)
    first, second = client.get(path).text, client.get(path, query_string={"page": 2}).text
    assert "下一页" in first and "上一页" not in first and "上一页" in second and "第 2 页" in second
    assert len(set(listed(first))) == 2 and len(set(listed(second))) >= 1
    assert set(listed(first)).isdisjoint(listed(second))
    assert client.get(path, query_string={"page": 999}).status_code == 404
    assert client.get(path, query_string={"page": "x"}).status_code == 404


def test_the_logs_choices_are_its_distinct_values(app):
    from villageapp import audit, store
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        try:
            for column in ("actor", "action", "table"):
                want = [r[0] for r in db.execute(f"select distinct [{column}] from audit where [{column}] is not null "
                                                  "order by 1")]
                assert audit.distinct(db, column) == want and len(want) > 1
        finally:
            db.close()
