"""补录纸质会议记录 on a 360 px phone, in Debian's Chromium (issue 15): the cadre opens 会议记录, taps 补录纸质会议记录,
fills the form from the paper, forgets 实到人数 (told by the field; what was typed and the two photos chosen are still
there), adds one more decision, saves, and sees the record marked 补录 with its photos; then corrects a decision on
the 补录's own 更正 form (the reason forgotten first). The forms, their error screens and the record pass the machine
checks of every screen (axe, width, tap targets, no English), also in 大字模式."""
from datetime import timedelta

import pytest
from conftest import MINGXING, MINGXING_VILLAGE
from PIL import Image
from playwright.sync_api import expect

from villageapp.clock import today

from . import screens

pytestmark = pytest.mark.browser

V = f"/v/{MINGXING_VILLAGE}"
checks, no_problems = screens.problems, screens.no_problems


def photo(path, colour):
    Image.new("RGB", (800, 1100), colour).save(path, "JPEG")
    return str(path)


def test_a_cadre_enters_paper_minutes_on_a_phone(browser, live_server, tmp_path):
    page = screens.signed_in(browser, live_server.url, MINGXING)
    page.goto(f"{live_server.url}{V}/meetings/")
    page.get_by_role("link", name="补录纸质会议记录").click()
    expect(page.locator("h1")).to_have_text("补录纸质会议记录")
    no_problems(page)

    held = today() - timedelta(days=200)
    page.get_by_label("村民代表会议").check()
    page.fill("#date", held.isoformat())
    page.fill("#eligible", "45")
    page.fill("#decisions-0-title", "三组村道硬化")
    page.fill("#decisions-0-decision", "同意，按每户 200 元筹资")
    page.set_input_files("#photo_files", [photo(tmp_path / "第1页.jpg", "white"), photo(tmp_path / "第2页.jpg", "#eee")])
    page.get_by_role("button", name="保存").last.click()

    # 实到人数 forgotten: said by the field, the rest still there, the photos kept on the server
    expect(page.locator("#field-present .error")).to_contain_text("请填实到多少人")
    expect(page.locator("#decisions-0-decision")).to_have_value("同意，按每户 200 元筹资")
    expect(page.locator("input[name=photos]:checked")).to_have_count(2)
    expect(page.get_by_label("村民代表会议")).to_be_checked()
    no_problems(page)
    page.click("header [data-textsize]")  # 大字模式: still fits, still big enough to tap
    assert not screens.width_problems(page) and not screens.tap_problems(page)
    page.click("header [data-textsize]")

    page.fill("#present", "38")
    page.get_by_role("button", name="＋ 再加一件决定的事").click()
    page.fill("#decisions-1-title", "修订村规民约")
    page.fill("#decisions-1-decision", "同意启动修订")
    expect(page.locator("input[name=photos]:checked")).to_have_count(2)
    page.get_by_role("button", name="保存").last.click()

    expect(page.locator(".flash").first).to_contain_text("已补录")
    expect(page.locator("h1")).to_contain_text("村民代表会议")
    expect(page.locator("main")).to_contain_text("补录")
    expect(page.locator("main")).to_contain_text("修订村规民约")
    expect(page.locator("main")).to_contain_text("照片（2/2 已上传）")
    no_problems(page)

    # 更正 of a 补录: its own short form, filled from the record; the reason forgotten is said by the field
    page.get_by_role("link", name="更正").click()
    expect(page.locator("h1")).to_have_text("更正补录的会议记录")
    expect(page.locator("#decisions-1-decision")).to_have_value("同意启动修订")
    expect(page.locator("input[name=photos]:checked")).to_have_count(2)
    no_problems(page)
    page.fill("#decisions-0-decision", "同意，按每户 150 元筹资")
    page.get_by_role("button", name="保存更正").last.click()
    expect(page.locator("#field-reason .error")).to_contain_text("请写明为什么更正")
    expect(page.locator("#decisions-0-decision")).to_have_value("同意，按每户 150 元筹资")
    no_problems(page)
    page.click("header [data-textsize]")
    assert not screens.width_problems(page) and not screens.tap_problems(page)
    page.click("header [data-textsize]")
    page.fill("#reason", "纸上写的是每户 150 元")
    page.get_by_role("button", name="保存更正").last.click()
    expect(page.locator(".flash").first).to_contain_text("已更正，现在是第 2 版")
    expect(page.locator("main")).to_contain_text("每户 150 元")
    expect(page.locator("main")).to_contain_text("补录")
    page.goto(f"{live_server.url}{V}/meetings/")
    expect(page.locator(".card", has_text="村民代表会议").filter(has_text="补录").first).to_be_visible()
    page.context.close()
