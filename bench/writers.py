"""Many writers on one town file, through HTTP against a real `villageapp serve` (waitress in a subprocess).

    python bench/writers.py [--writers 20] [--seconds 30] [--kinds notice,objection,...] [--instance DIR]

Each kind of write route gets its own run: WRITERS threads, each with its own cookie jar (cadres sign in as the demo
cadre mingxing, each thread its own sign-in, kept for the next kind; villagers are anonymous), write as fast as the
server answers for SECONDS (or --writes per writer). Then the town file is read back: every accepted write must be there exactly once,
nothing refused must be there. Prints, per kind: writers, requests, answers by status, rows found vs accepted,
median and slowest answer, and whether any answer or the server's stderr says "database is locked".
Without --instance, a demo county is built in a temp folder. tests/test_writers.py runs the same code, shorter."""
import argparse
import http.cookiejar
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid as uuidlib
from collections import Counter

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

VILLAGE, TOWN = "610922104201", "610922104"  # 明星村, 池河镇 of the demo county
OTHER_VILLAGE = "610922104209"                # 同乐村, added by prepare(): its first 村规民约 takes opinions
DRAFT_VILLAGE = "610922104210"                # 和平村, added by prepare(): its first 村规民约 is being drafted
STEP_VILLAGE = "610922104211"                 # 新华村, added by prepare(): its first 村规民约 waits for 征集意见 done
CADRE, PASSWORD = "mingxing", "shiquan2026"
TOWN_STAFF = "chihe"                          # 池河镇's staff in the demo
# cadres added by prepare(): one for each new village, and one that only signs in and out
BENCH_CADRES = {"bench.draft": DRAFT_VILLAGE, "bench.step": STEP_VILLAGE, "bench.signin": VILLAGE,
                "bench.tongle": OTHER_VILLAGE}
LOCKED = re.compile(r"database is locked|database table is locked|OperationalError", re.I)


# ---- the server ------------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`villageapp serve` on a free port over an instance folder; stderr kept in a file to be read afterwards."""

    def __init__(self, instance, threads=32, env=None, name="serve", args=()):
        self.instance, self.threads, self.env, self.args = str(instance), threads, env or {}, list(args)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stderr_path = os.path.join(self.instance, f"{name}-stderr.log")

    def __enter__(self):
        # PYTHONPATH: the server runs the code of this checkout, whichever copy of the app is installed
        env = {**os.environ, "VILLAGEAPP_INSTANCE_PATH": self.instance, "PYTHONPATH": os.path.abspath(ROOT), **self.env}
        self._err = open(self.stderr_path, "wb")
        exe = os.path.join(os.path.dirname(sys.executable), "villageapp")
        self.process = subprocess.Popen([exe, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                         "--threads", str(self.threads), *self.args], env=env, stdout=subprocess.DEVNULL,
                                        stderr=self._err)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("villageapp serve stopped: " + self.stderr())
            try:
                with urllib.request.urlopen(self.base + "/login", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                time.sleep(0.2)
        raise RuntimeError("villageapp serve did not answer within 60 s: " + self.stderr())

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def __exit__(self, *_exc):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._err.close()


# ---- one browser: a cookie jar, no redirects followed ----------------------------------------------------

class _Keep3xx(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None  # a 302 is the answer we look at, not a page to fetch


# (server address, username) → cookie jars of sign-ins a finished run left open: the next kind's writers take them
# instead of signing in again (each sign-in costs a password hash); the sign-in kind tests signing in itself
_SIGNED_IN = {}


class Browser:
    def __init__(self, base):
        self.base = base
        self._use(http.cookiejar.CookieJar())
        self.locked = 0  # answers that said "database is locked" (or showed an OperationalError)
        self.signed_in_as = None

    def _use(self, jar):
        self.jar = jar
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _Keep3xx)

    def release(self):
        """Leave this browser's sign-in for the next run's writers."""
        if self.signed_in_as:
            _SIGNED_IN.setdefault((self.base, self.signed_in_as), []).append(self.jar)
            self.signed_in_as = None

    def request(self, method, path, form=None, body=None, headers=None):
        """(status, text). form: dict whose values may be lists (sent urlencoded); body: JSON-able."""
        headers = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=120) as r:
                status, text = r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            with e:
                status, text = e.code, e.read().decode("utf-8", "replace")
        self.locked += bool(LOCKED.search(text))
        return status, text

    def get(self, path):
        return self.request("GET", path)

    def token(self, path):
        status, text = self.get(path)
        if status != 200:  # an error page carries the token in its <meta> too: it is not a form to fill
            raise RuntimeError(f"{path} answered {status}: {text[:300]}")
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text) or re.search(
            r'name="csrf-token" content="([^"]+)"', text)
        if not match:
            raise RuntimeError(f"no CSRF token on {path} ({status}): {text[:300]}")
        return match.group(1)

    def login(self, username=CADRE, password=PASSWORD):
        try:
            self._use(_SIGNED_IN.get((self.base, username), []).pop())
        except IndexError:
            pass
        else:
            self.signed_in_as = username
            return
        status, text = self.request("POST", "/login", {"username": username, "password": password, "remember": "y",
                                                       "csrf_token": self.token("/login")})
        if status != 302:
            raise RuntimeError(f"login of {username} answered {status}: {text[:300]}")
        self.signed_in_as = username


# ---- what there is to write to (read from the files before the server starts) ---------------------------

def prepare(instance):
    """Add 同乐村 and open its first 村规民约 for opinions (the demo's amendments are past that stage), and read what
    the routes need: the running 公示, a council and its members. Returns a dict."""
    os.environ["VILLAGEAPP_INSTANCE_PATH"] = str(instance)
    try:
        from villageapp import create_app
        app = create_app()
    finally:
        os.environ.pop("VILLAGEAPP_INSTANCE_PATH", None)
    from villageapp import auth, registry
    from villageapp import store
    from villageapp.councils import data as councils
    from villageapp.notices import data as notices
    from villageapp.rules import data as rules
    from villageapp.rules import procedure

    class Bench:  # who takes a step of the procedure here (the procedure wants a username and a role)
        username, role = "bench", "cadre"

    with app.app_context():
        db = store.open_town(TOWN, app)
        try:
            versions = {}
            for code, name in ((OTHER_VILLAGE, "同乐村"), (DRAFT_VILLAGE, "和平村"), (STEP_VILLAGE, "新华村")):
                if db["villages"].count_where("code = ?", [code]) == 0:
                    registry.add_village(db, code, name, "bench")
                book = rules.rulebook(db, code)
                running = rules.open_version(db, book) if book else None
                if running is None:
                    running, _message = rules.start_cycle(db, db["villages"].get(code), "bench", "首次制定")
                if code == DRAFT_VILLAGE and running["stage"] == "consultation":
                    running = procedure.take_step(db, running, "consultation", Bench, note="准备起草")
                versions[code] = running["uuid"]
            notice = next(n for n in db["notices"].rows_where("village_code = ?", [VILLAGE]) if notices.in_notice_period(n))
            council = councils.council_by_name(db, VILLAGE, "红白理事会")
            roster = [m["uuid"] for m in councils.members(db, council["uuid"], current_only=True)]
            branch = db.execute("select m.uuid from meetings m join councils c on c.uuid = m.council_uuid where "
                                "m.village_code = ? and c.name = '党支部委员会' and m.state != 'draft' limit 1",
                                [VILLAGE]).fetchone()
        finally:
            db.close()
        directory = store.open_directory(app)
        try:
            for username, village in BENCH_CADRES.items():
                if not directory.execute("select 1 from users where username = ?", [username]).fetchone():
                    auth.create_user(directory, username, PASSWORD, "并发测试", "cadre", "bench", town_code=TOWN,
                                     villages=[village], position="委员")
        finally:
            directory.close()
    return {"notice": notice["uuid"], "council": council["uuid"], "roster": roster,
            "draft_version": versions[DRAFT_VILLAGE], "step_version": versions[STEP_VILLAGE],
            "branch_meeting": branch[0] if branch else None}


# ---- the kinds of write -------------------------------------------------------------------------------------
# Each kind: begin(server, writers) makes, once per run, what all writers share (self.tag and self.instance are set);
# setup(browser, w) signs in or makes what the writer will change; write(browser, state, mark) sends one write and
# returns (status, accepted); found(db, tag) returns the marks of the writes stored in the town file (or, where a
# write leaves no mark of its own, how many are stored). A kind where only ONE of all writers may win (one_wins)
# must have exactly one write accepted, the others refused with the status of expected().

V = f"/v/{VILLAGE}"


def _today():
    from villageapp.clock import today
    return today().isoformat()


class Kind:
    cadre = True
    username = CADRE     # who the writers sign in as
    ok_status = 302      # the answer to an accepted write
    one_wins = False
    test_writes = None   # writes per writer in tests/test_writers.py when its default is too slow (password hashes)

    def __init__(self, ctx):
        self.ctx = ctx
        self.tag, self.instance = "", None

    def begin(self, server, writers):
        pass

    def setup(self, browser, w):
        if self.cadre:
            browser.login(self.username)
        return {}

    def expected(self, requests):
        """Every answer of a run, by status (or a set: the statuses any answer may have)."""
        return {self.ok_status: requests}

    def directory(self):
        return sqlite3.connect(f"file:{os.path.join(self.instance, 'directory.db')}?mode=ro", uri=True, timeout=30)

    def post_form(self, browser, path, form, page=None):
        form = {**form, "csrf_token": browser.token(page or path)}
        status, _text = browser.request("POST", path, form)
        return status, status == 302


class Notice(Kind):
    """A cadre publishes a notice (村务公开)."""
    def write(self, browser, state, mark):
        return self.post_form(browser, f"{V}/notices/new", {
            "uuid": str(uuidlib.uuid4()), "category": "村务", "title": mark, "body": "并发写入测试",
            "publish_date": _today(), "end_date": ""})

    def found(self, db, tag):
        return {r[0] for r in db.execute("select title from notices where title like ?", [tag + "%"])}


class Objection(Kind):
    """A villager, without an account, objects to the running 公示."""
    cadre = False

    def write(self, browser, state, mark):
        return self.post_form(browser, f"{V}/notices/{self.ctx['notice']}/objection",
                              {"uuid": str(uuidlib.uuid4()), "body": mark, "name": "", "phone": ""})

    def found(self, db, tag):
        return {r[0] for r in db.execute("select body from objections where body like ?", [tag + "%"])}


class Answer(Kind):
    """A cadre answers an objection again and again (each answer is an update of the same row, audited)."""
    def setup(self, browser, w):
        villager = Browser(browser.base)
        uid = str(uuidlib.uuid4())
        status, _ok = Objection(self.ctx).post_form(villager, f"{V}/notices/{self.ctx['notice']}/objection",
                                                    {"uuid": uid, "body": "要答复的异议", "name": "", "phone": ""})
        if status != 302:
            raise RuntimeError(f"objection for the answer writers answered {status}")
        browser.login()
        return {"uuid": uid}

    def write(self, browser, state, mark):
        return self.post_form(browser, f"{V}/objections/{state['uuid']}", {"answer": mark})

    def found(self, db, tag):
        out = set()
        for (after,) in db.execute("select after from audit where action = 'answer' and \"table\" = 'objections' "
                                   "and after like ?", [f"%{tag}%"]):
            out.add(json.loads(after)["answer"])
        return out


class Household(Kind):
    """A cadre adds a household (and its head) by hand."""
    def write(self, browser, state, mark):
        return self.post_form(browser, f"{V}/households/new", {
            "uuid": str(uuidlib.uuid4()), "group": "三组", "new_group": "", "head_name": mark, "address": "",
            "phone": "", "gender": "男", "birth_year": "1970"})

    def found(self, db, tag):
        heads = {r[0] for r in db.execute("select head_name from households where head_name like ?", [tag + "%"])}
        residents = {r[0] for r in db.execute("select name from residents where name like ? and relation = '户主'",
                                              [tag + "%"])}
        return heads & residents  # a household counts only with its head


class Resident(Kind):
    """A cadre adds people to a household (an edit of the household)."""
    def setup(self, browser, w):
        browser.login()
        uid = str(uuidlib.uuid4())
        status, _ok = Household(self.ctx).post_form(browser, f"{V}/households/new", {
            "uuid": uid, "group": "三组", "new_group": "", "head_name": f"户主{uid[:8]}", "address": "", "phone": "",
            "gender": "", "birth_year": ""})
        if status != 302:
            raise RuntimeError(f"household for the resident writers answered {status}")
        return {"uuid": uid}

    def write(self, browser, state, mark):
        path = f"{V}/households/{state['uuid']}/residents/new"
        return self.post_form(browser, path, {"uuid": str(uuidlib.uuid4()), "name": mark, "relation": "子",
                                              "gender": "", "birth_year": "", "phone": ""})

    def found(self, db, tag):
        return {r[0] for r in db.execute("select name from residents where name like ? and relation = '子'", [tag + "%"])}


class Opinion(Kind):
    """A villager, without an account, gives an opinion on a 村规民约 open for consultation."""
    cadre = False
    ok_status = 200

    def write(self, browser, state, mark):
        status, text = browser.request("POST", f"/v/{OTHER_VILLAGE}/rules/consultation", {
            "uuid": str(uuidlib.uuid4()), "name": "", "body": mark,
            "csrf_token": browser.token(f"/v/{OTHER_VILLAGE}/rules/consultation")})
        return status, status == 200 and "您的意见已收到" in text  # the thanks page (a refused form is a 200 too)

    def found(self, db, tag):
        return {r[0] for r in db.execute("select body from rule_opinions where body like ?", [tag + "%"])}


def _minutes(ctx, mark):
    return {"council": ctx["council"], "date": _today(), "time": "14:30", "place": mark, "host": "张德明",
            "recorder": "李秀兰", "attendees": ctx["roster"], "others": "", "eligible_basis": "members",
            "eligible": str(len(ctx["roster"])), "present": "", "agenda-0-title": "三组村道硬化",
            "agenda-0-discussion": "大家同意先测算造价。", "agenda-0-decision": "同意实施",
            "agenda-0-votes_for": str(len(ctx["roster"])), "agenda-0-votes_against": "0", "agenda-0-votes_abstain": "0",
            "absentees-0-name": "", "absentees-0-reason": ""}


class MinutesForm(Kind):
    """A cadre saves new minutes through the page (a plain form POST, as without JavaScript)."""
    def write(self, browser, state, mark):
        path = f"{V}/meetings/new/{self.ctx['council']}"
        return self.post_form(browser, path, {"uuid": str(uuidlib.uuid4()), "edit_id": str(uuidlib.uuid4()),
                                              "base_version": "", **_minutes(self.ctx, mark)})

    def found(self, db, tag):
        return {r[0] for r in db.execute("select place from meetings where place like ?", [tag + "%"])}


class MinutesSync(MinutesForm):
    """A phone sends new minutes through the sync API (/api/v/<village>/edits), one edit per request."""
    ok_status = 200

    def setup(self, browser, w):
        browser.login()
        status, text = browser.get("/api/session")
        return {"token": json.loads(text)["csrf_token"]}

    def write(self, browser, state, mark):
        payload = [[k, v] for k, values in _minutes(self.ctx, mark).items()
                   for v in (values if isinstance(values, list) else [values])]
        edit = {"edit_id": str(uuidlib.uuid4()), "uuid": str(uuidlib.uuid4()), "type": "meeting",
                "base_version": None, "payload": payload}
        status, text = browser.request("POST", f"/api/v/{VILLAGE}/edits", body={"edits": [edit]},
                                       headers={"X-CSRFToken": state["token"]})
        try:
            accepted = status == 200 and json.loads(text)["results"][0]["status"] == "accepted"
        except (ValueError, KeyError, IndexError):
            accepted = False
        return status, accepted


def _pairs(form):
    """A form dict (values may be lists) as the [name, value] pairs a phone sends."""
    return [[k, v] for k, values in form.items() for v in (values if isinstance(values, list) else [values])]


def _sync(browser, token, village, edits):
    """(status, results) of one batch sent to the sync API."""
    status, text = browser.request("POST", f"/api/v/{village}/edits", body={"edits": edits},
                                   headers={"X-CSRFToken": token})
    try:
        return status, json.loads(text)["results"]
    except (ValueError, KeyError):
        return status, []


def _session_token(browser):
    status, text = browser.get("/api/session")
    if status != 200:
        raise RuntimeError(f"/api/session answered {status}")
    return json.loads(text)["csrf_token"]


def _index(mark):
    """w and i of a mark "<tag>-<w>-<i>"."""
    _tag, w, i = mark.rsplit("-", 2)
    return int(w), int(i)


class Member(Kind):
    """A cadre adds a member to a council's roster (a typed name, as for a 乡贤)."""
    def write(self, browser, state, mark):
        return self.post_form(browser, f"{V}/councils/{self.ctx['council']}/members/new", {
            "uuid": str(uuidlib.uuid4()), "resident": "", "name": mark, "position": "成员", "since": "", "note": ""})

    def found(self, db, tag):
        return {r[0] for r in db.execute("select name from council_members where name like ?", [tag + "%"])}


class Trail(Kind):
    """A cadre opens a 四议两公开 trail for a matter."""
    def write(self, browser, state, mark):
        return self.post_form(browser, f"{V}/meetings/trails/new",
                              {"uuid": str(uuidlib.uuid4()), "title": mark, "matter": "并发写入测试"})

    def found(self, db, tag):
        return {r[0] for r in db.execute("select title from trails where title like ?", [tag + "%"])}


class Article(Kind):
    """A cadre of 和平村 drafts articles of its 村规民约 (a version in the 草案 stage), through the page."""
    username = "bench.draft"

    def write(self, browser, state, mark):
        version = self.ctx["draft_version"]
        return self.post_form(browser, f"/v/{DRAFT_VILLAGE}/rules/versions/{version}/articles/new", {
            "uuid": str(uuidlib.uuid4()), "edit_id": str(uuidlib.uuid4()), "base_version": "", "version": version,
            "chapter": "村风民俗", "title": "", "body": mark, "banquet_tables": "", "gift_amount": ""})

    def found(self, db, tag):
        return {r[0] for r in db.execute("select body from rule_articles where version_uuid = ? and body like ?",
                                         [self.ctx["draft_version"], tag + "%"])}


class Account(Kind):
    """池河镇's staff make cadre accounts: each writes the directory (users, user_villages) and the town's audit."""
    username = TOWN_STAFF
    test_writes = 2  # each new account hashes its password

    def write(self, browser, state, mark):
        return self.post_form(browser, f"/t/{TOWN}/accounts/new", {
            "role": "cadre", "name": mark, "username": "b" + uuidlib.uuid4().hex[:12], "position": "委员",
            "villages": VILLAGE, "phone": "", "password": "bench-2026-pass"})

    def found(self, db, tag):
        directory = self.directory()
        try:
            users = {r[0] for r in directory.execute(
                "select u.name from users u join user_villages v on v.user_id = u.id "
                "where u.name like ? and v.village_code = ?", [tag + "%", VILLAGE])}
        finally:
            directory.close()
        audited = {m.group(1) for (summary,) in db.execute(
            "select summary from audit where action = 'create' and \"table\" = 'users' and summary like ?",
            [f"%{tag}%"]) for m in [re.search(r"新建账号：(.+?)（", summary)] if m}
        return users & audited  # an account counts only with its line in the town's audit log


class SignIn(Kind):
    """Sign in and out again (the directory's sessions and throttle tables), all as one account at once."""
    cadre = False
    username = "bench.signin"
    test_writes = 2  # each sign-in checks a password hash

    def begin(self, server, writers):
        directory = self.directory()
        try:
            self.since = directory.execute("select coalesce(max(rowid), 0) from sessions").fetchone()[0]
        finally:
            directory.close()

    def write(self, browser, state, mark):
        status, _text = browser.request("POST", "/login", {"username": self.username, "password": PASSWORD,
                                                           "remember": "y", "csrf_token": browser.token("/login")})
        if status != 302:
            return status, False
        status, _text = browser.request("POST", "/logout", {"csrf_token": _session_token(browser)})
        return status, status == 302

    def found(self, db, tag):
        """How many sign-ins of this run are stored, all ended (-1 if one is still live: a sign-out was lost)."""
        directory = self.directory()
        try:
            ended, live = directory.execute(
                "select count(revoked_at), count(*) - count(revoked_at) from sessions s join users u on u.id = s.user_id "
                "where u.username = ? and s.rowid > ?", [self.username, self.since]).fetchone()
        finally:
            directory.close()
        return ended if live == 0 else -1


class FollowUp(Kind):
    """Cadres tick off follow-up actions (会后要办的事) of ONE confirmed meeting at once: writer w ticks the actions of
    agenda item w, so every tick rewrites the same row; none may undo another's."""
    ACTIONS = 20  # per agenda item, the form's most

    def begin(self, server, writers):
        cadre = Browser(server.base)
        cadre.login()
        form = _minutes(self.ctx, f"{self.tag}-会")
        for k in range(writers):
            form.update({f"agenda-{k}-title": form.get(f"agenda-{k}-title", f"议题{k + 1}"),
                         f"agenda-{k}-decision": "同意"})
            for j in range(self.ACTIONS):
                form.update({f"agenda-{k}-actions-{j}-task": f"{self.tag}-{k}-{j}",
                             f"agenda-{k}-actions-{j}-owner": "张德明", f"agenda-{k}-actions-{j}-due": ""})
        self.meeting = str(uuidlib.uuid4())
        status, _ok = self.post_form(cadre, f"{V}/meetings/new/{self.ctx['council']}",
                                     {"uuid": self.meeting, "edit_id": str(uuidlib.uuid4()), "base_version": "", **form})
        confirmed, _text = cadre.request("POST", f"{V}/meetings/{self.meeting}/confirm",
                                         {"csrf_token": cadre.token(f"{V}/meetings/{self.meeting}")})
        if status != 302 or confirmed != 302:
            raise RuntimeError(f"minutes with follow-up actions answered {status}, confirming them {confirmed}")

    def setup(self, browser, w):
        browser.login()
        return {"token": _session_token(browser)}

    def write(self, browser, state, mark):
        w, i = _index(mark)
        if i >= self.ACTIONS:  # (a long bench run) tick one already done again: a 302 that changes nothing
            status, _text = browser.request("POST", f"{V}/meetings/{self.meeting}/actions/{w}/{i % self.ACTIONS}/done",
                                            {"csrf_token": state["token"]})
            return status, False
        status, _text = browser.request("POST", f"{V}/meetings/{self.meeting}/actions/{w}/{i}/done",
                                        {"csrf_token": state["token"]})
        return status, status == 302

    def found(self, db, tag):
        (agenda,) = db.execute("select agenda from meetings where uuid = ?", [self.meeting]).fetchone()
        return {a["task"] for item in json.loads(agenda) for a in item["actions"] if a["done"]}


class MeetingEdit(Kind):
    """A cadre saves changes to draft minutes of their own again and again, each time from the edit page as it then
    is (its base_version), through the page: every save an accepted update of the same row."""
    def setup(self, browser, w):
        browser.login()
        uid = str(uuidlib.uuid4())
        status, _ok = self.post_form(browser, f"{V}/meetings/new/{self.ctx['council']}", {
            "uuid": uid, "edit_id": str(uuidlib.uuid4()), "base_version": "", **_minutes(self.ctx, f"草稿{w}")})
        if status != 302:
            raise RuntimeError(f"the draft to edit answered {status}")
        return {"uuid": uid}

    def write(self, browser, state, mark):
        path = f"{V}/meetings/{state['uuid']}/edit"
        status, page = browser.get(path)
        base = re.search(r'name="base_version"[^>]*value="(\d+)"', page)
        if status != 200 or not base:
            return f"edit page {status}", False
        return self.post_form(browser, path, {"uuid": state["uuid"], "edit_id": str(uuidlib.uuid4()),
                                              "base_version": base.group(1), **_minutes(self.ctx, mark)})

    def found(self, db, tag):
        return {json.loads(after)["place"] for (after,) in db.execute(
            "select after from audit where action = 'update' and \"table\" = 'meetings' and after like ?", [f"%{tag}%"])}


class Conflict(Kind):
    """A cadre settles a conflict: a phone sends new minutes and two edits made on the same version (the second
    becomes a conflict), then the cadre opens the conflict and takes the other copy's place. One write = 3 requests."""
    test_writes = 3

    def setup(self, browser, w):
        browser.login()
        return {"token": _session_token(browser)}

    def write(self, browser, state, mark):
        uid = str(uuidlib.uuid4())
        edits = [{"edit_id": str(uuidlib.uuid4()), "uuid": uid, "type": "meeting", "base_version": base,
                  "payload": _pairs(_minutes(self.ctx, place))}
                 for base, place in ((None, "村委会会议室"), (1, "村委会二楼"), (1, mark))]
        status, results = _sync(browser, state["token"], VILLAGE, edits)
        if status != 200 or [r.get("status") for r in results] != ["accepted", "accepted", "conflict"]:
            return status if status != 200 else f"sync answered {[r.get('status') for r in results]}", False
        path = f"{V}/conflicts/{int(results[2]['receipt'])}"
        return self.post_form(browser, path, {"pick-place": "other"})

    def found(self, db, tag):
        return {r[0] for r in db.execute(
            "select m.place from meetings m where m.place like ? and m.conflict = 0 and exists (select 1 from revisions r "
            "where r.uuid = m.uuid and r.status = 'conflict' and r.resolution = 'merged')", [tag + "%"])}


class ConflictOnce(Kind):
    """All writers settle the SAME conflict at once, each taking the other copy's place: it is settled once (one
    merged save, one audit line); the others are told 这条已经处理过了."""
    one_wins = True

    def begin(self, server, writers):
        cadre = Browser(server.base)
        cadre.login()
        self.meeting = str(uuidlib.uuid4())
        edits = [{"edit_id": str(uuidlib.uuid4()), "uuid": self.meeting, "type": "meeting", "base_version": base,
                  "payload": _pairs(_minutes(self.ctx, place))}
                 for base, place in ((None, "村委会会议室"), (1, "村委会二楼"), (1, f"{self.tag}-另一份"))]
        status, results = _sync(cadre, _session_token(cadre), VILLAGE, edits)
        if status != 200 or [r.get("status") for r in results] != ["accepted", "accepted", "conflict"]:
            raise RuntimeError(f"the conflict to settle answered {status} {results}")
        self.path = f"{V}/conflicts/{int(results[2]['receipt'])}"

    def setup(self, browser, w):
        browser.login()
        return {"token": browser.token(self.path)}

    def expected(self, requests):
        return {200, 302}

    def write(self, browser, state, mark):
        status, text = browser.request("POST", self.path, {"pick-place": "other", "csrf_token": state["token"]})
        if status == 302:
            _status, text = browser.get(f"{V}/conflicts/")
            if "已合并并保存为第" in text:
                return status, True
        if "这条已经处理过了" not in text:
            return f"{status} without the reason", False
        return status, False

    def found(self, db, tag):
        """How many times the conflict was settled (-1 if settling it made another conflict)."""
        settled = db.execute("select count(*) from audit where action = 'resolve' and record_id = ?",
                             [self.meeting]).fetchone()[0]
        conflicts = db.execute("select count(*) from revisions where uuid = ? and status = 'conflict'",
                               [self.meeting]).fetchone()[0]
        return settled if conflicts == 1 else -1


class RuleStep(Kind):
    """All cadres of 新华村 press 「征集意见」done on the same version at once: exactly one step is recorded, every
    other answer is a 409 page that says why (这一步已经做过了)."""
    username = "bench.step"
    one_wins = True

    def path(self):
        return f"/v/{STEP_VILLAGE}/rules/versions/{self.ctx['step_version']}/steps/consultation"

    def setup(self, browser, w):
        browser.login(self.username)
        return {"token": browser.token(self.path())}  # the step's page, opened before anyone has taken it

    def expected(self, requests):
        return {302: 1, 409: requests - 1}

    def write(self, browser, state, mark):
        status, text = browser.request("POST", self.path(), {"done_on": _today(), "note": mark, "documents": "",
                                                             "csrf_token": state["token"]})
        if status == 409 and "这一步已经做过了" not in text:
            return "409 without the reason", False
        return status, status == 302

    def found(self, db, tag):
        return {r[0] for r in db.execute("select note from rule_steps where version_uuid = ? and step = 'consultation'",
                                         [self.ctx["step_version"]])}


class TrailStep(Kind):
    """All writers record 「党支部提议」 of the same 四议两公开 trail at once, linking the same confirmed minutes of the
    党支部委员会: one step is recorded; the others are told “党支部提议”已经记过了 (the form again, or the trail page
    when they arrive after it was recorded)."""
    one_wins = True

    def begin(self, server, writers):
        cadre = Browser(server.base)
        cadre.login()
        self.trail = str(uuidlib.uuid4())
        status, _ok = self.post_form(cadre, f"{V}/meetings/trails/new",
                                     {"uuid": self.trail, "title": f"{self.tag}-事项", "matter": ""})
        if status != 302 or not self.ctx["branch_meeting"]:
            raise RuntimeError(f"the trail answered {status}; confirmed 党支部委员会 minutes: {self.ctx['branch_meeting']}")

    def path(self):
        return f"{V}/meetings/trails/{self.trail}/steps/1"

    def setup(self, browser, w):
        browser.login()
        return {"token": browser.token(self.path())}

    def expected(self, requests):
        return {200, 302}  # refused: the form with the reason (200) or the trail page with it (302)

    def write(self, browser, state, mark):
        status, text = browser.request("POST", self.path(), {"meeting": self.ctx["branch_meeting"], "note": mark,
                                                             "csrf_token": state["token"]})
        if status == 302:
            _status, text = browser.get(f"{V}/meetings/trails/{self.trail}")
            if "已记下：党支部提议" in text:
                return status, True
        if "党支部提议”已经记过了" not in text:
            return f"{status} without the reason", False
        return status, False

    def found(self, db, tag):
        return {r[0] for r in db.execute("select note from trail_steps where trail_uuid = ? and step = 1", [self.trail])}


class Amend(Kind):
    """All writers correct (更正) the same confirmed minutes at once, each from the page as they opened it: one
    第 2 版; the others are told 别人已经更正过这份记录 (the form again, or the minutes when they arrive after)."""
    one_wins = True

    def begin(self, server, writers):
        cadre = Browser(server.base)
        cadre.login()
        self.meeting = str(uuidlib.uuid4())
        status, _ok = self.post_form(cadre, f"{V}/meetings/new/{self.ctx['council']}", {
            "uuid": self.meeting, "edit_id": str(uuidlib.uuid4()), "base_version": "",
            **_minutes(self.ctx, f"{self.tag}-会")})
        confirmed, _text = cadre.request("POST", f"{V}/meetings/{self.meeting}/confirm",
                                         {"csrf_token": cadre.token(f"{V}/meetings/{self.meeting}")})
        if status != 302 or confirmed != 302:
            raise RuntimeError(f"the minutes to correct answered {status}, confirming them {confirmed}")

    def path(self):
        return f"{V}/meetings/{self.meeting}/amend"

    def setup(self, browser, w):
        browser.login()
        status, text = browser.get(self.path())
        base = re.search(r'name="base_version"[^>]*value="(\d+)"', text)
        if status != 200 or not base:
            raise RuntimeError(f"the correction page answered {status}")
        return {"token": browser.token(self.path()), "base": base.group(1)}

    def expected(self, requests):
        return {200, 302}

    def write(self, browser, state, mark):
        status, text = browser.request("POST", self.path(), {**_minutes(self.ctx, mark), "reason": "地点记错了",
                                                             "base_version": state["base"],
                                                             "csrf_token": state["token"]})
        if status == 302:
            _status, text = browser.get(f"{V}/meetings/{self.meeting}")
            if "已更正，现在是第 2 版" in text:
                return status, True
        if "别人已经更正过这份记录" not in text:
            return f"{status} without the reason", False
        return status, False

    def found(self, db, tag):
        return {json.loads(after)["place"] for (after,) in db.execute(
            "select after from audit where action = 'amend' and record_id = ?", [self.meeting])}


def _notice_form(mark):
    return {"category": "村务", "title": mark, "body": "并发写入测试", "publish_date": _today(), "end_date": ""}


class NoticeEdit(Kind):
    """A cadre edits a notice of their own again and again (each save an update of the same row, audited)."""
    def setup(self, browser, w):
        browser.login()
        uid = str(uuidlib.uuid4())
        status, _ok = self.post_form(browser, f"{V}/notices/new", {"uuid": uid, **_notice_form(f"要修改的公开{w}")})
        if status != 302:
            raise RuntimeError(f"the notice to edit answered {status}")
        return {"uuid": uid}

    def write(self, browser, state, mark):
        return self.post_form(browser, f"{V}/notices/{state['uuid']}/edit", _notice_form(mark))

    def found(self, db, tag):
        return {json.loads(after)["title"] for (after,) in db.execute(
            "select after from audit where action = 'update' and \"table\" = 'notices' and after like ?", [f"%{tag}%"])}


class OpinionAnswer(Kind):
    """A cadre of 同乐村 answers a villager's opinion on the 村规民约 again and again (an update, audited)."""
    username = "bench.tongle"

    def setup(self, browser, w):
        uid = str(uuidlib.uuid4())
        page = f"/v/{OTHER_VILLAGE}/rules/consultation"
        villager = Browser(browser.base)
        status, text = villager.request("POST", page, {"uuid": uid, "name": "", "body": "要答复的意见",
                                                       "csrf_token": villager.token(page)})
        if status != 200 or "您的意见已收到" not in text:
            raise RuntimeError(f"the opinion to answer answered {status}")
        browser.login(self.username)
        return {"uuid": uid}

    def write(self, browser, state, mark):
        return self.post_form(browser, f"/v/{OTHER_VILLAGE}/rules/opinions/{state['uuid']}", {"answer": mark, "adopt": ""})

    def found(self, db, tag):
        return {json.loads(after)["answer"] for (after,) in db.execute(
            "select after from audit where action = 'answer' and \"table\" = 'rule_opinions' and after like ?",
            [f"%{tag}%"])}


class Withdraw(Kind):
    """All writers withdraw (撤回) the same notice at once: it is withdrawn once; the others are told it already was."""
    one_wins = True

    def begin(self, server, writers):
        cadre = Browser(server.base)
        cadre.login()
        self.notice = str(uuidlib.uuid4())
        status, _ok = self.post_form(cadre, f"{V}/notices/new", {"uuid": self.notice, **_notice_form(f"{self.tag}-撤回")})
        if status != 302:
            raise RuntimeError(f"the notice to withdraw answered {status}")

    def setup(self, browser, w):
        browser.login()
        return {"token": browser.token(f"{V}/notices/{self.notice}/manage")}

    def write(self, browser, state, mark):
        status, _text = browser.request("POST", f"{V}/notices/{self.notice}/withdraw", {"csrf_token": state["token"]})
        if status != 302:
            return status, False
        _status, page = browser.get(f"{V}/notices/{self.notice}/manage")
        if "已撤回，公开页上不再显示" in page:
            return status, True
        return (status if "撤回了" in page else "302 without the reason"), False

    def found(self, db, tag):
        return db.execute("select count(*) from audit where action = 'withdraw' and record_id = ?",
                          [self.notice]).fetchone()[0]


class MemberEnd(Kind):
    """All writers end the same council member's term at once: one 离任 is recorded (with that writer's reason)."""
    one_wins = True

    def begin(self, server, writers):
        cadre = Browser(server.base)
        cadre.login()
        self.member = str(uuidlib.uuid4())
        status, _ok = self.post_form(cadre, f"{V}/councils/{self.ctx['council']}/members/new", {
            "uuid": self.member, "resident": "", "name": "换届测试", "position": "成员", "since": "", "note": ""})
        if status != 302:
            raise RuntimeError(f"the member to end answered {status}")

    def path(self):
        return f"{V}/councils/{self.ctx['council']}/members/{self.member}/end"

    def setup(self, browser, w):
        browser.login()
        return {"token": browser.token(self.path())}

    def write(self, browser, state, mark):
        status, _text = browser.request("POST", self.path(), {"until": _today(), "note": mark,
                                                             "csrf_token": state["token"]})
        if status != 302:
            return status, False
        _status, page = browser.get(f"{V}/councils/{self.ctx['council']}")
        if "换届测试已离任" in page:
            return status, True
        refused = "离任已经有人登记过了" in page or re.search(r"已经在 \d{4}-\d\d-\d\d 离任了", page)
        return (status if refused else "302 without the reason"), False

    def found(self, db, tag):
        return {json.loads(after)["note"] for (after,) in db.execute(
            "select after from audit where \"table\" = 'council_members' and action = 'update' and record_id = ?",
            [self.member])}


class Confirm(Kind):
    """All writers confirm the same draft minutes at once: one confirmation (one 第 1 版, one audit line); the
    others are told 这份会议记录已经确认过了."""
    one_wins = True

    def begin(self, server, writers):
        cadre = Browser(server.base)
        cadre.login()
        self.meeting = str(uuidlib.uuid4())
        status, _ok = self.post_form(cadre, f"{V}/meetings/new/{self.ctx['council']}", {
            "uuid": self.meeting, "edit_id": str(uuidlib.uuid4()), "base_version": "",
            **_minutes(self.ctx, f"{self.tag}-会")})
        if status != 302:
            raise RuntimeError(f"the draft minutes to confirm answered {status}")

    def setup(self, browser, w):
        browser.login()
        return {"token": browser.token(f"{V}/meetings/{self.meeting}")}

    def write(self, browser, state, mark):
        status, _text = browser.request("POST", f"{V}/meetings/{self.meeting}/confirm", {"csrf_token": state["token"]})
        if status != 302:
            return status, False
        _status, page = browser.get(f"{V}/meetings/{self.meeting}")  # the message is on the page it leads to
        if "已确认（第 1 版）" in page:
            return status, True
        return (status if "这份会议记录已经确认过了" in page else "302 without the reason"), False

    def found(self, db, tag):
        """How many confirmations the file holds (-1 if its audit lines and editions disagree)."""
        audits = db.execute("select count(*) from audit where action = 'confirm' and record_id = ?",
                            [self.meeting]).fetchone()[0]
        editions = db.execute("select count(*) from meeting_editions where meeting_uuid = ?", [self.meeting]).fetchone()[0]
        return audits if audits == editions else -1


KINDS = {"notice": Notice, "objection": Objection, "answer": Answer, "household": Household, "resident": Resident,
         "opinion": Opinion, "minutes-form": MinutesForm, "minutes-sync": MinutesSync, "member": Member,
         "trail": Trail, "article": Article, "account": Account, "sign-in": SignIn, "follow-up": FollowUp,
         "conflict": Conflict, "conflict-once": ConflictOnce, "rule-step": RuleStep, "trail-step": TrailStep, "confirm": Confirm,
         "amend": Amend, "meeting-edit": MeetingEdit, "notice-edit": NoticeEdit, "opinion-answer": OpinionAnswer, "withdraw": Withdraw,
         "member-end": MemberEnd}


# ---- a run ------------------------------------------------------------------------------------------------------

def run_kind(server, ctx, name, writers=20, writes=None, seconds=None):
    """WRITERS threads write `writes` times each (or for `seconds`), all starting together. Returns a result dict."""
    kind = KINDS[name](ctx)
    tag = f"并发{name[:2]}{uuidlib.uuid4().hex[:6]}"
    kind.tag, kind.instance = tag, server.instance
    kind.begin(server, writers)
    browsers = [Browser(server.base) for _ in range(writers)]
    states = [None] * writers

    def set_up(w):  # sign-ins at once too (each costs a password hash)
        try:
            states[w] = kind.setup(browsers[w], w)
        except Exception as e:  # noqa: BLE001 - said below, once
            states[w] = e
    ready = [threading.Thread(target=set_up, args=(w,)) for w in range(writers)]
    for t in ready:
        t.start()
    for t in ready:
        t.join()
    problems = [s for s in states if isinstance(s, Exception) or s is None]
    if problems:
        raise RuntimeError(f"{name}: {len(problems)} writers could not get ready: {problems[0]!r}")
    statuses, accepted, refused, times, failures = Counter(), set(), set(), [], []
    lock = threading.Lock()
    start = threading.Barrier(writers)

    def writer(w):
        start.wait()
        stop = time.monotonic() + seconds if seconds else None
        i = 0
        while (i < writes) if writes else (time.monotonic() < stop):
            mark = f"{tag}-{w}-{i}"
            t0 = time.monotonic()
            try:
                status, ok = kind.write(browsers[w], states[w], mark)
            except Exception as e:  # noqa: BLE001 - a writer's own failure is reported, not hidden
                status, ok = f"error: {e!r}"[:120], False
            with lock:
                times.append(time.monotonic() - t0)
                statuses[status] += 1
                (accepted if ok else refused).add(mark)
                if status == 500 or (isinstance(status, int) and status >= 500):
                    failures.append(mark)
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    for browser in browsers:
        browser.release()
    db = sqlite3.connect(f"file:{os.path.join(server.instance, 'towns', TOWN + '.db')}?mode=ro", uri=True, timeout=30)
    try:
        found = kind.found(db, tag)
    finally:
        db.close()
    requests = sum(statuses.values())
    return {"kind": name, "writers": writers, "requests": requests, "seconds": elapsed,
            "locked_answers": sum(b.locked for b in browsers), "expected": kind.expected(requests),
            "one_wins": kind.one_wins, "statuses": dict(statuses), "accepted": accepted, "refused": refused,
            "found": found, "median_ms": 1000 * statistics.median(times) if times else 0,
            "max_ms": 1000 * max(times, default=0)}


def problems(result, stderr):
    """What is wrong with a run, in words (empty: nothing): an answer other than the kind's expected ones (a 500,
    a writer's error), "database is locked" in an answer or the server's stderr, a traceback, a stored row that
    was not accepted or an accepted write not stored, or more (or less) than one winner where only one may win."""
    r, out = result, []
    allowed = r["expected"]  # a dict: exactly these answers; a set: any of these statuses
    if (r["statuses"] != allowed) if isinstance(allowed, dict) else not set(r["statuses"]) <= allowed:
        out.append(f"answers {r['statuses']}, expected {allowed}")
    if r["locked_answers"]:
        out.append(f"{r['locked_answers']} answers said the database is locked")
    if LOCKED.search(stderr) or "Traceback" in stderr:
        out.append("the server's stderr: " + stderr[-3000:])
    stored = r["found"] if isinstance(r["found"], int) else len(r["found"])
    if isinstance(r["found"], int) and r["found"] != len(r["accepted"]) or (
            not isinstance(r["found"], int) and r["found"] != r["accepted"]):
        out.append(f"{stored} stored for {len(r['accepted'])} accepted")
    if r["one_wins"] and len(r["accepted"]) != 1:
        out.append(f"{len(r['accepted'])} writers won where only one may")
    return out


def build_demo(folder):
    os.environ["VILLAGEAPP_INSTANCE_PATH"] = str(folder)
    try:
        from villageapp import create_app, demo
        app = create_app()
    finally:
        os.environ.pop("VILLAGEAPP_INSTANCE_PATH", None)
    demo.build(app, households=6, log=lambda *_: None)


def report(result, locked_in_stderr):
    r = result
    if isinstance(r["found"], int):  # a kind whose writes leave no mark of their own: counted
        rows = f"{r['found']} stored / {len(r['accepted'])} accepted"
    else:
        rows = (f"{len(r['found'])} found / {len(r['accepted'])} accepted (missing {len(r['accepted'] - r['found'])}, "
                f"unaccepted stored {len(r['found'] - r['accepted'])})")
    answers = ", ".join(f"{k}×{v}" for k, v in sorted(r["statuses"].items(), key=str))
    return (f"{r['kind']:<13} writers {r['writers']:>3}  requests {r['requests']:>5} in {r['seconds']:5.1f} s "
            f"({r['requests'] / r['seconds']:6.1f}/s)  answers {answers}  rows {rows}  "
            f"median {r['median_ms']:.0f} ms, slowest {r['max_ms']:.0f} ms  "
            f"\"locked\" in answers: {r['locked_answers']}, in stderr: {locked_in_stderr}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--writes", type=int, help="writes per writer instead of --seconds")
    parser.add_argument("--threads", type=int, default=32, help="waitress threads of the server")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: " + ", ".join(KINDS))
    parser.add_argument("--instance", help="an instance folder to copy (default: a demo county built in a temp folder)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="writers-")
    instance = os.path.join(folder, "instance")
    if args.instance:
        shutil.copytree(args.instance, instance)
    else:
        build_demo(instance)
    ctx = prepare(instance)
    bad = False
    try:
        with Server(instance, threads=args.threads) as server:
            for name in args.kinds.split(","):
                seen = len(server.stderr())
                result = run_kind(server, ctx, name, args.writers, args.writes, None if args.writes else args.seconds)
                stderr = server.stderr()[seen:]
                locked = len(LOCKED.findall(stderr))
                print(report(result, locked), flush=True)
                if "Traceback" in stderr or "ERROR" in stderr:
                    print("  the server said:\n" + stderr[-4000:], flush=True)
                wrong = problems(result, stderr)
                if wrong:
                    print("  WRONG: " + "; ".join(w for w in wrong if not w.startswith("the server's")), flush=True)
                bad |= bool(wrong)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
