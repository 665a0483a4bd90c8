"""镇工作台 and the county overview (issue 13, "The desk"): every figure on the desk equals a count worked out here in
Python over the town file's rows (not the desk's SQL), per village, for a quarter and for a year, with records made just
outside the period left out; the town's and the model villages' averages; each kind of town task while its condition
holds, with a link that opens, and gone once settled; the county's sums per town, a town whose file is missing, and a
county admin who reads but cannot act; the charts' numbers against the tables beside them."""
import html
import os
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from villageapp import conflicts, kinds, records, store, sync
from villageapp.clock import cn_datetime, now, today
from villageapp.councils import data as councils
from villageapp.meetings import data as meetings
from villageapp.meetings.forms import formdata, make_meeting_form, meeting_columns
from villageapp.notices import data as notices
from villageapp.ratings import procedure as ratings
from villageapp.reviews import _example_meeting
from villageapp.reviews import data as reviews
from villageapp.reviews import procedure as review_steps
from villageapp.rules import procedure as rule_steps
from villageapp.steps import Actor

from conftest import CHENGGUAN_TOWN, CHIHE, CHIHE_TOWN, COUNTY, LAWYER, MINGXING, MINGXING_VILLAGE, WUAI_VILLAGE

DESK = f"/t/{CHIHE_TOWN}/"
STAGE_WORDS = {"consultation": "征集意见", "draft": "草案", "review": "法律顾问审查", "approval": "镇审核", "vote": "表决",
               "filing": "备案", "publish": "公布"}
CAMPAIGN_STAGES = ("apply", "scoring", "checked", "publicity", "confirmed", "reported", "approved", "plaqued")


# ---- the period and the counts, worked out here ------------------------------------------------------------------

def quarter_key(day):
    return f"{day.year}-{(day.month - 1) // 3 + 1}"


def bounds(key):
    """(first day, day after the last) of "2026" or "2026-4"."""
    if "-" not in key:
        year = int(key)
        return date(year, 1, 1), date(year + 1, 1, 1)
    year, q = (int(x) for x in key.split("-"))
    start = date(year, 3 * q - 2, 1)
    return start, (date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1))


def day_of(value):
    return date.fromisoformat(value[:10]) if value else None


def within(value, start, end):
    d = day_of(value)
    return d is not None and start <= d < end


def expected_figures(db, key):
    """{village code: {figure key: value}} from the rows of each table, in Python."""
    start, end = bounds(key)
    t = today()
    out = {}
    for v in db["villages"].rows:
        code = v["code"]

        def rows(table, code=code):
            return [r for r in db[table].rows if r["village_code"] == code]
        published = [n for n in rows("notices") if n["status"] == "published" and within(n["publish_date"], start, end)]
        filed = [o for o in rows("objections") if within(o["created_at"], start, end)]
        held = {m["council_uuid"] for m in rows("meetings") if m["state"] != "draft" and within(m["starts_at"], start, end)}
        village_councils = rows("councils")
        book = next(iter(rows("rulebooks")), None)
        status, age = "还没有", None
        if book:
            versions = [r for r in db["rule_versions"].rows if r["rulebook_uuid"] == book["uuid"]]
            running = sorted((r for r in versions if r["stage"] != "published"), key=lambda r: r["number"])
            current = next((r for r in versions if r["number"] == book["current_version"]), None)
            if running:
                status = f"第 {running[-1]['number']} 版：{STAGE_WORDS[running[-1]['stage']]}"
            elif book["current_version"]:
                status = f"现行第 {book['current_version']} 版"
            if current and (current["published_on"] or current["filed_on"]):
                age = int((t - day_of(current["published_on"] or current["filed_on"])).days / 30.4375)
        cases = rows("review_cases")
        opened = [c for c in cases if start <= min(day_of(c["created_at"]), day_of(c["reviewed_on"]) or date.max) < end]
        campaigns = [c for c in rows("campaigns") if start.year <= c["year"] <= (end - timedelta(days=1)).year]
        syncs = [r["created_at"] for r in rows("revisions") if day_of(r["created_at"]) < end]
        out[code] = {
            "households": sum(1 for h in rows("households") if day_of(h["created_at"]) < end),
            "residents": sum(1 for r in rows("residents") if day_of(r["created_at"]) < end),
            "notices": len(published), "notices_publicity": sum(1 for n in published if n["category"] == "公示"),
            "objections": len(filed), "objections_open": sum(1 for o in filed if o["status"] == "open"),
            "councils_met": sum(1 for c in village_councils if c["uuid"] in held),
            "councils_unmet": sum(1 for c in village_councils if c["uuid"] not in held),
            "rules_status": status, "rules_age": age,
            "reviews_opened": len(opened), "reviews_closed": sum(1 for c in cases if within(c["closed_on"], start, end)),
            **{f"campaigns_{s}": sum(1 for c in campaigns if c["stage"] == s) for s in CAMPAIGN_STAGES},
            "last_sync": max(syncs) if syncs else None,
        }
    return out


def shown(figure, value):
    """How the desk writes a value."""
    if figure == "last_sync":
        return cn_datetime(value) if value else "没有"
    return "—" if value is None else str(value)


# ---- reading the page ----------------------------------------------------------------------------------------------

def text(cell):
    return html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()


def cells(row_html):
    return {key: text(value) for key, value in re.findall(r'<td data-figure="(\w+)">(.*?)</td>', row_html, re.S)}


def desk_rows(page):
    """{village code: {figure: text}} of the desk's table."""
    return {code: cells(body) for code, body in re.findall(r'<tr[^>]*data-village="(\d+)">(.*?)</tr>', page, re.S)}


def average_rows(page):
    return [cells(body) for body in re.findall(r'<tr data-average="\d">(.*?)</tr>', page, re.S)]


def averaged_keys():
    return [k for k in ("households", "residents", "notices", "notices_publicity", "objections", "objections_open",
                        "councils_met", "councils_unmet", "rules_age", "reviews_opened", "reviews_closed")] + [
        f"campaigns_{s}" for s in CAMPAIGN_STAGES]


def mean(values):
    values = [v for v in values if v is not None]
    return f"{sum(values) / len(values):.1f}" if values else ""


def town_store(app, code=CHIHE_TOWN):
    with app.app_context():
        return store.open_town(code, app)


# ---- records made through the app's functions, on the edges of a period --------------------------------------------

def confirmed_meeting(db, village, day, council=0, action_due=None):
    """Confirmed minutes of one of the village's councils on `day` (with a follow-up action due on `action_due`)."""
    chosen = councils.ensure_councils(db, village, "system")[council]
    pairs = [["council", chosen["uuid"]], ["date", day.isoformat()], ["time", "09:00"], ["place", "村委会"], ["host", "王书记"],
             ["recorder", "李文书"], ["present", "5"], ["agenda-0-title", "修路"], ["agenda-0-decision", "同意修路"]]
    if action_due:
        pairs += [["agenda-0-actions-0-task", "买水泥"], ["agenda-0-actions-0-owner", "张三"],
                  ["agenda-0-actions-0-due", action_due.isoformat()]]
    form = make_meeting_form(db, village, formdata(pairs))
    assert form.validate(), form.errors
    row, _ = records.create(db, "meetings", {**meeting_columns(form), "village_code": village}, MINGXING)
    row, problem = meetings.confirm(db, row, MINGXING)
    assert problem is None, problem
    return row


def notice(db, village, published, category="村务", end=None):
    row, _ = notices.create_notice(db, village, {"title": f"测试公开 {published}", "category": category, "body": "内容",
                                                 "publish_date": published.isoformat(),
                                                 "end_date": end.isoformat() if end else None}, [], MINGXING)
    return row


@pytest.mark.parametrize("period", ["quarter", "year"])
def test_every_figure_equals_the_records_counted_here(app, client, auth, period):
    key = quarter_key(today()) if period == "quarter" else str(today().year)
    start, end = bounds(key)
    db = town_store(app)
    with app.app_context():
        # just outside the period, on both sides (never counted), and inside it (counted)
        before, after = start - timedelta(days=1), end
        inside = max(start, min(today(), end - timedelta(days=1)))
        confirmed_meeting(db, WUAI_VILLAGE, before, council=3)
        confirmed_meeting(db, MINGXING_VILLAGE, inside, council=4)
        for day in (before, after, inside):
            notice(db, MINGXING_VILLAGE, day, "公示", day + timedelta(days=7))
    auth.login(CHIHE)
    page = client.get(f"{DESK}?period={key}").text
    client_figures = desk_rows(page)
    expected = expected_figures(db, key)
    assert set(client_figures) == set(expected) and len(expected) >= 3
    for code, figures in expected.items():
        for figure, value in figures.items():
            assert client_figures[code][figure] == shown(figure, value), (code, figure)
    # the records made on the edges: one notice of three counted, the meeting before the period not
    all_notices = [n for n in db["notices"].rows if n["village_code"] == MINGXING_VILLAGE and n["status"] == "published"]
    assert int(client_figures[MINGXING_VILLAGE]["notices"]) == sum(
        1 for n in all_notices if start <= day_of(n["publish_date"]) < end) < len(all_notices)
    # the averages: every village, then the model villages only (one decimal)
    villages = list(db["villages"].rows)
    town, model = average_rows(page)
    models = [v["code"] for v in villages if v["model"]]
    assert models, "the demo town has a model village"
    for figure in averaged_keys():
        assert town[figure] == mean([expected[v["code"]][figure] for v in villages]), figure
        assert model[figure] == mean([expected[code][figure] for code in models]), figure
    # model villages marked, the others not
    for v in villages:
        row = re.search(rf'<tr[^>]*data-village="{v["code"]}">(.*?)</tr>', page, re.S).group(1)
        assert ("示范村" in row) == bool(v["model"]), v["name"]
    db.close()


def test_the_period_is_chosen_and_a_wrong_one_is_refused_in_chinese(client, auth):
    auth.login(CHIHE)
    year = today().year
    page = client.get(f"{DESK}?period={year - 1}").text
    assert f"各村情况 · {year - 1}年" in page and f'?period={year - 2}">← 上一年' in page
    assert f'<option value="{year - 1}" selected>' in page
    quarter = client.get(f"{DESK}?period={year}-1").text
    assert f"{year}年第一季度" in quarter and f"?period={year - 1}-4\">← 上一季度" in quarter
    assert f"{year}年第{'一二三四'[(today().month - 1) // 3]}季度" in client.get(DESK).text  # this quarter by default
    for wrong in ("2026-5", "abc", "99999", "2026-", "1999", "2026-4-1", "２０２６", "2026-0", " " * 5000 + "x"):
        answer = client.get(f"{DESK}?period={wrong}")
        assert answer.status_code == 400 and "季度写成 2026-4" in answer.text, wrong


# ---- 需要我处理 ---------------------------------------------------------------------------------------------------

def task_section(page):
    start = page.index("需要我处理")
    return page[start:page.index("</ul>", start)]


def task_links(page):
    return re.findall(r'<a href="([^"]+)"><span class="tag[^"]*">[^<]*</span> ([^<]*)</a>', task_section(page))


def link_for(client, words):
    page = client.get(DESK).text
    found = [url for url, line in task_links(page) if words in html.unescape(line)]
    return found[0] if found else None


def test_each_kind_of_town_task_links_to_its_page_while_it_waits(app, client, auth):
    db = town_store(app)
    town, adviser, cadre = Actor(CHIHE, "town"), Actor(LAWYER, "adviser"), Actor(MINGXING, "cadre")
    auth.login(CHIHE)
    with app.app_context():
        # 村规民约: the adviser passes the review, so the version waits for the town's approval
        version = next(db["rule_versions"].rows_where("village_code = ? and stage = 'review'", [MINGXING_VILLAGE]))
        version = rule_steps.take_step(db, version, "review", adviser, outcome="passed", note="审查通过")
        # 道德评议: a 帮教 case told 40 days ago and never visited
        meeting = _example_meeting(db, MINGXING_VILLAGE)
        session = reviews.add_session(db, MINGXING_VILLAGE, {"title": "测试评议会", "kind": "ad_hoc", "meeting_uuid": meeting["uuid"],
                                                             "held_on": meeting["starts_at"][:10]}, MINGXING)
        house = next(db["households"].rows_where("village_code = ?", [MINGXING_VILLAGE]))
        case, _ = records.create(db, "review_cases", {
            "village_code": MINGXING_VILLAGE, "subject_type": "household", "subject_uuid": house["uuid"],
            "household_uuid": house["uuid"], "subject_name": "测试帮教户", "kind": "criticism", "category": "赌博",
            "facts": "打牌赌钱", "source": "member", "photos": "[]"}, MINGXING)
        case = review_steps.take_step(db, case, "vote", cadre, session=session["uuid"], votes_for=3, conclusion="help",
                                      help_plan="每月上门谈心", helper="李会长")
        case = review_steps.take_step(db, case, "tell", cadre, done_on=today() - timedelta(days=40), how="上门告知")
        # sync: two cadres changed one draft offline; the second edit is kept as a conflict, 4 days ago
        payload = kinds.synced()["meeting"].example(db, WUAI_VILLAGE)
        uuid = records.new_uuid()
        user = SimpleNamespace(username=MINGXING, role="cadre", villages=[WUAI_VILLAGE])
        for base in (None, 1, 1):
            sync.apply_edit(db, user, WUAI_VILLAGE, {"edit_id": records.new_uuid(), "uuid": uuid, "type": "meeting",
                                                     "base_version": base, "payload": payload + [["place", f"第{base}处"]]})
        conflict = next(db["revisions"].rows_where("uuid = ? and status = 'conflict'", [uuid]))
        with store.write(db):  # made 4 days ago: the clock is not ours to turn, the row's time is
            db["revisions"].update(conflict["id"], {"created_at": (now() - timedelta(days=4)).isoformat(timespec="seconds")})
        # an objection to a 公示 that ended 5 days ago, never answered
        ended = notice(db, WUAI_VILLAGE, today() - timedelta(days=20), "公示", today() - timedelta(days=5))
        objection = notices.file_objection(db, ended, {"body": "名单有误"})
        # a follow-up action of confirmed minutes, due yesterday
        minutes = confirmed_meeting(db, MINGXING_VILLAGE, today() - timedelta(days=10), council=5,
                                    action_due=today() - timedelta(days=1))
    waiting = {"rules": "村规民约第 2 版：镇审核", "ratings": "村里已上报结果，请确认", "visit": "帮教：测试帮教户",
               "conflict": "处修改放了 3 天以上还没人定", "objection": f"「{ended['title']}」公示已结束，异议还没答复",
               "action": "会后要办的事：买水泥"}
    pages = {}
    for name, words in waiting.items():
        url = link_for(client, words)
        assert url, f"{name}: no task {words!r}"
        assert client.get(url).status_code == 200, (name, url)
        pages[name] = url
    assert pages["rules"].endswith(version["uuid"]) and pages["visit"].endswith(case["uuid"])
    assert pages["objection"].endswith(objection["uuid"]) and pages["action"].endswith(minutes["uuid"])
    assert pages["conflict"] == f"/v/{WUAI_VILLAGE}/conflicts/"

    with app.app_context():  # each settled the way the app settles it
        rule_steps.take_step(db, db["rule_versions"].get(version["uuid"]), "approval", town, outcome="approved")
        reported = next(db["campaigns"].rows_where("stage = 'reported'"))
        ratings.take_step(db, reported, "approve", town)
        review_steps.take_step(db, db["review_cases"].get(case["uuid"]), "visit", cadre, done_on=today(), note="已上门谈心")
        conflicts.resolve(db, conflict, db["meetings"].get(uuid), "meetings", MINGXING, "kept", "保留现在的")
        notices.answer_objection(db, objection["uuid"], "已核实更正", MINGXING)
        meetings.mark_done(db, db["meetings"].get(minutes["uuid"]), 0, 0, MINGXING)
    for name, words in waiting.items():
        assert link_for(client, words) is None, f"{name}: still listed after it was settled"
    assert "没有要您办理的事" in task_section(client.get(DESK).text)
    db.close()


def test_the_county_reads_the_town_tasks_without_acting_or_seeing_a_case(app, client, auth):
    db = town_store(app)
    reported = next(db["campaigns"].rows_where("stage = 'reported'"))
    auth.login(COUNTY)
    page = client.get(DESK).text
    tasks = task_section(page)
    assert "县里只能查看" in tasks and "村里已上报结果，请确认" in tasks and "card current" not in tasks
    step = f"/v/{reported['village_code']}/ratings/{reported['uuid']}/steps/approve"
    assert client.get(step).status_code == 403  # the page to act is the town's
    assert client.get(f"/v/{MINGXING_VILLAGE}/reviews/").status_code in (403, 404)
    assert "测试帮教户" not in page
    db.close()


# ---- the county ------------------------------------------------------------------------------------------------------

def test_county_rows_are_each_towns_sums_and_a_missing_file_says_so(app, client, auth):
    key = str(today().year)
    auth.login(COUNTY)
    page = client.get(f"/?period={key}").text
    rows = {code: (cells(body), body) for code, body in re.findall(r'<tr data-town="(\d+)">(.*?)</tr>', page, re.S)}
    assert set(rows) == {CHIHE_TOWN, CHENGGUAN_TOWN}
    for code in rows:
        db = town_store(app, code)
        expected = expected_figures(db, key)
        figures, body = rows[code]
        for figure in ("households", "residents", "notices", "objections_open", "councils_met", "councils_unmet",
                       "reviews_opened", "reviews_closed", *(f"campaigns_{s}" for s in CAMPAIGN_STAGES)):
            assert figures[figure] == str(sum(v[figure] for v in expected.values())), (code, figure)
        assert figures["last_sync"] == shown("last_sync", max(v["last_sync"] for v in expected.values() if v["last_sync"]))
        assert figures["rules_age"] == mean([v["rules_age"] for v in expected.values()])
        assert f'href="/t/{code}/?period={key}"' in body
        db.close()
    # 城关镇's file is gone (moved away, as a failed disk would leave it): shown as missing, 池河镇 still counted
    path = store.town_path(CHENGGUAN_TOWN, app)
    os.rename(path, path + ".away")
    try:
        page = client.get(f"/?period={key}").text
    finally:
        os.rename(path + ".away", path)
    missing = re.search(rf'<tr data-town="{CHENGGUAN_TOWN}">(.*?)</tr>', page, re.S).group(1)
    assert "数据文件不在了" in missing and 'data-figure=' not in missing
    assert "城关镇的数据文件不在了，请从备份恢复" in task_section(page)
    assert 'data-figure="households"' in re.search(rf'<tr data-town="{CHIHE_TOWN}">(.*?)</tr>', page, re.S).group(1)


# ---- the charts --------------------------------------------------------------------------------------------------

def chart(page, name):
    svg = re.search(rf'<figure class="chart-box" data-chart="{name}">(<svg.*?</svg>)', page, re.S).group(1)
    table = re.search(rf'<table class="chart-numbers" data-chart="{name}">(.*?)</table>', page, re.S).group(1)
    return svg, table


@pytest.mark.parametrize("key", [quarter_key(today()), str(today().year)])
def test_charts_are_plain_svg_whose_numbers_are_the_tables(app, client, auth, key):
    auth.login(CHIHE)
    page = client.get(f"{DESK}?period={key}").text
    db = town_store(app)
    start, end = bounds(key)
    for name in ("meetings", "cases"):
        svg, table = chart(page, name)
        drawn = re.findall(r'<text[^>]*class="num"[^>]*>(\d+)</text>', svg)
        listed = re.findall(r"<td>(\d+)</td>", table)
        assert drawn == listed and drawn, name
        assert "style=" not in svg and "<script" not in svg and 'role="img"' in svg and "<title" in svg
        assert re.search(r'viewBox="0 0 360 \d+" width="100%"', svg)
        assert not re.search(r'fill="(?!#1a1a1a|#767676)', svg)  # dark ink only: nothing told by colour
    # the meetings table counts confirmed minutes per village in the period, here from the rows
    rows = re.findall(r"<tr><th scope=\"row\">([^<]+)</th>(.*?)</tr>", chart(page, "meetings")[1], re.S)
    names = {v["name"]: v["code"] for v in db["villages"].rows}
    for name, body in rows:
        counts = [int(n) for n in re.findall(r"<td>(\d+)</td>", body)]
        mine = [m for m in db["meetings"].rows if m["village_code"] == names[name] and m["state"] != "draft"
                and within(m["starts_at"], start, end)]
        assert sum(counts) == len(mine), name
    assert len(rows) == db["villages"].count
    db.close()


# ---- fast: one query per figure source, whatever the number of villages ---------------------------------------------

def test_the_desk_asks_one_query_per_figure_source_not_one_per_village(app):
    from villageapp import registry
    from villageapp.desk.figures import all_figures, figure_groups, period_of, village_rows
    db = town_store(app)
    with app.app_context():
        groups = figure_groups()
        sources = {f.source for f in all_figures(groups)}

        def queries():
            seen = []
            db.conn.set_trace_callback(seen.append)
            try:
                rows = village_rows(db, period_of(None), groups)
            finally:
                db.conn.set_trace_callback(None)
            return rows, [q for q in seen if q.lstrip().lower().startswith("select")]
        rows, before = queries()
        with store.write(db):
            for n in range(20):
                registry.add_village(db, f"{CHIHE_TOWN}{300 + n}", f"测试{n}村", "test")
        more, after = queries()
    assert len(more) == len(rows) + 20
    assert len(before) == len(after) == len(sources) + 1  # the villages, then one per source
    assert all("group by x.village_code" in q for q in after[1:])
    db.close()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_desk_table_exports_with_its_period_and_averages(app, client, auth, fmt):
    import csv
    import io

    import openpyxl

    from villageapp.desk.figures import averages, figure_groups, period_of, village_rows
    auth.login(CHIHE)
    response = client.get(f"/t/{CHIHE_TOWN}/figures.{fmt}", query_string={"period": str(today().year)})
    assert response.status_code == 200
    if fmt == "xlsx":
        table = [list(r) for r in openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)]
    else:
        table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    with app.test_request_context():
        groups = figure_groups(kinds.registry(app))
        db = store.open_town(CHIHE_TOWN)
        rows = village_rows(db, period_of(str(today().year)), groups)
        db.close()
    figures = [f for _label, figs in groups for f in figs]
    assert table[0][:2] == ["村（社区）", "示范村"] and len(table[0]) == 2 + len(figures)
    assert [r[0] for r in table[1:]] == [r["name"] for r in rows] + ["全镇平均"] + (["示范村平均"] if any(r["model"] for r in rows) else [])
    for line, row in zip(table[1:], rows, strict=False):
        for cell, f in zip(line[2:], figures, strict=True):
            if f.shown == "number":
                assert str(cell) == str(row[f.key]), (row["name"], f.key)
    town_average = averages(rows, groups)
    for cell, f in zip(table[len(rows) + 1][2:], figures, strict=True):
        if town_average.get(f.key) is not None:
            assert float(cell) == round(town_average[f.key], 1)
    assert client.get(f"/t/{CHIHE_TOWN}/figures.xlsx", query_string={"period": "2026-7"}).status_code == 400
