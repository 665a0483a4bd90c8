"""The registry: importing household lists (CSV in UTF-8 or GBK, XLSX; all rows or none), the import page,
households and residents added by hand, and villages added and edited by town staff."""
import csv
import io
import os
from datetime import datetime

import openpyxl
import pytest
from conftest import CHIHE_TOWN, GUYAN_VILLAGE, MINGXING_VILLAGE, WUAI_VILLAGE

from villageapp import store
from villageapp.clock import today
from villageapp.registry import imports, sheets

HEADER = ["组", "户主", "姓名", "性别", "出生年份", "与户主关系", "住址", "电话"]
GOOD = [  # two households, three people, spelled the many ways cadres spell things
    ["1", "王大山", "王大山", "男", "1962", "", "河坝8号", "139 1234 5678"],
    ["第一组", "王大山", "李春花", "女", "1964年5月", "配偶", "河坝8号", ""],
    ["2组", "陈小河", "陈小河", "男", "1980/3/2", "", "河坝3号", "0915-6321234"],
]
TEST_USER = "tester"


def csv_bytes(rows, encoding="utf-8"):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)  # the line ends Excel writes
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def town(app):
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        yield db
        db.close()


def counts(db):
    return {t: db[t].count for t in ("groups", "households", "residents", "audit")}


def resident(db, name):
    return next(db.query("select r.*, h.head_name, h.address, h.phone as household_phone, gr.name as group_name "
                         "from residents r join households h on h.uuid = r.household_uuid "
                         "join groups gr on gr.uuid = h.group_uuid where r.name = ? and r.village_code = ?",
                         [name, MINGXING_VILLAGE]))


def a_registered_resident(db):
    """Someone the demo county already has in 明星村, as a file row."""
    return list(db.execute(
        "select gr.name, h.head_name, r.name, r.gender, r.birth_year, r.relation, h.address, '' from residents r "
        "join households h on h.uuid = r.household_uuid join groups gr on gr.uuid = h.group_uuid "
        "where r.village_code = ? order by r.rowid limit 1", [MINGXING_VILLAGE]).fetchone())


def assert_good_import(db, report, before):
    assert report.ok and report.written, (report.error, report.rejected)
    assert (report.households, report.residents) == (2, 3)
    after = counts(db)
    assert after["households"] == before["households"] + 2
    assert after["residents"] == before["residents"] + 3
    head, wife, other = resident(db, "王大山"), resident(db, "李春花"), resident(db, "陈小河")
    assert wife["household_uuid"] == head["household_uuid"] != other["household_uuid"]
    assert (head["group_name"], other["group_name"]) == ("一组", "二组")
    assert (head["relation"], head["birth_year"], head["gender"]) == ("户主", 1962, "男")
    assert (wife["relation"], wife["birth_year"], wife["phone"]) == ("配偶", 1964, None)
    assert head["household_phone"] == "13912345678" and other["phone"] == "0915-6321234"
    assert other["birth_year"] == 1980
    assert head["version"] == 1 and head["created_by"] == TEST_USER and len(head["uuid"]) == 36


# ---- import_file: good files ----------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_import_utf8_csv(town, encoding):
    before = counts(town)
    report = imports.import_file(town, MINGXING_VILLAGE, "名册.csv", csv_bytes([HEADER, *GOOD], encoding), TEST_USER)
    assert_good_import(town, report, before)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_import_gbk_csv(town, encoding):
    before = counts(town)
    report = imports.import_file(town, MINGXING_VILLAGE, "名册.CSV", csv_bytes([HEADER, *GOOD], encoding), TEST_USER)
    assert_good_import(town, report, before)


def test_import_xlsx_with_excel_cells(town):
    """Excel turns 1 into a number, a date into a date and a phone into a number: all read as the cadre meant."""
    rows = [["明星村户籍花名册"], [],  # a title line above the header is common
            ["序号", "组别", "户主姓名", "成员姓名", "性别", "出生日期", "关系", "家庭住址", "联系电话", "身份证号"],
            [1, 1, "王大山", "王大山", "男", datetime(1962, 4, 1), None, "河坝8号", 13912345678, "略"],
            [2, 1.0, "王大山", "李春花", "女", 1964, "配偶", "河坝8号", None, None],
            [3, "二组", "陈小河", "陈小河", "男", "1980-03", "本人", "河坝3号", "0915-6321234", None]]
    before = counts(town)
    report = imports.import_file(town, MINGXING_VILLAGE, "名册.xlsx", xlsx_bytes(rows), TEST_USER)
    assert_good_import(town, report, before)
    assert report.ignored == ["序号", "身份证号"]  # the ID number is never kept


def test_import_writes_one_audit_entry_for_the_file(town):
    imports.import_file(town, MINGXING_VILLAGE, "名册.csv", csv_bytes([HEADER, *GOOD]), TEST_USER)
    entries = list(town["audit"].rows_where("action = 'import'"))
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["actor"], entry["village_code"], entry["table"]) == (TEST_USER, MINGXING_VILLAGE, "households")
    assert "名册.csv" in entry["summary"] and "2 户" in entry["summary"] and "3 人" in entry["summary"]
    # and every record made carries its own entry, as if added by hand
    created = town.execute("select count(*) from audit where action = 'create' and actor = ? and [table] in "
                           "('households', 'residents')", [TEST_USER]).fetchone()[0]
    assert created == 5


def test_import_adds_members_to_a_household_already_there(town):
    group, head, *_rest, address, _phone = a_registered_resident(town)
    household = town.execute("select uuid from households where head_name = ? and address = ?",
                             [head, address]).fetchone()[0]
    before = counts(town)
    report = imports.import_file(town, MINGXING_VILLAGE, "新成员.csv",
                                 csv_bytes([HEADER, [group, head, "新生儿", "女", today().year, "孙女", address, ""]]),
                                 TEST_USER)
    assert report.ok and (report.households, report.residents) == (0, 1)
    assert resident(town, "新生儿")["household_uuid"] == household
    assert counts(town)["households"] == before["households"]


def test_dry_run_checks_but_writes_nothing(town):
    before = counts(town)
    report = imports.import_file(town, MINGXING_VILLAGE, "名册.csv", csv_bytes([HEADER, *GOOD]), TEST_USER,
                                 dry_run=True)
    assert report.ok and not report.written and (report.households, report.residents) == (2, 3)
    assert counts(town) == before


# ---- import_file: bad rows reject the whole file -----------------------------------------------

def test_bad_rows_are_listed_and_nothing_is_written(town):
    known = a_registered_resident(town)
    rows = [HEADER,
            GOOD[0],                                                         # 2 fine
            ["1", "王大山", "", "女", "1990", "女", "河坝8号", ""],             # 3 no name
            ["", "", "", "", "", "", "", ""],                                # 4 blank: skipped
            ["1", "王大山", "王小妹", "妇", "1992", "女", "河坝8号", ""],        # 5 bad gender
            ["1", "王大山", "王小弟", "男", "2150", "子", "河坝8号", ""],        # 6 born in the future
            ["1", "王大山", "王小三", "男", "1995", "子", "河坝8号", "1391234"],  # 7 bad phone
            ["一组", "王大山", "王大山", "男", "1962", "户主", "河坝8号", ""],    # 8 same as line 2
            known]                                                           # 9 already in the register
    before = counts(town)
    report = imports.import_file(town, MINGXING_VILLAGE, "名册.csv", csv_bytes(rows), TEST_USER)
    assert report.error is None and not report.written
    reasons = {row.line: "；".join(row.reasons) for row in report.rejected}
    assert sorted(reasons) == [3, 5, 6, 7, 8, 9]
    assert "没有填姓名" in reasons[3]
    assert "性别只能填“男”或“女”" in reasons[5]
    assert f"出生年份要在 1900 到 {today().year} 之间" in reasons[6]
    assert "电话号码不对" in reasons[7]
    assert "和第 2 行重复" in reasons[8]
    assert reasons[9] == "已在名册中"
    assert report.rejected[0].values["户主"] == "王大山" and report.rejected[0].values["姓名"] == ""
    assert counts(town) == before


def test_a_row_may_have_several_reasons(town):
    report = imports.import_file(town, MINGXING_VILLAGE, "名册.csv",
                                 csv_bytes([HEADER, ["", "王大山", "李四", "x", "abc", "户主", "", "12"]]), TEST_USER)
    (row,) = report.rejected
    assert row.line == 2
    assert len(row.reasons) == 5  # no group, gender, birth year, phone, 户主 who is not the head


# ---- import_file: files that cannot be used ---------------------------------------------------

@pytest.mark.parametrize("filename, data, words", [
    ("名册.xlsx", os.urandom(4000), "Excel 文件打不开"),
    ("名册.xlsx", xlsx_bytes([HEADER, GOOD[0]])[:900], "Excel 文件打不开"),
    ("名册.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(500), "只能导入 .xlsx 或 .csv"),
    ("名册.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(500), "另存为"),
    ("名册.pdf", b"%PDF-1.4", "只能导入 .xlsx 或 .csv"),
    ("名册", "组,户主,姓名".encode(), "只能导入 .xlsx 或 .csv"),
    ("名册.csv", bytes(range(128, 256)) * 4, "编码认不出来"),
    ("名册.csv", xlsx_bytes([HEADER, GOOD[0]]), "其实是 Excel"),
    ("名册.csv", b"", "文件是空的"),
    ("名册.csv", csv_bytes([HEADER, ["", "", ""]]), "只有表头"),
])
def test_unusable_file_is_an_error(town, filename, data, words):
    before = counts(town)
    report = imports.import_file(town, MINGXING_VILLAGE, filename, data, TEST_USER)
    assert report.error and words in report.error
    assert not report.rejected and not report.written
    assert counts(town) == before


@pytest.mark.parametrize("header, missing", [
    (["组", "姓名", "性别"], "户主"),
    (["户主", "电话"], "组、姓名"),
])
def test_missing_column_is_named(town, header, missing):
    report = imports.import_file(town, MINGXING_VILLAGE, "名册.csv", csv_bytes([header, ["一组"] * len(header)]),
                                 TEST_USER)
    assert f"表头缺少必填的列：{missing}。" in report.error


def test_a_column_named_twice_is_an_error(town):
    report = imports.import_file(town, MINGXING_VILLAGE, "名册.csv",
                                 csv_bytes([["组", "户主", "姓名", "成员姓名"], GOOD[0][:4]]), TEST_USER)
    assert "两列都是“姓名”" in report.error


@pytest.mark.parametrize("extra, allowed", [(0, True), (1, False)])
def test_too_many_rows_is_an_error(app, town, extra, allowed):
    app.config["MAX_IMPORT_ROWS"] = 3
    rows = [["花名册"], HEADER, *GOOD, *[["三组", "刘一", f"刘{i}", "", "", "子", "", ""] for i in range(extra)]]
    for name, data in (("名册.csv", csv_bytes(rows)), ("名册.xlsx", xlsx_bytes(rows))):
        report = imports.import_file(town, MINGXING_VILLAGE, name, data, TEST_USER, dry_run=True)
        assert report.ok if allowed else "一次最多导入 3 行" in report.error


def test_template_imports_as_is(town):
    book = openpyxl.load_workbook(io.BytesIO(sheets.template_xlsx()))
    assert [c.value for c in book.worksheets[0][1]] == HEADER
    report = imports.import_file(town, MINGXING_VILLAGE, "模板.xlsx", sheets.template_xlsx(), TEST_USER, dry_run=True)
    assert report.ok and (report.households, report.residents) == (1, 2)


# ---- reading cells ------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, name", [
    ("1", "一组"), ("01", "一组"), ("1组", "一组"), ("第1组", "一组"), ("第一组", "一组"), ("一组", "一组"),
    ("１组", "一组"), ("1村民小组", "一组"), ("10", "十组"), ("12组", "十二组"), ("二十三", "二十三组"),
    ("河坝组", "河坝组"), (" 三 组 ", "三组"), ("100", "100"),
])
def test_group_names_are_spelled_one_way(typed, name):
    assert imports.group_name(typed) == name


@pytest.mark.parametrize("value, year", [
    (1965, 1965), (1965.0, 1965), ("1965", 1965), ("1965年", 1965), ("1965-03", 1965), ("1965年3月", 1965),
    ("1965年3月2日", 1965), ("1965/3/2", 1965), ("1965.3", 1965), ("19650302", 1965), ("1965/3/2 0:00", 1965),
    (datetime(1965, 3, 2), 1965), ("", None), (None, None),
])
def test_birth_years_read(value, year):
    assert imports.birth_year(value) == (year, None)


@pytest.mark.parametrize("value", ["abc", "1965-13", "65", 2150, "1899", "3月"])
def test_birth_years_refused(value):
    year, reason = imports.birth_year(value)
    assert year is None and "出生年份" in reason


@pytest.mark.parametrize("value, number", [
    ("13912345678", "13912345678"), (13912345678, "13912345678"), ("139 1234 5678", "13912345678"),
    ("139-1234-5678", "13912345678"), ("+8613912345678", "13912345678"), ("0915-6321234", "0915-6321234"),
    ("09156321234", "09156321234"), ("", None),
])
def test_phones_read(value, number):
    assert imports.phone_number(value) == (number, None)


@pytest.mark.parametrize("value", ["1391234567", "6321234", "23912345678", "电话"])
def test_phones_refused(value):
    assert imports.phone_number(value)[0] is None


# ---- the import page ----------------------------------------------------------------------------

IMPORT = f"/v/{MINGXING_VILLAGE}/households/import"


def upload(client, auth, data, filename="名册.csv", dry_run=False):
    form = {"csrf_token": auth.token(IMPORT), "file": (io.BytesIO(data), filename)}
    if dry_run:
        form["dry_run"] = "y"
    return client.post(IMPORT, data=form, content_type="multipart/form-data", follow_redirects=True)


def household_count(app, village=MINGXING_VILLAGE):
    with app.app_context():
        db = store.open_town(village[:9], app)
        try:
            return db["households"].count_where("village_code = ?", [village]), db["residents"].count
        finally:
            db.close()


def test_import_page_imports_and_reports(app, client, auth):
    auth.login("mingxing")
    page = client.get(IMPORT)
    assert page.status_code == 200 and "只检查，不导入" in page.text
    assert f"/v/{MINGXING_VILLAGE}/households/template.xlsx" in page.text
    households, residents = household_count(app)
    response = upload(client, auth, csv_bytes([HEADER, *GOOD], "gbk"))
    assert response.status_code == 200 and "导入了 2 户 3 人" in response.text
    assert household_count(app) == (households + 2, residents + 3)


def test_import_page_lists_rejected_rows(app, client, auth):
    auth.login("mingxing")
    before = household_count(app)
    response = upload(client, auth, csv_bytes([HEADER, GOOD[0], ["1", "王大山", "", "女", "2150", "", "", ""]]))
    assert response.status_code == 200
    assert "什么都没有导入" in response.text and "重新上传" in response.text
    assert "第 3 行" in response.text and "没有填姓名" in response.text and "出生年份要在 1900" in response.text
    assert household_count(app) == before


def test_import_page_shows_file_error_next_to_the_field(client, auth):
    auth.login("mingxing")
    response = upload(client, auth, b"\xd0\xcf\x11\xe0" + os.urandom(100), filename="名册.doc")
    assert response.status_code == 200
    assert 'class="field has-error"' in response.text and "只能导入 .xlsx 或 .csv" in response.text
    response = upload(client, auth, csv_bytes([["组", "姓名"], ["一组", "张三"]]))
    assert "表头缺少必填的列：户主" in response.text


def test_import_page_asks_for_a_file(client, auth):
    auth.login("mingxing")
    response = client.post(IMPORT, data={"csrf_token": auth.token(IMPORT)}, content_type="multipart/form-data")
    assert "请选择要导入的文件" in response.text


def test_import_page_dry_run_writes_nothing(app, client, auth):
    auth.login("mingxing")
    before = household_count(app)
    response = upload(client, auth, xlsx_bytes([HEADER, *GOOD]), filename="名册.xlsx", dry_run=True)
    assert "检查通过：可以导入 2 户 3 人" in response.text and "还没有导入" in response.text
    assert household_count(app) == before


@pytest.mark.parametrize("user, village, status", [
    ("mingxing", WUAI_VILLAGE, 404),  # another village of the same town
    ("guyan", MINGXING_VILLAGE, 404),  # a cadre of another town
    ("chihe", MINGXING_VILLAGE, 200),  # town staff
    ("admin", MINGXING_VILLAGE, 200),  # county
    ("lawyer", MINGXING_VILLAGE, 403),  # the legal adviser reads rules, not the register
])
def test_who_may_import(client, auth, user, village, status):
    auth.login(user)
    assert client.get(f"/v/{village}/households/import").status_code == status
    assert client.get(f"/v/{village}/households/template.xlsx").status_code == status


def test_template_download(client, auth):
    auth.login("mingxing")
    response = client.get(f"/v/{MINGXING_VILLAGE}/households/template.xlsx")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == HEADER and len(rows) == 3


def test_login_needed_for_the_import_page(client):
    response = client.get(IMPORT)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---- households and residents by hand ------------------------------------------------------------

NEW_HOUSEHOLD = f"/v/{MINGXING_VILLAGE}/households/new"
FORM_UUID = "3f2b8c1e-5d4a-4e6b-9c7d-0a1b2c3d4e5f"


def household_form(auth, **values):
    return {"csrf_token": auth.token(NEW_HOUSEHOLD), "uuid": FORM_UUID, "group": "三组", "new_group": "",
            "head_name": "赵木林", "address": "三组20号", "phone": "13800001111", "gender": "男",
            "birth_year": "1970", **values}


def test_add_household_by_hand(app, town, client, auth):
    auth.login("mingxing")
    page = client.get(NEW_HOUSEHOLD)
    assert page.status_code == 200 and 'data-client-uuid' in page.text and '<option value="三组"' in page.text
    response = client.post(NEW_HOUSEHOLD, data=household_form(auth))
    assert response.status_code == 302 and response.headers["Location"].endswith(FORM_UUID)
    house = town["households"].get(FORM_UUID)
    assert (house["head_name"], house["address"], house["phone"], house["created_by"]) == \
        ("赵木林", "三组20号", "13800001111", "mingxing")
    (head,) = town["residents"].rows_where("household_uuid = ?", [FORM_UUID])
    assert (head["name"], head["relation"], head["gender"], head["birth_year"]) == ("赵木林", "户主", "男", 1970)
    assert town["audit"].count_where("record_id in (?, ?)", [FORM_UUID, head["uuid"]]) == 2
    assert "赵木林 户" in client.get(response.headers["Location"]).text


def test_add_household_in_a_new_group(town, client, auth):
    auth.login("mingxing")
    client.post(NEW_HOUSEHOLD, data=household_form(auth, group="", new_group="第9组"))
    group = town["groups"].get(town["households"].get(FORM_UUID)["group_uuid"])
    assert (group["name"], group["village_code"]) == ("九组", MINGXING_VILLAGE)


def test_double_submit_makes_one_household(town, client, auth):
    auth.login("mingxing")
    before = counts(town)
    first = client.post(NEW_HOUSEHOLD, data=household_form(auth))
    second = client.post(NEW_HOUSEHOLD, data=household_form(auth), follow_redirects=True)
    assert first.status_code == 302 and second.status_code == 200 and "没有重复添加" in second.text
    after = counts(town)
    assert (after["households"], after["residents"]) == (before["households"] + 1, before["residents"] + 1)


def test_add_household_errors_are_chinese_and_keep_what_was_typed(town, client, auth):
    auth.login("mingxing")
    before = counts(town)
    response = client.post(NEW_HOUSEHOLD, data=household_form(auth, group="", head_name="", phone="12345",
                                                              birth_year="2150", address="河边小屋"))
    assert response.status_code == 200
    for message in ("请选择组，或在下面填一个新的组", "请填写户主姓名", "请填写 11 位手机号", "出生年份要在 1900"):
        assert message in response.text
    assert 'value="河边小屋"' in response.text and 'value="12345"' in response.text
    assert counts(town) == before


def test_same_household_twice_by_hand_is_refused(town, client, auth):
    auth.login("mingxing")
    client.post(NEW_HOUSEHOLD, data=household_form(auth))
    response = client.post(NEW_HOUSEHOLD, data=household_form(auth, uuid="6b1f4c2e-1d2a-4e3b-8c4d-5e6f7a8b9c0d"))
    assert response.status_code == 200 and "不用再添加" in response.text


def test_add_resident_by_hand(town, client, auth):
    auth.login("mingxing")
    client.post(NEW_HOUSEHOLD, data=household_form(auth))
    url = f"/v/{MINGXING_VILLAGE}/households/{FORM_UUID}/residents/new"
    assert "添加家庭成员" in client.get(url).text
    data = {"csrf_token": auth.token(url), "uuid": "7c2d5e3f-2e3b-4f4c-9d5e-6f7a8b9c0d1e", "name": "赵小林",
            "relation": "子", "gender": "男", "birth_year": "1998年6月", "phone": ""}
    response = client.post(url, data=data)
    assert response.status_code == 302
    member = town["residents"].get(data["uuid"])
    assert (member["name"], member["relation"], member["birth_year"], member["household_uuid"]) == \
        ("赵小林", "子", 1998, FORM_UUID)
    again = client.post(url, data=data, follow_redirects=True)  # the same form sent twice
    assert "没有重复添加" in again.text
    other = client.post(url, data={**data, "uuid": "8d3e6f4a-3f4c-4a5d-8e6f-7a8b9c0d1e2f"})
    assert "这一户已经有 赵小林（1998）了" in other.text
    head = client.post(url, data={**data, "uuid": "", "name": "赵二林", "relation": "户主"})
    assert "这一户的户主是 赵木林" in head.text and 'value="赵二林"' in head.text
    assert town["residents"].count_where("household_uuid = ?", [FORM_UUID]) == 2


def test_resident_of_another_village_household_is_404(town, client, auth):
    auth.login("mingxing")
    wuai_house = town.execute("select uuid from households where village_code = ?", [WUAI_VILLAGE]).fetchone()[0]
    assert client.get(f"/v/{MINGXING_VILLAGE}/households/{wuai_house}/residents/new").status_code == 404


# ---- villages (town staff) -----------------------------------------------------------------------

NEW_VILLAGE = f"/t/{CHIHE_TOWN}/villages/new"


def test_town_staff_adds_a_village_and_makes_it_a_model(town, client, auth):
    auth.login("chihe")
    assert client.get(f"/t/{CHIHE_TOWN}/villages/").status_code == 200
    data = {"csrf_token": auth.token(NEW_VILLAGE), "uuid": "9e4f7a5b-4a5d-4b6e-9f7a-8b9c0d1e2f3a",
            "code": "610922104299", "name": "新建村", "kind": "村"}
    response = client.post(NEW_VILLAGE, data=data, follow_redirects=True)
    assert "已添加村：新建村" in response.text and "610922104299" in response.text
    village = town["villages"].get("610922104299")
    assert (village["name"], village["model"], village["version"], village["created_by"]) == \
        ("新建村", 0, 1, "chihe")
    assert client.post(NEW_VILLAGE, data=data).status_code == 302  # sent twice: still one village
    assert town["villages"].count_where("name = '新建村'") == 1

    edit = f"/t/{CHIHE_TOWN}/villages/610922104299/edit"
    assert 'value="新建村"' in client.get(edit).text
    client.post(edit, data={"csrf_token": auth.token(edit), "name": "新建村", "kind": "村", "model": "y"})
    village = town["villages"].get("610922104299")
    assert (village["model"], village["version"]) == (1, 2)
    client.post(edit, data={"csrf_token": auth.token(edit), "name": "新兴村", "kind": "社区"})
    village = town["villages"].get("610922104299")
    assert (village["name"], village["kind"], village["model"], village["version"]) == ("新兴村", "社区", 0, 3)
    # records.create files a village's entry under its uuid, records.update under its code
    actions = [r["action"] for r in town["audit"].rows_where("record_id in (?, ?)", [data["uuid"], "610922104299"],
                                                             order_by="id")]
    assert actions == ["create", "update", "update"]


@pytest.mark.parametrize("code, message", [
    ("12345", "区划代码是 12 位数字"),
    ("610922100299", "本镇的村代码要以 610922104 开头"),
    (MINGXING_VILLAGE, "这个代码已经有村用了：明星村"),
])
def test_bad_village_code_is_explained_and_the_name_kept(town, client, auth, code, message):
    auth.login("chihe")
    before = town["villages"].count
    response = client.post(NEW_VILLAGE, data={"csrf_token": auth.token(NEW_VILLAGE), "code": code,
                                              "name": "打字的村名", "kind": "村"})
    assert response.status_code == 200 and message in response.text
    assert 'value="打字的村名"' in response.text
    assert town["villages"].count == before


def test_village_names_are_unique_in_a_town(client, auth):
    auth.login("chihe")
    response = client.post(NEW_VILLAGE, data={"csrf_token": auth.token(NEW_VILLAGE), "code": "610922104298",
                                              "name": "明星村", "kind": "村"})
    assert "本镇已经有叫“明星村”的村" in response.text


@pytest.mark.parametrize("user, status", [("mingxing", 403), ("guyan", 404), ("admin", 200)])
def test_who_may_add_villages(client, auth, user, status):
    auth.login(user)
    assert client.get(NEW_VILLAGE).status_code == status
    assert client.get(f"/t/{CHIHE_TOWN}/villages/{MINGXING_VILLAGE}/edit").status_code == status


def test_editing_a_village_of_another_town_is_404(client, auth):
    auth.login("chihe")
    assert client.get(f"/t/{CHIHE_TOWN}/villages/{GUYAN_VILLAGE}/edit").status_code == 404


# ---- the `villageapp import` command ---------------------------------------------------------------

def test_cli_import(runner, town, tmp_path):
    good, bad = tmp_path / "名册.csv", tmp_path / "有错.csv"
    good.write_bytes(csv_bytes([HEADER, *GOOD], "gbk"))
    bad.write_bytes(csv_bytes([HEADER, ["1", "王大山", "", "", "", "", "", ""]]))
    result = runner.invoke(args=["import", MINGXING_VILLAGE, str(bad)])
    assert result.exit_code != 0 and "第 2 行：没有填姓名" in result.output
    result = runner.invoke(args=["import", MINGXING_VILLAGE, str(good)])
    assert result.exit_code == 0 and "导入 2 户，3 人" in result.output
    assert resident(town, "陈小河")["created_by"] == "cli"


def test_two_cadres_adding_the_same_household_at_once_make_one(app):
    """The duplicate check is made under the write lock: two connections adding the same household (and the same person
    to it) at the same instant make one of each; the other is told it is there already."""
    import threading

    from villageapp.registry import data

    barrier, outcomes = threading.Barrier(6), []

    def add(i):
        with app.app_context():
            db = store.open_town(CHIHE_TOWN, app)
            barrier.wait()
            try:
                household, _ = data.add_household_with_head(db, MINGXING_VILLAGE, "九组", "并发户", f"cadre{i}", address="九组1号")
                outcomes.append(("household", household["uuid"]))
            except data.Duplicate as duplicate:
                outcomes.append(("duplicate", duplicate.row["uuid"]))
            finally:
                db.close()

    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(kind for kind, _ in outcomes) == ["duplicate"] * 5 + ["household"]
    assert len({uuid for _, uuid in outcomes}) == 1
    db = store.open_town(CHIHE_TOWN, app)
    house = db.execute("select uuid from households where head_name = '并发户'").fetchall()
    assert len(house) == 1
    with app.app_context():
        people = []
        for i in range(2):
            try:
                people.append(data.add_resident_once(db, house[0][0], "并发人", f"cadre{i}", birth_year=1990)[1])
            except data.Duplicate:
                people.append("duplicate")
    assert people == [True, "duplicate"]
    assert db.execute("select count(*) from residents where name = '并发人'").fetchone()[0] == 1
