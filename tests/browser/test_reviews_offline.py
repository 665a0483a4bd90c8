"""道德评议 with no signal: a council member opens the new-case page once with signal, then records two cases in a
household's yard where there is none (the server is really stopped: its port refuses connections), one of them with
a photo. 待发送 lists both; when the server is back on the same port the phone sends them, and the town file holds
each case exactly once, the photo's bytes and the photo linked to its case."""
import hashlib
import io
import json
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from browser.test_restart import Phone, assert_whole, open_with_no_signal
from browser.test_sync import Server, kept_offline, log_in, record_uuid, row, wait_draft, worker_ready
from conftest import MINGXING_VILLAGE

pytestmark = pytest.mark.browser
V = MINGXING_VILLAGE
FORM = f"/v/{V}/reviews/new"
ON_PHONE = re.compile("^(queued|waiting)$")
SEND_WAIT = 30000  # ms: the photo goes first, then the records


@pytest.fixture
def phone(playwright, tmp_path, csp_violations):
    p = Phone(playwright, tmp_path / "phone-profile", csp_violations)
    yield p
    p.close()


def small_jpeg():
    """A photo of a clean yard: a real, small JPEG."""
    image = Image.new("RGB", (640, 480), (196, 222, 180))
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 200, 560, 440), fill=(150, 110, 70))
    draw.ellipse((420, 40, 520, 140), fill=(250, 210, 80))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def subjects(server):
    """A resident and another household of 明星村, as the form's subject list names them."""
    person = server.query("select uuid, name, household_uuid from residents where village_code = ? order by rowid limit 1", [V])[0]
    house = server.query("select uuid, head_name from households where village_code = ? and uuid != ? order by rowid limit 1",
                         [V, person["household_uuid"]])[0]
    return (f"r:{person['uuid']}", person["name"]), (f"h:{house['uuid']}", f"{house['head_name']}户")


def record_case(phone, page, subject, kind, category, facts, photo=None):
    """Fill the kept new-case page and save it on the phone; returns the case's UUID (and the photo's SHA-256)."""
    uuid = record_uuid(page)
    expect(page.locator("[data-sync-state]")).to_be_attached()  # forms.js is bound: the page saves on the phone
    assert_whole(phone, page)
    page.select_option("[name=subject]", subject)
    page.check(f"input[name=kind][value={kind}]")
    page.select_option("[name=category]", label=category)
    page.fill("[name=facts]", facts)
    page.check("input[name=source][value=member]")
    page.fill("[name=source_name]", "评议会会长")
    sha = None
    if photo:
        page.locator("details.fold summary").first.click()
        page.set_input_files("input[type=file][data-photos]", files=[{"name": "院子.jpg", "mimeType": "image/jpeg",
                                                                      "buffer": photo}])
        kept = page.locator("[data-photo-list] input[name=photos]")
        expect(kept).to_have_count(1, timeout=15000)
        sha = kept.get_attribute("value")
        assert re.fullmatch(r"[0-9a-f]{64}", sha)
    wait_draft(page, uuid, "facts", facts)
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r"/outbox\?saved="))
    expect(page.locator("#outbox-list")).not_to_contain_text("正在读取")
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", ON_PHONE)
    return uuid, sha


def test_two_cases_recorded_with_the_server_stopped_arrive_once_with_their_photo(phone, site, app):
    server = Server(app)
    (person, person_name), (house, house_name) = subjects(server)
    before = server.query("select count(*) n from review_cases where village_code = ?", [V])[0]["n"]

    # with signal: log in, open 待发送 and the new-case page; the service worker keeps both
    page = phone.open()
    log_in(page, site.url)
    if not worker_ready(page):
        page.reload()
        assert worker_ready(page), "the service worker does not control the page"
    page.goto(site.url + "/outbox")
    page.goto(site.url + FORM)
    kept_offline(page, "/outbox")
    kept_offline(page, FORM)
    phone.close()

    # no signal at all: the server is stopped for real, and the phone opens the kept page again
    site.stop()
    page = open_with_no_signal(phone, site, FORM)
    photo = small_jpeg()
    first, sha = record_case(phone, page, person, "praise", "孝老爱亲",
                             f"{person_name}每天给瘫痪在床的老人端水喂饭、擦身翻身，坚持了五年。", photo=photo)
    response = page.goto(site.url + FORM)
    assert response is not None and response.from_service_worker, "the second case's page did not open from the phone's copy"
    second, _ = record_case(phone, page, house, "criticism", "乱倒垃圾", f"{house_name}把建筑垃圾倒在河道边，劝了两回没有清理。")
    assert first != second

    # 待发送 is the phone's own copy: both cases wait there, the server has neither
    page.reload()
    for uuid in (first, second):
        expect(row(page, uuid)).to_have_count(1)
        expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", ON_PHONE)
    expect(page.locator("#sync-bar")).to_contain_text("2 条待发送")
    assert site.refuses(), "the server answered while the phone had no signal"
    assert server.query("select count(*) n from review_cases where uuid in (?, ?)", [first, second])[0]["n"] == 0

    # the server is back on the same port: the outbox sends, the photo before its case
    site.start()
    page.reload()
    for uuid in (first, second):
        expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", "accepted", timeout=SEND_WAIT)
    expect(page.locator("#sync-bar")).to_contain_text("全部已发送")

    cases = {r["uuid"]: r for r in server.query("select * from review_cases where uuid in (?, ?)", [first, second])}
    assert len(cases) == 2
    assert server.query("select count(*) n from review_cases where village_code = ?", [V])[0]["n"] == before + 2
    for uuid in (first, second):
        assert len(server.query("select id from revisions where uuid = ?", [uuid])) == 1
    praise, criticism = cases[first], cases[second]
    assert (praise["subject_type"], praise["subject_name"], praise["kind"], praise["category"]) == (
        "resident", person_name, "praise", "孝老爱亲")
    assert (criticism["subject_type"], criticism["subject_name"], criticism["kind"], criticism["category"]) == (
        "household", house_name, "criticism", "乱倒垃圾")
    assert all(c["stage"] == "new" and c["created_by"] == "mingxing" and c["source"] == "member" for c in cases.values())
    assert server.query("select count(*) n from review_cases where facts = ?", [praise["facts"]])[0]["n"] == 1
    assert server.query("select count(*) n from review_cases where facts = ?", [criticism["facts"]])[0]["n"] == 1

    # the photo's file arrived whole and is linked to its case (and only to it)
    assert json.loads(praise["photos"]) == [sha] and json.loads(criticism["photos"]) == []
    files = server.query("select sha256, size, content_type, data from files where sha256 = ?", [sha])
    assert len(files) == 1 and files[0]["content_type"] == "image/jpeg"
    data = files[0]["data"]
    assert hashlib.sha256(data).hexdigest() == sha and files[0]["size"] == len(data)
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.format == "JPEG" and stored.size == (640, 480)
    links = server.query("select [table], record_uuid, village_code, sort from record_files where sha256 = ?", [sha])
    assert links == [{"table": "review_cases", "record_uuid": first, "village_code": V, "sort": 0}]
    assert server.query("select count(*) n from record_files where record_uuid = ?", [second])[0]["n"] == 0
    shown = page.request.get(f"{site.url}/v/{V}/reviews/{first}/files/{sha}")  # the cadre opens it from the case
    assert shown.status == 200 and shown.headers["content-type"] == "image/jpeg" and shown.body() == data
