"""Council rosters from a sheet (issue 15): the template, .xlsx and CSV (UTF-8, GBK) through the pages, each row
matched to the register by name, a shared name chosen on the preview, outside members, rows already on the roster
skipped, all rows or none, hostile files refused in Chinese, and only the village's cadres importing."""
import io
import re
import zipfile
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from conftest import CHIHE, CHIHE_TOWN, COUNTY, GUYAN, LAWYER, MINGXING, MINGXING_VILLAGE, WUAI_VILLAGE, council_of
from PIL import Image
from test_registry import csv_bytes, xlsx_bytes  # the household import's sheet makers: the same files

from villageapp import store
from villageapp.clock import today
from villageapp.councils import data as councils
from villageapp.councils import imports
from villageapp.registry import data as registry

V = f"/v/{MINGXING_VILLAGE}"
HEADER = ["姓名", "职务", "起始日期", "电话", "是否本村村民"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---- helpers -------------------------------------------------------------------------------------------

def town(app):
    return store.open_town(CHIHE_TOWN, app)


def council_row(app, name="红白理事会", village=MINGXING_VILLAGE):
    return council_of(app, name, village)


@pytest.fixture
def people(app):
    """明星村 residents made for these tests: two 欧阳明远 in two groups, one 司马春燕 (names the demo does not use)."""
    with app.app_context():
        db = town(app)
        made = {}
        for group, head, name, year in (("一组", "欧阳德厚", "欧阳明远", 1971), ("三组", "司马守田", "欧阳明远", 1988),
                                        ("三组", "司马守田", "司马春燕", 1990)):
            household = registry.find_household(db, MINGXING_VILLAGE, group, head, None) or \
                registry.add_household(db, MINGXING_VILLAGE, group, head, "test")
            made[(name, year)] = registry.add_resident(db, household["uuid"], name, "test", birth_year=year)["uuid"]
        return made


def url(council):
    return f"{V}/councils/{council['uuid']}/import"


def upload(client, auth, council, data, filename="名单.xlsx"):
    return client.post(url(council), data={"csrf_token": auth.token(), "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def payload(page):
    match = re.search(r'name="payload" value="([^"]+)"', page.text)
    return match.group(1) if match else None


def confirm(client, auth, council, page, **picks):
    """Tap 确认导入 on the preview page (picks: row number → resident UUID)."""
    form = {"csrf_token": auth.token(url(council)), "payload": payload(page),
            **{f"pick-{line}": uuid for line, uuid in picks.items()}}
    return client.post(url(council), data=form)


def roster(app, council):
    with app.app_context():
        return {(m["name"], m["position"]): m for m in councils.members(town(app), council["uuid"])}


def audit_count(app, action="import"):
    with app.app_context():
        return town(app)["audit"].count_where("action = ? and \"table\" = 'council_members'", [action])


# ---- the template ----------------------------------------------------------------------------------------

def test_the_template_has_the_headers_and_an_example_row_of_this_council(app, client, auth):
    council = council_row(app, "村“两委”会")
    auth.login(MINGXING)
    response = client.get(f"{url(council)}/template.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == HEADER and len(rows) == 2
    _name, position, since, phone, local = rows[1]
    assert position == "书记" and isinstance(since, datetime) and phone == "13912345678" and local == "是"
    assert book.sheetnames[1] == "填写说明"


def test_the_council_page_leads_to_the_import_and_the_template(app, client, auth):
    council = council_row(app)
    auth.login(MINGXING)
    show = client.get(f"{V}/councils/{council['uuid']}").text
    assert "从表格导入名单" in show and url(council) in show
    page = client.get(url(council))
    assert page.status_code == 200 and f"{url(council)}/template.xlsx" in page.text
    assert "会长、副会长、秘书长、成员" in page.text


# ---- a sheet through the pages -------------------------------------------------------------------------------

def test_an_xlsx_is_previewed_then_written_on_confirm(app, client, auth, people):
    council = council_row(app)
    auth.login(MINGXING)
    sheet = [["红白理事会成员名单"], HEADER,  # a title line above the header, as sheets often have
             ["司马春燕", "会长", datetime(2024, 1, 5), 13912345678, "是"],
             ["钱乡贤", "理事", "2023-03-01", "0915-6321234", "否"],
             [None, None, None, None, None]]  # an empty row left behind
    before = len(roster(app, council))
    page = upload(client, auth, council, xlsx_bytes(sheet))
    assert page.status_code == 200 and "现在还没有保存" in page.text
    assert "新加入：2 人" in page.text and "第 3 行 · 司马春燕" in page.text and "第 4 行 · 钱乡贤" in page.text
    assert "户主 司马守田" in page.text and "非本村户籍" in page.text and "确认导入" in page.text
    assert len(roster(app, council)) == before  # nothing saved by the preview
    done = confirm(client, auth, council, page)
    assert done.status_code == 302
    assert "已导入：新加入 2 人" in client.get(done.location).text
    rows = roster(app, council)
    assert len(rows) == before + 2
    resident = rows["司马春燕", "会长"]
    assert resident["resident_uuid"] == people["司马春燕", 1990] and resident["since"] == "2024-01-05"
    assert resident["note"] == "电话 13912345678"
    outsider = rows["钱乡贤", "成员"]  # 理事 is a 成员 of a council
    assert outsider["resident_uuid"] is None and outsider["since"] == "2023-03-01" and outsider["note"] == "电话 0915-6321234"
    assert audit_count(app) == 1
    with app.app_context():  # each member audited as well
        assert town(app)["audit"].count_where("record_id in (?, ?)", [resident["uuid"], outsider["uuid"]]) == 2
    auth.logout()
    auth.login(CHIHE)  # the town reads the import in its log, in words
    log = client.get(f"/t/{CHIHE_TOWN}/audit/").text
    assert "导入红白理事会名单 名单.xlsx：新加入 2 人，已在名单上 0 人" in log
    assert "新加入" in log and "行数" in log and "filename" not in log and "skipped" not in log


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_or_gbk(app, client, auth, people, encoding):
    council = council_row(app, "道德评议会")
    auth.login(MINGXING)
    data = csv_bytes([HEADER, ["司马春燕", "副会长", "2024/1/5", "", ""], ["钱乡贤", "成员", "2024年1月5日", "", "否"]],
                     encoding)
    page = upload(client, auth, council, data, "名单.csv")
    assert "新加入：2 人" in page.text
    assert confirm(client, auth, council, page).status_code == 302
    rows = roster(app, council)
    assert rows["司马春燕", "副会长"]["since"] == rows["钱乡贤", "成员"]["since"] == "2024-01-05"


def test_a_shared_name_is_chosen_on_the_preview(app, client, auth, people):
    council = council_row(app, "村民议事会")
    auth.login(MINGXING)
    before = len(roster(app, council))
    page = upload(client, auth, council, csv_bytes([HEADER, ["欧阳明远", "成员", "", "", "是"]]), "名单.csv")
    assert "同名的人，请选是哪一位" in page.text and "第 2 行 · 欧阳明远是哪一位？" in page.text
    assert "一组 · 户主 欧阳德厚 · 1971年生" in page.text and "三组 · 户主 司马守田 · 1988年生" in page.text
    assert page.text.count('name="pick-2"') == 2
    unchosen = confirm(client, auth, council, page)  # 确认导入 without choosing: asked again, nothing saved
    assert unchosen.status_code == 200 and "同名的人，请选是哪一位" in unchosen.text
    assert len(roster(app, council)) == before
    wrong = confirm(client, auth, council, page, **{"2": people["司马春燕", 1990]})  # not one of the two
    assert "选的人不在这几位里" in wrong.text and len(roster(app, council)) == before
    chosen = people["欧阳明远", 1988]
    assert confirm(client, auth, council, page, **{"2": chosen}).status_code == 302
    assert roster(app, council)["欧阳明远", "成员"]["resident_uuid"] == chosen


def test_the_same_namesake_chosen_twice_is_asked_again(app, client, auth, people):
    council = council_row(app, "村民议事会")
    auth.login(MINGXING)
    page = upload(client, auth, council, csv_bytes([HEADER, ["欧阳明远", "会长"], ["欧阳明远", "成员"]]), "名单.csv")
    same = people["欧阳明远", 1971]
    again = confirm(client, auth, council, page, **{"2": same, "3": same})
    assert again.status_code == 200 and "第 2 行已经是这一位了，请选另一位" in again.text
    assert ("欧阳明远", "会长") not in roster(app, council)
    assert confirm(client, auth, council, page, **{"2": same, "3": people["欧阳明远", 1988]}).status_code == 302
    rows = roster(app, council)
    assert rows["欧阳明远", "会长"]["resident_uuid"] == same and rows["欧阳明远", "成员"]["resident_uuid"] != same


def test_a_group_column_tells_namesakes_apart(app, client, auth, people):
    council = council_row(app, "禁毒禁赌会")
    auth.login(MINGXING)
    page = upload(client, auth, council, csv_bytes([HEADER + ["组"], ["欧阳明远", "成员", "", "", "是", "3组"]]), "名单.csv")
    assert "新加入：1 人" in page.text and "同名的人，请选是哪一位" not in page.text
    assert confirm(client, auth, council, page).status_code == 302
    assert roster(app, council)["欧阳明远", "成员"]["resident_uuid"] == people["欧阳明远", 1988]
    wrong = upload(client, auth, council, csv_bytes([HEADER + ["组"], ["欧阳明远", "成员", "", "", "", "二组"]]), "名单.csv")
    assert "二组没有叫欧阳明远的村民（户籍名册里的欧阳明远在：一组、三组）" in wrong.text


def test_a_resident_not_in_the_register_is_a_row_error_and_nothing_is_written(app, client, auth, people):
    council = council_row(app)
    auth.login(MINGXING)
    before = len(roster(app, council))
    page = upload(client, auth, council, csv_bytes([HEADER, ["司马春燕", "成员"], ["查无此人", "成员", "", "", "是"]]),
                  "名单.csv")
    assert "第 3 行 · 查无此人" in page.text
    assert "户籍名册里没有这个人，请先在户籍里添加，或把“是否本村村民”填“否”" in page.text
    assert "什么都不会导入" in page.text and payload(page) is None and "确认导入" not in page.text
    assert len(roster(app, council)) == before


def test_an_outside_member_has_no_resident_link_even_when_a_resident_shares_the_name(app, client, auth, people):
    council = council_row(app, "村民议事会")
    auth.login(MINGXING)
    page = upload(client, auth, council, csv_bytes([HEADER, ["司马春燕", "成员", "", "13800001111", "否"],
                                                    ["包村干部李", "成员", "", "", "否"]]), "名单.csv")
    assert "新加入：2 人" in page.text and "同名的人，请选是哪一位" not in page.text
    assert "户籍名册里也有叫司马春燕的村民；这一行填了“否”，按非本村户籍的人加入" in page.text
    assert confirm(client, auth, council, page).status_code == 302
    rows = roster(app, council)
    assert rows["司马春燕", "成员"]["resident_uuid"] is None and rows["包村干部李", "成员"]["resident_uuid"] is None
    assert rows["司马春燕", "成员"]["note"] == "电话 13800001111"
    assert "非本村户籍" in client.get(f"{V}/councils/{council['uuid']}").text


def test_one_bad_row_and_nothing_is_written(app, client, auth, people):
    council = council_row(app)
    auth.login(MINGXING)
    rows = [HEADER,
            ["司马春燕", "会长", "2024-01-05", "", "是"],  # good
            ["钱乡贤", "村长", "", "", "否"],  # not a position of this council
            ["孙乡贤", "成员", "2024-13-01", "12345", "否"],  # no such date, not a phone
            ["李乡贤", "成员", "", "", "也许"],
            ["", "成员", "", "", "否"],
            ["=A1", "成员", "", "", "否"],  # a formula typed into a CSV
            ["周乡贤", "成员", "", "", "否"], ["周乡贤", "成员", "", "", "否"]]  # the same person twice
    page = upload(client, auth, council, csv_bytes(rows), "名单.csv")
    text = page.text
    assert page.status_code == 200 and "有 6 行不对，什么都不会导入" in text and payload(page) is None
    assert "红白理事会没有“村长”这个职务，只能填：会长、副会长、秘书长、成员" in text
    assert "起始日期不存在：2024-13-01" in text and "电话号码不对：12345" in text
    assert "是否本村村民只能填“是”或“否”（填的是 也许）" in text and "没有填姓名" in text
    assert "姓名里有不该有的符号" in text and "和第 8 行是同一个人" in text
    assert "第 3 行" in text and "第 4 行" in text and "第 9 行" in text
    assert ("司马春燕", "会长") not in roster(app, council)


def test_nothing_is_written_when_the_register_changed_before_confirming(app, client, auth, people):
    """All or none at the moment of writing too: the rows are checked again in the transaction that writes them."""
    council = council_row(app)
    auth.login(MINGXING)
    page = upload(client, auth, council, csv_bytes([HEADER, ["钱乡贤", "成员", "", "", "否"], ["司马春燕", "成员"]]),
                  "名单.csv")
    assert "新加入：2 人" in page.text
    with app.app_context():
        db = town(app)
        with store.write(db):  # 司马春燕 moved away and was taken off the register meanwhile
            db.execute("delete from residents where uuid = ?", [people["司马春燕", 1990]])
    again = confirm(client, auth, council, page)
    assert again.status_code == 200 and "户籍名册里没有这个人" in again.text and "什么都不会导入" in again.text
    assert ("钱乡贤", "成员") not in roster(app, council) and audit_count(app) == 0


def test_members_already_on_the_roster_are_skipped_and_a_second_upload_adds_nobody(app, client, auth, people):
    council = council_row(app, "道德评议会")
    auth.login(MINGXING)
    sheet = xlsx_bytes([HEADER, ["司马春燕", "成员"], ["钱乡贤", "成员", None, None, "否"]])
    first = upload(client, auth, council, sheet)
    assert confirm(client, auth, council, first).status_code == 302
    before = len(roster(app, council))
    again = confirm(client, auth, council, first)  # the same preview confirmed twice (a double tap, the back button)
    assert again.status_code == 302 and "都已在名单上，没有重复添加" in client.get(again.location).text
    second = upload(client, auth, council, sheet)
    assert "新加入：0 人" in second.text and "已在名单上（跳过，不会重复添加）：2 人" in second.text
    assert "不用导入" in second.text and "确认导入" not in second.text
    changed = upload(client, auth, council, xlsx_bytes([HEADER, ["司马春燕", "会长"]]))
    assert "名单上的职务是“成员”，不会改动" in changed.text
    assert len(roster(app, council)) == before and audit_count(app) == 1


def test_position_words_of_the_sheets_are_read_as_the_councils_positions(app, client, auth, people):
    council = council_row(app, "村“两委”会")
    auth.login(MINGXING)
    page = upload(client, auth, council, csv_bytes([HEADER, ["司马春燕", "村支书"], ["钱包村", "村委委员", "", "", "否"]]),
                  "名单.csv")
    assert confirm(client, auth, council, page).status_code == 302
    rows = roster(app, council)
    assert ("司马春燕", "书记") in rows and ("钱包村", "委员") in rows


@pytest.mark.parametrize("text, day", [
    ("2024-01-05", date(2024, 1, 5)), ("2024/1/5", date(2024, 1, 5)), ("2024年1月5日", date(2024, 1, 5)),
    ("2024.1.5", date(2024, 1, 5)), ("2024/1/5 0:00", date(2024, 1, 5)), ("20240105", date(2024, 1, 5)),
    ("45296", date(2024, 1, 5)), ("", None),
])
def test_start_dates_read(text, day):
    assert imports.start_date(text) == (day, None)


@pytest.mark.parametrize("text", ["2024", "2024年1月", "1月5日", "2024-02-30", "1900-01-01", "9999999999", "明年"])
def test_start_dates_refused(text):
    day, reason = imports.start_date(text)
    assert day is None and reason.startswith("起始日期")


def test_a_start_date_far_ahead_is_refused():
    assert imports.start_date((today() + timedelta(days=400)).isoformat())[0] is None


# ---- hostile and malformed files ---------------------------------------------------------------------------

def png():
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    return out.getvalue()


def zip_bomb():
    """An .xlsx-looking zip whose one part unpacks to 64 MB of the same letter (a few hundred KB packed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
        block = b"A" * (1 << 20)
        for _ in range(64):
            f.write(block)
    return out.getvalue()


def formulas():
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(["=A1&\"x\"", "=B1", "=TODAY()", "=1+1", "否"])  # openpyxl saves no cached values
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


MALFORMED = {  # what the file is: (its name, how it is made, the words of the answer); made when the test runs
    "a picture renamed .xlsx": ("名单.xlsx", png, "Excel 文件打不开"),
    "a zip bomb": ("名单.xlsx", zip_bomb, "解开后太大（64 MB，上限 30 MB），不像一份名单"),
    "old Excel": ("名单.xls", lambda: b"\xd0\xcf\x11\xe0" + bytes(200), "旧版 Excel（.xls）"),
    "an empty file": ("名单.csv", lambda: b"", "文件是空的"),
    "binary as csv": ("名单.csv", lambda: bytes(100), "文件打不开"),
    "a 15 MB csv": ("名单.csv", lambda: ("姓名,职务\r\n" + "张三,成员\r\n" * 1_000_000).encode(), "文件太大"),
    "201 rows": ("名单.csv", lambda: csv_bytes([HEADER] + [[f"成员{i}", "成员"] for i in range(201)]), "一次最多导入 200 行"),
    "no header": ("名单.csv", lambda: csv_bytes([["序号", "名字写这里"], ["1", "张三"]]), "没有找到表头"),
    "only the header": ("名单.csv", lambda: csv_bytes([HEADER]), "只有表头"),
    "a column twice": ("名单.csv", lambda: csv_bytes([["姓名", "职务", "姓名"], ["张三", "成员", "李四"]]), "有两列都是“姓名”"),
    "a .txt": ("名单.txt", lambda: "姓名".encode(), "只能导入 .xlsx 或 .csv"),
    "a long cell": ("名单.csv", lambda: csv_bytes([HEADER, ["张" * 5000, "成员"]]), "姓名太长"),
    "formulas": ("名单.xlsx", formulas, "没有填姓名"),  # formula cells read as their (absent) values, never run
}


@pytest.mark.parametrize("what", list(MALFORMED))
def test_malformed_files_get_a_chinese_answer(app, client, auth, what):
    filename, make, words = MALFORMED[what]
    council = council_row(app)
    auth.login(MINGXING)
    before = len(roster(app, council))
    page = upload(client, auth, council, make(), filename)
    assert page.status_code == 200 and words in page.text
    assert len(roster(app, council)) == before


def test_a_huge_csv_cell_is_refused(app, client, auth):
    council = council_row(app)
    auth.login(MINGXING)
    page = upload(client, auth, council, ("姓名,职务\r\n" + "张" * 600_000 + ",成员\r\n").encode(), "名单.csv")
    assert page.status_code == 200 and ("CSV 文件格式有误" in page.text or "姓名太长" in page.text)


def test_no_file_is_asked_for(app, client, auth):
    council = council_row(app)
    auth.login(MINGXING)
    page = client.post(url(council), data={"csrf_token": auth.token(url(council))}, content_type="multipart/form-data")
    assert page.status_code == 200 and "请选择要导入的表格文件" in page.text


def test_a_forged_or_foreign_payload_is_refused(app, client, auth, people):
    council, other = council_row(app), council_row(app, "道德评议会")
    auth.login(MINGXING)
    page = upload(client, auth, council, csv_bytes([HEADER, ["钱乡贤", "成员", "", "", "否"]]), "名单.csv")
    token = payload(page)
    for forged in ("", "abc", token[:-2] + "xx", token.replace(".", ".A", 1)):
        answer = client.post(url(council), data={"csrf_token": auth.token(url(council)), "payload": forged})
        assert answer.status_code == 400 and "请重新上传表格" in answer.text
    answer = client.post(url(other), data={"csrf_token": auth.token(url(other)), "payload": token})
    assert answer.status_code == 400  # carried for 红白理事会, not 道德评议会
    assert ("钱乡贤", "成员") not in roster(app, council) and ("钱乡贤", "成员") not in roster(app, other)
    answer = client.post(url(council), data={"csrf_token": auth.token(url(council)), "payload": token,
                                             "pick-" + "9" * 5000: "x", "pick-²": "x"})
    assert answer.status_code == 302  # odd field names are not choices, and not a 500


# ---- who may import -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("login, status", [(MINGXING, 200), (CHIHE, 403), (COUNTY, 403), (LAWYER, 403), (GUYAN, 404)])
def test_only_the_village_cadres_import(app, client, auth, login, status):
    council = council_row(app)
    auth.login(login)
    assert client.get(url(council)).status_code == status
    assert client.get(f"{url(council)}/template.xlsx").status_code == status
    answer = upload(client, auth, council, csv_bytes([HEADER, ["钱乡贤", "成员", "", "", "否"]]), "名单.csv")
    assert answer.status_code == status


def test_a_council_of_another_village_is_404(app, client, auth):
    other = council_row(app, village=WUAI_VILLAGE)
    auth.login(MINGXING)
    assert client.get(f"{V}/councils/{other['uuid']}/import").status_code == 404
    assert client.get(f"/v/{WUAI_VILLAGE}/councils/{other['uuid']}/import").status_code == 404


def test_signing_in_is_needed(app, client):
    council = council_row(app)
    response = client.get(url(council))
    assert response.status_code == 302 and "/login" in response.location
