"""A phone that restarts with no signal: the cadre opened the app once with signal (logged in, village home,
a new-minutes form), closed the browser, and opens it again where there is no network at all: the server is
really stopped, the browser profile is the same folder on disk. The kept form opens whole (every script,
stylesheet and icon from the service worker's cache), saves, 待发送 lists the record, and when the server is
back it holds the record exactly once. The second test does the same across an app update."""
import os
import re
import shutil
import socket
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from villageapp import pwa
from villageapp.assets import bundle_urls

from browser.test_sync import Server, kept_offline, log_in, record_uuid, row, wait_draft, worker_ready
from conftest import BROWSER_ARGS, CHROMIUM, MINGXING_VILLAGE

pytestmark = pytest.mark.browser
V = MINGXING_VILLAGE
ON_PHONE = re.compile("^(queued|waiting)$")


class Restartable:
    """The app served from a thread on one fixed port, stopped for real (the port refuses connections) and
    started again on the same port, with the same instance folder and app."""

    def __init__(self, app):
        self.app = app
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = self.thread = None

    def start(self):
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None

    def refuses(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return False
        except OSError:
            return True


class ApiGate:
    """WSGI middleware: while `down`, every /api/ request answers 503 (the app's pages still load), so an update
    can happen with a record still waiting on the phone."""

    def __init__(self, app):
        self.inner, app.wsgi_app = app.wsgi_app, self
        self.down = False

    def __call__(self, environ, start_response):
        if self.down and environ["PATH_INFO"].startswith("/api/"):
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"ok": false, "status": 503, "error": "\\u670d\\u52a1\\u5668\\u6682\\u65f6\\u4e0d\\u80fd\\u7528"}']
        return self.inner(environ, start_response)


class Phone:
    """Chromium on one profile folder: closed and opened again like a phone that restarts."""

    def __init__(self, playwright, folder, csp):
        self.playwright, self.folder, self.csp, self.context = playwright, str(folder), csp, None
        self.failed = []  # requests that got no answer (from the network or the service worker)

    def open(self):
        self.context = self.playwright.chromium.launch_persistent_context(
            self.folder, executable_path=CHROMIUM, args=BROWSER_ARGS, locale="zh-CN", viewport={"width": 390, "height": 844})
        self.context.on("requestfailed", lambda r: self.failed.append(r.url))
        self.csp.watch(self.context)
        return self.context.pages[0] if self.context.pages else self.context.new_page()

    def close(self):
        if self.context:
            self.context.close()
            self.context = None


@pytest.fixture
def phone(playwright, tmp_path, csp_violations):
    p = Phone(playwright, tmp_path / "phone-profile", csp_violations)
    yield p
    p.close()


def publish_new_release(app, folder, monkeypatch):
    """A new version of the app on the server: a changed script (so a bundle with a new hashed name, and the old
    bundle gone from the server, as after a deploy) and a new cache version, so /sw.js differs."""
    old = bundle_urls(app, ("js",))
    copy = folder / "static"
    shutil.copytree(app.static_folder, copy, ignore=shutil.ignore_patterns("gen"))
    with open(copy / "js" / "app.js", "a", encoding="utf-8") as f:
        f.write("\nwindow.villageappRelease = 2;\n")
    app.static_folder = str(copy)
    app.config["ASSETS_MANIFEST"] = "file:" + os.path.join(copy, "gen", ".webassets-manifest")
    monkeypatch.setattr(pwa, "CACHE_VERSION", "v2-restart-test")
    new = bundle_urls(app, ("js",))
    assert new != old
    return old[0], new[0]


def form_path(server):
    return f"/v/{V}/meetings/new/{server.council()}"


def first_visit(phone, site, server):
    """With signal: log in, the village home, 待发送 and a new-minutes form; wait until the worker keeps them."""
    page = phone.open()
    log_in(page, site.url)
    if not worker_ready(page):
        page.reload()
        assert worker_ready(page), "the service worker does not control the page"
    page.goto(f"{site.url}/v/{V}/home")
    page.goto(site.url + "/outbox")
    page.goto(site.url + form_path(server))
    kept_offline(page, "/outbox")
    kept_offline(page, form_path(server))
    phone.close()


def open_with_no_signal(phone, site, path):
    """Open the browser again with the server down; the page must come whole from the service worker."""
    assert site.refuses(), "the server is still answering"
    page = phone.open()
    phone.failed.clear()
    response = page.goto(site.url + path)
    assert response is not None and response.from_service_worker, f"{path} did not open from the phone's copy"
    page.wait_for_load_state("load")
    return page


def assert_whole(phone, page):
    """Every script, stylesheet and icon of the page came from the worker's cache: none failed, and they ran."""
    static = [u for u in phone.failed if "/static/" in u or u.endswith("/manifest.webmanifest")]
    assert not static, f"files the kept page needs failed to load with no signal: {static}"
    missing = page.evaluate("""async () => {
      const named = [...document.querySelectorAll('script[src], link[href]')].map(e => e.getAttribute('src') || e.getAttribute('href'))
        .filter(u => u.startsWith('/static/') || u === '/manifest.webmanifest');
      const missing = [];
      for (const u of named) if (!(await caches.match(u))) missing.push(u);
      return named.length ? missing : ['(the page names no files)'];
    }""")
    assert missing == [], f"files of the kept page not in the service worker's cache: {missing}"
    assert page.evaluate("!!window.VillageOutbox"), "the outbox bundle did not load"
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "18px", "the stylesheet did not load"


def save_offline(phone, page, place):
    uuid = record_uuid(page)
    expect(page.locator("[data-sync-state]")).to_be_attached()  # forms.js is bound: the page saves on the phone
    assert_whole(phone, page)
    page.fill("[name=place]", place)
    page.fill("[name='agenda-0-title']", "修水渠")
    wait_draft(page, uuid, "agenda-0-title", "修水渠")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r"/outbox\?saved="))
    expect(page.locator("#outbox-list")).not_to_contain_text("正在读取")
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", ON_PHONE)
    assert_whole(phone, page)
    return uuid


def test_a_phone_that_restarts_with_no_signal_saves_and_sends_once(phone, site, app):
    server = Server(app)
    first_visit(phone, site, server)
    site.stop()

    page = open_with_no_signal(phone, site, form_path(server))
    uuid = save_offline(phone, page, "重启后没信号写的")
    page.reload()  # still no server: 待发送 is the phone's copy and still lists it
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", ON_PHONE)
    assert server.meetings(uuid) == 0

    site.start()
    page.reload()  # the cadre opens the app again once the signal is back: it sends
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", "accepted", timeout=20000)
    assert server.meetings(uuid) == 1
    assert server.query("select count(*) n from meetings where place = ?", ["重启后没信号写的"])[0]["n"] == 1
    assert len(server.revisions(uuid)) == 1


def test_after_an_app_update_the_restarted_phone_still_saves_and_sends_once(phone, site, app, monkeypatch, tmp_path):
    server = Server(app)
    gate = ApiGate(app)
    first_visit(phone, site, server)
    site.stop()

    # no signal: a first record waits on the phone
    page = open_with_no_signal(phone, site, form_path(server))
    first = save_offline(phone, page, "升级前没信号写的")
    old_shells = page.evaluate("async () => (await caches.keys()).filter(k => k.startsWith('shell-'))")
    phone.close()

    # a new version of the app is published; the phone opens it while the API cannot be reached, so the new
    # service worker takes over with the record still waiting; then the phone is switched off again
    old_script, new_script = publish_new_release(app, tmp_path, monkeypatch)
    gate.down = True
    site.start()
    page = phone.open()
    page.goto(site.url + "/outbox")
    page.evaluate("""async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      await reg.update();
      for (let i = 0; i < 150; i++) {
        const keys = await caches.keys();
        if (keys.some(k => k.includes('v2-restart-test')) && !keys.some(k => k.startsWith('shell-') && !k.includes('v2-restart-test'))
            && reg.active && !reg.installing && !reg.waiting) return;
        await new Promise(r => setTimeout(r, 100));
      }
      throw new Error('the new service worker did not take over');
    }""")
    new_shells = page.evaluate("async () => (await caches.keys()).filter(k => k.startsWith('shell-'))")
    assert new_shells != old_shells
    page.reload()
    assert page.evaluate("window.villageappRelease") == 2, "the new release's script is not the one running"
    expect(row(page, first).locator("[data-state]").first).to_have_attribute("data-state", ON_PHONE)
    assert server.meetings(first) == 0
    phone.close()
    site.stop()
    gate.down = False

    # restarted under the new worker, no signal: the kept form (kept before the update, so it names the old
    # script, which the server no longer has) still opens whole and saves a second record
    page = open_with_no_signal(phone, site, form_path(server))
    assert page.locator(f"script[src='{old_script}']").count() == 1
    second = save_offline(phone, page, "升级后没信号写的")
    page.goto(site.url + "/offline")  # the new shell is there too
    assert page.locator(f"script[src='{new_script}']").count() == 1
    assert page.evaluate("window.villageappRelease") == 2
    page.goto(site.url + "/outbox")
    expect(row(page, first).locator("[data-state]").first).to_have_attribute("data-state", ON_PHONE)

    site.start()
    page.reload()
    for uuid in (first, second):
        expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", "accepted", timeout=20000)
        assert server.meetings(uuid) == 1
        assert len(server.revisions(uuid)) == 1
