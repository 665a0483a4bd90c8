"""Hostile input gets a clear refusal, never a 500 and never a blow-up (issue #8, parts 3 and 4): files belong to the
village that sent them; a photo with too many pixels, a spreadsheet that unpacks to hundreds of MB or claims
200,000 blank rows are refused quickly; stored files cannot run script; CSV cells cannot be formulas; malformed
sync edits are refused one by one; numbers and dates in URLs beyond what can exist answer 404/400."""
import csv
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import time
import uuid as uuidlib
import zipfile
import zlib

import pytest
from PIL import Image

from villageapp import auth as accounts
from villageapp import store
from villageapp.clock import today
from villageapp.councils import data as councils
from villageapp.exports import csv_safe

from conftest import CHIHE, CHIHE_TOWN, MINGXING, MINGXING_VILLAGE, PASSWORD, WUAI_VILLAGE, Auth

V, W = MINGXING_VILLAGE, WUAI_VILLAGE
WUAI = "wuai_cadre"  # a cadre of 五爱村, made for these tests (the demo has none)


# ---- helpers -------------------------------------------------------------------------------------------

def jpeg(color="green", size=(40, 30)):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def png_bomb(width, height):
    """A valid grey PNG of width × height, written row by row (never held whole): 12000 × 12000 packs to ~140 KB."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    packer, row, packed = zlib.compressobj(9), b"\x00" * (width + 1), []
    for _ in range(height):
        packed.append(packer.compress(row))
    packed.append(packer.flush())
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", b"".join(packed)) + chunk(b"IEND", b""))


def login(app, username):
    client = app.test_client()
    Auth(client).login(username)
    return client


def token(client):
    return client.get("/api/session").json["csrf_token"]


@pytest.fixture
def wuai(app):
    """A signed-in cadre of 五爱村 (same town as 明星村)."""
    with app.app_context():
        accounts.create_user(store.open_directory(app), WUAI, PASSWORD, "五爱村书记", "cadre", "test",
                             town_code=CHIHE_TOWN, villages=[W], position="书记")
    return login(app, WUAI)


@pytest.fixture
def mingxing(app):
    return login(app, MINGXING)


def council_uuid(app, village, name="红白理事会"):
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        councils.ensure_councils(db, village, "test")
        return councils.council_by_name(db, village, name)["uuid"]


def minutes(app, village, *extra, uuid=None):
    """A valid new-minutes edit of a village's 红白理事会, as a phone sends it."""
    payload = [["council", council_uuid(app, village)], ["date", today().isoformat()], ["time", "14:30"],
               ["eligible_basis", "members"], ["agenda-0-title", "村道维修"], *extra]
    return {"edit_id": str(uuidlib.uuid4()), "uuid": uuid or str(uuidlib.uuid4()), "type": "meeting",
            "base_version": None, "payload": payload}


def send(client, village, *edits):
    return client.post(f"/api/v/{village}/edits", json={"edits": list(edits)}, headers={"X-CSRFToken": token(client)})


def put_file(client, village, data, sha=None):
    return client.put(f"/api/v/{village}/files/{sha or hashlib.sha256(data).hexdigest()}", data=data,
                      headers={"X-CSRFToken": token(client), "Content-Type": "image/png"})


def query(app, sql, params=()):
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        try:
            return [dict(r) for r in db.query(sql, params)]
        finally:
            db.close()


# ---- part 3: a file belongs to the village that sent it ---------------------------------------------------

def test_another_villages_photo_is_absent_and_cannot_be_listed_until_this_village_sends_it(app, mingxing, wuai):
    photo = jpeg()
    sha = hashlib.sha256(photo).hexdigest()
    assert put_file(mingxing, V, photo).status_code == 201
    assert mingxing.head(f"/api/v/{V}/files/{sha}").status_code == 200
    assert mingxing.get(f"/v/{V}/files/{sha}").status_code == 200

    # 五爱村 knows the hash: the server answers as if the file were not there
    assert wuai.head(f"/api/v/{W}/files/{sha}").status_code == 404
    assert wuai.get(f"/v/{W}/files/{sha}").status_code == 404
    # … and refuses a record listing it, at the field, via sync
    answer = send(wuai, W, minutes(app, W, ["photos", sha])).json["results"][0]
    assert answer["status"] == "invalid" and answer["http"] == 422
    assert "不是本村上传" in answer["errors"]["photos"][0]
    # … and via the page
    fields = {"uuid": str(uuidlib.uuid4()), "edit_id": str(uuidlib.uuid4()), "base_version": "",
              "council": council_uuid(app, W), "date": today().isoformat(), "time": "14:30", "eligible_basis": "members",
              "agenda-0-title": "村道维修", "photos": sha, "csrf_token": Auth(wuai).token()}
    page = wuai.post(f"/v/{W}/meetings/new/{council_uuid(app, W)}", data=fields, content_type="multipart/form-data")
    assert page.status_code == 422 and "不是本村上传" in page.text
    assert query(app, "select count(*) as n from meetings where village_code = ? and photos like ?", [W, f"%{sha}%"])[0]["n"] == 0

    # the phone that really has the photo sends it (as after a 404 HEAD): now it is 五爱村's too, and nothing said
    # it was there before (the same 201 as a first upload)
    stored = put_file(wuai, W, photo)
    assert stored.status_code == 201 and stored.json["stored"] is True
    assert wuai.head(f"/api/v/{W}/files/{sha}").status_code == 200
    assert wuai.get(f"/v/{W}/files/{sha}").status_code == 200
    assert send(wuai, W, minutes(app, W, ["photos", sha])).json["results"][0]["status"] == "accepted"
    assert query(app, "select village_code from file_villages where sha256 = ? order by village_code", [sha]) == [
        {"village_code": V}, {"village_code": W}]
    assert len(query(app, "select sha256 from files where sha256 = ?", [sha])) == 1  # the bytes are kept once


def test_a_photo_chosen_on_the_page_belongs_to_that_village(app, mingxing, wuai):
    fields = {"uuid": str(uuidlib.uuid4()), "edit_id": str(uuidlib.uuid4()), "base_version": "",
              "council": council_uuid(app, V), "date": today().isoformat(), "time": "14:30", "eligible_basis": "members",
              "agenda-0-title": "村道维修", "csrf_token": Auth(mingxing).token(),
              "photo_files": (io.BytesIO(jpeg("blue")), "签到表.jpg")}
    assert mingxing.post(f"/v/{V}/meetings/new/{council_uuid(app, V)}", data=fields,
                         content_type="multipart/form-data").status_code == 302
    sha = json.loads(query(app, "select photos from meetings where uuid = ?", [fields["uuid"]])[0]["photos"])[0]
    assert query(app, "select village_code from file_villages where sha256 = ?", [sha]) == [{"village_code": V}]
    assert wuai.head(f"/api/v/{W}/files/{sha}").status_code == 404


def test_sync_put_checks_a_photo_as_the_page_does(app, mingxing):
    whole = jpeg(size=(400, 300))
    cut = whole[: len(whole) // 2]  # starts like a JPEG, but cannot be decoded
    answer = put_file(mingxing, V, cut)
    assert answer.status_code == 422 and "打不开" in answer.json["error"]
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    answer = put_file(mingxing, V, pdf)
    assert answer.status_code == 422 and "不是照片" in answer.json["error"]
    assert query(app, "select count(*) as n from files where sha256 in (?, ?)",
                 [hashlib.sha256(cut).hexdigest(), hashlib.sha256(pdf).hexdigest()])[0]["n"] == 0


# ---- part 4: images refused by pixel count before decoding, with memory measured ------------------------

MEASURE = r"""
import json, os, resource, sys, uuid
sys.path.insert(0, os.path.join(os.environ["TESTS"]))
from conftest import Auth, _app
app = _app(os.environ["INSTANCE"])
client = app.test_client()
Auth(client).login("mingxing")
bomb = open(os.environ["BOMB"], "rb").read()
sha = os.environ["SHA"]
council = os.environ["COUNCIL"]
village = os.environ["VILLAGE"]
def page(data, name):
    fields = {"uuid": str(uuid.uuid4()), "edit_id": str(uuid.uuid4()), "base_version": "", "council": council,
              "date": os.environ["DAY"], "time": "14:30", "eligible_basis": "members", "agenda-0-title": "议题",
              "csrf_token": Auth(client).token(), "photo_files": (__import__("io").BytesIO(data), name)}
    return client.post(f"/v/{village}/meetings/new/{council}", data=fields, content_type="multipart/form-data")
def put(data, sha):
    csrf = client.get("/api/session").json["csrf_token"]
    return client.put(f"/api/v/{village}/files/{sha}", data=data, headers={"X-CSRFToken": csrf})
page(open(os.environ["SMALL"], "rb").read(), "small.jpg")  # warm up: Pillow, templates, the database
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
html = page(bomb, "bomb.png")
sync = put(bomb, sha)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"html": [html.status_code, html.text], "sync": [sync.status_code, sync.json],
                  "grew_kb": after - before}))
"""


def test_a_12000_by_12000_png_is_refused_before_it_is_decoded(app, instance_path, tmp_path):
    bomb = png_bomb(12000, 12000)
    width, height = struct.unpack(">II", bomb[16:24])  # from its header (Pillow, as set up by the app, will not open it)
    assert (width, height) == (12000, 12000) and len(bomb) < 1_000_000, len(bomb)
    (tmp_path / "bomb.png").write_bytes(bomb)
    (tmp_path / "small.jpg").write_bytes(jpeg())
    env = {**os.environ, "TESTS": os.path.dirname(__file__), "INSTANCE": str(instance_path),
           "BOMB": str(tmp_path / "bomb.png"), "SMALL": str(tmp_path / "small.jpg"),
           "SHA": hashlib.sha256(bomb).hexdigest(), "COUNCIL": council_uuid(app, V), "VILLAGE": V,
           "DAY": today().isoformat()}
    run = subprocess.run([sys.executable, "-c", MEASURE], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    status, text = result["html"]
    assert status == 422 and "像素太多" in text and "50 百万像素" in text
    status, body = result["sync"]
    assert status == 422 and "像素太多" in body["error"] and body["errors"]["photos"]
    # decoding it would take 144 MB (grey) to 430 MB (RGB); refused from its header, the process barely grows
    print(f"peak memory grew by {result['grew_kb'] / 1024:.1f} MB")
    assert result["grew_kb"] < 40 * 1024, f"the server grew by {result['grew_kb'] / 1024:.0f} MB"
    assert query(app, "select count(*) as n from files where sha256 = ?", [env["SHA"]])[0]["n"] == 0


CONCURRENT = r"""
import os, resource, sys, threading
sys.path.insert(0, os.environ["TESTS"])
from conftest import _app
from test_hostile import png_bomb
from villageapp import attachments
app = _app(os.environ["INSTANCE"])
photos = [png_bomb(7000, 7000 - i) for i in range(6)]  # 49 MP each: allowed, so each is decoded and shrunk
def work(photo):
    with app.app_context():
        attachments.prepare("photo.png", photo)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
threads = [threading.Thread(target=work, args=(p,)) for p in photos]
[t.start() for t in threads]
[t.join() for t in threads]
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_six_big_photos_at_once_are_decoded_two_at_a_time(instance_path):
    env = {**os.environ, "TESTS": os.path.dirname(__file__), "INSTANCE": str(instance_path)}
    run = subprocess.run([sys.executable, "-c", CONCURRENT], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    grew_mb = int(run.stdout.split()[-1]) / 1024
    print(f"six 49 MP photos at once: peak memory grew by {grew_mb:.0f} MB")
    # each takes ~60 MB while it is decoded (grey; RGB is 3×): two at a time is ~120 MB, all six at once ~360 MB
    assert grew_mb < 220, f"the server grew by {grew_mb:.0f} MB"


# ---- part 4: spreadsheets -------------------------------------------------------------------------------

CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/xl/workbook.xml" '
      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      '<Override PartName="/xl/worksheets/sheet1.xml" '
      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
      '<Override PartName="/xl/sharedStrings.xml" '
      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
RELS = f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
WB = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="' + REL + '">'
      '<sheets><sheet name="名册" sheetId="1" r:id="rId1"/></sheets></workbook>')
WB_RELS = (f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
           f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
HEADER_ROW = '<row r="1">' + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABC")) + "</row>"


def xlsx(rows=(), huge=0, last_row=None):
    """An .xlsx made by hand, part by part, streamed into the zip (a 300 MB shared string is never held whole)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("[Content_Types].xml", CT), ("_rels/.rels", RELS), ("xl/workbook.xml", WB),
                           ("xl/_rels/workbook.xml.rels", WB_RELS)):
            z.writestr(name, text)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(f"<sst {MAIN}><si><t>组</t></si><si><t>户主</t></si><si><t>姓名</t></si>".encode())
            if huge:
                f.write(b"<si><t>")
                block = b"A" * (1 << 20)
                for _ in range(huge >> 20):
                    f.write(block)
                f.write(b"</t></si>")
            f.write(b"</sst>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(f"<worksheet {MAIN}>".encode())
            if last_row:
                f.write(f'<dimension ref="A1:CV{last_row}"/>'.encode())
            f.write(b"<sheetData>" + HEADER_ROW.encode())
            for row in rows:
                f.write(row.encode())
            f.write(b"</sheetData></worksheet>")
    return out.getvalue()


def import_file(client, name, data):
    token = Auth(client).token(f"/v/{V}/households/import")
    started = time.monotonic()
    page = client.post(f"/v/{V}/households/import", data={"csrf_token": token, "dry_run": "y", "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")
    return page, time.monotonic() - started


def test_an_xlsx_of_300_kb_holding_a_300_mb_string_is_refused_unopened(app, mingxing):
    data = xlsx(huge=300 << 20)
    assert len(data) < 400_000
    page, took = import_file(mingxing, "名册.xlsx", data)
    assert page.status_code < 500 and "解开后太大" in page.text and "300 MB" in page.text
    assert took < 5, f"took {took:.1f} s"


def test_200000_blank_rows_count_against_the_row_limit(app, mingxing):
    blank = [f'<row r="{i}"/>' for i in range(2, 200_002)]
    data = xlsx(blank, last_row=200_001)
    assert len(data) < 1_000_000  # all of it unpacks to ~3 MB: under the size limit, refused by counting rows
    page, took = import_file(mingxing, "名册.xlsx", data)
    assert page.status_code < 500 and "行数太多（空行也算）" in page.text
    assert took < 20, f"took {took:.1f} s"  # generous: reading stops at the limit (~0.2 s here); it was 95 s
    page, _ = import_file(mingxing, "名册.csv", ("组,户主,姓名\r\n" + "\r\n" * 200_000).encode())
    assert "行数太多（空行也算）" in page.text


def test_an_xlsx_with_an_entity_expansion_bomb_is_refused_quickly(app, mingxing):
    lol = '<!DOCTYPE lolz [<!ENTITY lol0 "lololololo">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)) + "]>"  # 10⁹ characters when expanded
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("[Content_Types].xml", CT), ("_rels/.rels", RELS), ("xl/workbook.xml", WB),
                           ("xl/_rels/workbook.xml.rels", WB_RELS),
                           ("xl/sharedStrings.xml", f"<?xml version='1.0'?>{lol}<sst {MAIN}><si><t>&lol9;</t></si></sst>"),
                           ("xl/worksheets/sheet1.xml", f"<worksheet {MAIN}><sheetData>{HEADER_ROW}</sheetData></worksheet>")):
            z.writestr(name, text)
    page, took = import_file(mingxing, "名册.xlsx", out.getvalue())
    assert page.status_code < 500 and "Excel 文件打不开" in page.text and took < 5


# ---- part 4: stored files never run -------------------------------------------------------------------

PDF_WITH_JS = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction 3 0 R>>endobj\n"
               b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n3 0 obj<</S/JavaScript/JS(app.alert\\('x'\\))>>endobj\n"
               b"trailer<</Root 1 0 R>>\n%%EOF")
POLYGLOT = b"%PDF-1.4\n<html><body><script>parent.stolen = document.cookie</script></body></html>\n%%EOF"


def check_sandboxed(response, inline):
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox") and "default-src 'none'" in csp and "script-src" not in csp
    disposition = response.headers.get("Content-Disposition", "")
    assert disposition.startswith("inline" if inline else "attachment"), disposition
    assert "html" not in response.mimetype


@pytest.mark.parametrize("name, data", [("通知.pdf", PDF_WITH_JS), ("名单.pdf", POLYGLOT)])
def test_a_pdf_with_javascript_or_an_html_polyglot_is_only_ever_a_sandboxed_download(app, mingxing, name, data):
    token = Auth(mingxing).token(f"/v/{V}/notices/new")
    uuid = str(uuidlib.uuid4())
    mingxing.post(f"/v/{V}/notices/new", content_type="multipart/form-data", data={
        "uuid": uuid, "category": "村务", "title": "附件测试", "body": "见附件", "publish_date": today().isoformat(),
        "end_date": "", "csrf_token": token, "files": [(io.BytesIO(data), name)]})
    sha = hashlib.sha256(data).hexdigest()
    public = app.test_client().get(f"/v/{V}/notices/{uuid}/files/{sha}")
    check_sandboxed(public, inline=False)
    assert public.mimetype == "application/pdf" and public.data == data
    with app.app_context():
        from villageapp import attachments
        db = store.open_town(CHIHE_TOWN, app)
        version = next(db["rule_versions"].rows_where("village_code = ?", [V]), None)
        if version is not None:
            rule_sha = attachments.add(db, version["uuid"], name, "application/pdf", data, "test")
        db.close()
    if version is not None:
        check_sandboxed(mingxing.get(f"/v/{V}/rules/versions/{version['uuid']}/files/{rule_sha}"), inline=False)


def test_a_photo_is_shown_inline_but_sandboxed(app, mingxing):
    photo = jpeg("red")
    assert put_file(mingxing, V, photo).status_code == 201
    check_sandboxed(mingxing.get(f"/v/{V}/files/{hashlib.sha256(photo).hexdigest()}"), inline=True)


# ---- part 4: CSV exports -----------------------------------------------------------------------------

@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x.example\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_csv_cells_that_would_be_formulas_are_written_as_text(cell):
    assert csv_safe(cell) == "'" + cell
    assert csv_safe("村道" + cell) == "村道" + cell and csv_safe(12) == 12 and csv_safe(None) == ""


def test_the_town_meetings_export_writes_formulas_as_text(app, mingxing):
    place, title = '=HYPERLINK("http://evil.example","详情")', "@SUM(1+1)"
    edit = minutes(app, V, ["place", place])
    edit["payload"] = [p if p[0] != "agenda-0-title" else ["agenda-0-title", title] for p in edit["payload"]]
    assert send(mingxing, V, edit).json["results"][0]["status"] == "accepted"
    town = login(app, CHIHE)
    export = town.get(f"/t/{CHIHE_TOWN}/exports/meetings.csv")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
    ours = next(r for r in rows if place in "".join(r))
    assert "'" + place in ours and "'" + title in ours
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


# ---- part 4: the sync API refuses each malformed edit on its own ----------------------------------------

def malformed(app):
    good = minutes(app, V)
    return {
        "type is a list": {**minutes(app, V), "type": ["meeting"]},
        "type is unknown": {**minutes(app, V), "type": "no_such_thing"},
        "payload is a string": {**minutes(app, V), "payload": "council=1"},
        "payload is a number": {**minutes(app, V), "payload": 42},
        "payload has a 3-element pair": {**minutes(app, V), "payload": [*good["payload"], ["place", "a", "b"]]},
        "payload value is an object": {**minutes(app, V), "payload": [*good["payload"], ["place", {"a": 1}]]},
        "base_version is text": {**minutes(app, V), "base_version": "abc"},
        "base_version is too big": {**minutes(app, V), "base_version": 10 ** 30},
        "base_version is a fraction": {**minutes(app, V), "base_version": 1.5},
        "uuid is a number": {**minutes(app, V), "uuid": 7},
        "edit is a string": "not an edit",
        "edit is a list": [1, 2, 3],
    }


def test_each_malformed_edit_is_refused_while_the_good_ones_go_through(app, mingxing):
    bad = malformed(app)
    good = [minutes(app, V), minutes(app, V)]
    batch = [good[0], *bad.values(), good[1]]
    response = send(mingxing, V, *batch)
    assert response.status_code == 200
    results = response.json["results"]
    assert len(results) == len(batch)
    assert results[0]["status"] == results[-1]["status"] == "accepted"
    for (what, _edit), answer in zip(bad.items(), results[1:-1], strict=True):
        assert answer["status"] == "invalid" and answer["http"] in (400, 422), what
        assert answer["error"] and not answer["error"].isascii(), what  # a Chinese reason
    assert query(app, "select count(*) as n from meetings where uuid in (?, ?)", [g["uuid"] for g in good])[0]["n"] == 2


@pytest.mark.parametrize("body", ["123", '"edits"', "null", "[]", '{"edits": 5}', '{"edits": [{"base_version": 1e309}]}',
                                  '{"edits": [{"base_version": NaN}]}', '{"edits": [{"base_version": Infinity}]}',
                                  "{", "\xff\xfe", "[" * 100_000 + "]" * 100_000, '{"edits": ' + "[" * 100_000])
def test_a_body_that_is_not_a_batch_gets_a_json_refusal(app, mingxing, body):
    started = time.monotonic()
    response = mingxing.post(f"/api/v/{V}/edits", data=body.encode("utf-8", "surrogatepass"),
                             headers={"X-CSRFToken": token(mingxing), "Content-Type": "application/json"})
    assert time.monotonic() - started < 5
    if response.status_code == 200:  # a batch whose one edit is malformed: refused edit by edit
        assert [r["status"] for r in response.json["results"]] == ["invalid"]
        return
    assert response.status_code in (400, 413)
    assert response.json["ok"] is False and response.json["status"] == response.status_code and response.json["error"]


def test_nan_and_infinite_base_versions_are_refused_per_edit(app, mingxing):
    good = minutes(app, V)
    for literal in ("NaN", "1e309", "-Infinity"):
        bad = minutes(app, V)
        text = json.dumps({"edits": [good, {**bad, "base_version": "__X__"}]}).replace('"__X__"', literal)
        results = mingxing.post(f"/api/v/{V}/edits", data=text, headers={
            "X-CSRFToken": token(mingxing), "Content-Type": "application/json"}).json["results"]
        assert results[0]["status"] == "accepted" and results[1]["status"] == "invalid", literal
        assert "版本号" in results[1]["error"]


def test_only_the_forms_own_fields_are_kept_in_the_revision(app, mingxing):
    edit = minutes(app, V, ["is_admin", "1"], ["village_code", W], ["agenda-99999-title", "x"], ["place", "村委会"])
    assert send(mingxing, V, edit).json["results"][0]["status"] == "accepted"
    stored = json.loads(query(app, "select payload from revisions where edit_id = ?", [edit["edit_id"]])[0]["payload"])
    names = {name for name, _value in stored}
    assert "place" in names and "council" in names
    assert not names & {"is_admin", "village_code", "agenda-99999-title"}
    assert query(app, "select village_code from meetings where uuid = ?", [edit["uuid"]]) == [{"village_code": V}]


def test_a_body_over_the_limit_is_refused_before_it_is_read(app, mingxing):
    big = json.dumps({"edits": [minutes(app, V, ["others", "张" * 2_000_000])]})
    response = mingxing.post(f"/api/v/{V}/edits", data=big, headers={"X-CSRFToken": token(mingxing),
                                                                   "Content-Type": "application/json"})
    assert response.status_code == 413 and "太多" in response.json["error"]


# ---- part 4: numbers and dates in addresses --------------------------------------------------------------

HUGE = "99999999999999999999"


@pytest.mark.parametrize("who, method, path, expected", [
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/accounts/{HUGE}/password", 404),
    (CHIHE, "POST", f"/t/{CHIHE_TOWN}/accounts/{HUGE}/active", 404),
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/accounts/9223372036854775807/password", 404),  # the largest: no such row
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/audit/?page={HUGE}", 404),
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/audit/?page=0", 404),
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/audit/?page=-3", 404),
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/audit/?page=２", 404),
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/meetings/?end=9999-12-31", 400),
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/meetings/?start=0000-01-01", 400),
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/meetings/?start=0001-01-01", 400),
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/exports/meetings.csv?end=9999-12-31", 400),
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/meetings/?start=2026-13-40", 400),
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/meetings/?start=2026-01-01&end=2026-12-31", 200),
    (CHIHE, "GET", f"/t/{CHIHE_TOWN}/meetings/quarter?q={HUGE}-1", 200),  # an impossible quarter: this one
    (MINGXING, "GET", f"/v/{V}/conflicts/{HUGE}", 404),
    (MINGXING, "GET", f"/v/{V}/meetings/{{meeting}}/editions/{HUGE}", 404),
    (MINGXING, "POST", f"/v/{V}/meetings/{{meeting}}/actions/{HUGE}/0/done", 404),
    (MINGXING, "GET", f"/v/{V}/meetings/trails/{{trail}}/steps/{HUGE}", 404),
])
def test_numbers_and_dates_that_cannot_exist_answer_404_or_400(app, who, method, path, expected):
    client = login(app, who)
    meeting = query(app, "select uuid from meetings where village_code = ? limit 1", [V])[0]["uuid"]
    trail = (query(app, "select uuid from trails where village_code = ? limit 1", [V]) or [{"uuid": meeting}])[0]["uuid"]
    path = path.replace("{meeting}", meeting).replace("{trail}", trail)
    data = {"csrf_token": Auth(client).token()} if method == "POST" else None
    response = client.open(path, method=method, data=data)
    assert response.status_code == expected, response.text[:300]
    if expected == 400:
        assert "日期不对" in response.text and "1900 到 2099" in response.text


def test_a_hand_typed_base_version_on_the_page_is_not_a_500(app, mingxing):
    row = council_uuid(app, V)
    for base in ("²", HUGE, "-1", "1e3"):
        fields = {"uuid": str(uuidlib.uuid4()), "edit_id": str(uuidlib.uuid4()), "base_version": base, "council": row,
                  "date": today().isoformat(), "time": "14:30", "eligible_basis": "members", "agenda-0-title": "议题",
                  "csrf_token": Auth(mingxing).token()}
        response = mingxing.post(f"/v/{V}/meetings/new/{row}", data=fields, content_type="multipart/form-data")
        assert response.status_code < 500, base
    more = mingxing.post(f"/v/{V}/meetings/new/{row}", data={**fields, "more": "agenda-²-actions"},
                         content_type="multipart/form-data")
    assert more.status_code == 200


def test_a_vote_steps_agenda_number_beyond_any_meeting_is_refused_at_the_field(app):
    from werkzeug.datastructures import MultiDict

    from villageapp.rules.forms import StepForm
    with app.test_request_context():
        form = StepForm(formdata=MultiDict({"done_on": today().isoformat(), "agenda_item": HUGE}), meta={"csrf": False})
        form.setup("vote")
        assert not form.validate() and "1 到 30" in form.agenda_item.errors[0]


def test_a_birth_year_cell_holding_a_400_digit_number_is_a_row_error(app):
    from villageapp.registry import imports
    for cell in (10 ** 400, float("nan"), float("inf"), -1, "9" * 400):
        year, reason = imports.birth_year(cell)
        assert year is None and "出生年份" in reason, cell
