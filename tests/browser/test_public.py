"""The public pages and the cadre login on a phone, in a real Chromium: what they look like (screenshots under
test-artifacts/), a villager without an account filing an objection to a running 公示, a cadre logging in,
and pages that fit a 360 px screen with readable type and thumb-sized buttons."""
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from villageapp.clock import today
from villageapp.store import open_town

from conftest import CHIHE_TOWN, MINGXING, MINGXING_VILLAGE, PASSWORD

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
VILLAGE_PAGE = f"/v/{MINGXING_VILLAGE}/"
CJK_FONT = re.compile(r"CJK|Hei|Song|Kai|Ming|WenQuanYi|Fallback|PingFang|YaHei|Source Han", re.I)


def running_notice(app):
    with app.app_context():
        db = open_town(CHIHE_TOWN, app)
        try:
            return next(db["notices"].rows_where(  # one still running (the demo's campaign 公示 of last year has ended)
                "village_code = ? and category = '公示' and status = 'published' and end_date >= ?",
                [MINGXING_VILLAGE, today().isoformat()], order_by="end_date desc"))
        finally:
            db.close()


def objections_of(app, notice_uuid):
    with app.app_context():
        db = open_town(CHIHE_TOWN, app)
        try:
            return list(db["objections"].rows_where("notice_uuid = ?", [notice_uuid]))
        finally:
            db.close()


def fonts_used(page, selector):
    """The fonts Chromium really drew the element's text with (not what the CSS asks for)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()


def save_screenshot(page, name):
    """A full-page phone screenshot under test-artifacts/ (git-ignored), to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}-390x844.png"
    page.screenshot(path=path, full_page=True)
    return path


def login(page, base, username, password):
    page.goto(base + "/login")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()


# ---- what it looks like on a phone ---------------------------------------------------

@pytest.mark.browser_context_args(**PHONE)
@pytest.mark.parametrize("name, path, first_screen", [
    ("public-village", VILLAGE_PAGE, ".card.current"),  # the running 公示 with 我有异议 without scrolling
    ("login", "/login", "button[type=submit]"),
])
def test_phone_screenshot(page, live_server, name, path, first_screen):
    page.goto(live_server.url + path, wait_until="networkidle")
    hanzi = len(re.findall(r"[\u4e00-\u9fff]", page.inner_text("h1")))
    fonts = fonts_used(page, "h1")  # every Chinese character drawn with a CJK font, none as an empty box
    assert hanzi and sum(f["glyphCount"] for f in fonts if CJK_FONT.search(f["familyName"])) >= hanzi, fonts
    assert page.evaluate("window.innerWidth") == 390
    box = page.locator(first_screen).first.bounding_box()
    assert box and box["y"] + box["height"] <= 844, f"{first_screen} is below the first screen: {box}"

    shot = save_screenshot(page, name)
    with Image.open(shot) as image:
        assert image.width == 390 * 2 and image.height >= 844 * 2


# ---- a villager objects, without an account ----------------------------------------------

@pytest.mark.browser_context_args(**PHONE)
def test_villager_files_an_objection_from_a_phone(page, live_server, app):
    notice = running_notice(app)
    assert objections_of(app, notice["uuid"]) == []
    text = "我家去年也参评了，名单里没有，想问一下评分标准。"

    page.goto(live_server.url + VILLAGE_PAGE)
    page.locator(".card.current").get_by_role("link", name=notice["title"]).click()
    expect(page).to_have_url(re.compile(rf"/notices/{notice['uuid']}$"))
    expect(page.locator("h1")).to_have_text(notice["title"])
    page.get_by_role("link", name="我有异议").click()
    expect(page.locator("h1")).to_have_text("对公示提异议")
    page.get_by_label("您的异议").fill(text)
    page.get_by_label("姓名").fill("王大山")
    page.get_by_label("电话").fill("13912345678")
    page.get_by_role("button", name="提交异议").click()

    expect(page.locator("h1")).to_have_text("异议已收到")
    expect(page.locator("main")).to_contain_text(text)
    expect(page.locator("main")).to_contain_text(notice["title"])
    match = re.search(rf"/v/{MINGXING_VILLAGE}/objections/([0-9a-f-]{{36}})/receipt$", page.url)
    assert match, page.url
    save_screenshot(page, "objection-receipt")

    rows = objections_of(app, notice["uuid"])
    assert len(rows) == 1
    row = rows[0]
    assert (row["uuid"], row["village_code"], row["body"], row["name"], row["phone"], row["status"]) == (
        match.group(1), MINGXING_VILLAGE, text, "王大山", "13912345678", "open")


@pytest.mark.browser_context_args(**PHONE)
def test_objection_without_text_is_refused_next_to_the_field(page, live_server, app):
    notice = running_notice(app)
    page.goto(f"{live_server.url}/v/{MINGXING_VILLAGE}/notices/{notice['uuid']}/objection")
    page.get_by_label("姓名").fill("王大山")
    page.get_by_label("您的异议").fill("   ")
    page.get_by_role("button", name="提交异议").click()

    expect(page.locator("#field-body .error")).to_have_text("请写下您的异议")
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_label("姓名")).to_have_value("王大山")
    expect(page.get_by_role("button", name="提交异议")).to_be_enabled()
    assert objections_of(app, notice["uuid"]) == []
    save_screenshot(page, "objection-error")


@pytest.mark.browser_context_args(**PHONE)
def test_objection_written_with_no_signal_stays_on_the_page_and_is_sent_once_later(page, context, live_server, app):
    notice = running_notice(app)
    page.goto(f"{live_server.url}/v/{MINGXING_VILLAGE}/notices/{notice['uuid']}/objection")
    text = "没有信号时写的异议"
    page.get_by_label("您的异议").fill(text)
    context.set_offline(True)
    page.get_by_role("button", name="提交异议").click()
    expect(page.locator(".offline-note")).to_contain_text("还没有发出去")
    expect(page.get_by_label("您的异议")).to_have_value(text)
    expect(page.get_by_role("button", name="提交异议")).to_be_enabled()
    assert objections_of(app, notice["uuid"]) == []

    context.set_offline(False)
    page.get_by_role("button", name="提交异议").click()
    expect(page.locator("h1")).to_have_text("异议已收到")
    assert [row["body"] for row in objections_of(app, notice["uuid"])] == [text]


# ---- a cadre logs in on a phone -----------------------------------------------------------

@pytest.mark.browser_context_args(**PHONE)
def test_cadre_logs_in_on_a_phone(page, live_server):
    login(page, live_server.url, MINGXING, PASSWORD)
    expect(page).to_have_url(re.compile(rf"/v/{MINGXING_VILLAGE}/home$"))
    expect(page.locator("h1")).to_contain_text("明星村")
    expect(page.locator("header .who")).to_contain_text("张德明")
    expect(page.locator(".tile").first).to_be_visible()
    save_screenshot(page, "cadre-home")


@pytest.mark.browser_context_args(**PHONE)
def test_wrong_password_shows_chinese_error_and_keeps_username(page, live_server):
    login(page, live_server.url, MINGXING, PASSWORD + "x")
    expect(page.locator("#field-password .error")).to_contain_text("用户名或密码不对")
    expect(page.get_by_label("用户名", exact=True)).to_have_value(MINGXING)
    expect(page.get_by_label("密码", exact=True)).to_have_value("")  # a password is never sent back
    assert page.url == live_server.url + "/login"


# ---- fits a small phone ---------------------------------------------------------------------

TARGETS = ("a.button, button, input[type=submit], .tile, select, textarea, .check label, "
           "input:not([type=hidden]):not([type=checkbox]):not([type=radio])")
MAIN_BUTTON = {  # page -> (path, the main button a thumb must hit)
    "public-village": (VILLAGE_PAGE, ".card.current a.button"),
    "login": ("/login", "button[type=submit]"),
    "cadre-home": (f"/v/{MINGXING_VILLAGE}/home", ".tile"),
}


@pytest.mark.parametrize("name", MAIN_BUTTON)
def test_fits_360px_with_big_type_and_buttons(new_context, live_server, name):
    page = new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                       has_touch=True).new_page()
    path, main_button = MAIN_BUTTON[name]
    if name == "cadre-home":
        login(page, live_server.url, MINGXING, PASSWORD)
        expect(page).to_have_url(re.compile(r"/home$"))
    page.goto(live_server.url + path, wait_until="networkidle")

    width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert width <= 360, f"{name}: horizontal scroll, content is {width} px wide"
    assert page.evaluate("window.innerWidth") == 360  # a phone browser widens the viewport to fit wide content
    assert float(page.evaluate("getComputedStyle(document.body).fontSize").removesuffix("px")) >= 16

    assert page.locator(main_button).count() >= 1, f"{name}: no {main_button}"
    small = page.evaluate("""(selector) => Array.from(document.querySelectorAll(selector))
        .filter(el => el.offsetParent !== null)
        .map(el => [el.tagName + '.' + el.className + ' ' + (el.innerText || el.name || '').trim().slice(0, 12),
                    Math.round(el.getBoundingClientRect().height)])
        .filter(([_, h]) => h < 44)""", f"{main_button}, {TARGETS}")
    assert small == [], f"{name}: touch targets under 44 px: {small}"


def test_notice_links_on_the_public_page_are_thumb_sized(new_context, live_server):
    page = new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True).new_page()
    page.goto(live_server.url + VILLAGE_PAGE)
    links = page.evaluate("""() => Array.from(document.querySelectorAll('.cards a'))
        .map(a => [a.innerText.trim().slice(0, 12), Math.round(a.getBoundingClientRect().height)])""")
    assert len(links) >= 4
    assert [link for link in links if link[1] < 44] == []
