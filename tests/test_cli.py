"""The villageapp command: the demo county is built once, the instance folder can live elsewhere,
towns/villages/users can be added, and every setting is documented."""
import os
import re

import sqlite_utils

from villageapp import create_app, demo, settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def counts(path):
    towns = {}
    for name in sorted(n for n in os.listdir(path / "towns") if n.endswith(".db")):
        db = sqlite_utils.Database(path / "towns" / name)
        towns[name] = {t: db[t].count for t in ("villages", "households", "residents", "notices", "review_sessions",
                                                "review_cases", "review_steps", "campaigns", "campaign_entries", "campaign_scores",
                                                "awards", "campaign_steps")}
        towns[name]["stages"] = sorted(r[0] for r in db.execute("select stage from campaigns"))
        towns[name]["withdrawn"] = db.execute("select count(*) from awards where withdrawn_on is not null").fetchone()[0]
    users = sqlite_utils.Database(path / "directory.db")["users"].count
    return towns, users


def test_demo_builds_once_and_running_it_again_adds_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("VILLAGEAPP_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True})
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "mingxing" in first.output and demo.PASSWORD in first.output
    before = counts(tmp_path)
    assert len(before[0]) == 2 and before[1] == len(demo.ACCOUNTS)
    assert all(c["villages"] == 3 and c["households"] == 3 * 40 for c in before[0].values())
    assert all(c["review_sessions"] == 3 and c["review_cases"] == 3 * 6 for c in before[0].values())
    # each town: last year's campaign plaqued (one title since withdrawn) and this year's being scored in its first
    # village, one in 公示 in the second, one reported in the third
    assert all(c["stages"] == ["plaqued", "publicity", "reported", "scoring"] and c["withdrawn"] == 1
               and c["awards"] > 1 and c["campaign_scores"] > 0 for c in before[0].values())
    second = runner.invoke(args=["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert counts(tmp_path) == before


def test_demo_names_are_real_shiquan_towns(tmp_path, monkeypatch):
    names = [name for _code, name, _villages in demo.TOWNS]
    assert "城关镇" in names and "池河镇" in names


def test_operator_adds_a_town_village_and_user(tmp_path, monkeypatch):
    monkeypatch.setenv("VILLAGEAPP_INSTANCE_PATH", str(tmp_path))
    runner = create_app({"TESTING": True}).test_cli_runner()
    assert runner.invoke(args=["add-town", "610922101", "饶峰镇"]).exit_code == 0
    assert (tmp_path / "towns" / "610922101.db").exists()
    assert runner.invoke(args=["add-village", "610922101201", "胜利村", "--model"]).exit_code == 0
    bad = runner.invoke(args=["add-village", "610922109201", "别的村"])
    assert bad.exit_code != 0 and "add-town" in bad.output
    result = runner.invoke(args=["add-user", "raofeng", "--name", "饶峰镇 干部", "--role", "town", "--town", "610922101",
                                 "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["migrate"]).exit_code == 0
    village = sqlite_utils.Database(tmp_path / "towns" / "610922101.db")["villages"].get("610922101201")
    assert village["model"] == 1 and village["name"] == "胜利村"


def test_every_setting_is_documented_in_the_readme():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    missing = [name for name, _default, _help in settings.SETTINGS if f"`{name}`" not in readme]
    assert not missing, f"document these settings in README.md: {missing}"


def test_every_cli_command_is_documented_in_the_readme():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    app = create_app({"TESTING": True})
    ours = [name for name, cmd in app.cli.commands.items() if cmd.callback.__module__.startswith("villageapp")]
    missing = [name for name in ours if not re.search(rf"villageapp {re.escape(name)}\b", readme)]
    assert not missing, f"document these commands in README.md: {missing}"
