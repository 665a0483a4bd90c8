"""一约四会 councils and rosters: the default councils of every village, members from the registry or typed in,
terms that end without deleting anything, and who may change a roster."""
import uuid as uuidlib

import pytest
import sqlite_utils

from villageapp import store
from villageapp.clock import today
from villageapp.councils import data as councils
from villageapp.registry import data as registry

from conftest import CHIHE, CHIHE_TOWN, COUNTY, LAWYER, MINGXING, MINGXING_VILLAGE, WUAI_VILLAGE

V = f"/v/{MINGXING_VILLAGE}"


def town(app):
    return store.open_town(CHIHE_TOWN, app)


def council_row(app, name, village=MINGXING_VILLAGE):
    with app.app_context():
        return councils.council_by_name(town(app), village, name)


@pytest.fixture
def memory_db():
    db = sqlite_utils.Database(memory=True)
    store.town_migrations.apply(db)
    registry.add_village(db, MINGXING_VILLAGE, "明星村", "test")
    return db


def test_a_village_gets_the_four_councils_and_the_meeting_bodies_once(memory_db):
    rows = councils.ensure_councils(memory_db, MINGXING_VILLAGE, "test")
    names = [c["name"] for c in rows]
    assert names[:4] == ["红白理事会", "道德评议会", "禁毒禁赌会", "村民议事会"]
    assert {"村民会议", "村民代表会议", "村“两委”会", "党员大会"} <= set(names)
    again = councils.ensure_councils(memory_db, MINGXING_VILLAGE, "test")
    assert again == rows and memory_db["councils"].count == len(councils.COUNCILS)
    assert all(r["uuid"] and r["version"] == 1 for r in rows)


def test_a_new_village_gets_its_councils_when_first_opened(app, client, auth):
    with app.app_context():
        registry.add_village(town(app), "610922104299", "新建村", "test")
    auth.login(CHIHE)
    page = client.get("/v/610922104299/councils/")
    assert page.status_code == 200 and "红白理事会" in page.text and "村民议事会" in page.text
    with app.app_context():
        assert town(app)["councils"].count_where("village_code = '610922104299'") == len(councils.COUNCILS)


def add_member(client, auth, council, **fields):
    url = f"{V}/councils/{council['uuid']}/members/new"
    data = {"csrf_token": auth.token(url), "uuid": str(uuidlib.uuid4()), "resident": "", "name": "", "position": "成员",
            "since": "", "note": "", **fields}
    return client.post(url, data=data)


def test_cadre_adds_a_resident_and_an_outsider(app, client, auth):
    council = council_row(app, "村民议事会")
    with app.app_context():
        resident = next(town(app)["residents"].rows_where("village_code = ?", [MINGXING_VILLAGE]))
    auth.login(MINGXING)
    assert add_member(client, auth, council, resident=resident["uuid"], position="副会长").status_code == 302
    assert add_member(client, auth, council, name="李乡贤", position="成员", note="乡贤，在外经商").status_code == 302
    with app.app_context():
        rows = {m["name"]: m for m in councils.members(town(app), council["uuid"])}
    assert rows[resident["name"]]["resident_uuid"] == resident["uuid"] and rows[resident["name"]]["position"] == "副会长"
    assert rows["李乡贤"]["resident_uuid"] is None and rows["李乡贤"]["note"] == "乡贤，在外经商"
    page = client.get(f"{V}/councils/{council['uuid']}")
    assert "李乡贤" in page.text and "非本村户籍" in page.text


@pytest.mark.parametrize("fields, message", [
    ({}, "请选一位村民，或者填写姓名"),
    ({"name": "王五", "position": ""}, "请填写职务"),
])
def test_member_form_says_what_is_missing_in_chinese(app, client, auth, fields, message):
    auth.login(MINGXING)
    response = add_member(client, auth, council_row(app, "红白理事会"), **fields)
    assert response.status_code == 200 and message in response.text


def test_a_resident_cannot_serve_twice_at_once_nor_come_from_another_village(app, client, auth):
    council = council_row(app, "红白理事会")
    with app.app_context():
        db = town(app)
        current = councils.members(db, council["uuid"], current_only=True)[0]
        other = next(db["residents"].rows_where("village_code = ?", [WUAI_VILLAGE]))
    auth.login(MINGXING)
    assert "已经是本会成员" in add_member(client, auth, council, resident=current["resident_uuid"]).text
    assert "不在本村的名册里" in add_member(client, auth, council, resident=other["uuid"]).text


def test_ending_a_term_keeps_the_member_in_the_history(app, client, auth):
    council = council_row(app, "禁毒禁赌会")
    with app.app_context():
        member = councils.members(town(app), council["uuid"], current_only=True)[0]
    auth.login(MINGXING)
    url = f"{V}/councils/{council['uuid']}/members/{member['uuid']}/end"
    response = client.post(url, data={"csrf_token": auth.token(url), "until": today().isoformat(), "note": "换届"})
    assert response.status_code == 302
    with app.app_context():
        db = town(app)
        row = db["council_members"].get(member["uuid"])
        assert row["until"] == today().isoformat() and row["note"].endswith("换届")
        assert db["audit"].count_where("record_id = ?", [member["uuid"]]) == 2  # created, then ended
    page = client.get(f"{V}/councils/{council['uuid']}")
    assert "以前的成员" in page.text and member["name"] in page.text.split("以前的成员")[1]
    again = client.get(url, follow_redirects=True)
    assert "已经在" in again.text  # a term ends once


def test_a_term_cannot_end_before_it_began(app, client, auth):
    council = council_row(app, "禁毒禁赌会")
    with app.app_context():
        member = councils.members(town(app), council["uuid"], current_only=True)[0]
    auth.login(MINGXING)
    url = f"{V}/councils/{council['uuid']}/members/{member['uuid']}/end"
    response = client.post(url, data={"csrf_token": auth.token(url), "until": "2000-01-01"})
    assert response.status_code == 200 and "不能早于任职日期" in response.text


def test_serves_on_reads_open_ended_terms():
    member = {"since": None, "until": "2026-07-01"}  # left on 1 July
    assert councils.serves_on(member, "2020-01-01") and councils.serves_on(member, "2026-06-30")
    assert not councils.serves_on(member, "2026-07-01")
    assert not councils.serves_on({"since": "2026-01-01", "until": None}, "2025-12-31")


@pytest.mark.parametrize("login", [CHIHE, COUNTY, LAWYER])
def test_only_the_village_cadres_change_a_roster(app, client, auth, login):
    council = council_row(app, "红白理事会")
    auth.login(login)
    assert client.get(f"{V}/councils/{council['uuid']}").status_code == 200  # they read it
    token = auth.token()
    response = client.post(f"{V}/councils/{council['uuid']}/members/new",
                           data={"csrf_token": token, "name": "王五", "position": "成员"})
    assert response.status_code == 403
    with app.app_context():
        assert town(app)["council_members"].count_where("name = '王五'") == 0
