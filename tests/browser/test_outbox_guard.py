"""The outbox against a hostile file and a refusing server: a backup file imported on 待发送 cannot put a script
link or markup on the page (entries are checked, the page is built with text), and a server that refuses the
CSRF token gets one retry with a fresh token, then a backoff, never a tight loop of re-posts."""
import json
import re
import threading
import time
import uuid as uuidlib

import pytest
from playwright.sync_api import expect

from browser.test_sync import Server, cadre_phone, fill_minutes, payload, row
from conftest import MINGXING_VILLAGE

pytestmark = pytest.mark.browser
V = MINGXING_VILLAGE


def hostile_backup(council):
    good = str(uuidlib.uuid4())
    edit = lambda **more: {"edit_id": str(uuidlib.uuid4()), "uuid": str(uuidlib.uuid4()), "type": "meeting",  # noqa: E731
                           "village": V, "base_version": None, "payload": payload(council, "备份导入"), "files": [],
                           "title": "会议记录", "url": "/outbox", **more}
    return good, {
        "app": "villageapp", "kind": "outbox-backup", "version": 1,
        "outbox": [
            edit(uuid=good, url="javascript:alert(document.domain)", title='<img src=x id="injected">备份的会议'),
            edit(url="//evil.example/steal", title="别的网站"),
            edit(type="evil_type", title="不认识的类型"),
            edit(type=["meeting"], title="类型是个列表"),
            edit(village="../../etc", title="坏村代码"),
            edit(payload="not pairs", title="坏内容"),
            edit(payload=[["a", "b", "c"]], title="三个一组"),
            "just a string",
        ],
        "drafts": [
            {"uuid": str(uuidlib.uuid4()), "type": "meeting", "village": V, "payload": [], "title": "草稿<b>粗体</b>",
             "url": "JaVaScRiPt:alert(1)", "state": "draft"},
            {"uuid": str(uuidlib.uuid4()), "type": "meeting", "village": V, "payload": [], "title": "斜杠",
             "url": "/\\evil.example", "state": "draft"},
        ],
        "files": [{"sha256": "0" * 64, "type": "image/jpeg", "village": V, "data": "https://evil.example/x.jpg"}],
    }


def test_a_hostile_backup_file_puts_no_script_link_or_markup_on_the_page(context, live_server, app):
    server = Server(app)
    page, _form = cadre_phone(context, live_server.url, server)
    page.goto(live_server.url + "/outbox")
    good, backup = hostile_backup(server.council())
    said = []
    page.on("dialog", lambda d: (said.append(d.message), d.accept()))
    page.set_input_files("#restore", files=[{"name": "备份.json", "mimeType": "application/json",
                                             "buffer": json.dumps(backup, ensure_ascii=False).encode()}])
    expect(row(page, good)).to_be_attached(timeout=10000)
    assert said and "导入了 2 条" in said[0] and "7 条不是村务通的记录" in said[0], said

    hrefs = page.eval_on_selector_all("#outbox-list a", "links => links.map(a => a.getAttribute('href'))")
    assert hrefs and all(h is None or re.match(r"^/(?![/\\])", h) for h in hrefs), hrefs
    assert page.locator("#outbox-list img, #outbox-list b, #injected").count() == 0
    expect(row(page, good)).to_contain_text('<img src=x id="injected">备份的会议')  # shown as the text it is
    expect(page.locator("#outbox-list")).not_to_contain_text("不认识的类型")
    expect(page.locator("#outbox-list")).to_contain_text("别的网站")  # a good record with a bad link: kept, unlinked
    expect(page.locator("#outbox-list")).to_contain_text("草稿<b>粗体</b>")
    # kept without its link, whether still waiting or already sent
    stored = page.evaluate("""async () => [...await VillageOutbox.outbox(), ...await VillageOutbox.receipts()]
                                .map(e => [e.uuid, e.url, e.type])""")
    assert [s for s in stored if s[0] == good] == [[good, "", "meeting"]]
    assert page.evaluate("VillageOutbox.file('" + "0" * 64 + "')") is None

    # the well-formed record of the file is a real record: it reaches the server, once
    expect(row(page, good).locator("[data-state]").first).to_have_attribute("data-state", "accepted", timeout=20000)
    assert server.meetings(good) == 1


class StaleToken:
    """WSGI middleware: the phone's CSRF token is replaced by a stale one on every POST of edits, so the app itself
    answers 400 CSRF; every POST of edits and every /api/session is counted."""

    def __init__(self, app):
        self.inner, app.wsgi_app = app.wsgi_app, self
        self.on, self.posts, self.sessions, self.lock = False, [], [], threading.Lock()

    def __call__(self, environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if self.on and method == "POST" and path.endswith("/edits"):
            with self.lock:
                self.posts.append(time.monotonic())
            environ["HTTP_X_CSRFTOKEN"] = "stale-token-from-yesterday"
        if self.on and path == "/api/session":
            with self.lock:
                self.sessions.append(time.monotonic())
        return self.inner(environ, start_response)


def test_a_refused_csrf_token_is_renewed_once_then_the_outbox_backs_off(context, live_server, app):
    server, stale = Server(app), StaleToken(app)
    page, form = cadre_phone(context, live_server.url, server)
    stale.on = True
    start = time.monotonic()
    uuid = fill_minutes(page, form, {"place": "令牌过期测试", "agenda-0-title": "修水渠"})
    page.wait_for_timeout(10000)
    posts = [t - start for t in stale.posts]
    stale.on = False
    # a fresh token once after the first refusal, then waits that grow: a handful of tries in 10 s, not hundreds
    assert 2 <= len(posts) <= 12, posts
    assert len(stale.sessions) <= len(posts) + 2, (stale.sessions, posts)
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", re.compile("^(queued|waiting)$"))
    assert server.meetings(uuid) == 0

    # the token is accepted again: the record goes, once
    page.get_by_role("button", name="现在发送").click()
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", "accepted", timeout=20000)
    assert server.meetings(uuid) == 1
