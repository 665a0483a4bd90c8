"""The app as a progressive web app, in a real Chromium: the public pages a villager opened once can be read
without a signal, a page never opened shows our Chinese offline page (not the browser's dinosaur), and the
app is installable with a Chinese name and proper icons."""
import io
import json
import re
from urllib.parse import urljoin, urlsplit

import pytest
from PIL import Image
from playwright.sync_api import expect

from villageapp.store import open_town

from conftest import MINGXING_VILLAGE, WUAI_VILLAGE

pytestmark = pytest.mark.browser

VILLAGE_PAGE = f"/v/{MINGXING_VILLAGE}/"
GREEN = "rgb(27, 94, 32)"  # the header colour: proof that the stylesheet came from the worker's cache


def public_notices(app, village=MINGXING_VILLAGE):
    """The published notices of a village, the running 公示 first."""
    with app.app_context():
        db = open_town(village[:9], app)
        try:
            rows = list(db["notices"].rows_where("village_code = ? and status = 'published'", [village],
                                                 order_by="publish_date desc"))
        finally:
            db.close()
    return sorted(rows, key=lambda r: r["category"] != "公示")


def worker_ready(page):
    """Wait (10 s at most) until a service worker is active for this page; then say whether it controls the page."""
    state = page.evaluate("""async () => {
      if (!('serviceWorker' in navigator)) return 'unsupported';
      try { await Promise.race([navigator.serviceWorker.ready, new Promise((_, no) => setTimeout(no, 10000))]); }
      catch (e) { return 'not ready'; }
      for (let i = 0; i < 50 && !navigator.serviceWorker.controller; i++) await new Promise(r => setTimeout(r, 100));
      return navigator.serviceWorker.controller ? 'controlling' : 'not controlling';
    }""")
    assert state in ("controlling", "not controlling"), f"service worker: {state}"
    return state == "controlling"


def controlled(page):
    """The worker is ready and controls the page (reloading once if it did not take control by itself)."""
    if not worker_ready(page):
        page.reload(wait_until="load")
        assert worker_ready(page), "the service worker does not control the page even after a reload"


def test_village_page_opens_offline_after_one_visit(page, context, live_server, app):
    running = public_notices(app)[0]
    assert running["category"] == "公示"
    page.goto(live_server.url + VILLAGE_PAGE, wait_until="load")
    # one visit only: the worker takes control by itself (clients.claim) and keeps a copy of the page it was
    # registered from; no helping reload here, a villager who scanned the QR code does not reload either
    assert worker_ready(page), "the worker did not take control of the page that registered it"

    context.set_offline(True)
    response = page.reload(wait_until="load")
    assert response is not None and response.from_service_worker
    expect(page.locator("h1")).to_contain_text("明星村")
    expect(page.get_by_text(running["title"])).to_be_visible()
    expect(page.locator("#offline-bar")).to_be_visible()
    expect(page.locator("#offline-bar")).to_contain_text("离线")
    assert page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor") == GREEN


def test_the_installed_apps_start_page_opens_offline(page, context, live_server):
    page.goto(live_server.url + "/?source=pwa", wait_until="load")
    assert worker_ready(page)
    page.goto(live_server.url + VILLAGE_PAGE, wait_until="load")  # the villager picks a village once
    context.set_offline(True)
    response = page.goto(live_server.url + "/?source=pwa", wait_until="load")
    assert response is not None and response.from_service_worker
    expect(page.locator("h1")).to_contain_text("村务公开")
    expect(page.get_by_role("link", name="明星村")).to_be_visible()
    page.get_by_role("link", name="明星村").click()
    expect(page.locator("h1")).to_contain_text("明星村")


def test_notice_opened_once_opens_offline(page, context, live_server, app):
    notice = public_notices(app)[1]  # not the running one: any notice read once
    page.goto(live_server.url + VILLAGE_PAGE, wait_until="load")
    controlled(page)
    page.get_by_role("link", name=notice["title"]).click()
    expect(page).to_have_url(re.compile(rf"/notices/{notice['uuid']}$"))
    expect(page.locator("h1")).to_have_text(notice["title"])

    context.set_offline(True)
    response = page.reload(wait_until="load")
    assert response is not None and response.from_service_worker
    expect(page.locator("h1")).to_have_text(notice["title"])
    expect(page.locator("#notice-body")).to_have_text(notice["body"])
    expect(page.locator("#offline-bar")).to_be_visible()
    # and back to the village page, still offline
    page.get_by_role("link", name="← 明星村村务公开").click()
    expect(page.locator("h1")).to_contain_text("明星村")


def test_page_never_opened_shows_the_chinese_offline_page(page, context, live_server, app):
    never_read = public_notices(app)[-1]
    page.goto(live_server.url + VILLAGE_PAGE, wait_until="load")
    controlled(page)
    context.set_offline(True)
    for path in (f"/v/{MINGXING_VILLAGE}/notices/{never_read['uuid']}",  # a public page (network-first)
                 f"/v/{WUAI_VILLAGE}/",  # another village, never opened
                 "/login"):  # not a public page (network only)
        response = page.goto(live_server.url + path, wait_until="load")  # a browser error would raise here
        assert page.url == live_server.url + path
        assert response is not None and response.from_service_worker, path
        expect(page.locator("h1"), path).to_have_text("现在没有网络")
        expect(page.get_by_role("button", name="再试一次")).to_be_visible()
        assert page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor") == GREEN


# ---- installability ---------------------------------------------------------------

@pytest.fixture
def profile(browser_type, browser_type_launch_args, tmp_path):
    """A persistent profile: Chrome reports every incognito context (a plain new_context) as not installable."""
    context = browser_type.launch_persistent_context(
        tmp_path / "profile", **browser_type_launch_args, locale="zh-CN",
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context
    context.close()


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    with Image.open(io.BytesIO(data)) as image:
        return image.size, image.convert("RGBA")


def test_installable_with_chinese_name_and_icons(profile, live_server):
    page = profile.pages[0] if profile.pages else profile.new_page()
    page.goto(live_server.url + VILLAGE_PAGE, wait_until="load")
    controlled(page)
    cdp = profile.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], [e.get("errorId") for e in errors]

    got = cdp.send("Page.getAppManifest")
    assert got["url"] == live_server.url + "/manifest.webmanifest"
    assert got["errors"] == []
    manifest = json.loads(got["data"])
    assert re.search(r"[\u4e00-\u9fff]", manifest["name"]) and "村务" in manifest["name"], manifest["name"]
    assert re.search(r"[\u4e00-\u9fff]", manifest["short_name"]) and len(manifest["short_name"]) <= 6
    assert manifest.get("lang") == "zh-CN"
    assert manifest["display"] in ("standalone", "fullscreen", "minimal-ui")
    page_theme = page.get_attribute("meta[name=theme-color]", "content")
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["theme_color"]) and manifest["theme_color"] == page_theme
    assert manifest.get("background_color")
    start = urljoin(got["url"], manifest["start_url"])
    scope = urljoin(got["url"], manifest.get("scope", "./"))
    assert urlsplit(start).netloc == urlsplit(live_server.url).netloc and start.startswith(scope), (start, scope)

    # the icons exist, are PNGs of the size they claim; the maskable one fills its square (no transparent corners)
    icons = {}
    for icon in manifest["icons"]:
        response = page.request.get(urljoin(got["url"], icon["src"]))
        assert response.ok, icon["src"]
        (width, height), image = png_size(response.body())
        assert f"{width}x{height}" == icon["sizes"] and icon["type"] == "image/png", icon
        for purpose in icon.get("purpose", "any").split():
            icons[(purpose, icon["sizes"])] = image
    assert ("any", "192x192") in icons and ("any", "512x512") in icons, sorted(icons)
    maskable = [image for (purpose, _), image in icons.items() if purpose == "maskable"]
    assert maskable, "no maskable icon"
    for image in maskable:
        w, h = image.size
        assert all(image.getpixel(xy)[3] == 255 for xy in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)])
