"""Issue 9 on a phone, in Debian's Chromium: the minutes form (inputs of one height, a round start time, folded
sections, 保存 always on the screen), the QR poster (fits 390 and 360 px, a thumb-sized 返回, one A4 page, the
warning about its address on screen only), a lost receipt found by its number, and photos as thumbnails."""
import io
import re
from datetime import datetime

import pytest
from PIL import Image
from playwright.sync_api import expect

from .test_public import login, running_notice

from conftest import MINGXING, MINGXING_VILLAGE, PASSWORD

pytestmark = pytest.mark.browser

V = f"/v/{MINGXING_VILLAGE}"


def phone(browser, width):
    return browser.new_context(viewport={"width": width, "height": 844}, device_scale_factor=2, is_mobile=True,
                               has_touch=True, locale="zh-CN")


def fits(page):
    """Nothing wider than the phone's screen (a mobile browser widens its layout to fit a too-wide page, so the
    page is measured against the screen, not against innerWidth)."""
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def open_minutes_form(page, base):
    login(page, base, MINGXING, PASSWORD)
    page.wait_for_url(re.compile(r"/home$"))
    page.goto(base + V + "/meetings/new")
    page.get_by_role("link", name="村民代表会议").click()
    expect(page.locator("h1")).to_contain_text("村民代表会议")


# ---- 6. the minutes form -------------------------------------------------------------------------

@pytest.mark.parametrize("width", [390, 360])
def test_minutes_form_inputs_are_one_height_and_save_is_always_on_screen(browser, live_server, width):
    context = phone(browser, width)
    page = context.new_page()
    # the phone's clock says 06:24 (the page proposes the half hour begun, not the minute it opened)
    page.clock.set_fixed_time(datetime(2026, 11, 26, 6, 24, 37))
    open_minutes_form(page, live_server.url)
    expect(page.locator("[name=time]")).to_have_value("06:00")
    assert fits(page), "the minutes form is wider than the phone"

    sizes = page.evaluate("""() => Array.from(document.querySelectorAll(
        'form input[type=text], form input[type=date], form input[type=time], form input[type=number], form input:not([type])'))
      .filter(i => i.getClientRects().length).map(i => [i.name, i.type, Math.round(i.getBoundingClientRect().height),
        Math.round(i.getBoundingClientRect().width), getComputedStyle(i).borderTopWidth, getComputedStyle(i).fontSize])""")
    heights = {h for _n, _t, h, _w, _b, _f in sizes}
    assert max(heights) - min(heights) <= 3, sizes
    styles = {(b, f) for _n, _t, _h, _w, b, f in sizes}
    assert len(styles) == 1, sizes
    time_box = next(s for s in sizes if s[0] == "time")
    assert time_box[3] >= 150, f"开始时间 is {time_box[3]} px wide"

    # folded: 缺席, 会后要办的事, 照片; open: 到会情况, 议题
    assert not page.locator("[name='absentees-0-name']").is_visible()
    assert not page.locator("[name='agenda-0-actions-0-task']").is_visible()
    page.locator("summary", has_text="缺席的人和原因").click()
    expect(page.locator("[name='absentees-0-name']")).to_be_visible()
    page.locator("summary", has_text="会后要办的事").click()
    due = page.locator("[name='agenda-0-actions-0-due']")
    expect(due).to_be_visible()
    box = due.bounding_box()
    assert box["width"] >= 150 and box["height"] >= 44, box  # 期限 shows a whole date, not "mm/dd/yyy"

    # 保存 is on the screen at the top of the form, in the middle and at the end
    save = page.get_by_role("button", name="保存", exact=True)
    for y in (0, 1200, 100000):
        page.evaluate("y => window.scrollTo(0, y)", y)
        page.wait_for_timeout(100)
        box = save.bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= 844, (y, box)
        assert box["height"] >= 44 and box["width"] >= width - 40
    context.close()


def test_a_mistake_in_a_folded_section_opens_it(browser, live_server):
    context = phone(browser, 390)
    page = context.new_page()
    open_minutes_form(page, live_server.url)
    page.evaluate("""() => { const i = document.querySelector("[name='absentees-0-reason']"); i.value = '生病'; }""")
    page.fill("[name='agenda-0-title']", "修村道")
    page.get_by_role("button", name="保存", exact=True).click()
    # the phone queues it; the server answers "needs fix" on 待发送, then the form shows the mistake in its section
    page.wait_for_url(re.compile(r"/outbox\?saved="))
    needs_fix = page.locator("#outbox-list [data-state=needs_fix]").first
    expect(needs_fix).to_be_visible(timeout=20000)
    page.locator("#outbox-list li.current a").first.click()
    expect(page.locator("[name='absentees-0-name']")).to_be_visible()
    expect(page.locator(".error.js-sync").first).to_contain_text("请写缺席人的姓名")
    context.close()


# ---- 7. the QR poster ------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [390, 360])
def test_qr_poster_fits_the_phone_and_prints_on_one_a4(browser, live_server, width):
    context = phone(browser, width)
    page = context.new_page()
    login(page, live_server.url, MINGXING, PASSWORD)
    page.wait_for_url(re.compile(r"/home$"))
    page.goto(live_server.url + V + "/poster")
    assert fits(page), "the poster is wider than the phone"
    qr = page.locator(".qr svg").bounding_box()
    assert qr["width"] <= width and qr["width"] >= width - 60, qr  # as big as the screen allows, to scan from it
    back = page.get_by_role("link", name="← 返回")
    box = back.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box
    warning = page.locator(".warn")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("手机扫了打不开")

    page.emulate_media(media="print")
    expect(warning).to_be_hidden()
    expect(back).to_be_hidden()
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "the poster does not print on one A4 page"
    back_url = V + "/home"
    page.emulate_media(media="screen")
    back.click()
    expect(page).to_have_url(re.compile(re.escape(back_url) + "$"))
    context.close()


@pytest.mark.parametrize("width", [390, 360])
def test_rules_poster_fits_the_phone_with_a_real_back_button(browser, live_server, width):
    context = phone(browser, width)
    page = context.new_page()
    page.goto(live_server.url + V + "/rules/poster")
    assert fits(page)
    box = page.get_by_role("link", name="← 返回").bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box
    context.close()


# ---- 10. a lost receipt --------------------------------------------------------------------------

def test_a_villager_types_the_receipt_number_on_the_public_page_and_sees_the_answer(browser, live_server, app):
    notice = running_notice(app)
    context = phone(browser, 390)
    page = context.new_page()
    page.goto(f"{live_server.url}{V}/notices/{notice['uuid']}/objection")
    page.get_by_label("您的异议").fill("第三户家里有车，不符合条件。")
    page.get_by_role("button", name="提交异议").click()
    expect(page.locator("h1")).to_have_text("异议已收到")
    number = page.locator(".card strong").first.inner_text()
    assert re.fullmatch(r"[0-9A-F]{8}", number)
    context.close()

    context = phone(browser, 390)  # another day, the receipt page is lost
    page = context.new_page()
    page.goto(live_server.url + V + "/")
    field = page.get_by_label("回执号（提异议后给的 8 位号码）")
    field.fill("12345678")
    page.get_by_role("button", name="查答复").click()
    expect(page.locator(".error-summary")).to_contain_text("没有找到回执号 12345678 的异议")
    page.get_by_label("回执号（提异议后给的 8 位号码）").fill(number.lower())
    page.get_by_role("button", name="查答复").click()
    expect(page.locator("h1")).to_have_text("异议已收到")
    expect(page.locator("main")).to_contain_text("第三户家里有车，不符合条件。")
    expect(page.locator("main")).to_contain_text("等待答复")
    assert fits(page)
    context.close()


# ---- 13. photos as thumbnails --------------------------------------------------------------------------

def test_a_notice_photo_is_a_thumbnail_that_opens_the_full_photo(browser, live_server):
    context = phone(browser, 390)
    page = context.new_page()
    login(page, live_server.url, MINGXING, PASSWORD)
    page.wait_for_url(re.compile(r"/home$"))
    page.goto(live_server.url + V + "/notices/new")
    page.get_by_label("标题").fill("村道修好了")
    page.get_by_label("内容").fill("三组村道已经硬化完成。")
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), "orange").save(out, "JPEG")
    page.set_input_files("input[type=file]", files=[{"name": "村道.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}])
    page.get_by_role("button", name="发布").click()
    thumb = page.locator(".photos img").first
    expect(thumb).to_be_visible()
    assert thumb.get_attribute("loading") == "lazy"
    size = thumb.evaluate("i => [i.naturalWidth, i.getBoundingClientRect().width, i.getBoundingClientRect().height]")
    assert size[0] > 0 and size[1] == 160 and size[2] == 120, size
    # the thumbnail opens the full photo (fetched here: Chromium's own image viewer styles itself inline, which the
    # file's strict CSP refuses, and the CSP watch of these tests would count that as the page's fault)
    link = page.locator(".photos a").first
    assert link.get_attribute("href") == thumb.get_attribute("src") and "/files/" in link.get_attribute("href")
    full = page.request.get(live_server.url + link.get_attribute("href"))
    assert full.ok and full.headers["content-type"] == "image/jpeg"
    context.close()
