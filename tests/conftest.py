"""Fixtures shared by every test: an app on a real instance folder (tmp_path) holding a small demo county,
a client, a login helper, and a live server plus Debian's Chromium for the browser tests."""
import os
import re
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from villageapp import auth as accounts
from villageapp import create_app, registry, store
from villageapp import demo as demo_data
from villageapp.councils import data as councils

PASSWORD = demo_data.PASSWORD
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# demo logins by role, and the villages/towns they own
COUNTY, CHENGGUAN, CHIHE, MINGXING, GUYAN, LAWYER = "admin", "chengguan", "chihe", "mingxing", "guyan", "lawyer"
MINGXING_VILLAGE, WUAI_VILLAGE, TANJIAWAN_VILLAGE = "610922104201", "610922104202", "610922104203"
GUYAN_VILLAGE = "610922100201"
CHIHE_TOWN, CHENGGUAN_TOWN = "610922104", "610922100"


@pytest.fixture(scope="session")
def demo_instance(tmp_path_factory):
    """A demo county built once per session; each test gets its own copy of the files."""
    path = tmp_path_factory.mktemp("demo-instance")
    app = _app(path)
    demo_data.build(app, households=6, log=lambda *_: None)
    return path


def _app(instance_path, **config):
    os.environ["VILLAGEAPP_INSTANCE_PATH"] = str(instance_path)
    try:
        return create_app({"TESTING": True, "SECRET_KEY": "test-secret", **config})
    finally:
        os.environ.pop("VILLAGEAPP_INSTANCE_PATH", None)


@pytest.fixture
def instance_path(demo_instance, tmp_path):
    target = tmp_path / "instance"
    shutil.copytree(demo_instance, target)
    return target


@pytest.fixture
def app(instance_path):
    return _app(instance_path)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_from(html):
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def add_village_with_cadre(app, code, name, username, person):
    """A village `code` added to 池河镇 with a cadre account (书记) of its own; returns the code."""
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        with store.write(db):
            registry.add_village(db, code, name, "test")
        db.close()
        directory = store.open_directory(app)
        accounts.create_user(directory, username, PASSWORD, person, "cadre", "test", town_code=CHIHE_TOWN,
                             villages=[code], position="书记")
        directory.close()
    return code


def council_of(app, name, village=MINGXING_VILLAGE):
    """The row of a village's council by its name (the village's standard councils made first if missing)."""
    with app.app_context():
        db = store.open_town(CHIHE_TOWN, app)
        councils.ensure_councils(db, village, "test")
        return councils.council_by_name(db, village, name)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username, password=PASSWORD, remember=True):
        token = csrf_from(self.client.get("/login").text)
        data = {"username": username, "password": password, "csrf_token": token}
        if remember:
            data["remember"] = "y"
        return self.client.post("/login", data=data)

    def logout(self):
        token = csrf_from(self.client.get("/account/password").text)
        return self.client.post("/logout", data={"csrf_token": token})

    def token(self, path="/account/password"):
        """A CSRF token of the current session."""
        return csrf_from(self.client.get(path).text)


@pytest.fixture
def auth(client):
    return Auth(client)


# ---- browser tests ------------------------------------------------------------

def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium); .ci/run installs it")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": BROWSER_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}


@pytest.fixture
def live_server(app):
    """The app served over HTTP from a thread, for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(5)


@pytest.fixture
def site(app):
    """The app on a port that a test can really stop and start again (browser.test_restart.Restartable): "offline"
    is a stopped server, not a mocked network."""
    from browser.test_restart import Restartable
    server = Restartable(app)
    server.start()
    yield server
    server.stop()


# ---- no Content-Security-Policy violation in any browser test -----------------------------------

CSP_SIGNS = ("Content Security Policy", "Content-Security-Policy", "Refused to")


class CspWatch:
    """Collects the console's CSP reports of every page of the contexts it watches."""

    def __init__(self):
        self.violations = []
        self._watched = set()

    def watch(self, context):
        """Watch a context (pages open now and later); returns it. Every context a browser test opens through
        Playwright is watched already (see csp_violations); this is for contexts made some other way."""
        if id(context) not in self._watched:
            self._watched.add(id(context))
            for page in context.pages:
                self._watch_page(page)
            context.on("page", self._watch_page)
        return context

    def _watch_page(self, page):
        def on_console(message):
            if any(sign in message.text for sign in CSP_SIGNS):
                self.violations.append(f"{page.url}: {message.text}")
        page.on("console", on_console)


@pytest.fixture(autouse=True)
def csp_violations(request, monkeypatch):
    """Every browser test fails at teardown if a page it opened broke the Content-Security-Policy: every context it
    makes through Playwright (pytest-playwright's context/page/new_context, browser.new_context/new_page, and
    browser_type.launch_persistent_context) is watched."""
    watch = CspWatch()
    if "browser" in request.keywords:
        from playwright.sync_api import Browser, BrowserType

        def watching(original, context_of=lambda made: made):
            def call(self, *args, **kwargs):
                made = original(self, *args, **kwargs)
                watch.watch(context_of(made))
                return made
            return call
        monkeypatch.setattr(Browser, "new_context", watching(Browser.new_context))
        monkeypatch.setattr(Browser, "new_page", watching(Browser.new_page, lambda page: page.context))
        monkeypatch.setattr(BrowserType, "launch_persistent_context", watching(BrowserType.launch_persistent_context))
    yield watch
    if watch.violations and "browser" in request.keywords:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(watch.violations), pytrace=False)
