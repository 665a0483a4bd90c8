"""A browser that runs no service worker at all (WeChat on iPhone is a WKWebView): the app says so once, with what
to do; 保存 with no signal keeps the record on the phone and says so on the form itself, never jumping to a page
that cannot load; back online it is sent exactly once. With JavaScript off, the form warns of the risk."""
import re

import pytest
from playwright.sync_api import expect

from browser.test_restart import ApiGate
from browser.test_sync import Server, log_in, record_uuid, row, wait_draft
from conftest import MINGXING_VILLAGE

pytestmark = pytest.mark.browser
V = MINGXING_VILLAGE


@pytest.fixture
def no_worker(new_context):
    return new_context(service_workers="block", viewport={"width": 390, "height": 844})


def test_no_service_worker_saves_on_the_phone_says_so_and_sends_once(no_worker, live_server, app):
    server, gate = Server(app), ApiGate(app)
    page = no_worker.new_page()
    log_in(page, live_server.url)

    # said once, plainly, with what to do; dismissed, and not said again on the next page
    note = page.locator("#no-worker-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("在浏览器打开")
    expect(note).to_contain_text("添加到主屏幕")
    note.get_by_role("button", name="知道了").click()
    expect(note).to_have_count(0)
    form = f"/v/{V}/meetings/new/{server.council()}"
    page.goto(live_server.url + form)
    expect(page.locator("[data-sync-state]")).to_be_attached()
    expect(page.locator("#no-worker-note")).to_have_count(0)
    expect(page.locator("[data-offline-risk]")).to_be_hidden()  # this phone keeps the form itself

    # no signal: 保存 keeps it on the phone and says so here; no jump to a page that cannot load, no "not sent" alarm
    no_worker.set_offline(True)
    uuid = record_uuid(page)
    page.fill("[name=place]", "没有服务工作者的手机")
    page.fill("[name='agenda-0-title']", "修水渠")
    wait_draft(page, uuid, "agenda-0-title", "修水渠")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("[data-sync-state]")).to_contain_text("已存手机", timeout=10000)
    expect(page.locator("[data-sync-state]")).to_contain_text("不用再填一遍")
    assert urlpath(page) == form
    expect(page.locator("main")).not_to_contain_text("还没有发出去")
    assert page.evaluate("VillageOutbox.outbox().then(o => o.map(e => e.uuid))") == [uuid]
    assert server.meetings(uuid) == 0

    # a link with no signal and no worker: a plain word instead of the browser's "no internet" page
    said = []
    page.once("dialog", lambda d: (said.append(d.message), d.accept()))
    page.locator("#sync-bar a").click()
    page.wait_for_timeout(300)
    assert said and "没有信号" in said[0], said
    assert urlpath(page) == form
    expect(page.locator("[name=place]")).to_have_value("没有服务工作者的手机")

    # the signal is back but the server cannot take it yet: the reload keeps it, 待发送 shows it
    gate.down = True
    no_worker.set_offline(False)
    page.goto(live_server.url + "/outbox")
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", re.compile("^(queued|waiting)$"))
    page.reload()
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", re.compile("^(queued|waiting)$"))
    assert server.meetings(uuid) == 0

    # the server takes it: sent once
    gate.down = False
    page.get_by_role("button", name="现在发送").click()
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", "accepted", timeout=20000)
    page.reload()
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", "accepted")
    assert server.meetings(uuid) == 1
    assert len(server.revisions(uuid)) == 1


def test_with_signal_and_no_service_worker_saving_goes_to_the_outbox(no_worker, live_server, app):
    server = Server(app)
    page = no_worker.new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/v/{V}/meetings/new/{server.council()}")
    uuid = record_uuid(page)
    page.fill("[name=place]", "有信号没有服务工作者")
    page.fill("[name='agenda-0-title']", "修水渠")
    wait_draft(page, uuid, "agenda-0-title", "修水渠")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r"/outbox\?saved="))
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", "accepted", timeout=20000)
    assert server.meetings(uuid) == 1


def test_with_javascript_off_the_form_warns_that_an_offline_save_loses_the_text(new_context, live_server, app):
    server = Server(app)
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/v/{V}/meetings/new/{server.council()}")
    risk = page.locator("[data-offline-risk]")
    expect(risk).to_be_visible()
    expect(risk).to_contain_text("没有信号")
    expect(risk).to_contain_text("返回")


def urlpath(page):
    return re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]
