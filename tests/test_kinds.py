"""Every kind of record registered on the app, checked the same way from its manifest (kinds.Kind), and the example kind
of README's "How to add a kind of record", built from that text. A new kind is covered by adding its manifest: nothing
here names one. Each test runs in a village made for it (示例村, with its own cadre), so a kind's example starts clean."""
import csv
import io
import re
import tempfile
import types
import uuid as uuidlib
from pathlib import Path

import pytest
from conftest import CHIHE, CHIHE_TOWN, COUNTY, GUYAN, LAWYER, PASSWORD, _app, add_village_with_cadre, csrf_from
from werkzeug.datastructures import MultiDict

from villageapp import exports, kinds, records, store, sync

VILLAGE = CHIHE_TOWN + "299"
CADRE = "shili"
README = Path(__file__).resolve().parent.parent / "README.md"
CJK = re.compile(r"[\u4e00-\u9fff]")


def registered(attribute=None, synced=False):
    """Names of the kinds create_app registers (read from an app made for the purpose), optionally those with a manifest
    attribute set."""
    with tempfile.TemporaryDirectory() as folder:
        app = _app(folder)
    found = kinds.registry(app).kinds.values()
    return [kind.name for kind in found
            if (attribute is None or getattr(kind, attribute)) and (not synced or kind.synced)] + (["readme"] if synced else [])


def readme_feature():
    """The migration and the package of README's section, executed as written."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## How to add a kind of record"):]
    section = section[:section.index("\n## ", 1)]
    migration, package = re.findall(r"```python\n(.*?)```", section, re.S)
    steps = []
    # the decorator would add the migration to every town file of the test session: here it only collects it
    exec(migration, {"town_migrations": lambda: steps.append, "synced_table": store.synced_table})
    module = types.ModuleType("readme_notes")
    exec(package, module.__dict__)
    return steps, module.FEATURE


@pytest.fixture
def village(app):
    """A village of 池河镇 with a cadre account of its own."""
    return add_village_with_cadre(app, VILLAGE, "示例村", CADRE, "孙示例")


@pytest.fixture
def kind(request, app, village):
    """The kind named by the test's parameter; "readme" registers README's example on this app (its table made by its
    migration)."""
    if request.param == "readme":
        steps, feature = readme_feature()
        with app.app_context():
            db = store.open_town(CHIHE_TOWN, app)
            with store.write(db):
                for step in steps:
                    step(db)
            db.close()
        kinds.registry(app).add(app, feature)
        return feature.kinds[0]
    return kinds.registry(app).kinds[request.param]


@pytest.fixture
def db(app):
    with app.test_request_context():
        town = store.open_town(CHIHE_TOWN, app)
        yield town
        town.close()


def signed_in(app, username):
    client = app.test_client()
    token = csrf_from(client.get("/login").text)
    assert client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token}).status_code == 302
    return client


def send(client, *edits):
    token = client.get("/api/session").json["csrf_token"]
    response = client.post(f"/api/v/{VILLAGE}/edits", json={"edits": list(edits)}, headers={"X-CSRFToken": token})
    return response


def new_edit(kind, payload, uuid=None, base=None):
    return {"edit_id": str(uuidlib.uuid4()), "uuid": uuid or str(uuidlib.uuid4()), "type": kind.name,
            "base_version": base, "payload": payload}


def example(app, kind):
    with app.test_request_context():
        db = store.open_town(CHIHE_TOWN, app)
        try:
            return kind.example(db, VILLAGE)
        finally:
            db.close()


def stored(app, table, uuid):
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        try:
            return records.by_uuid(db, table, uuid), db.execute("select count(*) from revisions where uuid = ?",
                                                                  [uuid]).fetchone()[0]
        finally:
            db.close()


# ---- every synced kind ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", registered(synced=True), indirect=True)
def test_payload_form_columns_round_trip(app, kind, db):
    """The example payload makes a valid form; its columns stored and read back as a payload give the same columns."""
    payload = kind.example(db, VILLAGE)
    form = kind.form(db, VILLAGE, MultiDict([tuple(p) for p in payload]))
    assert form.validate(), form.errors
    columns = kind.to_record(form)
    row, _ = records.create(db, kind.table, {**columns, "village_code": VILLAGE}, "test")
    again = kind.form(db, VILLAGE, MultiDict([tuple(p) for p in kind.to_payload(row)]), record=row)
    assert again.validate(), again.errors
    assert kind.to_record(again) == columns
    shown = kind.form(db, VILLAGE, None, record=row)  # the conflict page's "as stored"
    assert shown.validate(), shown.errors
    assert kind.to_record(shown) == columns


@pytest.mark.parametrize("kind", registered(synced=True), indirect=True)
def test_the_same_edit_sent_twice_makes_one_record(app, kind):
    client = signed_in(app, CADRE)
    edit = new_edit(kind, example(app, kind))
    first = send(client, edit).json["results"][0]
    second = send(client, edit).json["results"][0]
    assert first["status"] == "accepted", first
    assert {**second, "http": 201} == first  # answered as before (a replay says 200: nothing new was made)
    row, revisions = stored(app, kind.table, edit["uuid"])
    assert row["version"] == 1 and revisions == 1


@pytest.mark.parametrize("kind", registered(synced=True), indirect=True)
def test_a_conflict_is_shown_and_settled(app, kind):
    """Two phones change version 1: the second is kept beside the first; the conflict page compares them and a cadre
    keeps the current one, which clears the record's flag."""
    client = signed_in(app, CADRE)
    payload = example(app, kind)
    created = new_edit(kind, payload)
    assert send(client, created).json["results"][0]["status"] == "accepted"
    one = send(client, new_edit(kind, payload, created["uuid"], base=1)).json["results"][0]
    other = send(client, new_edit(kind, payload, created["uuid"], base=1)).json["results"][0]
    assert (one["status"], other["status"]) == ("accepted", "conflict")
    row, _ = stored(app, kind.table, created["uuid"])
    assert row["conflict"] == 1
    with app.app_context():
        town = store.open_town(CHIHE_TOWN, app)
        revision = next(town["revisions"].rows_where("edit_id = ?", [other["edit_id"]]))
        town.close()
    page = client.get(f"/v/{VILLAGE}/conflicts/{revision['id']}")
    assert page.status_code == 200 and kind.label in page.text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    done = client.post(f"/v/{VILLAGE}/conflicts/{revision['id']}", data={"csrf_token": token, "action": "dismiss"})
    assert done.status_code == 302
    row, _ = stored(app, kind.table, created["uuid"])
    assert row["conflict"] == 0


@pytest.mark.parametrize("kind", registered(synced=True), indirect=True)
def test_who_may_write_and_read(app, kind):
    """Only the village's own cadres send it; its page answers its readers and no one else (404 outside one's scope)."""
    payload = example(app, kind)
    edit = new_edit(kind, payload)
    assert send(signed_in(app, GUYAN), edit).status_code == 404      # a cadre of another town
    assert send(signed_in(app, LAWYER), edit).status_code in (403, 404)  # an adviser: reads, never writes
    client = signed_in(app, CADRE)
    assert send(client, edit).json["results"][0]["status"] == "accepted"
    row, _ = stored(app, kind.table, edit["uuid"])
    if kind.url is None:
        return
    with app.test_request_context():
        url = kind.url(row)
    assert client.get(url).status_code == 200
    roles = {CHIHE: "town", COUNTY: "county"}
    for username, role in roles.items():
        answer = signed_in(app, username).get(url).status_code
        assert (answer == 200) == (role in kind.readers), (username, answer)
    assert app.test_client().get(url).status_code in (302, 404)  # no one signed in: the login page (or absent)
    with app.app_context():
        town = store.open_town(CHIHE_TOWN, app)
        town_user = types.SimpleNamespace(username="x", role="adviser")
        answer = sync.apply_edit(town, town_user, VILLAGE, new_edit(kind, payload))
        town.close()
    assert answer["status"] == ("forbidden" if "adviser" not in kind.writers else "accepted")


# ---- exports and the public page ------------------------------------------------------------------

@pytest.mark.parametrize("kind", [name for name in registered("export")] + ["readme"], indirect=True)
def test_the_export_opens_in_excel_with_chinese_headers(app, kind):
    if kind.synced:  # at least one record to list
        assert send(signed_in(app, CADRE), new_edit(kind, example(app, kind))).json["results"][0]["status"] == "accepted"
    with app.test_request_context():
        db = store.open_town(CHIHE_TOWN, app)
        rows = kind.export_rows(db, VILLAGE)
        response = exports.kind_csv(kind, rows, f"{kind.name}.csv")
        db.close()
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(body[1:])))
    assert all(CJK.search(header) for header in table[0]), table[0]
    assert len(table) == 1 + len(rows)


@pytest.mark.parametrize("kind", registered("public"), indirect=True)
def test_the_public_page_shows_only_what_the_privacy_rule_allows(app, kind):
    assert kind.public.example, f"{kind.name}: a public section needs an example that tests its privacy rule"
    with app.test_request_context():
        db = store.open_town(CHIHE_TOWN, app)
        shown, hidden = kind.public.example(db, VILLAGE)
        db.close()
    page = app.test_client().get(f"/v/{VILLAGE}/")
    assert page.status_code == 200
    assert shown in page.text
    for text in hidden:
        assert text not in page.text
    worker = app.test_client().get("/sw.js").text
    assert "PUBLIC_PAGES" in worker


# ---- the registry ---------------------------------------------------------------------------------

def test_each_app_has_its_own_registry(app, tmp_path):
    """Kinds live on the app, not in module globals: a kind added to one app is not in another."""
    other = _app(tmp_path / "other")
    kinds.registry(app).add(app, kinds.Feature("extra", kinds=(kinds.Kind(name="extra", table="extra", label="额外"),)))
    assert "extra" in kinds.registry(app).kinds and "extra" not in kinds.registry(other).kinds
    with pytest.raises(ValueError):
        kinds.registry(app).add(app, kinds.Feature("again", kinds=(kinds.Kind(name="extra", table="x", label="x"),)))
