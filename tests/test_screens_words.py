"""Issue 9 (findings 2, 3, 8, 9, 11, 12): what each role's home asks of it, the audit log in words and pages,
ways back, the household list (actions first, paged), and Chinese quotes and people's names instead of usernames."""
import re

from conftest import CHIHE, CHIHE_TOWN, COUNTY, LAWYER, MINGXING, MINGXING_VILLAGE

from villageapp import audit, store

INTERNAL = {"_sqlite_migrations", "audit"}


def town(app, code=CHIHE_TOWN):
    with app.app_context():
        return store.open_town(code, app)


# ---- 3. the audit log ------------------------------------------------------------------------------

def test_every_table_and_action_the_audit_log_can_name_has_chinese_words(app):
    """The words are audit.py's common ones merged with every registered kind's (its manifest's tables, fields, actions)."""
    db = town(app)
    with app.app_context():
        tables, fields, actions = audit.tables(), audit.fields(), audit.actions()
    names = {t for t in db.table_names() if not t.startswith("rule_articles_fts")} - INTERNAL
    assert names - set(tables) == set(), "a table without a Chinese name in audit.TABLES or a kind's tables"
    audited = {r["table"] for r in db.query("select distinct [table] from audit")} | {"objections", "rule_opinions"}
    columns = {c.name for t in audited for c in db[t].columns} - {"created_at", "updated_at", "version"}
    assert columns - set(fields) == set(), "a column without a Chinese name in audit.FIELDS or a kind's fields"
    used = {r["action"] for r in db.query("select distinct action from audit")}
    assert used - set(actions) == set()
    for step in ("consultation", "draft", "review", "approval", "vote", "filing", "publish"):
        assert "rule_" + step in actions


def test_a_kinds_audit_words_come_from_its_manifest(app):
    """A kind adds its words by declaring them; audit.py keeps only those common to every record."""
    from villageapp import kinds
    with app.app_context():
        rulebook = kinds.kind("rulebook")
        assert rulebook.tables["rule_versions"] == audit.tables()["rule_versions"] == "村规民约的一版"
        assert "rule_versions" not in audit.TABLES and "rule_review" not in audit.ACTIONS
        assert audit.actions()["rule_review"] == "村规民约·法律顾问审查"
        assert audit.values()["stage"]["review"] == "法律顾问审查"  # a kind's coded values may live in its own module
        assert audit.values()["status"] == {"published": "已发布", "withdrawn": "已撤回", "open": "待答复",
                                             "answered": "已答复", "adopted": "已采纳"}


def test_audit_log_speaks_chinese_names_people_and_folds_each_entry(app, client, auth):
    auth.login(CHIHE)
    page = client.get(f"/t/{CHIHE_TOWN}/audit/").text
    body = page[page.index("<main"):]
    for english in ("rule_versions", "rule_articles", "council_members", "rule_opinions", ">demo<", "households"):
        assert english not in re.sub(r'(value|href)="[^"]*"', "", body), english
    assert "系统（演示数据）" in body
    assert body.count("<details>") == 20 and "下一页" in body  # a page of folded lines, then the next page
    assert "村规民约的一版" in page and "村规民约·法律顾问审查" in client.get(
        f"/t/{CHIHE_TOWN}/audit/?action=rule_review").text
    second = client.get(f"/t/{CHIHE_TOWN}/audit/?page=2")
    assert second.status_code == 200 and "上一页" in second.text


def test_audit_log_shows_a_persons_name_and_position_and_what_changed(app, client, auth):
    auth.login(MINGXING)
    token = auth.token()
    house = client.post(f"/v/{MINGXING_VILLAGE}/households/new", data={
        "csrf_token": token, "group": "", "new_group": "九组", "head_name": "审计测", "address": "九组1号", "gender": "男",
        "birth_year": "1970"})
    assert house.status_code == 302
    auth.logout()
    auth.login(CHIHE)
    page = client.get(f"/t/{CHIHE_TOWN}/audit/?table=households").text
    assert "张德明（书记）" in page and "户主" in page and "审计测" in page
    assert ">mingxing<" not in page


# ---- 2. 需要我处理 per role; 8. the two meeting tiles; 9. ways back -------------------------------------

def section(page, heading="需要我处理"):
    start = page.index(heading)
    return page[start:page.index("</ul>", start)]


def test_adviser_is_asked_for_the_review_and_nothing_a_cadre_does(client, auth):
    auth.login(LAWYER)
    home = client.get("/", follow_redirects=True).text
    todo = section(home)
    assert "明星村 · 村规民约第 2 版：法律顾问审查" in todo and "五爱村 · 村规民约第 2 版：法律顾问审查" in todo
    village = client.get(f"/v/{MINGXING_VILLAGE}/home").text
    todo = section(village)
    assert "村规民约第 2 版等您办理：法律顾问审查" in todo
    for cadre_task in ("核对后请确认", "公示中", "待答复", "待定"):
        assert cadre_task not in todo, cadre_task
    assert "← 我负责的村" in village


def test_cadre_town_and_county_each_see_their_own_tasks(client, auth):
    auth.login(MINGXING)
    todo = section(client.get(f"/v/{MINGXING_VILLAGE}/home").text)
    assert "公示中" in todo and "法律顾问审查" not in todo
    assert "村规民约意见：建议礼金再降一点" in todo and "/rules/opinions/" in todo  # the cadre answers opinions
    auth.logout()
    auth.login(CHIHE)
    town_home = client.get(f"/t/{CHIHE_TOWN}/").text
    town_todo = section(town_home)  # the demo's amendments wait for the adviser, not the town; a reported campaign does
    assert "法律顾问审查" not in town_todo and "村里已上报结果，请确认" in town_todo
    village = client.get(f"/v/{MINGXING_VILLAGE}/home").text
    assert "没有要您办理的事" in section(village) and "← 镇工作台" in village
    auth.logout()
    auth.login(COUNTY)
    assert "没有要您办理的事" in section(client.get("/").text)


def test_town_is_asked_for_the_approval_once_the_adviser_passed_the_review(app, client, auth):
    auth.login(LAWYER)
    village = client.get(f"/v/{MINGXING_VILLAGE}/home").text
    version = re.search(r'/rules/versions/([0-9a-f-]+)"', section(village)).group(1)
    step = f"/v/{MINGXING_VILLAGE}/rules/versions/{version}/steps/review"
    answer = client.post(step, data={"csrf_token": auth.token(step), "outcome": "passed", "done_on": today_iso(),
                                     "note": "审查通过"})
    assert answer.status_code == 302, answer.text
    auth.logout()
    auth.login(CHIHE)
    assert "明星村 · 村规民约第 2 版：镇审核" in section(client.get(f"/t/{CHIHE_TOWN}/").text)


def today_iso():
    from villageapp.clock import today
    return today().isoformat()


def test_cadre_home_names_the_meeting_tiles_apart_and_links_conflicts_even_when_none(client, auth):
    auth.login(MINGXING)
    page = client.get(f"/v/{MINGXING_VILLAGE}/home").text
    assert "开会记录" not in page
    assert re.search(r'href="/v/\d+/meetings/new">＋ 记一次会<small>开会时当场填写', page)
    assert re.search(r'href="/v/\d+/meetings/">会议记录<small>已记的会', page)
    assert f'href="/v/{MINGXING_VILLAGE}/conflicts/">待定的修改（0）' in page
    outbox = client.get("/outbox").text
    assert f'href="/v/{MINGXING_VILLAGE}/home"' in outbox and "← 回到本村首页" in outbox


# ---- 11. households: actions first, then the list, in pages ------------------------------------------

def test_household_list_puts_actions_first_and_pages_500_households_keeping_the_search(app, client, auth):
    from villageapp import registry
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        with store.write(db):
            for i in range(494):  # the demo village has 6: 500 in all
                registry.add_household(db, MINGXING_VILLAGE, "七组" if i % 2 else "八组", f"测{i:03d}户", "test",
                                       address=f"七组{i}号")
        db.close()
    auth.login(MINGXING)
    url = f"/v/{MINGXING_VILLAGE}/households/"
    first = client.get(url).text
    assert "500 户" in first and "第 1 / 10 页" in first
    assert first.index("添加一户") < first.index("从 Excel 表批量导入") < first.index("<table")
    assert first.count("/households/") - first.count("/households/new") - first.count("/households/import") < 60
    assert len(re.findall(r"<tr><td>", first)) == 50
    found = client.get(url, query_string={"q": "测1"}).text  # 测1xx: 100 households, two pages
    assert "找到 100 户" in found and "第 1 / 2 页" in found
    assert 'page=2&amp;q=%E6%B5%8B1' in found or 'q=%E6%B5%8B1&amp;page=2' in found
    second = client.get(url, query_string={"q": "测1", "page": "2"}).text
    assert len(re.findall(r"<tr><td>", second)) == 50 and "上一页" in second and "下一页" not in second
    assert client.get(url, query_string={"page": "11"}).status_code == 404
    assert client.get(url, query_string={"page": "x"}).status_code == 404


# ---- 12. words: Chinese quotes, people instead of usernames ---------------------------------------------

def test_a_town_file_from_before_gets_the_two_committees_named_with_chinese_quotes(app):
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        with store.write(db):  # as an older release left it
            db.execute("update councils set name = '村\"两委\"会' where name = '村“两委”会'")
            db.execute("delete from _sqlite_migrations where name = 'm008_chinese_quotes'")
        db.close()
        store._migrated.clear()
        db = store.open_town(CHIHE_TOWN, app)
        names = {r["name"] for r in db["councils"].rows}
        assert "村“两委”会" in names and '村"两委"会' not in names
        assert db["councils"].count_where("name = ?", ["村“两委”会"]) == 3  # one per village, the same rows
        db.close()


def test_no_ascii_quotes_around_chinese_words_on_the_pages_and_rule_steps_name_the_person(client, auth):
    auth.login(MINGXING)
    pages = [f"/v/{MINGXING_VILLAGE}/councils/", f"/v/{MINGXING_VILLAGE}/meetings/new",
             f"/v/{MINGXING_VILLAGE}/meetings/trails/", f"/v/{MINGXING_VILLAGE}/home"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.text
        assert not re.search(r'[\u4e00-\u9fff]"[\u4e00-\u9fff]+"[\u4e00-\u9fff]', text), url
    assert "村“两委”会" in client.get(f"/v/{MINGXING_VILLAGE}/councils/").text
    manage = client.get(f"/v/{MINGXING_VILLAGE}/rules/manage").text
    first = re.search(r'/rules/versions/([0-9a-f-]+)"', manage).group(1)
    trails = []
    for uuid in dict.fromkeys(re.findall(r'/rules/versions/([0-9a-f-]+)"', manage)):
        page = client.get(f"/v/{MINGXING_VILLAGE}/rules/versions/{uuid}").text
        trails.append(page[page.index("办理经过"):])
    trail = "".join(trails)
    assert first and "赵敏（法律顾问）" in trail and "陈志强（镇干部）" in trail and "张德明（书记）" in trail
    assert "· demo" not in trail and "· mingxing" not in trail


def test_demo_steps_without_an_account_show_the_system_not_a_username(client, auth):
    auth.login(CHIHE)
    village = "610922104203"  # 谭家湾村: no cadre account in the demo
    manage = client.get(f"/v/{village}/rules/manage").text
    uuid = re.search(r'/rules/versions/([0-9a-f-]+)"', manage).group(1)
    page = client.get(f"/v/{village}/rules/versions/{uuid}").text
    assert "系统（演示数据）" in page and "· demo" not in page


def test_audit_detail_says_coded_values_in_words(client, auth):
    auth.login(CHIHE)
    page = client.get(f"/t/{CHIHE_TOWN}/audit/?action=rule_consultation").text
    assert "征集意见 → 草案" in page.replace("<del>", "").replace("</del>", "")
    shown = page[page.index('class="audit-log"'):]
    assert "consultation" not in shown and "draft" not in shown
