"""The public pages kept for anonymous visitors (villageapp/public_cache.py): a repeat view is not rendered again, and
every change the public page shows is there on the very next view; the CSP nonce is still per response."""
import gzip
import re
from datetime import timedelta

import pytest
from conftest import CHIHE_TOWN, MINGXING, MINGXING_VILLAGE
from test_notices import file_objection, post_notice, running_notice, town
from test_ratings_privacy import CADRE, CONSENTED, planted_campaign
from test_rules import _publish_running

from villageapp import clock, public_cache
from villageapp.clock import today
from villageapp.ratings import data as ratings_data
from villageapp.ratings.procedure import consent

V = f"/v/{MINGXING_VILLAGE}"


def counts(app):
    kept = public_cache.pages(app)
    return kept.renders, kept.hits


def test_a_second_anonymous_view_comes_from_the_cache_and_is_the_same_page(app):
    villager = app.test_client()
    first = villager.get(V + "/")
    assert counts(app) == (1, 0)
    second = villager.get(V + "/")
    assert counts(app) == (1, 1)
    assert first.data == second.data and first.status_code == second.status_code == 200
    assert second.headers["Cache-Control"] == "no-cache" and second.headers["X-Offline-Copy"] == "public"
    other = app.test_client().get(V + "/?from=poster")  # another query is another page
    assert other.status_code == 200 and counts(app) == (2, 1)


def test_signed_in_people_get_the_page_rendered_as_before(app, client, auth):
    app.test_client().get(V + "/")
    auth.login(MINGXING)
    before = counts(app)
    assert client.get(V + "/").status_code == 200
    assert counts(app) == before  # not looked up, not kept: rendered by the view as always


def test_unknown_villages_and_towns_still_404(app):
    villager = app.test_client()
    for url in ("/v/610922104299/", "/v/610922999201/", "/v/abc/", "/v/610922104299/rules"):
        assert villager.get(url).status_code == 404
        assert villager.get(url).status_code == 404


def test_a_notice_published_and_withdrawn_shows_at_once(app, client, auth):
    villager = app.test_client()
    assert "缓存后发的通知" not in villager.get(V + "/").text
    auth.login(MINGXING)
    post_notice(client, auth, title="缓存后发的通知")
    assert "缓存后发的通知" in villager.get(V + "/").text
    with app.app_context():
        notice = next(town(app)["notices"].rows_where("title = '缓存后发的通知'"))
    url = f"{V}/notices/{notice['uuid']}"
    assert villager.get(url).status_code == 200 and villager.get(url).status_code == 200
    assert client.post(url + "/withdraw", data={"csrf_token": auth.token()}).status_code == 302
    assert "缓存后发的通知" not in villager.get(V + "/").text
    assert villager.get(url).status_code == 404


def test_an_objection_filed_and_answered_renders_the_public_pages_again(app, client, auth):
    notice = running_notice(app)
    villager = app.test_client()
    notice_url = f"{V}/notices/{notice['uuid']}"
    page, shown = villager.get(V + "/").data, villager.get(notice_url).data
    objector = app.test_client()  # the objection form's CSRF makes a session cookie: another browser
    receipt_url = file_objection(objector, notice).headers["Location"]
    renders = counts(app)[0]
    assert villager.get(V + "/").data == page and villager.get(notice_url).data == shown
    assert counts(app)[0] == renders + 2  # the stamp moved with the objection's audit row: both rendered again
    auth.login(MINGXING)
    url = f"{V}/objections/{receipt_url.split('/')[-2]}"
    assert client.post(url, data={"answer": "缓存之后的答复", "csrf_token": auth.token(url)}).status_code == 302
    assert "缓存之后的答复" in objector.get(receipt_url).text
    villager.get(V + "/")
    assert counts(app)[0] == renders + 3


def test_a_withdrawn_consent_takes_the_name_off_at_once(app):
    with app.app_context():
        db = town(app)
        campaign, rows = planted_campaign(db, consent_after_notice=True)
        db.close()
    villager = app.test_client()
    notice_url = f"{V}/notices/{campaign['notice_uuid']}"
    assert CONSENTED in villager.get(notice_url).text and CONSENTED in villager.get(notice_url).text
    with app.app_context():
        db = town(app)
        consent(db, ratings_data.entry(db, campaign["uuid"], rows[CONSENTED]["uuid"]), False, CONSENTED, "电话同意",
                today(), CADRE)
        db.close()
    assert CONSENTED not in villager.get(notice_url).text


def test_a_published_rule_version_shows_at_once(app):
    villager = app.test_client()
    before = villager.get(V + "/rules").text
    assert villager.get(V + "/rules").text == before
    _publish_running(app)
    after = villager.get(V + "/rules").text
    assert after != before
    number = lambda text: re.search(r"第 ?(\d+) ?版", text).group(1)
    assert int(number(after)) > int(number(before))


def test_a_notice_period_that_ends_leaves_the_running_list_the_next_day(app, monkeypatch):
    notice = running_notice(app)
    villager = app.test_client()
    running = re.compile(r'<ul class="cards" id="running">.*?</ul>', re.DOTALL)

    def in_running():
        block = running.search(villager.get(V + "/").text)
        return bool(block) and notice["title"] in block.group(0)
    assert in_running() and in_running()
    days = (clock.parse_date(notice["end_date"]) - today()).days + 1
    monkeypatch.setattr(clock, "offset", timedelta(days=days))
    assert not in_running()


def test_the_csp_nonce_is_fresh_on_every_view_and_matches_the_header(app):
    villager = app.test_client()
    nonces = []
    for _ in range(3):
        response = villager.get(V + "/rules/poster")
        assert response.status_code == 200
        in_page = re.search(r'<style nonce="([^"]+)">', response.text).group(1)
        assert f"'nonce-{in_page}'" in response.headers["Content-Security-Policy"]
        nonces.append(in_page)
    assert len(set(nonces)) == 3 and counts(app) == (1, 2)
    assert "nonce-" not in villager.get(V + "/").headers["Content-Security-Policy"]  # a page without one gets none


def test_gzip_is_kept_too(app):
    villager = app.test_client()
    plain = villager.get(V + "/").data
    zipped = villager.get(V + "/", headers={"Accept-Encoding": "gzip"})
    assert counts(app) == (1, 1)
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain


@pytest.mark.parametrize("size", [2])
def test_at_most_max_pages_are_kept(app, monkeypatch, size):
    monkeypatch.setattr(public_cache, "MAX_PAGES", size)
    villager = app.test_client()
    for n in range(4):
        villager.get(f"{V}/?n={n}")
    assert len(public_cache.pages(app)) == size
    villager.get(f"{V}/?n=3")
    villager.get(f"{V}/?n=0")
    assert counts(app) == (5, 1)  # the newest was kept, the oldest had gone


def test_every_synced_edit_moves_the_stamp(app, auth):
    """Accepted (new, changed), conflict and kept-for-review edits from a phone each render the public page again."""
    from test_sync import NOTE, change_note, edit, send

    from villageapp import kinds, store
    kinds.registry(app).add(app, kinds.Feature("test_notes", kinds=(NOTE,)))
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        db["test_notes"].create({**store.RECORD_COLUMNS, "village_code": str, "title": str, "count": int,
                                 "state": str, "conflict": int}, pk="uuid", defaults={"state": "draft", "conflict": 0})
        db.close()
    villager = app.test_client()
    auth.login(MINGXING)
    first = edit()
    sent = [first, edit(uuid=first["uuid"], base=1, title="甲改的"), edit(uuid=first["uuid"], base=1, title="乙改的")]
    for e, status in zip(sent, ["accepted", "accepted", "conflict"]):
        villager.get(V + "/")
        renders = counts(app)[0]
        assert send(auth.client, e).json["results"][0]["status"] == status
        villager.get(V + "/")
        assert counts(app)[0] == renders + 1, status
    change_note(app, first["uuid"], {"state": "confirmed"})
    villager.get(V + "/")
    renders = counts(app)[0]
    assert send(auth.client, edit(uuid=first["uuid"], base=2, title="确认后又改")).json["results"][0]["status"] == "needs_review"
    villager.get(V + "/")
    assert counts(app)[0] == renders + 1
