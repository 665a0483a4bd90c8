"""星级文明户 scored door to door with no signal: two cadres' phones keep the score page of 明星村's campaign being scored
(文明家庭, points per criterion) while there is signal. With the server really stopped (its port refuses connections), a
reviewer's three households are scored on the first phone; 待发送 lists them, the server has none. When the server is
back on the same port the town file holds exactly those scores, once each, and the campaign's page shows them. Then,
stopped again, a second reviewer scores the same three households on the other phone (whose copy of the page is older
than the first reviewer's scores): after the restart the six records sit side by side, none flagged as a conflict and
no edit kept as one, because each reviewer owns their scores."""
import json
import re

import pytest
from playwright.sync_api import expect

from villageapp import auth as accounts
from villageapp.store import open_directory

from browser.test_restart import Phone, assert_whole, open_with_no_signal
from browser.test_sync import Server, kept_offline, log_in, record_uuid, row, wait_draft, worker_ready
from conftest import CHIHE_TOWN, MINGXING, MINGXING_VILLAGE, PASSWORD

pytestmark = pytest.mark.browser
V = MINGXING_VILLAGE
ON_PHONE = re.compile("^(queued|waiting)$")
SEND_WAIT = 30000  # ms
SECOND = "mingxing_zhuren"


@pytest.fixture
def phones(playwright, tmp_path, csp_violations):
    made = [Phone(playwright, tmp_path / f"phone-{n}", csp_violations) for n in (1, 2)]
    yield made
    for p in made:
        p.close()


@pytest.fixture
def second_cadre(app):
    """Another cadre of 明星村 (the 村委会主任), with the second phone."""
    with app.app_context():
        directory = open_directory(app)
        try:
            accounts.create_user(directory, SECOND, PASSWORD, "李秀兰", "cadre", "test", town_code=CHIHE_TOWN,
                                 villages=[V], position="主任")
        finally:
            directory.close()
    return SECOND


def campaign_being_scored(server):
    """明星村's campaign being scored (the demo's 文明家庭), two of its reviewers who have scored nobody yet, and three
    of its households."""
    campaign = server.query("select uuid, rules, reviewers from campaigns where village_code = ? and stage = 'scoring'",
                            [V])[0]
    rules = json.loads(campaign["rules"])
    assert rules["mode"] == "points", "the demo's campaign being scored in 明星村 is 文明家庭 (points)"
    scored = {r["reviewer"] for r in server.query("select distinct reviewer from campaign_scores where campaign_uuid = ?",
                                                  [campaign["uuid"]])}
    free = [name for name in json.loads(campaign["reviewers"]) if name not in scored]
    assert len(free) >= 2, "the demo leaves reviewers who have not scored yet"
    entries = server.query("select uuid, subject_name from campaign_entries where campaign_uuid = ? order by subject_name"
                           " limit 3", [campaign["uuid"]])
    assert len(entries) == 3
    return campaign["uuid"], rules, free[:2], entries


def first_visit(phone, site, username, form):
    """With signal: log in, 待发送 and the score page; wait until the worker keeps both, then close the browser."""
    page = phone.open()
    log_in(page, site.url, username)
    if not worker_ready(page):
        page.reload()
        assert worker_ready(page), "the service worker does not control the page"
    page.goto(site.url + "/outbox")
    page.goto(site.url + form)
    kept_offline(page, "/outbox")
    kept_offline(page, form)
    phone.close()


def score_offline(phone, page, site, form, reviewer, entry, points):
    """One reviewer's points for one household on the kept page (opened again from the phone's copy after the
    previous household), saved on the phone; returns the record's UUID."""
    page.wait_for_load_state("networkidle")  # the manifest is fetched after "load": leaving sooner cancels it (a failure)
    if not page.url.endswith(form):
        response = page.goto(site.url + form)
        assert response is not None and response.from_service_worker, "the score page did not open from the phone's copy"
    uuid = record_uuid(page)
    expect(page.locator("[data-sync-state]")).to_be_attached()  # forms.js is bound: the page saves on the phone
    assert_whole(phone, page)
    page.select_option("[name=reviewer]", reviewer)
    page.select_option("[name=entry]", entry["uuid"])
    for i, value in enumerate(points):
        page.fill(f"[name=c{i}]", str(value))
    wait_draft(page, uuid, f"c{len(points) - 1}", str(points[-1]))
    page.get_by_role("button", name="保存打的分", exact=True).click()
    page.wait_for_url(re.compile(r"/outbox\?saved="))
    expect(page.locator("#outbox-list")).not_to_contain_text("正在读取")
    expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", ON_PHONE)
    return uuid


def round_with_no_signal(phone, site, server, form, reviewer, entries, sheet):
    """The server stopped for real: the reviewer scores each household on the phone; 待发送 holds them, the server
    nothing. The server back on the same port: the phone sends them all. Returns {record uuid: entry}."""
    site.stop()
    page = open_with_no_signal(phone, site, form)
    sent = {score_offline(phone, page, site, form, reviewer, e, sheet[e["uuid"]]): e for e in entries}
    assert len(sent) == 3
    page.reload()
    for uuid in sent:
        expect(row(page, uuid)).to_have_count(1)
        expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", ON_PHONE)
    expect(page.locator("#sync-bar")).to_contain_text("3 条待发送")
    assert site.refuses(), "the server answered while the phone had no signal"
    marks = ", ".join("?" * len(sent))
    assert server.query(f"select count(*) n from campaign_scores where uuid in ({marks})", list(sent))[0]["n"] == 0

    site.start()
    page.reload()
    for uuid in sent:
        expect(row(page, uuid).locator("[data-state]").first).to_have_attribute("data-state", "accepted", timeout=SEND_WAIT)
    expect(page.locator("#sync-bar")).to_contain_text("全部已发送")
    return page, sent


def line(reviewer, points):
    """How the campaign's page writes one reviewer's points for a household."""
    return f"{reviewer}：{' + '.join(str(p) for p in points)} = {float(sum(points))} 分"


def stored_scores(server, campaign, entries, reviewers):
    marks = ", ".join("?" * len(entries))
    return server.query(f"""select uuid, entry_uuid, reviewer, scores, version, conflict, created_by from campaign_scores
        where campaign_uuid = ? and entry_uuid in ({marks}) and reviewer in ({", ".join("?" * len(reviewers))})
        order by reviewer, entry_uuid""", [campaign, *[e["uuid"] for e in entries], *reviewers])


def expect_shown(page, site, campaign, entries, sheets):
    """The campaign's page: each household's card lists each reviewer's points exactly once."""
    page.goto(f"{site.url}/v/{V}/ratings/{campaign}")
    for e in entries:
        card = page.locator(f"#entry-{e['uuid']}")
        expect(card).to_contain_text(e["subject_name"])
        text = card.inner_text()
        for reviewer, sheet in sheets.items():
            assert text.count(line(reviewer, sheet[e["uuid"]])) == 1, (reviewer, e["subject_name"], text)
            assert text.count(f"{reviewer}：") == 1, (reviewer, e["subject_name"], text)


def test_two_reviewers_score_the_same_households_offline_and_both_are_kept_once(phones, site, app, second_cadre):
    server = Server(app)
    campaign, rules, (first, second), entries = campaign_being_scored(server)
    form = f"/v/{V}/ratings/{campaign}/score"
    size = len(rules["criteria"])
    sheets = {first: {e["uuid"]: [min(c["max"], 15 + (n + i) % 5) for i, c in enumerate(rules["criteria"])]
                      for n, e in enumerate(entries)},
              second: {e["uuid"]: [min(c["max"], 12 + (2 * n + i) % 7) for i, c in enumerate(rules["criteria"])]
                       for n, e in enumerate(entries)}}
    assert all(len(points) == size for sheet in sheets.values() for points in sheet.values())
    conflicts_before = server.query("select count(*) n from revisions where record_type = 'rating_score' and status != 'accepted'"
                                    )[0]["n"]

    # with signal: each cadre's phone keeps the score page (the second phone's copy is older than what follows)
    first_visit(phones[0], site, MINGXING, form)
    first_visit(phones[1], site, second_cadre, form)

    # the first reviewer goes round three households with no signal; the phone sends when the server is back
    page, sent = round_with_no_signal(phones[0], site, server, form, first, entries, sheets[first])
    rows = stored_scores(server, campaign, entries, [first])
    assert len(rows) == 3 and {r["uuid"] for r in rows} == set(sent)
    for r in rows:
        points = sheets[first][r["entry_uuid"]]
        assert sent[r["uuid"]]["uuid"] == r["entry_uuid"]
        assert json.loads(r["scores"]) == {f"c{i}": p for i, p in enumerate(points)}
        assert (r["version"], r["conflict"], r["created_by"]) == (1, 0, MINGXING)
        assert len(server.query("select id from revisions where uuid = ?", [r["uuid"]])) == 1
    expect_shown(page, site, campaign, entries, {first: sheets[first]})
    phones[0].close()

    # the second reviewer scores the same households on the other phone, again with the server stopped
    page, sent_too = round_with_no_signal(phones[1], site, server, form, second, entries, sheets[second])
    rows = stored_scores(server, campaign, entries, [first, second])
    assert len(rows) == 6, rows
    assert {r["uuid"] for r in rows} == set(sent) | set(sent_too)
    for r in rows:
        points = sheets[r["reviewer"]][r["entry_uuid"]]
        assert json.loads(r["scores"]) == {f"c{i}": p for i, p in enumerate(points)}
        assert (r["version"], r["conflict"]) == (1, 0), r
        assert r["created_by"] == (MINGXING if r["reviewer"] == first else second_cadre)
        assert [v["status"] for v in server.query("select status from revisions where uuid = ?", [r["uuid"]])] == ["accepted"]
    assert server.query("select count(*) n from revisions where record_type = 'rating_score' and status != 'accepted'"
                        )[0]["n"] == conflicts_before
    assert server.query("select count(*) n from campaign_scores where campaign_uuid = ? and conflict != 0",
                        [campaign])[0]["n"] == 0
    expect_shown(page, site, campaign, entries, sheets)
