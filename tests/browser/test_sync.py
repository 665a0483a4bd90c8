"""The offline engine in a real Chromium, with meeting minutes as the record: what a cadre saves on the phone
reaches the server exactly once, whatever happens to the signal, the reply, the tabs, the login or a second cadre.
Every test ends by counting what the server holds (meetings and revisions in the town file)."""
import io
import json
import re
import socket
import threading
import time
import uuid as uuidlib

import pytest
from PIL import Image
from playwright.sync_api import expect

from villageapp import auth as accounts
from villageapp.store import open_directory, open_town

from conftest import CHIHE_TOWN, MINGXING, MINGXING_VILLAGE, PASSWORD

pytestmark = pytest.mark.browser

V = MINGXING_VILLAGE
COUNCIL = "村民议事会"
SYNC_WAIT = 20000  # ms: a queued record waits for its backoff (a few seconds after a short offline spell)
RECEIPT = re.compile(r"回执 (\d{6})")
ON_PHONE = "queued|waiting"  # 已存手机: queued, or waiting for the next try after a failed one


# ---- the server's side: what it holds ----------------------------------------------------------

class Server:
    """Counts in the town file of 明星村, read straight from SQLite (not through the app)."""

    def __init__(self, app):
        self.app = app

    def query(self, sql, params=()):
        with self.app.app_context():
            db = open_town(CHIHE_TOWN, self.app)
            try:
                return [dict(r) for r in db.query(sql, params)]
            finally:
                db.close()

    def meetings(self, uuid=None):
        if uuid is None:
            return self.query("select count(*) n from meetings where village_code = ?", [V])[0]["n"]
        return self.query("select count(*) n from meetings where uuid = ?", [uuid])[0]["n"]

    def meeting(self, uuid):
        rows = self.query("select * from meetings where uuid = ?", [uuid])
        return rows[0] if rows else None

    def revisions(self, uuid):
        return self.query("select * from revisions where uuid = ? order by id", [uuid])

    def council(self, name=COUNCIL):
        return self.query("select uuid from councils where village_code = ? and name = ?", [V, name])[0]["uuid"]


@pytest.fixture
def server(app):
    return Server(app)


def payload(council, place, **more):
    """Valid minutes as the phone sends them: [name, value] pairs of the meeting form."""
    fields = {"council": council, "date": "2026-03-02", "time": "14:30", "place": place, "host": "张德明",
              "present": "5", "agenda-0-title": "修村道", "agenda-0-votes_for": "4", **more}
    return [[k, v] for k, v in fields.items()]


# ---- the phone's side ---------------------------------------------------------------------------

def worker_ready(page):
    """Wait (10 s at most) until a service worker is active and controls this page."""
    return page.evaluate("""async () => {
      try { await Promise.race([navigator.serviceWorker.ready, new Promise((_, no) => setTimeout(no, 10000))]); }
      catch (e) { return false; }
      for (let i = 0; i < 50 && !navigator.serviceWorker.controller; i++) await new Promise(r => setTimeout(r, 100));
      return !!navigator.serviceWorker.controller;
    }""")


def log_in(page, base, username=MINGXING, password=PASSWORD):
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/home$"))


def until(page, script, arg=None, timeout=10000, what="the phone"):
    """Poll an async check in the page until it is true (page.wait_for_function does not wait for promises)."""
    waited = 0
    while not page.evaluate(script, arg):
        assert waited < timeout, f"{what}: still not true after {timeout} ms: {script}"
        page.wait_for_timeout(50)
        waited += 50


def kept_offline(page, path):
    """Wait until the service worker keeps a copy of this page (it opens with no signal)."""
    until(page, "async (path) => !!(await (await caches.open('forms-v1')).match(path))", path, what=f"offline copy of {path}")


def cadre_phone(context, base, server, username=MINGXING):
    """A cadre's phone, logged in while there is signal, holding the pages it needs offline (待发送 and the
    new-minutes form of one council). Returns the page and the form's path."""
    page = context.new_page()
    log_in(page, base, username)
    if not worker_ready(page):
        page.reload()
        assert worker_ready(page), "the service worker does not control the page"
    form = f"/v/{V}/meetings/new/{server.council()}"
    page.goto(base + "/outbox")
    page.goto(base + form)
    kept_offline(page, "/outbox")
    kept_offline(page, form)
    return page, form


def wait_draft(page, uuid, name, value):
    """Wait until the phone's draft of this record holds the value typed (saved as you type, debounced)."""
    until(page, """async ([uuid, name, value]) => {
      const d = await window.VillageOutbox.draft(uuid);
      return !!d && d.payload.some(p => p[0] === name && p[1] === value);
    }""", [uuid, name, value], what=f"draft {name}={value}")


def record_uuid(page):
    uuid = page.input_value("form[data-sync-type] input[name=uuid]")
    assert re.fullmatch(r"[0-9a-f-]{36}", uuid)
    return uuid


def save(page):
    """保存 on the minutes form: the record goes into the outbox and the phone shows 待发送."""
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r"/outbox\?saved="))


def row(page, uuid):
    return page.locator(f"#outbox-list li[data-uuid='{uuid}']")


def expect_state(page, uuid, state, words, timeout=SYNC_WAIT):
    tag = row(page, uuid).locator("[data-state]").first
    expect(tag).to_have_attribute("data-state", re.compile(f"^({state})$"), timeout=timeout)
    expect(tag).to_have_text(words)


def shown_receipt(page, uuid):
    text = row(page, uuid).locator(".meta").first.inner_text()
    match = RECEIPT.search(text)
    assert match, f"no receipt on the 待发送 row: {text!r}"
    return match.group(1)


def outbox_empty(page, timeout=SYNC_WAIT):
    until(page, "async () => (await window.VillageOutbox.outbox()).length === 0", timeout=timeout, what="outbox empty")


# ---- a. offline, reload, still there, online, exactly one -----------------------------------------

def test_minutes_typed_offline_survive_reloads_and_arrive_once(context, live_server, server):
    before = server.meetings()
    page, _form = cadre_phone(context, live_server.url, server)

    context.set_offline(True)
    response = page.reload()
    assert response is not None and response.from_service_worker, "the form did not open from the phone's copy"
    uuid = record_uuid(page)
    page.fill("[name=place]", "离线测试会场")
    page.fill("[name='agenda-0-title']", "修村道")
    page.fill("[name='agenda-0-discussion']", "大家同意先修东头")
    wait_draft(page, uuid, "agenda-0-discussion", "大家同意先修东头")

    # a reload with no signal: the typed minutes are still on the page (a draft, not yet queued)
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(page.locator("[name=place]")).to_have_value("离线测试会场")
    expect(page.locator("[name='agenda-0-title']")).to_have_value("修村道")
    expect(page.locator("[name='agenda-0-discussion']")).to_have_value("大家同意先修东头")
    assert record_uuid(page) == uuid, "the reloaded page is a new record, not the draft"
    expect(page.locator("[data-sync-state]")).to_contain_text("草稿")

    save(page)
    expect_state(page, uuid, ON_PHONE, "已存手机")
    page.reload()  # still offline: the 待发送 page and the queued record are on the phone
    expect_state(page, uuid, ON_PHONE, "已存手机")
    expect(page.locator("#sync-bar")).to_contain_text("1 条待发送")
    assert server.meetings(uuid) == 0

    context.set_offline(False)  # the `online` event starts the send
    expect_state(page, uuid, "accepted", "已送达")
    receipt = shown_receipt(page, uuid)
    expect(page.locator("#sync-bar")).to_contain_text("全部已发送")

    assert server.meetings() == before + 1
    assert server.meetings(uuid) == 1
    meeting = server.meeting(uuid)
    assert (meeting["place"], json.loads(meeting["agenda"])[0]["discussion"]) == ("离线测试会场", "大家同意先修东头")
    revisions = server.revisions(uuid)
    assert [(r["status"], r["receipt"]) for r in revisions] == [("accepted", receipt)]


# ---- shared steps --------------------------------------------------------------------------------

def fill_minutes(page, form, fields, base=None):
    """Open the new-minutes form (from the phone's copy when offline), type the fields, wait until the draft
    holds them, press 保存. Returns the record's uuid; the page is then on 待发送."""
    if base is not None:
        page.goto(base + form)
    uuid = record_uuid(page)
    for name, value in fields.items():
        page.fill(f"[name='{name}']", value)
    last = list(fields.items())[-1]
    wait_draft(page, uuid, *last)
    save(page)
    return uuid


def post_edits(page, village, edits, times=1):
    """POST the same batch `times` times at once from the page (fresh CSRF token from /api/session first);
    returns every answer as {status, body}."""
    return page.evaluate("""async ([village, edits, times]) => {
      const session = await (await fetch('/api/session', {headers: {Accept: 'application/json'}})).json();
      const send = () => fetch(`/api/v/${village}/edits`, {method: 'POST', body: JSON.stringify({edits}),
          headers: {'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRFToken': session.csrf_token}})
        .then(async (r) => ({status: r.status, body: await r.json()}));
      return Promise.all(Array.from({length: times}, send));
    }""", [village, edits, times])


def new_edit(council, place, uuid=None, base=None, **more):
    return {"edit_id": str(uuidlib.uuid4()), "uuid": uuid or str(uuidlib.uuid4()), "type": "meeting",
            "base_version": base, "payload": payload(council, place, **more)}


class Wire:
    """The live server's edge (WSGI middleware): every request the phone makes, whoever makes it, and faults cut
    into it. Playwright's own routing and request events miss requests of a page that a service worker controls
    (seen here: the PUT and POST of a flush went unseen by context.route), so the cuts are made at the server."""

    def __init__(self, app):
        self.inner, app.wsgi_app = app.wsgi_app, self
        self.lock = threading.Lock()
        self.requests = []   # (method, path, [edit_id, ...] of an /edits batch)
        self.faults = []     # [method, path pattern, what]: each cuts the next matching request once
        self.delays = []     # (method, path pattern, seconds): every matching request waits
        self.lost = []       # answers the server gave that never reached the phone

    def cut_next(self, method, pattern, what):
        """what: "lose reply" (the app commits, the connection drops before the answer), "drop midway" (half the
        body arrives, then the connection drops), "truncate" (the app gets half the body)."""
        self.faults.append([method, re.compile(pattern), what])

    def delay(self, method, pattern, seconds):
        self.delays.append((method, re.compile(pattern), seconds))

    def edits_sent(self, edit_id):
        return sum(ids.count(edit_id) for _method, _path, ids in self.requests)

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        with self.lock:
            fault = next((f for f in self.faults if f[0] == method and f[1].search(path)), None)
            if fault:
                self.faults.remove(fault)
        what = fault[2] if fault else None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if what == "drop midway":
            environ["wsgi.input"].read(length // 2)
            with self.lock:
                self.requests.append((method, path + " (cut midway)", []))
            self._drop(environ)
        body = environ["wsgi.input"].read(length) if length else b""
        ids = [e.get("edit_id") for e in json.loads(body)["edits"]] if path.endswith("/edits") and method == "POST" else []
        with self.lock:
            self.requests.append((method, path + (" (truncated)" if what == "truncate" else ""), ids))
        if what == "truncate":
            body = body[: len(body) // 2]
            environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        for m, pattern, seconds in self.delays:
            if m == method and pattern.search(path):
                time.sleep(seconds)
        if what != "lose reply":
            return self.inner(environ, start_response)
        answer = []
        result = self.inner(environ, lambda status, headers, exc_info=None: answer.append(status) or (lambda data: None))
        try:
            data = b"".join(result)  # the app runs to the end: the edit is committed
        finally:
            getattr(result, "close", lambda: None)()
        self.lost.append((answer[0], json.loads(data)))
        self._drop(environ)

    @staticmethod
    def _drop(environ):
        try:
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise ConnectionResetError("the test cut the connection")  # werkzeug treats it as a dropped connection


@pytest.fixture
def wire(app):
    return Wire(app)


# ---- b. the server commits, the reply is lost --------------------------------------------------------

def test_reply_lost_after_commit_the_retry_gets_the_same_receipt(context, live_server, server, wire):
    before = server.meetings()
    page, form = cadre_phone(context, live_server.url, server)
    context.set_offline(True)
    uuid = fill_minutes(page, form, {"place": "回复丢失测试", "agenda-0-title": "选新组长"}, base=live_server.url)
    expect_state(page, uuid, ON_PHONE, "已存手机")

    # the batch reaches the server, which commits it; the connection drops before the answer reaches the phone
    wire.cut_next("POST", r"/edits$", "lose reply")
    context.set_offline(False)
    expect_state(page, uuid, "accepted", "已送达")

    assert len(wire.lost) == 1, "no reply was lost"
    status, body = wire.lost[0]
    (answer,) = body["results"]
    assert status.startswith("200") and answer["status"] == "accepted" and answer["uuid"] == uuid
    assert shown_receipt(page, uuid) == answer["receipt"], "the retry got another receipt than the lost reply"
    edit_id = answer["edit_id"]
    assert wire.edits_sent(edit_id) == 2, f"not exactly one re-send of the same edit: {wire.requests}"

    assert server.meetings() == before + 1
    assert server.meetings(uuid) == 1
    revisions = server.revisions(uuid)
    assert [(r["edit_id"], r["receipt"]) for r in revisions] == [(edit_id, answer["receipt"])]


# ---- c. the same record five times at once, and from two tabs -----------------------------------------

def test_same_edit_sent_five_times_at_once_is_stored_once(context, live_server, server):
    before = server.meetings()
    page, _form = cadre_phone(context, live_server.url, server)
    edit = new_edit(server.council(), "五次同时发送")

    answers = post_edits(page, V, [edit], times=5)  # five requests in flight together, one edit_id

    assert [a["status"] for a in answers] == [200] * 5
    results = [a["body"]["results"][0] for a in answers]
    assert {r["status"] for r in results} == {"accepted"}, results
    assert len({r["receipt"] for r in results}) == 1, f"five receipts for one edit: {results}"
    assert {r["version"] for r in results} == {1}
    assert server.meetings() == before + 1
    assert server.meetings(edit["uuid"]) == 1
    assert [r["receipt"] for r in server.revisions(edit["uuid"])] == [results[0]["receipt"]]


NO_WEB_LOCKS = "Object.defineProperty(Navigator.prototype, 'locks', {get: () => undefined, configurable: true});"


@pytest.mark.parametrize("lock", ["web locks", "indexeddb lease"])
def test_two_tabs_flushing_at_once_send_a_record_once(context, live_server, server, wire, lock):
    """Two tabs of one phone both flush the outbox at the same moment, while the server is slow to answer:
    one tab sends, the other finds the outbox busy. Without Web Locks (older phones) a lease in IndexedDB decides."""
    wire.delay("POST", r"/edits$", 0.6)  # a send is surely still in flight when the other tab tries
    if lock == "indexeddb lease":
        context.add_init_script(NO_WEB_LOCKS)
    before = server.meetings()
    first, _form = cadre_phone(context, live_server.url, server)
    first.goto(live_server.url + "/outbox")
    second = context.new_page()
    second.goto(live_server.url + "/outbox")
    assert first.evaluate("!!navigator.locks") == second.evaluate("!!navigator.locks") == (lock == "web locks")

    context.set_offline(True)
    edit = new_edit(server.council(), "两个标签页")
    uuid = edit["uuid"]
    first.evaluate("""(e) => VillageOutbox.queue({uuid: e.uuid, type: 'meeting', village: e.village, payload: e.payload,
                         base_version: null, title: '两个标签页', url: '/outbox', state: 'queued'})""", {**edit, "village": V})
    expect_state(second, uuid, ON_PHONE, "已存手机")  # the other tab sees the same outbox
    # the queue's own first try failed with no signal (and gave the outbox back)
    until(first, """async () => (await VillageOutbox.outbox())[0].attempts >= 1 && !(await VillageOutbox.meta('lease'))""")
    context.set_offline(False)
    # both tabs flush at the same instant, as soon as the record's backoff is over
    start = """async () => {
      const [edit] = await VillageOutbox.outbox();
      const at = edit ? Math.max(Date.now(), edit.next_try) + 50 : Date.now();
      window.__flushed = new Promise(r => setTimeout(r, at - Date.now())).then(() => VillageOutbox.flush());
      return at;
    }"""
    at_first, at_second = first.evaluate(start), second.evaluate(start)
    assert abs(at_first - at_second) < 100
    results = [first.evaluate("window.__flushed"), second.evaluate("window.__flushed")]
    assert "busy" in results, f"both tabs held the outbox at once: {results}"

    for page in (first, second):
        expect_state(page, uuid, "accepted", "已送达")
    edit_id = server.revisions(uuid)[0]["edit_id"]
    assert wire.edits_sent(edit_id) == 1, f"the record was sent {wire.edits_sent(edit_id)} times: {wire.requests}"
    assert server.meetings() == before + 1
    assert server.meetings(uuid) == 1
    assert len(server.revisions(uuid)) == 1


def test_without_web_locks_a_record_saved_from_the_form_is_sent(context, live_server, server):
    context.add_init_script(NO_WEB_LOCKS)
    before = server.meetings()
    page, form = cadre_phone(context, live_server.url, server)
    assert not page.evaluate("!!navigator.locks")
    uuid = fill_minutes(page, form, {"place": "没有网页锁的手机", "agenda-0-title": "修水井"})  # online
    expect_state(page, uuid, "accepted", "已送达", timeout=10000)
    assert server.meetings() == before + 1
    assert server.meetings(uuid) == 1


# ---- d. two cadres edit the same minutes offline ------------------------------------------------------

@pytest.fixture
def second_cadre(app):
    """Another cadre of 明星村 (the 村委会主任), made through the app's own account functions."""
    with app.app_context():
        directory = open_directory(app)
        try:
            accounts.create_user(directory, "mingxing_zhuren", PASSWORD, "李秀兰", "cadre", "test", town_code=CHIHE_TOWN,
                                 villages=[V], position="主任")
        finally:
            directory.close()
    return "mingxing_zhuren"


def test_two_cadres_offline_on_one_record_make_a_conflict_a_person_merges(browser, live_server, server, second_cadre):
    base = live_server.url
    before = server.meetings()
    phones = [browser.new_context(locale="zh-CN") for _ in range(2)]
    try:
        (a, _), (b, _) = [cadre_phone(ctx, base, server, username) for ctx, username in zip(phones, (MINGXING, second_cadre))]
        # draft minutes on the server, version 1
        original = new_edit(server.council(), "村委会会议室", host="张德明")
        (answer,) = post_edits(a, V, [original])
        assert answer["body"]["results"][0]["status"] == "accepted"
        uuid = original["uuid"]

        for page in (a, b):  # both open the draft while there is signal...
            page.goto(f"{base}/v/{V}/meetings/{uuid}/edit")
            expect(page.locator("[name=place]")).to_have_value("村委会会议室")
            expect(page.locator("[data-sync-state]")).to_be_attached()
        for ctx in phones:  # ...and lose it
            ctx.set_offline(True)
        a.fill("[name=place]", "村小学操场")  # cadre A moves the place
        wait_draft(a, uuid, "place", "村小学操场")
        b.fill("[name=host]", "李秀兰")  # cadre B corrects who chaired
        wait_draft(b, uuid, "host", "李秀兰")
        save(a)
        save(b)
        expect_state(a, uuid, ON_PHONE, "已存手机")
        expect_state(b, uuid, ON_PHONE, "已存手机")

        phones[0].set_offline(False)  # A gets signal first: an ordinary new version
        expect_state(a, uuid, "accepted", "已送达")
        phones[1].set_offline(False)  # then B, whose edit was made on version 1
        expect_state(b, uuid, "conflict", "已送达 · 有冲突待定")
        assert server.meeting(uuid)["version"] == 2 and server.meeting(uuid)["conflict"] == 1
        edits = {r["created_by"]: r for r in server.revisions(uuid)}
        assert (edits[MINGXING]["status"], edits[second_cadre]["status"]) == ("accepted", "conflict")

        # a person compares both versions field by field
        a.goto(f"{base}/v/{V}/meetings/{uuid}")
        expect(a.locator(".error-summary")).to_contain_text("两份都保存着")
        a.goto(f"{base}/v/{V}/conflicts/")
        a.get_by_role("link", name=re.compile("两人同时修改")).click()
        place = a.locator("tr", has=a.locator("input[name=pick-place]"))
        host = a.locator("tr", has=a.locator("input[name=pick-host]"))
        expect(place).to_contain_text("不同")
        expect(place.locator("td").nth(0)).to_contain_text("村小学操场")  # 现在的 (A's)
        expect(place.locator("td").nth(1)).to_contain_text("村委会会议室")  # 另一份 (B's, made on version 1)
        expect(host.locator("td").nth(0)).to_contain_text("张德明")
        expect(host.locator("td").nth(1)).to_contain_text("李秀兰")
        # keep A's place, take B's host
        host.locator("input[value=other]").check()
        a.get_by_role("button", name="用选好的内容保存").click()
        expect(a.locator("main")).to_contain_text("已合并并保存为第 3 版")
        expect(a.locator("main")).to_contain_text("没有待定的修改")
    finally:
        for ctx in phones:
            ctx.close()

    merged = server.meeting(uuid)
    assert (merged["place"], merged["host"], merged["version"], merged["conflict"]) == ("村小学操场", "李秀兰", 3, 0)
    assert server.meetings() == before + 1
    assert server.meetings(uuid) == 1
    revisions = server.revisions(uuid)
    assert [r["status"] for r in revisions] == ["accepted", "accepted", "conflict", "accepted"]
    kept = {r["created_by"]: dict(json.loads(r["payload"])) for r in revisions[1:3]}  # both originals, unchanged
    assert (kept[MINGXING]["place"], kept[MINGXING]["host"]) == ("村小学操场", "张德明")
    assert (kept[second_cadre]["place"], kept[second_cadre]["host"]) == ("村委会会议室", "李秀兰")
    assert revisions[2]["resolution"] == "merged"


# ---- e. the session expires with records queued -------------------------------------------------------

def test_session_gone_with_records_queued_login_then_all_are_sent(context, live_server, server):
    before = server.meetings()
    page, form = cadre_phone(context, live_server.url, server)
    context.set_offline(True)
    uuids = [fill_minutes(page, form, {"place": f"登录过期测试{i}", "agenda-0-title": f"议题{i}"}, base=live_server.url)
             for i in range(3)]
    expect(page.locator("#sync-bar")).to_contain_text("3 条待发送")

    context.clear_cookies()  # the login is gone (expired, or logged out elsewhere) while the phone was offline
    context.set_offline(False)
    bar = page.locator("#sync-bar")
    expect(bar).to_contain_text("登录已过期，3 条等着发送", timeout=SYNC_WAIT)
    for uuid in uuids:
        expect_state(page, uuid, ON_PHONE, "已存手机")
    assert server.meetings() == before

    bar.get_by_role("link", name="请重新登录").click()
    page.wait_for_url(re.compile(r"/login\?next=/outbox"))
    page.fill("#username", MINGXING)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/outbox$"))  # back on 待发送, and the queue carries on by itself
    for uuid in uuids:
        expect_state(page, uuid, "accepted", "已送达")
    expect(bar).to_contain_text("全部已发送")

    assert server.meetings() == before + 3
    assert [server.meetings(uuid) for uuid in uuids] == [1, 1, 1]
    assert [len(server.revisions(uuid)) for uuid in uuids] == [1, 1, 1]


# ---- f. invalid content: 需处理, opened at the field, fixed, sent ----------------------------------------

@pytest.mark.parametrize("fields, field, fixed, message", [
    pytest.param({"place": "人数测试", "present": "8"}, "present", "5", "实到人数不能多于应到的 5 人",
                 id="more-present-than-eligible"),
    pytest.param({"place": "票数测试", "present": "3", "agenda-0-title": "修路集资", "agenda-0-votes_for": "5"},
                 "agenda-0-votes_for", "3", "同意、反对、弃权一共 5 票，比到会的 3 人还多",
                 id="more-votes-than-present"),
])
def test_invalid_minutes_need_fixing_at_the_field_then_are_sent(context, live_server, server, fields, field, fixed, message):
    before = server.meetings()
    page, form = cadre_phone(context, live_server.url, server)
    context.set_offline(True)
    uuid = fill_minutes(page, form, fields, base=live_server.url)
    context.set_offline(False)
    tag = row(page, uuid).locator("[data-state]").first
    expect(tag).to_have_attribute("data-state", re.compile("^(needs_fix|accepted)$"), timeout=SYNC_WAIT)  # answered
    expect_state(page, uuid, "needs_fix", "需处理", timeout=1000)
    expect(row(page, uuid).locator(".error")).to_be_visible()
    expect(page.locator("#sync-bar")).to_contain_text("1 条需处理")
    assert server.meetings(uuid) == 0

    row(page, uuid).get_by_role("link").click()  # opens the record at the field, with the server's words
    bad = page.locator(f"[name='{field}']")
    expect(bad).to_have_value(fields[field])
    expect(page.locator(".field", has=bad).locator(".error")).to_contain_text(message)
    expect(bad).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("这条记录需要改一下才能发送")
    for name, value in fields.items():  # nothing typed was lost
        expect(page.locator(f"[name='{name}']")).to_have_value(value)
    bad.fill(fixed)
    wait_draft(page, uuid, field, fixed)
    save(page)
    expect_state(page, uuid, "accepted", "已送达")

    assert server.meetings() == before + 1
    assert server.meetings(uuid) == 1
    meeting = server.meeting(uuid)
    assert meeting["place"] == fields["place"]
    if field == "present":
        assert meeting["present"] == 5
    else:
        assert json.loads(meeting["agenda"])[0]["votes_for"] == 3
    assert [r["status"] for r in server.revisions(uuid)] == ["accepted"]  # the invalid edit was never stored


# ---- g. a photo taken offline: shrunk, uploaded before the record, resumed after a cut ------------------

def big_photo():
    """A 12-megapixel phone photo of noise (does not compress): several MB as it comes from the camera."""
    image = Image.effect_noise((4000, 3000), 64).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def test_photo_taken_offline_is_shrunk_and_uploaded_before_the_record_even_after_cuts(context, live_server, server, wire):
    before = server.meetings()
    page, form = cadre_phone(context, live_server.url, server)
    context.set_offline(True)
    page.goto(live_server.url + form)
    uuid = record_uuid(page)
    photo = big_photo()
    assert len(photo) > 2_000_000
    page.set_input_files("input[type=file][data-photos]", files=[{"name": "签到表.jpg", "mimeType": "image/jpeg",
                                                                  "buffer": photo}])
    thumb = page.locator("[data-photo-list] input[name=photos]")
    expect(thumb).to_have_count(1, timeout=15000)
    sha = thumb.get_attribute("value")
    kept = page.evaluate("""async (sha) => { const f = await VillageOutbox.file(sha);
      const b = await createImageBitmap(f.blob); return {size: f.blob.size, type: f.blob.type, w: b.width, h: b.height}; }""", sha)
    assert kept["size"] <= 300 * 1024, f"the photo kept on the phone is {kept['size']} bytes"
    assert kept["type"] == "image/jpeg" and max(kept["w"], kept["h"]) <= 1600
    uuid = fill_minutes(page, form, {"place": "照片测试", "agenda-0-title": "核对签到表"})

    wire.cut_next("PUT", r"/files/", "drop midway")  # the signal goes halfway through the upload
    wire.cut_next("PUT", r"/files/", "truncate")  # a proxy hands on half the photo: the server checks the hash
    context.set_offline(False)
    expect_state(page, uuid, "accepted", "已送达", timeout=30000)

    sent = [(method, path.rsplit("/", 1)[-1]) for method, path, _ids in wire.requests if "/api/v/" in path]
    puts = [i for i, (method, _what) in enumerate(sent) if method == "PUT"]
    assert [sent[i][1] for i in puts] == [f"{sha} (cut midway)", f"{sha} (truncated)", sha], sent
    posts = [i for i, (method, _what) in enumerate(sent) if method == "POST"]
    assert posts and posts[0] > puts[-1], f"the record went before its photo had arrived: {sent}"
    files = server.query("select sha256, size, content_type from files where sha256 = ?", [sha])
    assert files == [{"sha256": sha, "size": kept["size"], "content_type": "image/jpeg"}]

    page.goto(f"{live_server.url}/v/{V}/meetings/{uuid}")
    expect(page.get_by_role("heading", name="照片（1/1 已上传）")).to_be_visible()
    img = page.locator(f"img[src$='/files/{sha}']")
    expect(img).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", img.element_handle())

    assert server.meetings() == before + 1
    assert server.meetings(uuid) == 1
    assert json.loads(server.meeting(uuid)["photos"]) == [sha]
    assert len(server.revisions(uuid)) == 1


# ---- long offline spells -------------------------------------------------------------------------------

def test_after_hours_offline_the_record_goes_as_soon_as_the_signal_returns(context, live_server, server):
    before = server.meetings()
    context.clock.install()  # the phone's clock, moved on below as hours pass with no signal
    page, form = cadre_phone(context, live_server.url, server)
    context.set_offline(True)
    uuid = fill_minutes(page, form, {"place": "山里开会", "agenda-0-title": "修水渠"}, base=live_server.url)
    expect_state(page, uuid, ON_PHONE, "已存手机")
    edit = "async () => (await VillageOutbox.outbox())[0]"
    for _ in range(12):  # the outbox keeps trying (and failing) with longer and longer waits between tries
        tried = page.evaluate(edit)
        page.clock.fast_forward(max(0, tried["next_try"] - page.evaluate("Date.now()")) + 1000)
        until(page, "async (n) => (await VillageOutbox.outbox())[0].attempts > n", tried["attempts"], what="another failed try")
    waiting = page.evaluate(edit)
    assert waiting["attempts"] >= 12 and waiting["next_try"] - page.evaluate("Date.now()") > 60_000

    context.set_offline(False)  # back in signal: the `online` event, and the server answers
    expect_state(page, uuid, "accepted", "已送达", timeout=10000)
    assert server.meetings() == before + 1
    assert server.meetings(uuid) == 1


def test_many_records_queued_offline_go_in_full_batches_when_the_signal_returns(context, live_server, server, wire):
    """150 minutes saved with no signal (each save tried and failed, each record waiting out its own backoff):
    once the server answers, they all go at once, 50 to a request, not one backoff at a time."""
    before = server.meetings()
    page, _form = cadre_phone(context, live_server.url, server)
    page.goto(live_server.url + "/outbox")
    context.set_offline(True)
    council = server.council()
    edits = [new_edit(council, f"批量-{i}") for i in range(150)]
    page.evaluate("""async ([edits, village]) => {
      for (const e of edits) await VillageOutbox.queue({uuid: e.uuid, type: 'meeting', village, payload: e.payload,
                                                        base_version: null, title: e.uuid, url: '/outbox'});
    }""", [edits, V])
    until(page, "async () => (await VillageOutbox.outbox()).every(e => e.attempts >= 1)", what="a failed try for each")
    start = time.monotonic()
    context.set_offline(False)
    outbox_empty(page, timeout=15000)
    seconds = time.monotonic() - start
    batches = [ids for method, path, ids in wire.requests if method == "POST" and path.endswith("/edits")]
    assert len(batches) == 3 and sorted(map(len, batches)) == [50, 50, 50], [len(b) for b in batches]
    assert seconds < 10, f"{seconds:.1f} s to send 150 records after the signal returned"
    expect(page.locator("#sync-bar")).to_contain_text("全部已发送")
    assert server.meetings() == before + 150
    assert server.query("select count(*) n from meetings where place like '批量-%'")[0]["n"] == 150
    assert server.query("select count(*) n from revisions where uuid in (select uuid from meetings where place like '批量-%')")[0]["n"] == 150
