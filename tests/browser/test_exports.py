"""A town clerk on a phone, in a real Chromium: from the desk to 各村会议记录, one village and one quarter chosen in the
filter form, 筛选, then 导出 Excel 表格; the downloaded file holds exactly that village's meetings of that quarter —
computed here from the town's SQLite file, not by the app's query — and no other."""
import re
import sqlite3
from datetime import date, timedelta

import openpyxl
import pytest
from conftest import CHIHE, CHIHE_TOWN, MINGXING_VILLAGE, PASSWORD
from playwright.sync_api import expect

from villageapp import periods, store
from villageapp.clock import today

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def town_file(app):
    with app.app_context():
        return store.town_path(CHIHE_TOWN, app)


def spread_meetings(path, chosen):
    """Give each village's meetings days in and around the chosen quarter: of every three, two inside it and one
    before or after it (times differ too), so the quarter leaves some of each village out, whatever the demo holds.
    Written to the copy's town file before the browser starts."""
    conn = sqlite3.connect(path)
    with conn:
        rows = conn.execute("select uuid, village_code from meetings order by village_code, uuid").fetchall()
        seen = {}
        for n, (uuid, village) in enumerate(rows):
            k = seen[village] = seen.get(village, -1) + 1
            if k % 3 == 2:
                day = chosen.start - timedelta(days=10 + k) if k % 2 else chosen.last + timedelta(days=10 + k)
            else:
                day = chosen.start + timedelta(days=(7 * k + n) % 88)
            conn.execute("update meetings set starts_at = ? where uuid = ?",
                         [f"{day.isoformat()}T{8 + n % 10:02d}:{n * 7 % 60:02d}", uuid])
    conn.close()


def meetings_in_file(path):
    """Every meeting as (village code, village, council, start 'YYYY-MM-DD HH:MM', place, present), read with sqlite3."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("""select m.village_code, v.name, c.name, replace(substr(m.starts_at, 1, 16), 'T', ' '),
                                      coalesce(m.place, ''), coalesce(m.present, 0)
                               from meetings m join villages v on v.code = m.village_code
                               join councils c on c.uuid = m.council_uuid""").fetchall()
    finally:
        conn.close()


@pytest.mark.browser_context_args(**PHONE)
def test_town_clerk_exports_one_villages_meetings_of_a_quarter_as_excel_on_a_phone(page, live_server, app, tmp_path):
    path = town_file(app)
    last_year = today().year - 1
    chosen = periods.quarter(last_year, 3)   # last year's quarters are always offered by the form's 时间段
    spread_meetings(path, chosen)
    everything = meetings_in_file(path)
    in_quarter = [m for m in everything if chosen.start <= date.fromisoformat(m[3][:10]) <= chosen.last]
    want = sorted(m[1:] for m in in_quarter if m[0] == MINGXING_VILLAGE)
    # the choice leaves rows out both ways: the same village in other quarters, other villages in this quarter
    assert len(want) >= 2, f"the demo has {len(want)} 明星村 meetings in the chosen quarter"
    assert any(m[0] == MINGXING_VILLAGE for m in everything if m not in in_quarter)
    assert any(m[0] != MINGXING_VILLAGE for m in in_quarter)

    page.goto(live_server.url + "/login")
    page.get_by_label("用户名", exact=True).fill(CHIHE)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").tap()
    expect(page.locator("h1")).to_contain_text("镇工作台")
    page.get_by_role("link", name="各村会议记录").tap()
    expect(page.locator("h1")).to_have_text("各村会议记录")
    expect(page).to_have_url(re.compile(rf"/t/{CHIHE_TOWN}/meetings/$"))

    page.get_by_label("村（社区）").select_option(label="明星村")
    page.get_by_label(re.compile("^时间段")).select_option(label=chosen.label)
    page.get_by_role("button", name="筛选").tap()
    expect(page).to_have_url(re.compile(rf"village={MINGXING_VILLAGE}.*period={chosen.key}|period={chosen.key}.*village="))
    expect(page.locator("main")).to_contain_text(f"明星村，{chosen.label}")
    expect(page.locator("tbody tr")).to_have_count(len(want))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page is wider than the phone"

    button = page.get_by_role("link", name="导出 Excel 表格")
    expect(button).to_be_visible()
    with page.expect_download() as waiting:
        button.tap()
    download = waiting.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".xlsx") and "明星村" in download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    sheet = openpyxl.load_workbook(saved).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0].startswith("本表含个人信息") and chosen.label in values[0][0]
    assert values[1][:3] == ("村（社区）", "会", "开会时间")
    got = sorted((r[0], r[1], r[2].strftime("%Y-%m-%d %H:%M"), r[3] or "", r[6]) for r in values[2:])
    assert got == want
