"""村规民约 search index (issue 10): rule_articles_fts, made by sqlite-utils' enable_fts (trigram, its own triggers),
follows every insert, update and delete of an article; a town file made before m009 keeps finding its old articles
after the upgrade; and the migration is one transaction with the write() that runs it."""
import pytest

from villageapp import store
from villageapp.registry import data as registry
from villageapp.rules import data as rules
from villageapp.rules import search

TOWN, VILLAGE = "610922199", "610922199001"  # a town of its own, apart from the demo county's


def new_town_file(path, stop_before=None):
    """A town file brought up to date (or up to stop_before) the way create_town_store does, with one village
    and a first-making cycle (staff search sees a version in progress)."""
    db = store.open_db(path)
    with store.write(db):
        store.town_migrations.apply(db, stop_before=stop_before)
    village = registry.add_village(db, VILLAGE, "试点村", "test")
    version, _ = rules.start_cycle(db, village, "test")
    return db, version


def found(db, query):
    return [r["uuid"] for r in search.search(db, query)]


def index_is_sound(db):
    """FTS5's own check that the index holds exactly the text of rule_articles (raises if not)."""
    db.execute("insert into rule_articles_fts(rule_articles_fts) values ('integrity-check')")
    return True


def test_the_index_follows_insert_update_and_delete_of_an_article(tmp_path):
    db, version = new_town_file(tmp_path / "town.db")
    kept = rules.save_article(db, version, {"chapter": "第一章 总则", "title": "目的", "body": "为了弘扬文明新风，制定本约。"},
                              "test")
    row = rules.save_article(db, version, {"chapter": "第二章 移风易俗", "title": "红白事",
                                           "body": "婚丧喜庆由红白理事会操办，礼金不超过 200 元。"}, "test")
    assert found(db, "红白理事会") == [row["uuid"]]  # body, trigram
    assert found(db, "移风易俗") == [row["uuid"]]  # chapter
    assert found(db, "红白事") == [row["uuid"]]  # title
    assert found(db, "礼金") == [row["uuid"]]  # two characters: LIKE
    assert found(db, "文明新风 总则") == [kept["uuid"]]  # every word, in any column
    assert found(db, "红白理事会 总则") == []
    assert index_is_sound(db)

    row = rules.save_article(db, version, {"chapter": "第二章 移风易俗", "title": "喜事新办",
                                           "body": "婚事由喜事操办小组帮办，不大操大办。"}, "test", row=row)
    assert found(db, "红白理事会") == [] and found(db, "红白事") == [] and found(db, "礼金") == []
    assert found(db, "喜事操办小组") == [row["uuid"]] and found(db, "喜事新办") == [row["uuid"]]
    assert index_is_sound(db)

    rules.delete_article(db, row, "test")
    assert found(db, "喜事操办小组") == [] and found(db, "移风易俗") == []
    assert found(db, "文明新风") == [kept["uuid"]]
    assert index_is_sound(db)
    db.close()


def test_a_town_file_from_before_m009_finds_its_old_articles_after_the_upgrade(app, instance_path):
    path = instance_path / "towns" / f"{TOWN}.db"
    db, version = new_town_file(path, stop_before="m009_rule_fts")
    old = rules.save_article(db, version, {"chapter": "第三章 环境卫生", "title": None,
                                           "body": "垃圾分类投放，门前三包落实到户。"}, "test")
    assert db["rule_fts"].count == 1 and not db["rule_articles_fts"].exists()  # indexed by m005's triggers
    db.close()

    with app.app_context():
        db = store.open_town(TOWN, app)  # the way a request opens it: pending migrations applied in write()
    assert "m009_rule_fts" in [m.name for m in store.town_migrations.applied(db)]
    assert not db["rule_fts"].exists()
    assert sorted(t.name for t in db["rule_articles"].triggers) == ["rule_articles_ad", "rule_articles_ai",
                                                                    "rule_articles_au"]
    assert all("rule_articles_fts" in t.sql for t in db["rule_articles"].triggers)  # sqlite-utils' triggers, not m005's
    assert found(db, "垃圾分类投放") == [old["uuid"]] and found(db, "环境卫生") == [old["uuid"]]
    assert found(db, "三包") == [old["uuid"]]
    assert index_is_sound(db)
    new = rules.save_article(db, version, {"chapter": "第三章 环境卫生", "body": "禁止焚烧秸秆。"}, "test")
    assert found(db, "焚烧秸秆") == [new["uuid"]] and found(db, "环境卫生") == [old["uuid"], new["uuid"]]  # by sort
    db.close()


def test_m009_is_undone_whole_when_its_write_fails(tmp_path):
    """enable_fts runs inside the migrations' write(): nothing of it is committed on its own (Python's executescript
    would COMMIT first; sqlite-utils runs the statements one by one inside a transaction)."""
    db, version = new_town_file(tmp_path / "town.db", stop_before="m009_rule_fts")
    rules.save_article(db, version, {"chapter": "第一章", "body": "爱护公共设施。"}, "test")
    with pytest.raises(RuntimeError), store.write(db):
        store.m009_rule_fts(db)
        assert db["rule_articles_fts"].exists() and db.conn.in_transaction
        raise RuntimeError("power cut")
    assert db["rule_fts"].exists() and not db["rule_articles_fts"].exists()
    assert db.execute("select count(*) from rule_fts where rule_fts match '\"公共设施\"'").fetchone()[0] == 1
    db.close()
