"""A new version of the app (a new service worker) arriving while minutes wait in the phone's outbox:
the queued record survives the update and reaches the server once."""
import re

import pytest
from playwright.sync_api import expect

from villageapp import pwa
from villageapp.store import open_town

from conftest import CHIHE_TOWN, MINGXING, MINGXING_VILLAGE, PASSWORD

pytestmark = pytest.mark.browser
V = MINGXING_VILLAGE


def meetings_at(app, place):
    with app.app_context():
        db = open_town(CHIHE_TOWN, app)
        try:
            return db["meetings"].count_where("place = ?", [place])
        finally:
            db.close()


def shell_caches(page):
    return page.evaluate("async () => (await caches.keys()).filter(k => k.startsWith('shell-'))")


def test_an_app_update_keeps_the_queued_records(page, context, live_server, app, monkeypatch):
    page.goto(live_server.url + "/login")
    page.fill("#username", MINGXING)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/home")
    page.goto(f"{live_server.url}/v/{V}/meetings/new")
    page.locator("main a", has_text="村民议事会").first.click()
    page.wait_for_url("**/meetings/new/*")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    old_shells = shell_caches(page)
    assert len(old_shells) == 1

    # written and saved with no signal: it waits in the outbox
    context.set_offline(True)
    page.fill("[name=place]", "升级前写的")
    page.fill("[name='agenda-0-title']", "修水渠")
    page.locator("button[type=submit]:not([data-add-entry])").last.click()
    page.wait_for_url("**/outbox*")
    expect(page.locator("#outbox-list [data-state]").first).to_have_attribute("data-state", re.compile("queued|waiting"))

    # a new version of the app is published; the signal returns but the API stays unreachable for now,
    # so the update happens with the record still queued
    monkeypatch.setattr(pwa, "CACHE_VERSION", "v2-update-test")
    page.route("**/api/**", lambda route: route.abort())
    context.set_offline(False)
    page.evaluate("""async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      const changed = new Promise(resolve => navigator.serviceWorker.addEventListener('controllerchange', resolve, {once: true}));
      await reg.update();
      await Promise.race([changed, new Promise((_, no) => setTimeout(() => no(new Error('no new worker')), 15000))]);
    }""")
    new_shells = shell_caches(page)
    assert new_shells != old_shells and any("v2-update-test" in k for k in new_shells)
    assert meetings_at(app, "升级前写的") == 0
    page.reload()
    expect(page.locator("#outbox-list [data-state]").first).to_have_attribute("data-state", re.compile("queued|waiting"))
    assert page.evaluate("VillageOutbox.outbox().then(o => o.length)") == 1

    # the API is back: the record goes, once
    page.unroute("**/api/**")
    page.evaluate("VillageOutbox.flush()")
    expect(page.locator("#outbox-list [data-state]").first).to_have_attribute("data-state", "accepted", timeout=20000)
    assert meetings_at(app, "升级前写的") == 1
