"""Exports of the town's lists: the file holds exactly the rows the filters on the screen select, opens with csv and
openpyxl, neutralises formulas, says so when it holds personal information, and streams; the photos zip and the town
archive; who may export what."""
import csv
import io
import sqlite3
import zipfile
from datetime import date, timedelta

import openpyxl
import pytest
from conftest import CHENGGUAN, CHIHE, CHIHE_TOWN, COUNTY, LAWYER, MINGXING, MINGXING_VILLAGE, WUAI_VILLAGE

from villageapp import store
from villageapp.exports import filters, formats

T = f"/t/{CHIHE_TOWN}"


def town_db(app):
    with app.app_context():
        return store.open_town(CHIHE_TOWN)


def read_csv(response):
    assert response.status_code == 200, response.text[:300]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response):
    assert response.status_code == 200, response.text[:300]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    return book.active


def expected_meetings(app, village=None, start=None, end=None, council=None):
    """The meetings a filter selects, computed here from the table, not by the app's query."""
    db = town_db(app)
    councils = {c["uuid"]: c["name"] for c in db["councils"].rows}
    out = []
    for m in db["meetings"].rows:
        day = date.fromisoformat(m["starts_at"][:10])
        if village and m["village_code"] != village or council and councils[m["council_uuid"]] != council:
            continue
        if start and day < start or end and day > end:
            continue
        out.append(m)
    db.close()
    return out


def spread_meetings(app):
    """Give each village's meetings dates 30 days apart from 2025-05-01: its first three fall before 2025's third quarter,
    the next three in it (the same in every demo build, whatever the random uuids)."""
    db = town_db(app)
    with store.write(db):
        seen = {}
        for m in db["meetings"].rows_where(order_by="village_code, starts_at, uuid"):
            n = seen[m["village_code"]] = seen.get(m["village_code"], -1) + 1
            day = date(2025, 5, 1) + timedelta(days=30 * n)
            db["meetings"].update(m["uuid"], {"starts_at": f"{day.isoformat()}T09:30"})
    db.close()


def test_meetings_of_one_village_for_a_quarter_as_csv_and_xlsx_hold_exactly_those_rows(app, client, auth):
    spread_meetings(app)
    quarter = filters.period("2025-3")
    want = expected_meetings(app, MINGXING_VILLAGE, quarter.start, quarter.end)
    everything = expected_meetings(app)
    assert want and len(want) < len(everything)
    auth.login(CHIHE)
    args = {"village": MINGXING_VILLAGE, "period": "2025-3"}
    rows = read_csv(client.get(f"{T}/exports/meetings.csv", query_string=args))
    assert rows[0][0].startswith("本表含个人信息") and "明星村" in rows[0][0] and "2025年第三季度" in rows[0][0]
    assert rows[1][:3] == ["村（社区）", "会", "开会时间"]
    assert sorted(r[2] for r in rows[2:]) == sorted(m["starts_at"].replace("T", " ") for m in want)
    assert {r[0] for r in rows[2:]} == {"明星村"}

    sheet = read_xlsx(client.get(f"{T}/exports/meetings.xlsx", query_string=args))
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0].startswith("本表含个人信息")
    assert values[1][:3] == ("村（社区）", "会", "开会时间")
    assert len(values) - 2 == len(want)
    assert sheet.freeze_panes == "A3"
    assert sheet.column_dimensions["A"].width >= 10
    day_cell = sheet.cell(row=3, column=3)
    assert day_cell.is_date and day_cell.value.isoformat(" ")[:16] in {m["starts_at"].replace("T", " ") for m in want}
    assert isinstance(sheet.cell(row=3, column=7).value, int)  # 实到人数 is a number

    # the town's own meetings list with the same words shows the same rows
    page = client.get(f"{T}/meetings/", query_string=args).text
    assert page.split("<tbody>")[1].count("<tr>") == len(want)
    assert "导出 Excel 表格" in page and "period=2025-3" in page


def test_filters_the_list_does_not_offer_are_refused_in_chinese(app, client, auth):
    auth.login(CHIHE)
    for args, words in (({"village": "610922100201"}, "没有这个村"), ({"period": "2025-5"}, "不是能选的时间段"),
                        ({"start": "2025-13-01"}, "不是能用的日期"), ({"state": "gone"}, "状态没有"),
                        ({"start": "2025-06-01", "end": "2025-01-01"}, "开始日期在结束日期之后")):
        for path in (f"{T}/exports/meetings.csv", f"{T}/exports/meetings", f"{T}/meetings/"):
            response = client.get(path, query_string=args)
            assert response.status_code == 400 and words in response.text, (path, args)


def test_formulas_are_text_in_csv_and_xlsx(app, client, auth):
    db = town_db(app)
    evil = '=HYPERLINK("http://evil.example","详情")'
    with store.write(db):
        first = next(db["meetings"].rows_where(order_by="uuid"))
        db["meetings"].update(first["uuid"], {"place": evil, "host": "@SUM(1+1)"})
    db.close()
    auth.login(CHIHE)
    rows = read_csv(client.get(f"{T}/exports/meetings.csv"))
    assert any("'" + evil in row for row in rows) and any("'@SUM(1+1)" in row for row in rows)
    assert not any(c.startswith(formats.FORMULA_STARTS) for row in rows for c in row)
    sheet = read_xlsx(client.get(f"{T}/exports/meetings.xlsx"))
    cells = [c for row in sheet.iter_rows() for c in row if c.value == evil]
    assert cells and all(c.data_type == "s" for c in cells)  # text, never a formula
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_control_characters_from_a_phone_do_not_break_the_xlsx(app, client, auth):
    db = town_db(app)
    with store.write(db):
        first = next(db["meetings"].rows_where(order_by="uuid"))
        db["meetings"].update(first["uuid"], {"place": "村委\x00会\x08议室\x1f"})
    db.close()
    auth.login(CHIHE)
    sheet = read_xlsx(client.get(f"{T}/exports/meetings.xlsx"))
    assert any(c.value == "村委会议室" for row in sheet.iter_rows() for c in row)


def test_an_export_is_written_to_the_audit_log(app, client, auth):
    auth.login(CHIHE)
    client.get(f"{T}/exports/meetings.xlsx", query_string={"village": WUAI_VILLAGE}).close()
    db = town_db(app)
    entry = next(db["audit"].rows_where("action = 'export'", order_by="id desc"))
    db.close()
    assert entry["actor"] == CHIHE and "会议记录" in entry["summary"] and "五爱村" in entry["summary"]


@pytest.mark.parametrize("login, status", [(CHIHE, 200), (COUNTY, 200), (CHENGGUAN, 404), (MINGXING, 403), (LAWYER, 403)])
def test_who_may_export_the_town_lists(app, client, auth, login, status):
    auth.login(login)
    for path in (f"{T}/exports/", f"{T}/exports/meetings", f"{T}/exports/meetings.csv"):
        assert client.get(path).status_code == status, (login, path)
    # the archive holds every table, 道德评议 cases included, which the county may not read: the town's staff only
    archive = client.get(f"{T}/exports/archive.zip").status_code
    assert archive == (403 if login == COUNTY else status), login


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(f"{T}/exports/meetings.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_photos_zip_names_each_photo_by_village_date_and_title(app, client, auth):
    db = town_db(app)
    expected = {}  # the photos of 明星村's meetings, from the tables: (day, council) -> [bytes]
    for m in db.query("select m.uuid, m.starts_at, c.name from meetings m join councils c on c.uuid = m.council_uuid "
                      "where m.village_code = ?", [MINGXING_VILLAGE]):
        data = [r["data"] for r in db.query("select f.data from record_files r join files f on f.sha256 = r.sha256 "
                                            "where r.record_uuid = ? order by r.sort", [m["uuid"]])]
        if data:
            expected[m["starts_at"][:10], m["name"]] = data
    db.close()
    assert expected, "the demo has photos of minutes"
    auth.login(CHIHE)
    response = client.get(f"{T}/exports/meetings.zip", query_string={"village": MINGXING_VILLAGE})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert len(names) == sum(len(v) for v in expected.values())
    for (day, council), photos in expected.items():
        for number, data in enumerate(photos, 1):
            name = next(n for n in names if n.startswith(f"明星村-{day}-{council}") and n.endswith(f"-{number}.jpg"))
            assert archive.read(name) == data
    other = client.get(f"{T}/exports/meetings.zip", query_string={"village": MINGXING_VILLAGE, "state": "draft"})
    assert zipfile.ZipFile(io.BytesIO(other.data)).namelist() == ["没有照片.txt"]


def test_the_town_archive_has_every_table_every_file_and_a_consistent_snapshot(app, client, auth, tmp_path):
    auth.login(CHIHE)
    response = client.get(f"{T}/exports/archive.zip")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    snapshot = tmp_path / "snap.sqlite"
    snapshot.write_bytes(archive.read(f"{CHIHE_TOWN}.sqlite"))
    conn = sqlite3.connect(snapshot)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    meetings = conn.execute("select count(*) from meetings").fetchone()[0]
    files = conn.execute("select count(*) from file_villages").fetchone()[0]
    conn.close()
    assert "表格CSV/meetings.csv" in names and "表格XLSX/meetings.xlsx" in names and "表格CSV/residents.csv" in names
    assert not any("_fts" in n for n in names)
    rows = list(csv.reader(io.StringIO(archive.read("表格CSV/meetings.csv").decode("utf-8-sig"))))
    assert len(rows) - 1 == meetings
    sheet = openpyxl.load_workbook(io.BytesIO(archive.read("表格XLSX/meetings.xlsx"))).active
    assert sheet.max_row - 1 == meetings
    assert len([n for n in names if n.startswith("文件/")]) == files


def test_the_xlsx_writer_streams_and_keeps_types():
    chunks = formats.xlsx_chunks(["名称", "日期", "时间", "数"], (["甲", "2026-03-04", "2026-03-04T09:30", n] for n in range(5000)),
                                 ["text", "date", "datetime", "int"], notice="说明")
    parts = list(chunks)
    assert len(parts) > 3  # bytes leave as rows are written, not once at the end
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(parts))).active
    long = openpyxl.load_workbook(io.BytesIO(b"".join(formats.xlsx_chunks(["正文"], [["字" * 40000]], ["text"]))))
    assert len(long.active["A2"].value) == formats.CELL_LIMIT  # Excel's limit, or it "repairs" the file
    assert sheet.max_row == 5002 and sheet["A1"].value == "说明" and sheet["B2"].value == "日期"
    assert sheet["B3"].value.date() == date(2026, 3, 4) and sheet["C3"].value.hour == 9 and sheet["D5002"].value == 4999


def test_the_command_line_exports_the_same_rows_as_the_page(app, client, auth, runner, tmp_path):
    spread_meetings(app)
    args = {"village": MINGXING_VILLAGE, "period": "2025-3"}
    auth.login(CHIHE)
    page = read_xlsx(client.get(f"{T}/exports/meetings.xlsx", query_string=args))
    target = tmp_path / "m.xlsx"
    result = runner.invoke(args=["export", CHIHE_TOWN, "meetings", "--format", "xlsx", "--village", MINGXING_VILLAGE,
                                 "--period", "2025-3", "-o", str(target)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(target).active
    assert list(sheet.iter_rows(min_row=2, values_only=True)) == list(page.iter_rows(min_row=2, values_only=True))
    csv_file = tmp_path / "m.csv"
    drafts = runner.invoke(args=["export", CHIHE_TOWN, "meetings", "--filter", "state=draft", "-o", str(csv_file)])
    assert drafts.exit_code == 0, drafts.output
    rows = list(csv.reader(io.StringIO(csv_file.read_text("utf-8-sig"))))
    db = town_db(app)
    assert len(rows) - 2 == db["meetings"].count_where("state = 'draft'")
    db.close()
    for bad in (["export", CHIHE_TOWN, "nothing"], ["export", "610922999", "meetings"],
                ["export", CHIHE_TOWN, "meetings", "--period", "2025-9"], ["export", CHIHE_TOWN, "meetings", "--filter", "x=1"]):
        assert runner.invoke(args=bad).exit_code == 2, bad
    archive = tmp_path / "a.zip"
    assert runner.invoke(args=["export", CHIHE_TOWN, "archive", "-o", str(archive)]).exit_code == 0
    assert f"{CHIHE_TOWN}.sqlite" in zipfile.ZipFile(archive).namelist()


@pytest.mark.parametrize("path", [f"{T}/exports/meetings.xlsx", f"{T}/exports/meetings.csv", f"{T}/exports/archive.zip"])
def test_an_export_under_way_never_holds_the_write_lock(app, client, auth, path):
    auth.login(CHIHE)
    response = client.get(path)
    assert response.status_code == 200
    chunks = iter(response.response)
    first = b"".join(next(chunks, b"") for _ in range(3))  # bytes have left (the archive's snapshot among them); more to come
    assert first
    writer = sqlite3.connect(town_db(app).conn.execute("pragma database_list").fetchone()[2], timeout=0.2,
                             isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a writer while the export reads: answered at once, not after the export
    writer.execute("update villages set name = name")
    writer.execute("COMMIT")
    writer.close()
    rest = b"".join(chunks)
    response.close()
    assert len(first) + len(rest) > 100
