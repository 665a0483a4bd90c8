"""Every public route of the app, for the privacy tests with planted names (道德评议, 星级文明户 …): the list of public
endpoints (checked against the url map and each view's @access, so a new public route fails until it is added here),
their URLs for one village with records behind the placeholders, and a walker that asks each one and checks that no
planted text shows and nothing downloadable by the public is a spreadsheet."""
import re

# every public endpoint: the keywords of its URL (the village filled in, the others from the test's `ids`)
PUBLIC = {
    "home.index": {},
    "auth.login": {},
    "notices.village_page": {},
    "notices.show": {"uuid": "notice"},
    "notices.file": {"uuid": "notice", "sha256": "sha256"},
    "notices.object": {"uuid": "notice"},
    "notices.receipt": {"uuid": "objection"},
    "notices.find_receipt": {},
    "rules.public": {},
    "rules.poster": {},
    "rules.consultation": {},
    "rules.public_search": {"q": "q"},
    "pwa.manifest": {},
    "pwa.service_worker": {},
    "pwa.offline": {},
}
SPREADSHEETS = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml", "application/vnd.ms-excel",
                "application/vnd.oasis.opendocument.spreadsheet")


def public_endpoints(app):
    """The endpoints the app serves to the public, as its url map and @access say."""
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and "public" in app.view_functions[rule.endpoint].access_roles}


def public_urls(app, ids, village, searches=()):
    """(endpoint, url) of every public route for one village: `ids` gives the records behind the placeholders
    (notice, sha256, objection) and, under "notices", every notice to open; `searches` are the words asked of the
    public search of the rules."""
    out = []
    with app.test_request_context():
        from flask import url_for
        for endpoint, keys in PUBLIC.items():
            rule = next(app.url_map.iter_rules(endpoint))
            args = {k: ids.get(v, v) for k, v in keys.items()}
            if "village" in rule.arguments:
                args["village"] = village
            if endpoint == "rules.public_search":
                for q in searches or ("q",):
                    out.append((endpoint, url_for(endpoint, **{**args, "q": q})))
                continue
            out.append((endpoint, url_for(endpoint, **args)))
        out += [("notices.show", url_for("notices.show", village=village, uuid=uuid)) for uuid in ids.get("notices", ())]
    return out


def walk(client, urls, hidden):
    """Ask every (endpoint, url) as the client is (signed in or not); no text of `hidden` may show, nothing may be a
    spreadsheet. Returns {(endpoint, url): body} for the test's own checks of what does show."""
    seen = {}
    for endpoint, url in urls:
        response = client.get(url, follow_redirects=True)
        assert response.status_code < 500, url
        body = response.get_data(as_text=True) if not response.mimetype.startswith(("image/", "application/pdf")) \
            else response.get_data().decode("latin-1")
        for text in hidden:
            assert text not in body, f"{text} on {url}"
        # nothing the public downloads is a spreadsheet (there is no public export today: a new one is caught here)
        assert not response.content_type.startswith(SPREADSHEETS), url
        disposition = response.headers.get("Content-Disposition", "")
        assert not re.search(r"\.(csv|xlsx?|ods)\b", disposition), url
        seen[endpoint, url] = body
    return seen
