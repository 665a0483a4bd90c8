"""Every page is reachable by tapping (issue 9, finding 9): starting from the front door and each role's home, following
the links on the pages (as a person taps them, through the test client), every page of the role × route table is reached
by someone who may use it. A page added later with no link to it fails here."""
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from conftest import CHIHE, COUNTY, LAWYER, MINGXING, PASSWORD

from test_access import ROUTES, add_ids

# pages a person does not reach by a link, and why
NOT_BY_LINK = {
    "pwa.manifest": "read by the browser, not a page",
    "pwa.service_worker": "read by the browser, not a page",
    "pwa.offline": "shown by the service worker when there is no signal",
    "sync.session": "JSON for the phone's outbox",
    "rules.public_search": "reached by the search form on the 村规民约 page",
    "rules.town_search": "reached by the search form on the town's rules page",
    "rules.consultation": "linked only while a consultation runs (the demo's runs in another village)",
    "rules.new_article": "linked only while a version is drafted (the demo's is at review)",
    "rules.edit_article": "linked only while a version is drafted (the demo's is at review)",
    "rules.start": "linked only when no new version is under way (the demo's is at review)",
    "rules.import_text": "linked only while a village has no rulebook (every demo village has one)",
    "rules.import_check": "reached by the import page's form, or from an imported version the town returned",
    "meetings.edition": "linked from minutes once they have been corrected (the demo's have one edition)",
    "desk.figures_json": "JSON for the county page of a server that does not hold the town (towns as shards)",
    "notices.find_receipt": "reached by the 回执号 form on the village's public page",
    "notices.receipt": "reached after filing an objection, or by the 回执号 form",
}
LINK = re.compile(r'<a\s[^>]*href="([^"]+)"')
SKIP = ("/static/", "/api/", "/logout")
PER_ENDPOINT = 3  # a few of each kind (40 households need not all be opened)
START = {None: ["/"], COUNTY: ["/"], CHIHE: ["/"], MINGXING: ["/"], LAWYER: ["/"]}


def crawl(client, adapter, starts):
    seen_urls, per_endpoint, queue = set(), {}, deque(starts)
    while queue:
        url = queue.popleft()
        if url in seen_urls:
            continue
        seen_urls.add(url)
        try:
            endpoint, _args = adapter.match(urlsplit(url).path, method="GET")
        except Exception:  # noqa: BLE001 - a link the app cannot route is reported by the test below
            per_endpoint.setdefault("<no route>", []).append(url)
            continue
        if len(per_endpoint.setdefault(endpoint, [])) >= PER_ENDPOINT:
            continue
        response = client.get(url)
        per_endpoint[endpoint].append(url)
        if response.status_code in (301, 302, 303) and response.location.startswith("/"):
            queue.append(response.location)
            continue
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        for href in LINK.findall(response.text):
            href = urldefrag(href.replace("&amp;", "&"))[0]
            if href.startswith("/") and not href.startswith("//") and not href.startswith(SKIP):
                queue.append(href)
    return per_endpoint


@pytest.fixture
def linked_app(instance_path):
    from conftest import _app
    return add_ids(_app(instance_path))


def test_every_page_is_reachable_by_tapping(linked_app):
    reached = {}
    adapter = linked_app.url_map.bind("localhost")
    for login, starts in START.items():
        client = linked_app.test_client()
        if login:
            from conftest import Auth
            assert Auth(client).login(login, PASSWORD).status_code == 302
        for endpoint, urls in crawl(client, adapter, starts).items():
            reached.setdefault(endpoint, set()).add(login or "anon")
    assert "<no route>" not in reached, f"links to nowhere: {reached.get('<no route>')}"
    pages = [name for name, (method, *_rest) in ROUTES.items() if method == "GET" and name not in NOT_BY_LINK]
    unreached = sorted(name for name in pages if name not in reached)
    assert not unreached, f"no link leads to these pages: {unreached}"
    assert set(NOT_BY_LINK) <= set(ROUTES), "NOT_BY_LINK names a route that no longer exists"
