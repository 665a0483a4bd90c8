"""Every list the town exports (each kinds.Listing the app registers; a new one is covered by adding its manifest and
one counting function here): its CSV and XLSX open with csv and openpyxl and hold exactly the rows of a village, counted
here from the tables, not by the app's queries; a personal list says so on its first row, a public one does not; only
its readers get it, and never one the kind's own pages would not show them. Then one real filter per list."""
import io
import json
import tempfile
import zipfile

import pytest
from conftest import CHENGGUAN, CHIHE, CHIHE_TOWN, COUNTY, LAWYER, MINGXING, MINGXING_VILLAGE, WUAI_VILLAGE, _app
from test_exports import read_csv, read_xlsx

from villageapp import attachments, kinds, store
from villageapp.exports import formats

T = f"/t/{CHIHE_TOWN}"
NOTICE = "本表含个人信息"


def registered():
    """The Listings create_app registers (read from an app made for the purpose), by URL word."""
    with tempfile.TemporaryDirectory() as folder:
        app = _app(folder)
    return kinds.registry(app).listings()


LISTINGS = registered()


def town_db(app):
    with app.app_context():
        return store.open_town(CHIHE_TOWN)


def one(db, sql, params=()):
    return db.execute(sql, params).fetchone()[0]


def current_articles(db, village):
    current = {(r["uuid"], r["current_version"]) for r in db["rulebooks"].rows_where("village_code = ?", [village])}
    versions = {v["uuid"] for v in db["rule_versions"].rows_where("village_code = ?", [village])
                if (v["rulebook_uuid"], v["number"]) in current}
    return [a for a in db["rule_articles"].rows_where("village_code = ?", [village]) if a["version_uuid"] in versions]


# how many rows a village's export must hold, counted from the tables (one small function per list)
COUNTS = {
    "meetings": lambda db, v: one(db, "select count(*) from meetings where village_code = ?", [v]),
    "rule_versions": lambda db, v: one(db, "select count(*) from rule_versions where village_code = ?", [v]),
    "rule_articles": lambda db, v: len(current_articles(db, v)),
    "notices": lambda db, v: one(db, "select count(*) from notices where village_code = ?", [v]),
    "objections": lambda db, v: one(db, "select count(*) from objections where village_code = ?", [v]),
    "reviews": lambda db, v: one(db, "select count(*) from review_cases where village_code = ?", [v]),
    "campaigns": lambda db, v: one(db, "select count(*) from campaigns where village_code = ?", [v]),
    "awards": lambda db, v: one(db, "select count(*) from awards where village_code = ?", [v]),
    "households": lambda db, v: one(db, "select count(*) from households where village_code = ?", [v]),
    "residents": lambda db, v: one(db, "select count(*) from residents where village_code = ?", [v]),
    "audit": lambda db, v: one(db, "select count(*) from audit where village_code = ?", [v]),
}


def xlsx_rows(response):
    return list(read_xlsx(response).iter_rows(values_only=True))


def body(rows, listing):
    """The data rows: after the notice line (personal lists) and the header, which must be the listing's."""
    assert (rows[0][0] or "").startswith(NOTICE) == listing.personal, "the notice row iff the list is personal"
    rows = rows[1:] if listing.personal else rows
    assert list(rows[0]) == [column[0] for column in listing.columns]
    return rows[1:]


def busiest_village(app, name):
    db = town_db(app)
    counts = {v: COUNTS[name](db, v) for v in (MINGXING_VILLAGE, WUAI_VILLAGE, CHIHE_TOWN + "203")}
    db.close()
    return max(counts, key=counts.get)


def test_every_list_has_a_counting_function_here():
    assert set(LISTINGS) == set(COUNTS), "a new Listing needs its independent count in COUNTS"


@pytest.mark.parametrize("name", list(LISTINGS))
def test_a_village_exports_exactly_its_rows_as_csv_and_xlsx(app, client, auth, name):
    listing = LISTINGS[name]
    village = busiest_village(app, name)
    auth.login(CHIHE)
    args = {"village": village}
    rows = body(read_csv(client.get(f"{T}/exports/{name}.csv", query_string=args)), listing)
    db = town_db(app)
    want = COUNTS[name](db, village)  # counted after the file: an export writes its own audit entry first
    db.close()
    assert want > 0 and len(rows) == want
    assert not any(isinstance(c, str) and c.startswith(formats.FORMULA_STARTS) for row in rows for c in row)
    headers = [c[0] for c in listing.columns]
    if "村（社区）" in headers:
        assert len({row[headers.index("村（社区）")] for row in rows}) == 1

    sheet = body(xlsx_rows(client.get(f"{T}/exports/{name}.xlsx", query_string=args)), listing)
    db = town_db(app)
    want = COUNTS[name](db, village)
    db.close()
    assert len(sheet) == want
    page = client.get(f"{T}/exports/{name}", query_string=args)
    assert page.status_code == 200 and f"共 <strong>{want}</strong> 条" in page.text


@pytest.mark.parametrize("name", list(LISTINGS))
@pytest.mark.parametrize("login", [CHIHE, COUNTY, CHENGGUAN, MINGXING, LAWYER])
def test_only_the_lists_readers_get_it(app, client, auth, name, login):
    listing = LISTINGS[name]
    role = {CHIHE: "town", COUNTY: "county"}.get(login)
    status = 200 if role in listing.readers else 403 if login in (MINGXING, LAWYER) else 404
    auth.login(login)
    for path in (f"{T}/exports/{name}", f"{T}/exports/{name}.csv", f"{T}/exports/{name}.xlsx"):
        assert client.get(path).status_code == status, (login, path)
    index = client.get(f"{T}/exports/")
    if index.status_code == 200:
        assert (f"/exports/{name}\"" in index.text) == (status == 200)


def test_a_list_is_read_by_no_one_its_kind_does_not_let_read(app):
    """The county reads no 道德评议 case (reviews.READERS), so it gets no such list; every list follows its kind."""
    for kind, lists in kinds.registry(app).collect("lists"):
        for listing in lists:
            assert set(listing.readers) <= set(kind.readers), (kind.name, listing.name)
            assert set(listing.readers) <= {"town", "county"}
    assert LISTINGS["reviews"].readers == ("town",)


@pytest.mark.parametrize("name", [name for name, listing in LISTINGS.items() if listing.photos])
def test_the_photos_zip_of_a_list_opens(app, client, auth, name):
    auth.login(CHIHE)
    response = client.get(f"{T}/exports/{name}.zip")
    assert response.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(response.data)).namelist()


@pytest.mark.parametrize("name", [name for name, listing in LISTINGS.items() if not listing.photos])
def test_a_list_without_photos_has_no_zip(app, client, auth, name):
    auth.login(CHIHE)
    assert client.get(f"{T}/exports/{name}.zip").status_code == 404


# ---- privacy ----------------------------------------------------------------------------------------------------

def test_the_county_gets_no_moral_review_case_in_any_form(app, client, auth):
    auth.login(COUNTY)
    for path in ("reviews", "reviews.csv", "reviews.xlsx", "reviews.zip"):
        assert client.get(f"{T}/exports/{path}").status_code == 404
    assert "道德评议" not in client.get(f"{T}/exports/").text


def test_a_residents_own_phone_is_in_no_file_as_no_page_shows_it(app, client, auth):
    db = town_db(app)
    resident = next(db["residents"].rows_where("village_code = ?", [MINGXING_VILLAGE]))
    with store.write(db):
        db["residents"].update(resident["uuid"], {"phone": "13900001111"})
    db.close()
    auth.login(CHIHE)
    page = client.get(f"/v/{MINGXING_VILLAGE}/households/{resident['household_uuid']}").text
    assert "13900001111" not in page and resident["name"] in page
    for name in LISTINGS:
        for fmt in ("csv", "xlsx"):
            response = client.get(f"{T}/exports/{name}.{fmt}")
            assert response.status_code == 200
            data = response.data if fmt == "csv" else b"".join(
                zipfile.ZipFile(io.BytesIO(response.data)).read(n) for n in zipfile.ZipFile(io.BytesIO(response.data)).namelist())
            assert b"13900001111" not in data, name


def test_awards_say_how_the_public_page_names_a_family(app, client, auth):
    db = town_db(app)
    consent = {e["uuid"]: e["consent"] for e in db["campaign_entries"].rows}
    awards = {a["subject_name"]: consent.get(a["entry_uuid"]) for a in db["awards"].rows}
    db.close()
    auth.login(CHIHE)
    rows = body(read_csv(client.get(f"{T}/exports/awards.csv")), LISTINGS["awards"])
    header = [c[0] for c in LISTINGS["awards"].columns]
    name, shown = header.index("户（人）"), header.index("公开时写")
    assert rows and {r[name] for r in rows} == set(awards)
    for row in rows:
        assert row[shown] == (row[name] if awards[row[name]] == "given" else "某户")
    assert any(row[shown] == "某户" for row in rows) or all(v == "given" for v in awards.values())


# ---- one real filter per list -------------------------------------------------------------------------------------

def exported(client, name, **args):
    return body(read_csv(client.get(f"{T}/exports/{name}.csv", query_string=args)), LISTINGS[name])


def column(name, header):
    return [c[0] for c in LISTINGS[name].columns].index(header)


def test_rule_versions_by_stage(app, client, auth):
    db = town_db(app)
    want = [(v["village_code"], v["number"]) for v in db["rule_versions"].rows_where("stage = 'published'")]
    others = one(db, "select count(*) from rule_versions where stage != 'published'")
    db.close()
    assert want and others
    auth.login(CHIHE)
    rows = exported(client, "rule_versions", stage="published")
    assert len(rows) == len(want) and all(r[column("rule_versions", "办理到")].startswith("已公布") for r in rows)


def test_rule_articles_with_limits_only(app, client, auth):
    db = town_db(app)
    everything = [a for v in (MINGXING_VILLAGE, WUAI_VILLAGE, CHIHE_TOWN + "203") for a in current_articles(db, v)]
    db.close()
    want = [a for a in everything if json.loads(a["limits"] or "{}")]
    assert want and len(want) < len(everything)
    auth.login(CHIHE)
    rows = exported(client, "rule_articles", limits="yes")
    assert sorted(r[column("rule_articles", "正文")] for r in rows) == sorted(a["body"] for a in want)


def test_notices_of_a_category_in_a_year(app, client, auth):
    db = town_db(app)
    want = [n["title"] for n in db["notices"].rows_where("category = '公示' and publish_date like '2025-%'")]
    total = one(db, "select count(*) from notices")
    db.close()
    assert want and len(want) < total
    auth.login(CHIHE)
    rows = exported(client, "notices", period="2025", category="公示")
    assert sorted(r[column("notices", "标题")] for r in rows) == sorted(want)


def test_notice_photos_are_named_by_village_date_and_title(app, client, auth):
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
           b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
    db = town_db(app)
    notice = next(db["notices"].rows_where("village_code = ?", [MINGXING_VILLAGE], order_by="publish_date"))
    with store.write(db):
        attachments.add(db, notice["uuid"], "公开栏.png", "image/png", png, "test")
        attachments.add(db, notice["uuid"], "说明.txt", "text/plain", "不是照片".encode(), "test")
    db.close()
    auth.login(CHIHE)
    response = client.get(f"{T}/exports/notices.zip", query_string={"village": MINGXING_VILLAGE})
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == [f"明星村-{notice['publish_date']}-{notice['title'][:40]}-1.png".replace(" ", "_")]
    assert archive.read(archive.namelist()[0]) == png


def test_objections_still_open(app, client, auth):
    db = town_db(app)
    first = next(db["objections"].rows_where(order_by="created_at"))
    with store.write(db):
        db["objections"].update(first["uuid"], {"status": "answered", "answer": "已核实", "answered_at": "2026-01-02T10:00"})
    want = [o["body"] for o in db["objections"].rows_where("status = 'open'")]
    db.close()
    auth.login(CHIHE)
    rows = exported(client, "objections", status="open")
    assert sorted(r[column("objections", "异议内容")] for r in rows) == sorted(want)
    assert first["body"] not in [r[column("objections", "异议内容")] for r in rows]


def test_reviews_of_criticism_opened_in_a_quarter(app, client, auth):
    """A case counts from the earliest day known of it (written down or voted), as on the town desk."""
    db = town_db(app)
    with store.write(db):
        # every other criticism case (and every other praise case) voted in 2025's third quarter, the same in every demo build
        for n, case in enumerate(db["review_cases"].rows_where(order_by="kind, created_at, subject_name, uuid")):
            if n % 2 == 0:
                db["review_cases"].update(case["uuid"], {"reviewed_on": f"2025-08-0{1 + n % 9}"})
    cases = list(db["review_cases"].rows)
    db.close()

    def opened(c):
        return min(c["created_at"][:10], c["reviewed_on"] or "9999")
    want = [c["subject_name"] for c in cases if c["kind"] == "criticism" and "2025-07-01" <= opened(c) <= "2025-09-30"]
    assert want and len(want) < len([c for c in cases if c["kind"] == "criticism"])
    auth.login(CHIHE)
    rows = exported(client, "reviews", period="2025-3", kind="criticism")
    assert sorted(r[column("reviews", "对象")] for r in rows) == sorted(want)


def test_campaigns_of_a_year(app, client, auth):
    db = town_db(app)
    want = [c["name"] + c["village_code"] for c in db["campaigns"].rows_where("year = 2025")]
    total = one(db, "select count(*) from campaigns")
    villages = {v["code"]: v["name"] for v in db["villages"].rows}
    db.close()
    assert want and len(want) < total
    auth.login(CHIHE)
    rows = exported(client, "campaigns", period="2025")
    names = {name: code for code, name in villages.items()}
    assert sorted(r[column("campaigns", "评选")] + names[r[0]] for r in rows) == sorted(want)


def test_awards_withdrawn(app, client, auth):
    db = town_db(app)
    award = next(db["awards"].rows_where("withdrawn_on is null", order_by="uuid"))
    with store.write(db):
        db["awards"].update(award["uuid"], {"withdrawn_on": "2026-02-01", "withdraw_reason": "评议认定赌博"})
    want = sorted((a["subject_name"], a["withdraw_reason"]) for a in db["awards"].rows_where("withdrawn_on is not null"))
    total = one(db, "select count(*) from awards")
    db.close()
    assert (award["subject_name"], "评议认定赌博") in want and len(want) < total
    auth.login(CHIHE)
    rows = exported(client, "awards", state="withdrawn")
    assert sorted((r[column("awards", "户（人）")], r[column("awards", "摘星理由")]) for r in rows) == want
    assert {r[column("awards", "状态")] for r in rows} == {"已摘星"}
    assert len(exported(client, "awards", state="current")) == total - len(want)


def test_households_registered_in_a_quarter(app, client, auth):
    db = town_db(app)
    with store.write(db):
        for n, house in enumerate(db["households"].rows_where(order_by="uuid")):
            if n % 3 == 0:
                db["households"].update(house["uuid"], {"created_at": f"2025-05-{1 + n:02d}T09:00:00+08:00"})
    want = [h["head_name"] for h in db["households"].rows_where("created_at like '2025-0%'")]
    total = one(db, "select count(*) from households")
    db.close()
    assert want and len(want) < total
    auth.login(CHIHE)
    rows = exported(client, "households", period="2025-2")
    assert sorted(r[column("households", "户主")] for r in rows) == sorted(want)


def test_residents_by_gender(app, client, auth):
    db = town_db(app)
    want = [(r["village_code"], r["name"]) for r in db["residents"].rows_where("gender = '女' and village_code = ?",
                                                                                 [WUAI_VILLAGE])]
    db.close()
    auth.login(CHIHE)
    rows = exported(client, "residents", village=WUAI_VILLAGE, gender="女")
    assert want and sorted(r[column("residents", "姓名")] for r in rows) == sorted(n for _v, n in want)
    assert {r[column("residents", "性别")] for r in rows} == {"女"}


def test_the_audit_log_by_action_and_period(app, client, auth):
    db = town_db(app)
    with store.write(db):
        db.execute("update audit set at = '2025-03-15T10:00:00+08:00' where id % 4 = 0")
    want = one(db, "select count(*) from audit where action = 'publish' and at like '2025-03-%'")
    db.close()
    assert want
    auth.login(CHIHE)
    rows = exported(client, "audit", period="2025-1", action="publish")
    assert len(rows) == want
    assert {r[column("audit", "操作")] for r in rows} == {"发布"} and {r[column("audit", "时间")][:7] for r in rows} == {"2025-03"}
    names = {r[column("audit", "登录名")]: r[column("audit", "操作人")] for r in exported(client, "audit", action="export")}
    assert names[CHIHE] == "陈志强（镇干部）"


def test_the_audit_screen_links_its_filters_to_the_export(app, client, auth):
    auth.login(CHIHE)
    page = client.get(f"{T}/audit/", query_string={"village_code": MINGXING_VILLAGE, "action": "publish"}).text
    assert f"/exports/audit?village={MINGXING_VILLAGE}&amp;action=publish" in page
    db = town_db(app)
    want = one(db, "select count(*) from audit where village_code = ? and action = 'publish'", [MINGXING_VILLAGE])
    db.close()
    rows = exported(client, "audit", village=MINGXING_VILLAGE, action="publish")
    assert len(rows) == want
    for screen, names in ((f"{T}/rules/", ("rule_versions", "rule_articles")), (f"{T}/ratings/", ("campaigns", "awards"))):
        text = client.get(screen).text
        assert all(f"/exports/{name}\"" in text for name in names), screen


def test_the_village_screens_link_the_town_to_the_same_rows(app, client, auth):
    """道德评议 (the town only), 户籍 and 异议 of one village: the screen's 导出 opens the export page with the screen's
    filters, and the file holds the rows the screen lists."""
    import html
    import re
    db = town_db(app)
    open_criticism = one(db, "select count(*) from review_cases where village_code = ? and kind = 'criticism'"
                             " and stage != 'closed'", [MINGXING_VILLAGE])
    db.close()
    auth.login(CHIHE)
    page = client.get(f"/v/{MINGXING_VILLAGE}/reviews/", query_string={"kind": "criticism"}).text
    link = html.unescape(re.search(r'href="([^"]*/exports/reviews\?[^"]*)"', page).group(1))
    assert "stage=open" in link and "kind=criticism" in link and f"village={MINGXING_VILLAGE}" in link
    path, _, query = link.partition("?")
    rows = body(read_csv(client.get(path + ".csv?" + query)), LISTINGS["reviews"])
    assert open_criticism and len(rows) == open_criticism
    assert f"共 <strong>{open_criticism}</strong> 条" in client.get(link).text
    for screen, name in ((f"/v/{MINGXING_VILLAGE}/households/", "households"), (f"/v/{WUAI_VILLAGE}/objections/", "objections")):
        assert f"/exports/{name}?village=" in client.get(screen).text, screen
    auth.logout()
    auth.login(COUNTY)
    assert "/exports/households?village=" in client.get(f"/v/{MINGXING_VILLAGE}/households/").text
    auth.logout()
    auth.login(MINGXING)
    assert "/exports/" not in client.get(f"/v/{MINGXING_VILLAGE}/households/").text
    assert "/exports/" not in client.get(f"/v/{MINGXING_VILLAGE}/reviews/").text
