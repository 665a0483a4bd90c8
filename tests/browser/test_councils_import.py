"""A council roster from a sheet on a 360 px phone, in Debian's Chromium (issue 15): the cadre opens the council, taps
从表格导入名单, downloads the template, uploads a filled sheet, checks the preview (a namesake to choose, an outside
member), chooses, confirms, and sees the roster. The preview screens pass the same machine checks as every GET screen
(axe, width, tap targets, no English), also in 大字模式."""
import io
import re
from datetime import datetime

import openpyxl
import pytest
from conftest import CHIHE_TOWN, MINGXING, MINGXING_VILLAGE
from playwright.sync_api import expect

from villageapp import store
from villageapp.councils import data as councils
from villageapp.registry import data as registry

from . import screens

pytestmark = pytest.mark.browser

V = f"/v/{MINGXING_VILLAGE}"
checks, no_problems = screens.problems, screens.no_problems


@pytest.fixture
def council(app):
    """明星村's 村民议事会, and two residents called 欧阳明远 (one in 一组, one in 三组) to tell apart."""
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        for group, head, year in (("一组", "欧阳德厚", 1971), ("三组", "司马守田", 1988)):
            household = registry.add_household(db, MINGXING_VILLAGE, group, head, "test")
            registry.add_resident(db, household["uuid"], "欧阳明远", "test", birth_year=year)
        row = councils.council_by_name(db, MINGXING_VILLAGE, "村民议事会")
        db.close()
        return row


def sheet(path, rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return str(path)


def test_a_cadre_imports_a_roster_on_a_phone(browser, live_server, council, tmp_path):
    page = screens.signed_in(browser, live_server.url, MINGXING, accept_downloads=True)
    page.goto(f"{live_server.url}{V}/councils/{council['uuid']}")
    page.get_by_role("link", name="从表格导入名单").click()
    expect(page.locator("h1")).to_contain_text("从表格导入名单")

    with page.expect_download() as download:
        page.get_by_role("link", name="下载模板（Excel）").click()
    template = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert [c.value for c in next(template.worksheets[0].iter_rows(max_row=1))] == \
        ["姓名", "职务", "起始日期", "电话", "是否本村村民"]

    # a sheet with a mistake first: the rows to fix are listed, and nothing can be confirmed
    page.set_input_files("input[type=file]", sheet(tmp_path / "错的名单.xlsx", [
        ["姓名", "职务", "起始日期", "电话", "是否本村村民"], ["查无此人", "会长", None, None, "是"]]))
    page.get_by_role("button", name="上传，先看看").click()
    expect(page.locator(".error-summary")).to_contain_text("什么都不会导入")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    no_problems(page)
    page.get_by_role("link", name="改好后重新上传").click()

    page.set_input_files("input[type=file]", sheet(tmp_path / "名单.xlsx", [
        ["姓名", "职务", "起始日期", "电话", "是否本村村民"],
        ["欧阳明远", "会长", datetime(2024, 1, 5), "13912345678", "是"],
        ["钱乡贤", "成员", "2024/1/5", None, "否"]]))
    page.get_by_role("button", name="上传，先看看").click()
    expect(page.locator("h1")).to_contain_text("检查名单")
    expect(page.locator("#new")).to_contain_text("钱乡贤")
    choice = page.get_by_label(re.compile("三组 · 户主 司马守田 · 1988年生"))
    expect(choice).to_be_visible()
    no_problems(page)
    page.click("header [data-textsize]")  # 大字模式: still fits, still big enough to tap
    assert page.evaluate("document.documentElement.classList.contains('big')")
    assert not screens.width_problems(page) and not screens.tap_problems(page)

    page.get_by_role("button", name="确认导入").click()  # nothing chosen yet: asked again
    expect(page.locator("#ambiguous")).to_be_visible()
    page.get_by_label(re.compile("三组 · 户主 司马守田 · 1988年生")).check()
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator(".flash")).to_contain_text("已导入：新加入 2 人")
    expect(page.locator("table").first).to_contain_text("欧阳明远")
    expect(page.locator("table").first).to_contain_text("钱乡贤")
    page.context.close()
