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


# ---- villageapp serve: gunicorn workers × threads -------------------------------------------------------------

def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid):
    """The pids of a process's children (Linux /proc)."""
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(name))
    return found


class _Served:
    """`villageapp serve` in a subprocess on a free port, as an operator starts it."""

    def __init__(self, instance, *args, env=None):
        import subprocess
        import sys
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.err = open(instance / "serve-stderr.log", "w+b")
        self.process = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "villageapp"), "serve", "--host", "127.0.0.1",
             "--port", str(self.port), *args], stdout=subprocess.PIPE, stderr=self.err,
            env={**os.environ, "VILLAGEAPP_INSTANCE_PATH": str(instance), "PYTHONPATH": ROOT, **(env or {})})

    def wait_until_up(self):
        import time
        import urllib.request
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.stderr()
            try:
                with urllib.request.urlopen(self.base + "/login", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("villageapp serve did not answer within 60 s: " + self.stderr())

    def stderr(self):
        if not self.err.closed:
            self.err.seek(0)
            self.log = self.err.read().decode("utf-8", "replace")
        return self.log

    def stop(self):
        import signal
        import subprocess
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("villageapp serve did not stop within 15 s of SIGTERM")
        finally:
            self.process.stdout.close()
            self.stderr()
            self.err.close()


def _get(url, headers=None):
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args, **_kwargs):
            return None
    try:
        with urllib.request.build_opener(NoRedirect).open(urllib.request.Request(url, headers=headers or {}),
                                                          timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace"), dict(r.headers)
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read().decode("utf-8", "replace"), dict(e.headers)


def test_serve_runs_gunicorn_workers_that_answer_and_stop_on_sigterm(instance_path):
    served = _Served(instance_path, "--workers", "2", "--threads", "2")
    try:
        served.wait_until_up()
        workers = _children(served.process.pid)
        assert len(workers) == 2, workers  # two processes: both cores, each with its own GIL
        status, _text, _headers = _get(served.base + "/")
        assert status in (200, 302), status
        status, _text, _headers = _get(served.base + f"/v/{demo.TOWNS[1][2][0][0]}/")  # the public village page
        assert status == 200, status
    finally:
        code = served.stop()
    assert code == 0, (code, served.stderr())
    assert "Traceback" not in served.stderr(), served.stderr()
    assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}")], "workers left running after SIGTERM"


def _failure_addresses(instance_path):
    return [ip for (ip,) in sqlite_utils.Database(instance_path / "directory.db").execute(
        "select ip from login_failures order by id")]


def _wrong_login(base, headers):
    import http.cookiejar
    import urllib.parse
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(urllib.request.Request(base + "/login", headers=headers), timeout=30) as r:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', r.read().decode()).group(1)
    data = urllib.parse.urlencode({"username": "mingxing", "password": "wrong-password", "csrf_token": token}).encode()
    with opener.open(urllib.request.Request(base + "/login", data=data, headers=headers), timeout=30) as r:
        return r.status


def test_gunicorn_takes_the_address_from_the_proxy_only_with_trust_proxy(instance_path):
    """As with waitress: X-Forwarded-For counts only behind a trusted proxy (TRUST_PROXY=1), else it is a lie."""
    headers = {"X-Forwarded-For": "203.0.113.7"}
    for env in ({}, {"VILLAGEAPP_TRUST_PROXY": "1"}):
        served = _Served(instance_path, "--server", "gunicorn", "--workers", "1", env=env)
        try:
            served.wait_until_up()
            assert _wrong_login(served.base, headers) == 200
        finally:
            assert served.stop() == 0, served.stderr()
    assert _failure_addresses(instance_path) == ["127.0.0.1", "203.0.113.7"]
