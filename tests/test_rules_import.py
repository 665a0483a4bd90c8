"""Issue 15: a village brings in the 村规民约 it already has, through the views: paste or upload (.txt in GBK, .docx made
here with python-docx), the check screen's buttons (merge, split, chapter boundaries, title) with nothing saved before
确认导入, the rows filed, every malformed file answered by the field in Chinese, who may do it, the town's confirmation
and return, the public text with its article numbers, and an amendment's diff against the imported version."""
import io
import re
from html.parser import HTMLParser

import pytest
from conftest import CHENGGUAN, CHIHE, CHIHE_TOWN, LAWYER, MINGXING, MINGXING_VILLAGE, Auth, add_village_with_cadre

from villageapp import store

WUAI = "xinhe"  # the cadre of 新河村, a village added to 池河镇 for this test: no rulebook yet
W_CODE = "610922104209"
W = f"/v/{W_CODE}"

# written for this test, in the usual shape: title, preamble, chapters, 第…条, closing lines
TEXT = """五爱村村规民约

为了加强村民自治，建设文明和谐的新农村，根据有关法律法规，制定本村规民约。

第一章 总则
第一条 本村村民应当遵守国家法律法规，爱党爱国，遵守本村规民约。
第二条 村民之间应当团结互助，邻里和睦，有事好商量。

第二章 社会治安
第三条 村民不得参与赌博、吸毒等违法活动，发现线索及时报告。
第四条 爱护公共设施，不得损坏村里的道路、路灯和水渠。

第三章 村风民俗
第五条 红白事从简办理，事先向红白理事会报备。
第六条 提倡婚事新办，反对高价彩礼。
第七条 孝敬老人，子女应当按时看望和赡养父母。

第四章 附则
第八条 本村规民约由村民委员会负责解释。

本村规民约经2019年3月15日村民代表会议讨论通过，自公布之日起施行。
五爱村村民委员会
2019年3月15日
"""
BODIES = ["本村村民应当遵守国家法律法规，爱党爱国，遵守本村规民约。", "村民之间应当团结互助，邻里和睦，有事好商量。",
          "村民不得参与赌博、吸毒等违法活动，发现线索及时报告。", "爱护公共设施，不得损坏村里的道路、路灯和水渠。",
          "红白事从简办理，事先向红白理事会报备。", "提倡婚事新办，反对高价彩礼。", "孝敬老人，子女应当按时看望和赡养父母。",
          "本村规民约由村民委员会负责解释。"]


class FormReader(HTMLParser):
    """The fields of a page's forms as a browser would send them (inputs with a name, textareas), in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields, self._textarea = [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("file", "submit", "checkbox", "radio"):
            self.fields.append([a["name"], a.get("value") or ""])
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]
            self.fields.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            text = self._textarea[1]
            self._textarea[1] = text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
            self._textarea = None


def fields(html):
    reader = FormReader()
    reader.feed(html)
    return dict(reader.fields)


def body_of(html, n):
    return fields(html)[f"articles-{n}-body"]


def rows_on(html):
    data = fields(html)
    count = len({k.split("-")[1] for k in data if k.startswith("articles-")})
    return [(data[f"articles-{n}-chapter"], data[f"articles-{n}-body"]) for n in range(count)]


def _db(app):
    return store.open_town(CHIHE_TOWN, app)


def versions(app):
    db = _db(app)
    try:
        return list(db["rule_versions"].rows_where("village_code = ?", [W_CODE], order_by="number"))
    finally:
        db.close()


def articles(app, version_uuid):
    db = _db(app)
    try:
        return [(a["chapter"], a["sort"], a["title"], a["body"]) for a in
                db["rule_articles"].rows_where("version_uuid = ?", [version_uuid], order_by="sort")]
    finally:
        db.close()


@pytest.fixture
def cadre(app, client):
    """A signed-in cadre of 新河村, a village added to 池河镇 with no rulebook yet."""
    add_village_with_cadre(app, W_CODE, "新河村", WUAI, "新河村书记")
    Auth(client).login(WUAI)
    return client


def token(client):
    return Auth(client).token()


def paste(client, text=TEXT):
    return client.post(f"{W}/rules/import", data={"csrf_token": token(client), "text": text},
                       content_type="multipart/form-data")


def upload(client, name, data):
    return client.post(f"{W}/rules/import", data={"csrf_token": token(client), "text": "",
                                                  "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def press(client, page, action, **changes):
    data = {**fields(page), **changes, "action": action}
    return client.post(f"{W}/rules/import/check", data=data)


def test_paste_check_merge_split_chapters_title_then_confirm(app, cadre):
    manage = cadre.get(f"{W}/rules/manage").text
    assert "导入现有的村规民约" in manage
    page = paste(cadre)
    assert page.status_code == 200, page.text
    assert "还没有保存" in page.text and "核对条文" in page.text
    assert rows_on(page.text) == list(zip(["第一章 总则"] * 2 + ["第二章 社会治安"] * 2 + ["第三章 村风民俗"] * 3
                                          + ["第四章 附则"], BODIES))
    data = fields(page.text)
    assert data["title"] == "五爱村村规民约" and data["adopted_on"] == "2019-03-15"
    assert "2019年3月15日" in data["adopted_meeting"] and "村民代表会议" in data["adopted_meeting"]
    assert "第八条" in page.text and "确认导入" in page.text

    # 第七条 belongs with 第六条: merged, its own number not carried into the text
    page = press(cadre, page.text, "merge-6")
    assert page.status_code == 200 and "已经和上一条合成一条" in page.text
    assert body_of(page.text, 5) == BODIES[5] + "\n" + BODIES[6] and len(rows_on(page.text)) == 7

    # splitting needs a blank line where to cut: without one, it says how, and the text typed stays
    typed = "本村村民应当遵守国家法律法规，爱党爱国。遵守本村规民约。"
    refused = press(cadre, page.text, "split-0", **{"articles-0-body": typed})
    assert refused.status_code == 422 and "空出一行" in refused.text and body_of(refused.text, 0) == typed
    page = press(cadre, refused.text, "split-0", **{"articles-0-body": "本村村民应当遵守国家法律法规，爱党爱国。\r\n\r\n遵守本村规民约。"})
    assert page.status_code == 200
    assert rows_on(page.text)[:2] == [("第一章 总则", "本村村民应当遵守国家法律法规，爱党爱国。"), ("第一章 总则", "遵守本村规民约。")]

    # chapter boundaries: 第四条 (赌博) joins 总则; 婚事新办 starts a chapter of its own
    assert rows_on(page.text)[3][1] == BODIES[2]
    page = press(cadre, page.text, "join-3")
    assert rows_on(page.text)[3] == ("第一章 总则", BODIES[2])
    refused = press(cadre, page.text, "chapter-6")
    assert refused.status_code == 422 and "先在「新的一章叫什么」里写上章名" in refused.text
    page = press(cadre, refused.text, "chapter-6", **{"articles-6-new_chapter": "第四章 婚姻家庭", "title": "五爱村村规民约（2019年）"})
    assert rows_on(page.text)[6] == ("第四章 婚姻家庭", BODIES[5] + "\n" + BODIES[6])
    assert fields(page.text)["title"] == "五爱村村规民约（2019年）"  # typed before a button: kept

    # nothing is saved before 确认导入
    assert versions(app) == []

    # 确认导入 needs the adoption facts; a future date is refused by the field
    page = press(cadre, page.text, "confirm", adopted_meeting="", **{"articles-7-title": "解释权"})
    assert page.status_code == 422 and "请写明哪次会议通过的" in page.text and versions(app) == []
    done = press(cadre, page.text, "confirm", adopted_meeting="2019年3月15日村民代表会议", filing_no="池河村规备〔2019〕5号",
                 filed_on="2019-04-02")
    assert done.status_code == 302, done.text
    [version] = versions(app)
    assert (version["number"], version["stage"], version["origin"], version["adopted_on"], version["filing_no"],
            version["filed_on"]) == (1, "imported", "imported", "2019-03-15", "池河村规备〔2019〕5号", "2019-04-02")
    assert version["preamble"].startswith("为了加强村民自治") and version["reason"] is None
    assert articles(app, version["uuid"]) == [
        ("第一章 总则", 10, None, "本村村民应当遵守国家法律法规，爱党爱国。"),
        ("第一章 总则", 20, None, "遵守本村规民约。"),
        ("第一章 总则", 30, None, BODIES[1]),
        ("第一章 总则", 40, None, BODIES[2]),
        ("第二章 社会治安", 50, None, BODIES[3]),
        ("第三章 村风民俗", 60, None, BODIES[4]),
        ("第四章 婚姻家庭", 70, None, BODIES[5] + "\n" + BODIES[6]),
        ("第四章 附则", 80, "解释权", BODIES[7])]
    db = _db(app)
    assert db["rulebooks"].get(version["rulebook_uuid"])["title"] == "五爱村村规民约（2019年）"
    assert {r["action"] for r in db["audit"].rows_where("village_code = ?", [W_CODE])} >= {"rule_import", "create"}
    db.close()
    shown = cadre.get(done.headers["Location"]).text
    assert "导入的原有版本（2019年3月15日村民代表会议 通过，2019年3月15日）" in shown and "池河村规备〔2019〕5号" in shown
    assert "已有版本，待镇确认" in shown
    # the import is not run through the steps: each one refuses, in Chinese
    step = cadre.get(f"{W}/rules/versions/{version['uuid']}/steps/consultation")
    assert step.status_code == 409 and "不再走一遍制定程序" in step.text
    # a second import while the town has not answered is refused
    again = cadre.get(f"{W}/rules/import")
    assert again.status_code == 409 and "等镇里确认" in again.text


def test_a_merge_puts_a_stray_item_number_back(app, cadre):
    """An item 二、 inside an article that the reading took for an article: merged back, its 二、 is in the text."""
    text = "谭家湾村村规民约\n一、村民应当爱护环境。\n二、垃圾入桶。\n三、不乱倒污水。\n本村规民约经2020年5月1日村民会议通过。"
    page = paste(cadre, text)
    assert page.status_code == 200, page.text
    assert [b for _c, b in rows_on(page.text)] == ["村民应当爱护环境。", "垃圾入桶。", "不乱倒污水。"]
    page = press(cadre, page.text, "merge-1")
    assert body_of(page.text, 0) == "村民应当爱护环境。\n二、垃圾入桶。"


def _import(app, client):
    page = paste(client)
    done = press(client, page.text, "confirm")
    assert done.status_code == 302, done.text
    return versions(app)[-1]


def test_gbk_txt_upload(app, cadre):
    page = upload(cadre, "五爱村村规民约.txt", TEXT.encode("gbk"))
    assert page.status_code == 200, page.text
    assert [b for _c, b in rows_on(page.text)] == BODIES


def test_docx_upload(app, cadre):
    import docx
    document = docx.Document()
    for line in TEXT.splitlines():
        if line.strip():
            document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    page = upload(cadre, "五爱村村规民约.docx", out.getvalue())
    assert page.status_code == 200, page.text
    assert [b for _c, b in rows_on(page.text)] == BODIES
    assert fields(page.text)["title"] == "五爱村村规民约"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.mark.parametrize("name, data, words", [
    ("村规民约.txt", b"", "空"),
    ("村规民约.docx", PNG, "docx"),
    ("村规民约.txt", "第一条 村民应当遵守法律。\n".encode() * (20 * 1024 * 1024 // 37), "太大"),
    ("村规民约.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "另存为"),
], ids=["empty", "picture-renamed-docx", "20MB", "old-doc"])
def test_malformed_files_are_refused_by_the_field(app, cadre, name, data, words):
    page = upload(cadre, name, data)
    assert page.status_code == 422
    field = re.search(r'<div class="field has-error" id="field-file">.*?</div>', page.text, re.DOTALL)
    assert field and words in field.group(0) and re.search(r'class="error"[^>]*>[^<]*[\u4e00-\u9fff]', field.group(0))
    assert versions(app) == []


def test_empty_paste_and_paste_with_no_numbers(app, cadre):
    page = paste(cadre, "  \n ")
    assert page.status_code == 422 and "请把村规民约全文粘贴到框里" in page.text
    # no 第一条 / 一、 at all (Word's numbering lost in a copy): each paragraph an article, and the warning says so
    page = paste(cadre, "村民应当爱护环境。\n垃圾入桶。")
    assert page.status_code == 200 and "请特别看一下" in page.text and "条文编号" in page.text
    assert [b for _c, b in rows_on(page.text)] == ["村民应当爱护环境。", "垃圾入桶。"]
    page = press(cadre, page.text, "merge-1")
    assert "条文编号" in page.text and body_of(page.text, 0) == "村民应当爱护环境。\n垃圾入桶。"  # the warning stays
    # a text pasted and a file chosen: which one? asked by the file field, the pasted text kept in its box
    both = cadre.post(f"{W}/rules/import", data={"csrf_token": token(cadre), "text": TEXT,
                                                 "file": (io.BytesIO(TEXT.encode()), "村规民约.txt")},
                      content_type="multipart/form-data")
    assert both.status_code == 422 and "只用一样" in both.text and fields(both.text)["text"] == TEXT.strip()
    assert versions(app) == []


def test_check_screen_is_bounded(app, cadre):
    data = {"csrf_token": token(cadre), "title": "五爱村村规民约", "action": "merge-1"}
    for n in range(301):
        data[f"articles-{n}-body"] = f"第{n}条的内容"
    page = cadre.post(f"{W}/rules/import/check", data=data)
    assert page.status_code == 413 and "最多 300 条" in page.text
    long = press(cadre, paste(cadre).text, "split-0", **{"articles-0-body": "长" * 6000})
    assert long.status_code == 422 and "一条不超过 5000 字" in long.text
    odd = press(cadre, paste(cadre).text, "merge-99")
    assert odd.status_code == 422 and "这一条已经不在了" in odd.text
    assert cadre.get(f"{W}/rules/import/check").status_code == 302  # nothing to check without a text
    assert versions(app) == []


def _login(client, who):
    Auth(client).login(who)
    return client


@pytest.mark.parametrize("who, village, status", [
    (None, W_CODE, 302), (MINGXING, W_CODE, 404), (CHENGGUAN, W_CODE, 404), (CHIHE, W_CODE, 403),
    (LAWYER, MINGXING_VILLAGE, 403), (MINGXING, MINGXING_VILLAGE, 409)])
def test_who_may_import(app, cadre, who, village, status):
    """Only the village's own cadres, and only while it has no rulebook (明星村's is in force: 发起修订 instead)."""
    client = app.test_client()
    if who:
        _login(client, who)
    for url in (f"/v/{village}/rules/import", f"/v/{village}/rules/import/check"):
        r = client.get(url)
        assert r.status_code == status
        if status == 409:
            assert "发起修订" in r.text


def test_town_returns_then_confirms_and_the_public_page_shows_the_text(app, cadre):
    version = _import(app, cadre)
    uuid = version["uuid"]
    answer = f"{W}/rules/versions/{uuid}/town-answer"
    assert cadre.post(answer, data={"csrf_token": token(cadre), "answer": "confirm"}).status_code == 403
    other = _login(app.test_client(), CHENGGUAN)
    assert other.post(answer, data={"csrf_token": token(other), "answer": "confirm"}).status_code == 404

    town = _login(app.test_client(), CHIHE)
    assert "已有版本，待镇确认" in town.get(f"/t/{CHIHE_TOWN}/rules/").text
    desk = town.get(f"/t/{CHIHE_TOWN}/").text
    assert "新河村 · 村规民约第 1 版：已有版本，待镇确认" in desk
    page = town.get(f"{W}/rules/versions/{uuid}").text
    assert "镇里确认" in page and "退回" in page
    r = town.post(answer, data={"csrf_token": token(town), "answer": "return", "reason": "  "})
    assert r.status_code == 422 and "写明理由" in r.text and versions(app)[0]["stage"] == "imported"
    r = town.post(answer, data={"csrf_token": token(town), "answer": "return", "reason": "第八条请写明解释权归谁"})
    assert r.status_code == 302
    assert (versions(app)[0]["stage"], versions(app)[0]["return_reason"]) == ("returned", "第八条请写明解释权归谁")

    # the cadre sees why, corrects the returned text on the check screen and files it again: still version 1
    assert "第八条请写明解释权归谁" in cadre.get(f"{W}/rules/manage").text
    page = cadre.get(f"{W}/rules/import/check?from={uuid}")
    assert page.status_code == 200 and rows_on(page.text)[-1] == ("第四章 附则", BODIES[7])
    done = press(cadre, page.text, "confirm", **{"articles-7-body": "本村规民约由五爱村村民委员会负责解释。"})
    assert done.status_code == 302, done.text
    [again] = versions(app)
    assert (again["uuid"], again["number"], again["stage"], again["return_reason"]) == (uuid, 1, "imported", None)
    assert articles(app, uuid)[-1] == ("第四章 附则", 80, None, "本村规民约由五爱村村民委员会负责解释。")
    assert len(articles(app, uuid)) == 8

    assert cadre.get(f"{W}/rules").text.count("第一条") == 0  # not public before the town confirms
    r = town.post(answer, data={"csrf_token": token(town), "answer": "confirm"})
    assert r.status_code == 302
    [final] = versions(app)
    assert final["stage"] == "published" and final["published_on"]
    r = town.post(answer, data={"csrf_token": token(town), "answer": "confirm"})
    assert r.status_code == 409 and "不用再确认或退回" in r.text

    public = app.test_client().get(f"{W}/rules").text
    numbers = re.findall(r"<strong>第(.{1,3})条</strong>", public)
    assert numbers == ["一", "二", "三", "四", "五", "六", "七", "八"]
    assert public.index("第二章 社会治安") < public.index(BODIES[2]) < public.index("第三章 村风民俗")
    assert "导入的原有版本（2019年3月15日村民代表会议 通过" in public
    assert "本村规民约由五爱村村民委员会负责解释。" in public
    assert "现行第 1 版" in cadre.get(f"{W}/home").text


def test_an_amendment_diffs_against_the_imported_version(app, cadre):
    version = _import(app, cadre)
    town = _login(app.test_client(), CHIHE)
    town.post(f"{W}/rules/versions/{version['uuid']}/town-answer", data={"csrf_token": token(town), "answer": "confirm"})
    r = cadre.post(f"{W}/rules/start", data={"csrf_token": token(cadre), "reason": "降低宴席标准"})
    assert r.status_code == 302
    new = versions(app)[-1]
    assert (new["number"], new["base_number"], new["origin"]) == (2, 1, None)
    assert new["preamble"] == versions(app)[0]["preamble"] and new["preamble"].startswith("为了加强村民自治")
    assert new["reason"] == "降低宴席标准"
    assert new["preamble"] in cadre.get(f"{W}/rules/versions/{new['uuid']}").text
    db = _db(app)
    thrift = next(db["rule_articles"].rows_where("version_uuid = ? and sort = 50", [new["uuid"]]))
    db.close()
    url = f"{W}/rules/versions/{new['uuid']}/articles/{thrift['uuid']}/edit"
    page = cadre.get(url)
    assert page.status_code == 200 and '<option selected value="第三章 村风民俗">' in page.text  # its own chapters are choices
    data = {**fields(page.text), "chapter": "第三章 村风民俗", "body": "红白事从简办理，宴席不超过十桌，事先向红白理事会报备。"}
    r = cadre.post(url, data=data)
    assert r.status_code == 302, r.text
    diff = cadre.get(f"{W}/rules/versions/{new['uuid']}/diff").text
    assert "第 2 版比第 1 版改了什么" in diff and re.search(r"<ins>[^<]*宴席不超过十桌[^<]*</ins>", diff)
    assert "未改动的条文 7 条" in diff


def test_the_demo_village_on_paper_brings_in_the_sample_text(app):
    """What README's demo says to try: 红岩村's cadre (hongyan) uploads docs/sample-rulebook.txt; the check screen has its
    eleven articles in five chapters with the closing facts filled in and no warning; 城关镇's clerk confirms it from the desk;
    the public page shows 第一条…第十一条 with the preamble."""
    from pathlib import Path
    village = "610922100202"
    sample = (Path(__file__).parent.parent / "docs" / "sample-rulebook.txt").read_bytes()
    cadre = _login(app.test_client(), "hongyan")
    assert "导入现有的村规民约" in cadre.get(f"/v/{village}/rules/manage").text
    page = cadre.post(f"/v/{village}/rules/import", data={"csrf_token": token(cadre), "text": "",
                                                          "file": (io.BytesIO(sample), "红岩村村规民约.txt")},
                      content_type="multipart/form-data")
    assert page.status_code == 200, page.text
    data = fields(page.text)
    chapters = [data[f"articles-{n}-chapter"] for n in range(11)]
    assert "articles-11-body" not in data and len(set(chapters)) == 5 and chapters[-1] == "第五章 附则"
    assert (data["title"], data["adopted_on"], data["adopted_meeting"], data["filing_no"]) == (
        "红岩村村规民约", "2020-04-18", "2020年4月18日村民代表会议", "城规备〔2020〕12号")
    assert "请核对" not in page.text
    done = cadre.post(f"/v/{village}/rules/import/check", data={**data, "action": "confirm"})
    assert done.status_code == 302, done.text
    town = _login(app.test_client(), CHENGGUAN)
    desk = town.get("/t/610922100/").text
    assert "红岩村" in desk and "待镇确认" in desk
    db = store.open_town("610922100", app)
    version = next(db["rule_versions"].rows_where("village_code = ?", [village]))
    db.close()
    answer = town.post(f"/v/{village}/rules/versions/{version['uuid']}/town-answer",
                       data={"csrf_token": token(town), "answer": "confirm"})
    assert answer.status_code == 302, answer.text
    public = app.test_client().get(f"/v/{village}/rules").text
    numbers = re.findall(r"<strong>第(.{1,3})条</strong>", public)
    assert numbers == ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一"]
    assert "为了推进本村村民自治" in public and "（三）家中电线老化的" in public
    board = app.test_client().get(f"/v/{village}/").text  # the 村务公开 board says so, as a publication in the app does
    assert "红岩村村规民约全文已在网上公布" in board
    db = store.open_town("610922100", app)
    notice = next(db["notices"].rows_where("village_code = ? and title like '%村规民约全文%'", [village]))
    db.close()
    assert notice["body"].startswith("本村现行的红岩村村规民约经2020年4月18日村民代表会议通过，已报镇备案（城规备〔2020〕12号）。")


def test_a_date_of_taking_effect_in_the_closing_lines_is_kept_and_shown(app, cadre):
    text = TEXT.replace("自公布之日起施行", "自2019年5月1日起施行")
    page = paste(cadre, text)
    assert fields(page.text)["effective_on"] == "2019-05-01"
    assert press(cadre, page.text, "confirm").status_code == 302
    version = versions(app)[-1]
    assert (version["adopted_on"], version["effective_on"]) == ("2019-03-15", "2019-05-01")
    town = _login(app.test_client(), CHIHE)
    town.post(f"{W}/rules/versions/{version['uuid']}/town-answer", data={"csrf_token": token(town), "answer": "confirm"})
    assert "2019年5月1日起施行" in app.test_client().get(f"{W}/rules").text
    listing = town.get(f"/t/{CHIHE_TOWN}/exports/rule_versions.csv", query_string={"village": W_CODE})
    assert listing.status_code == 200
    text = listing.data.decode("utf-8-sig")
    assert "导入的原有版本" in text and "2019-03-15" in text and "2019年3月15日村民代表会议" in text
