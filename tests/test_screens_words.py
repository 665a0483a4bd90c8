"""Issue 9 (findings 2, 3, 8, 9, 11, 12): what each role's home asks of it, the audit log in words and pages,
ways back, the household list (actions first, paged), and Chinese quotes and people's names instead of usernames."""
import re

from conftest import CHENGGUAN, CHIHE, CHIHE_TOWN, COUNTY, GUYAN, GUYAN_VILLAGE, LAWYER, MINGXING, MINGXING_VILLAGE

from villageapp import db as store
from villageapp.audit import ACTIONS, FIELDS, TABLES

INTERNAL = {"_sqlite_migrations", "audit"}


def town(app, code=CHIHE_TOWN):
    with app.app_context():
        return store.open_town(code, app)


# ---- 3. the audit log ------------------------------------------------------------------------------

def test_every_table_and_action_the_audit_log_can_name_has_chinese_words(app):
    db = town(app)
    tables = {t for t in db.table_names() if not t.startswith("rule_fts")} - INTERNAL
    assert tables - set(TABLES) == set(), "a table without a Chinese name in audit.TABLES"
    audited = {r["table"] for r in db.query("select distinct [table] from audit")} | {"objections", "rule_opinions"}
    columns = {c.name for t in audited for c in db[t].columns} - {"created_at", "updated_at", "version"}
    assert columns - set(FIELDS) == set(), "a column without a Chinese name in audit.FIELDS"
    used = {r["action"] for r in db.query("select distinct action from audit")}
    assert used - set(ACTIONS) == set()
    for step in ("consultation", "draft", "review", "approval", "vote", "filing", "publish"):
        assert "rule_" + step in ACTIONS


def test_audit_log_speaks_chinese_names_people_and_folds_each_entry(app, client, auth):
    auth.login(CHIHE)
    page = client.get(f"/t/{CHIHE_TOWN}/audit/").text
    body = page[page.index("<main"):]
    for english in ("rule_versions", "rule_articles", "council_members", "rule_opinions", ">demo<", "households"):
        assert english not in re.sub(r'(value|href)="[^"]*"', "", body), english
    assert "系统（演示数据）" in body
    assert body.count("<details>") == 30 and "下一页" in body  # a page of folded lines, then the next page
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
