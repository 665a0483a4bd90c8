"""Every screen of the app, for every role, on a 360 px phone and again with 大字模式 on, checked by machine (issue 9):
axe-core finds no critical or serious violation, nothing is wider than the screen, every tap target is ≥ 44×44 px,
no table header wraps one character per line, and no English words show outside code values.

The screens are the GET routes of tests/test_access.py's ROUTES, opened by each role that may open them. A route of the
app that is neither a screen here nor listed in NOT_SCREENS fails test_every_get_route_is_a_checked_screen.
Print pages (A4) are checked by axe only. Every screen is also checked for Content-Security-Policy reports. What still fails is listed in KNOWN as strict xfails, with the reason."""
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from conftest import CHIHE, COUNTY, CSP_SIGNS, LAWYER, MINGXING, PASSWORD, _app
from test_access import ANON, ROUTES, add_ids, expected

from . import screens

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "service_workers": "block"}
LOGINS = (ANON, MINGXING, LAWYER, CHIHE, COUNTY)  # one of each role: public, cadre, adviser, town, county
MODES = ("normal", "large")
# routes that answer with a file or JSON, not a screen
NOT_SCREENS = {"notices.file", "meetings.file", "rules.file", "reviews.file", "registry.import_template", "councils.import_template", "exports.file", "exports.archive", "desk.figures_file", "desk.figures_json",
               "sync.session", "pwa.manifest", "pwa.service_worker"}
# A4 print views: black on white for paper, checked by axe only
PRINT = {"meetings.print_view", "rules.poster"}
CHECKS = {"csp": lambda page: [], "axe": screens.axe_problems, "width": screens.width_problems, "tap": screens.tap_problems,
          "headers": screens.header_problems, "english": screens.english_problems}
# error screens, reached by a wrong address or by the wrong person
EXTRA = {"error.404": (f"/v/000000000000/", (ANON, MINGXING)),
         "error.403": ("/v/610922104201/notices/new", (LAWYER,))}
# (screen, check) pairs that still fail, with why: strict, so a fix shows up as XPASS and the entry must go
KNOWN = {}


def screen_logins(endpoint):
    if endpoint in EXTRA:
        return EXTRA[endpoint][1]
    return [login for login in LOGINS if expected(endpoint, login) not in (302, 401, 403, 404)]


def screen_list():
    """GET routes that answer with a page (a route that only redirects, e.g. a 回执号 look-up, shows none of its own)."""
    get = [e for e, (method, _url, _who, ok) in ROUTES.items() if method == "GET" and e not in NOT_SCREENS and ok != 302]
    return sorted(get) + sorted(EXTRA)


def cases():
    for endpoint in screen_list():
        for check in CHECKS:
            if endpoint in PRINT and check not in ("axe", "csp"):
                continue
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[endpoint, check])] if (endpoint, check) in KNOWN else []
            yield pytest.param(endpoint, check, id=f"{endpoint}-{check}", marks=marks)


class Screens:
    """One live server, one browser context per (role, mode) with its login kept, and the checks of the last screen."""

    def __init__(self, browser, app, url):
        self.browser, self.app, self.url = browser, app, url
        self.contexts = {}
        self.results = {}
        self.console = []  # the console of the screen being checked (the conftest watcher sees only the first test)

    def page(self, login, mode):
        if (login, mode) not in self.contexts:
            context = self.browser.new_context(**PHONE)
            page = context.new_page()
            page.on("console", lambda message: self.console.append(message.text))
            if login != ANON:
                page.goto(self.url + "/login")
                page.fill("#username", login)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state()
                assert "/login" not in page.url, f"{login} could not log in"
            else:
                page.goto(self.url + "/")
            if mode == "large":  # the one tap in the header, remembered for every later page
                page.click("header [data-textsize]")
                assert page.evaluate("document.documentElement.classList.contains('big')")
            self.contexts[login, mode] = (context, page)
        return self.contexts[login, mode][1]

    def address(self, endpoint):
        if endpoint in EXTRA:
            return EXTRA[endpoint][0]
        return ROUTES[endpoint][1].format(**self.app.ids)

    def check(self, endpoint):
        """All checks of a screen, for every role and mode: {check: [problem, …]} (computed once per screen)."""
        if endpoint not in self.results:
            self.results = {}  # one screen at a time
            found = {check: [] for check in CHECKS}
            for login in screen_logins(endpoint):
                for mode in MODES:
                    page = self.page(login, mode)
                    self.console.clear()
                    response = page.goto(self.url + self.address(endpoint))
                    assert response.status < 500, f"{endpoint} as {login}: {response.status}"
                    if mode == "large":
                        assert page.evaluate("document.documentElement.classList.contains('big')"), "大字模式 was not kept"
                    for check, run in CHECKS.items():
                        if endpoint in PRINT and check not in ("axe", "csp"):
                            continue
                        found[check] += [f"[{login}, {mode}] {p}" for p in run(page)]
                    found["csp"] += [f"[{login}, {mode}] {m}" for m in self.console if any(s in m for s in CSP_SIGNS)]
            self.results[endpoint] = found
        return self.results[endpoint]

    def close(self):
        for context, _page in self.contexts.values():
            context.close()


@pytest.fixture(scope="module")
def screens_app(demo_instance, tmp_path_factory):
    path = tmp_path_factory.mktemp("screens") / "instance"
    shutil.copytree(demo_instance, path)
    return add_ids(_app(path))


@pytest.fixture(scope="module")
def all_screens(browser, screens_app):
    server = make_server("127.0.0.1", 0, screens_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    s = Screens(browser, screens_app, f"http://127.0.0.1:{server.server_port}")
    yield s
    s.close()
    server.shutdown()
    thread.join(5)


def test_every_get_route_is_a_checked_screen(app):
    """A route added later is either a screen checked here (through ROUTES) or named as not a screen."""
    gets = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"}
    redirects = {e for e, (method, _url, _who, ok) in ROUTES.items() if method == "GET" and ok == 302}
    unchecked = gets - set(screen_list()) - NOT_SCREENS - redirects
    assert not unchecked, f"add these to tests/test_access.py ROUTES (then they are checked here): {sorted(unchecked)}"
    for endpoint in screen_list():
        assert screen_logins(endpoint), f"{endpoint}: no role of {LOGINS} may open it"


@pytest.mark.parametrize(("endpoint", "check"), list(cases()))
def test_screen(all_screens, endpoint, check):
    problems = all_screens.check(endpoint)[check]
    assert not problems, f"{endpoint} fails {check}:\n" + "\n".join(problems[:12])


# ---- 大字模式, 朗读 and the findings they fix (issue 9: 1, 5, 14) ------------------------------------------------------

def luminance(rgb):
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(int(x)) for x in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(page, selector):
    """Contrast ratio of an element's text colour on its own background colour."""
    fg, bg = page.eval_on_selector(selector, """el => { const s = getComputedStyle(el);
        return [s.color, s.backgroundColor].map(c => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3)); }""")
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def running_notice_url(all_screens):
    return all_screens.url + ROUTES["notices.show"][1].format(**all_screens.app.ids)


def test_large_text_is_one_tap_remembered_and_fits(all_screens, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    village = all_screens.url + ROUTES["notices.village_page"][1]
    page.goto(village)
    normal = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    button = page.locator("header [data-textsize]")
    assert button.is_visible() and button.text_content() == "大字" and button.get_attribute("aria-pressed") == "false"
    button.click()
    big = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert 1.3 <= big / normal <= 1.5, (normal, big)
    assert button.get_attribute("aria-pressed") == "true" and button.text_content() == "正常字"
    page.goto(running_notice_url(all_screens))  # another page: still large, set before the page shows
    assert page.evaluate("document.documentElement.classList.contains('big')")
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)") > 1.3 * 1.45 * normal
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.locator("header [data-textsize]").click()  # and back
    page.reload()
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == normal
    context.close()


SPOKEN = """() => { window.spoken = []; const speak = speechSynthesis.speak.bind(speechSynthesis);
  speechSynthesis.speak = (u) => { window.spoken.push([u.lang, u.text]); speak(u); }; }"""


@pytest.mark.parametrize(("endpoint", "words"), [("notices.show", None), ("notices.village_page", "公示"),
                                                 ("rules.public", "第一条")])
def test_read_aloud_on_public_texts_with_a_drawn_icon(all_screens, browser, endpoint, words):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(all_screens.url + ROUTES[endpoint][1].format(**all_screens.app.ids))
    buttons = page.locator("button[data-speak]")
    assert buttons.count() >= 1
    first = buttons.first
    assert first.is_visible()
    assert first.locator("svg").count() == 1 and "🔊" not in first.inner_text()  # no emoji font needed
    icon, label = first.locator("svg").bounding_box(), first.locator("span").bounding_box()
    assert label["x"] - (icon["x"] + icon["width"]) >= 6, "the icon touches the word"
    target = page.locator("#" + first.get_attribute("data-speak"))
    gap = target.bounding_box()["y"] - (first.bounding_box()["y"] + first.bounding_box()["height"])
    assert gap >= 8, f"the button sits against the text ({gap} px)"
    page.evaluate(SPOKEN)
    first.click()
    spoken = page.evaluate("window.spoken")
    assert spoken and spoken[0][0] == "zh-CN" and len(spoken[0][1]) > 10
    if words:
        assert words in spoken[0][1]
    context.close()


def test_read_aloud_is_hidden_where_the_phone_cannot_speak(all_screens, browser):
    context = browser.new_context(**PHONE)
    context.add_init_script("delete window.speechSynthesis; delete Window.prototype.speechSynthesis;")
    page = context.new_page()
    page.goto(running_notice_url(all_screens))
    assert page.evaluate("!('speechSynthesis' in window)")
    assert page.locator("button[data-speak]").count() == 1
    assert not page.locator("button[data-speak]").is_visible()
    context.close()


def test_objection_button_is_the_clearest_thing_on_a_running_notice(all_screens, browser):
    """Finding 1: 我有异议 was near-black on dark green (2.5:1)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    for url in (running_notice_url(all_screens), all_screens.url + ROUTES["notices.village_page"][1]):
        page.goto(url)
        button = page.get_by_role("link", name="我有异议").first
        button.evaluate("el => el.id = 'objection-button'")
        assert contrast(page, "#objection-button") >= 7, "我有异议 must read at a glance (AAA contrast)"
        filled = page.evaluate("""() => Array.from(document.querySelectorAll('main a, main button'))
            .filter(el => el.offsetWidth && getComputedStyle(el).backgroundColor !== 'rgb(255, 255, 255)'
                          && getComputedStyle(el).backgroundColor !== 'rgba(0, 0, 0, 0)').map(el => el.textContent.trim())""")
        assert filled and filled[0] == "我有异议", f"the first filled button on the page is {filled[:1]}"
    context.close()


def test_rule_versions_look_tappable(all_screens):
    """Finding 5: 第 2 版 / 改了什么 / 第 1 版 were black, not underlined, with stray "·"."""
    page = all_screens.page(MINGXING, "normal")
    page.goto(all_screens.url + ROUTES["rules.manage"][1])
    links = page.locator(".versions a")
    assert links.count() >= 2
    ink = page.evaluate("getComputedStyle(document.body).color")
    for i in range(links.count()):
        link = links.nth(i)
        style = link.evaluate("el => { const s = getComputedStyle(el); return [s.color, s.backgroundColor, s.textDecorationLine]; }")
        box = link.bounding_box()
        assert style[0] != ink or style[1] not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), f"{link.inner_text()} looks like text"
        assert box["height"] >= 44 and box["width"] >= 44
    loose = page.evaluate("""() => Array.from(document.querySelectorAll('.versions li')).flatMap(li =>
        Array.from(li.childNodes).filter(n => n.nodeType === 3 && n.textContent.includes('·')).map(n => n.textContent))""")
    assert loose == []
