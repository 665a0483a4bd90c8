"""The county-size generator (villageapp/county.py, `villageapp demo --county`) on a small county: 2 towns × 2 villages ×
5 households, built once for the module through the command. Counts, two years of minutes per village, the audit
log in the app's shapes and in time order, and the demo's logins (and the generated ones) working on it."""
import json
import sqlite3
from datetime import timedelta

import pytest
from conftest import CHENGGUAN_TOWN, CHIHE_TOWN, MINGXING_VILLAGE, WUAI_VILLAGE, Auth, _app

from villageapp import county, demo
from villageapp.clock import today
from villageapp.rules import demo as rules_demo

TOWNS, VILLAGES, HOUSEHOLDS, YEARS = 2, 2, 5, 2
ARGS = ["demo", "--county", "--no-serve", "--towns", str(TOWNS), "--villages", str(VILLAGES),
        "--households", str(HOUSEHOLDS), "--years", str(YEARS)]


@pytest.fixture(scope="module")
def county_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("county")
    result = _app(path).test_cli_runner().invoke(args=ARGS)
    assert result.exit_code == 0, result.output
    assert "全县 2 个镇，新建 4 个村" in result.output
    return path


def town(path, code):
    conn = sqlite3.connect(path / "towns" / f"{code}.db")
    conn.row_factory = sqlite3.Row
    return conn


def one(conn, sql, params=()):
    return conn.execute(sql, params).fetchone()[0]


def test_counts(county_path):
    directory = sqlite3.connect(county_path / "directory.db")
    assert sorted(r[0] for r in directory.execute("select code from towns")) == [CHENGGUAN_TOWN, CHIHE_TOWN]
    for code in (CHIHE_TOWN, CHENGGUAN_TOWN):
        db = town(county_path, code)
        villages = [r[0] for r in db.execute("select code from villages")]
        assert len(villages) == VILLAGES
        since = (today() - timedelta(days=365 * YEARS)).isoformat()
        for village in villages:
            assert one(db, "select count(*) from households where village_code = ?", [village]) == HOUSEHOLDS
            residents = one(db, "select count(*) from residents where village_code = ?", [village])
            assert HOUSEHOLDS <= residents <= HOUSEHOLDS * 6
            # every council's meetings over two years (84 a village), each confirmed as 第 1 版 with its edition
            history = one(db, "select count(*) from meetings where village_code = ? and starts_at >= ? and state = "
                              "'confirmed'", [village, since])
            assert history >= sum(county.SCHEDULE.values()) * YEARS - 4
            assert one(db, "select min(starts_at) from meetings where village_code = ?", [village]) < \
                (today() - timedelta(days=365 * YEARS - 60)).isoformat()
            assert one(db, "select count(*) from notices where village_code = ?", [village]) >= 12 * YEARS
            assert one(db, "select count(*) from objections where village_code = ?", [village]) >= 1
            # the kinds' demo hooks ran through the app too: 村规民约, 道德评议
            name = one(db, "select name from villages where code = ?", [village])
            assert one(db, "select count(*) from rule_versions where village_code = ?", [village]) == (
                0 if (village, name) in rules_demo.ON_PAPER else 2)  # 红岩村 keeps its rulebook on paper
            assert one(db, "select count(*) from review_cases where village_code = ?", [village]) >= 1
        assert one(db, "select count(*) from meeting_editions") == one(
            db, "select count(*) from meetings where state = 'confirmed'")
        # the bulk minutes' follow-up actions are in meeting_actions (m015's triggers), a few of them still open
        assert one(db, "select count(*) from meeting_actions") == one(
            db, "select count(*) from meetings m, json_each(m.agenda) i, json_each(i.value, '$.actions') a "
                "where m.state != 'draft'") >= sum(county.SCHEDULE.values()) * YEARS * VILLAGES - 8
        assert 0 < one(db, "select count(*) from meeting_actions where not done") < one(
            db, "select count(*) from meeting_actions") / 10
        assert one(db, "select count(*) from revisions where record_type = 'meeting'") >= \
            sum(county.SCHEDULE.values()) * YEARS * VILLAGES - 8
        for table in ("households", "residents", "meetings", "notices", "objections", "rule_versions"):
            assert one(db, "select count(*) from audit where [table] = ?", [table]) >= one(
                db, f"select count(*) from [{table}]"), table


def test_audit_as_the_app_writes_it(county_path):
    """Bulk rows have the shape the app's own writes have: every column of the table in the audit entry's `after`,
    the same keys as a meeting the app made (the demo hook's); the log is in time order, newest last."""
    db = town(county_path, CHIHE_TOWN)
    columns = [r[1] for r in db.execute("pragma table_info(meetings)")]
    by_app = json.loads(one(db, "select after from audit where [table] = 'meetings' and action = 'create' and "
                                "actor = ? limit 1", [demo.ACTOR]))
    bulk = json.loads(one(db, "select after from audit where [table] = 'meetings' and action = 'create' and "
                              "actor = 'mingxing' limit 1"))
    assert list(by_app) == list(bulk) == columns
    confirmed = db.execute("select before, after from audit where [table] = 'meetings' and action = 'confirm' and "
                           "actor = 'mingxing' limit 1").fetchone()
    before, after = json.loads(confirmed["before"]), json.loads(confirmed["after"])
    assert (before["state"], before["version"], after["state"], after["version"]) == ("draft", 1, "confirmed", 2)
    stored = db.execute("select * from meetings where uuid = ?", [after["uuid"]]).fetchone()
    assert dict(stored) == after
    for table in ("residents", "objections"):
        row = json.loads(one(db, f"select after from audit where [table] = '{table}' limit 1"))
        assert list(row) == [r[1] for r in db.execute(f"pragma table_info({table})")]
    assert one(db, "select count(*) from audit where actor = '公众' and [table] = 'objections'") >= 1
    times = [r[0] for r in db.execute("select at from audit order by id")]
    assert times == sorted(times)


def test_logins_work(county_path):
    app = _app(county_path)
    pages = {"admin": "/", "chihe": f"/t/{CHIHE_TOWN}/", "chengguan": f"/t/{CHENGGUAN_TOWN}/",
             "mingxing": f"/v/{MINGXING_VILLAGE}/home", "guyan": "/v/610922100201/home",
             "lawyer": "/", county.cadre_username(WUAI_VILLAGE): f"/v/{WUAI_VILLAGE}/home"}
    for username, page in pages.items():
        client = app.test_client()
        assert Auth(client).login(username).status_code == 302, username
        answer = client.get(page)
        assert answer.status_code == 200, (username, page)
    assert app.test_client().get(f"/v/{MINGXING_VILLAGE}/").status_code == 200


def test_built_twice_adds_nothing(county_path):
    db = town(county_path, CHIHE_TOWN)
    before = [one(db, f"select count(*) from [{t}]") for t in ("villages", "residents", "meetings", "audit")]
    result = _app(county_path).test_cli_runner().invoke(args=ARGS)
    assert result.exit_code == 0, result.output
    assert "新建 0 个村" in result.output
    assert [one(db, f"select count(*) from [{t}]") for t in ("villages", "residents", "meetings", "audit")] == before
