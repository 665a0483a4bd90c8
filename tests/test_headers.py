"""Security headers on every answer of the app: every route of the role × route matrix asked by every kind of user,
plus static files, error pages and JSON errors; HSTS only over https (directly, or behind a trusted proxy);
and, in a real Chromium, the pages of every role under the strict policy without one CSP violation."""
import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CHIHE, CHIHE_TOWN, MINGXING, MINGXING_VILLAGE, PASSWORD, Auth, _app
from test_access import ROLES, ROUTES, matrix_app  # noqa: F401 (matrix_app is a fixture used here)

STATIC = "/static/css/base.css"
OTHERS = [("GET", STATIC), ("GET", "/static/icons/icon-192.png"), ("GET", "/no-such-page"),
          ("GET", "/api/no-such-thing"), ("GET", "/v/abc/"), ("POST", "/login")]


def check_headers(response, where):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip())
    assert csp, f"{where}: no Content-Security-Policy"
    if "sandbox" not in directives:  # stored user files carry their own, stricter policy
        assert directives.get("default-src") == "'self'", where
        assert directives.get("script-src") == "'self'", f"{where}: {csp}"
        assert directives.get("object-src") == "'none'", where
        assert directives.get("base-uri") == "'self'", where
        assert directives.get("frame-ancestors") == "'none'", where
        assert directives.get("form-action") == "'self'", where
        assert "unsafe" not in directives.get("style-src", "unsafe"), f"{where}: {csp}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{where}: {csp}"
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") == "same-origin", where


@pytest.mark.parametrize("login", list(ROLES))
def test_every_route_answers_with_the_security_headers_for_every_role(matrix_app, login):  # noqa: F811
    client = matrix_app.test_client()
    if login != "anon":
        assert client.post("/login", data={"username": login, "password": PASSWORD}).status_code == 302
    order = sorted(ROUTES, key=lambda e: (ROUTES[e][0] == "POST", e == "auth.logout"))
    asked = [(ROUTES[e][0], ROUTES[e][1].format(**matrix_app.ids)) for e in order]
    statuses = set()
    for method, url in OTHERS + asked:
        response = client.open(url, method=method)
        statuses.add(response.status_code)
        check_headers(response, f"{login} {method} {url} → {response.status_code}")
        assert "Strict-Transport-Security" not in response.headers  # plain http: never pin a LAN install to https
    endpoints = {rule.endpoint for rule in matrix_app.url_map.iter_rules()} - {"static"}  # static: in OTHERS
    assert endpoints == set(ROUTES) and statuses >= ({200, 302} if login != "anon" else {200, 302, 401})


def test_the_strict_policy_says_exactly_this(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
                      "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'", "form-action 'self'"):
        assert directive in csp.split("; ")


def test_print_pages_style_blocks_are_allowed_by_this_responses_nonce_only(client):
    auth = Auth(client)
    auth.login(MINGXING)
    first = client.get(f"/v/{MINGXING_VILLAGE}/poster")
    second = client.get(f"/v/{MINGXING_VILLAGE}/poster")
    nonces = []
    for response in (first, second):
        csp = response.headers["Content-Security-Policy"]
        nonce = csp.split("'nonce-")[1].split("'")[0]
        assert f'<style nonce="{nonce}">' in response.text
        nonces.append(nonce)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 16
    assert "nonce-" not in client.get(f"/v/{MINGXING_VILLAGE}/home").headers["Content-Security-Policy"]


def test_hsts_over_https(client):
    response = client.get("/login", base_url="https://cun.example.gov.cn")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    check_headers(response, "https /login")


def test_forwarded_proto_is_trusted_only_when_configured(instance_path):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "cun.example.gov.cn"}
    direct = _app(instance_path).test_client().get("/login", headers=forwarded)
    assert "Strict-Transport-Security" not in direct.headers  # anyone can send that header to an app without a proxy
    proxied = _app(instance_path, TRUST_PROXY=1).test_client().get("/login", headers=forwarded)
    assert proxied.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_view_that_sets_its_own_policy_keeps_it(app):
    @app.route("/_test/own-policy")
    def own_policy():
        return "x", 200, {"Content-Security-Policy": "sandbox"}
    own_policy.access_roles = ("public",)
    response = app.test_client().get("/_test/own-policy")
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_templates_need_nothing_the_policy_forbids():
    """No inline handlers or scripts, no style= attributes; a <style> block only with this response's nonce."""
    root = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted((root / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern in (r"\son[a-z]+\s*=", r"<script(?![^>]*\ssrc=)[^>]*>", r"\sstyle\s*=", r"<style(?![^>]*nonce=)[^>]*>",
                        r"javascript:"):
            found += [f"{path.relative_to(root)}: {m.group(0)}" for m in re.finditer(pattern, text, re.I)]
    for path in sorted((root / "static" / "js").glob("*.js")):
        text = path.read_text()
        for pattern in (r"\beval\(", r"new Function\(", r"setAttribute\(\s*[\"']style", r"setAttribute\(\s*[\"']on"):
            found += [f"{path.relative_to(root)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert not found, found


# ---- in a real Chromium ---------------------------------------------------------------------------

def browser_login(page, base, username):
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


PAGES = {
    MINGXING: ["/", f"/v/{MINGXING_VILLAGE}/home", f"/v/{MINGXING_VILLAGE}/meetings/new", f"/v/{MINGXING_VILLAGE}/notices/new",
               f"/v/{MINGXING_VILLAGE}/households/", f"/v/{MINGXING_VILLAGE}/poster", f"/v/{MINGXING_VILLAGE}/rules/poster",
               f"/v/{MINGXING_VILLAGE}/rules/manage", "/outbox", "/account/password"],
    CHIHE: [f"/t/{CHIHE_TOWN}/", f"/t/{CHIHE_TOWN}/rules/compare", f"/t/{CHIHE_TOWN}/accounts/", f"/t/{CHIHE_TOWN}/meetings/"],
}


@pytest.mark.browser
@pytest.mark.parametrize("username", list(PAGES))
def test_pages_break_no_csp_rule_in_chromium(page, live_server, csp_violations, username):
    page.goto(live_server.url + f"/v/{MINGXING_VILLAGE}/")
    browser_login(page, live_server.url, username)
    for path in PAGES[username]:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("load")
    # the styles moved out of style= attributes still apply
    if username == CHIHE:
        page.goto(live_server.url + f"/t/{CHIHE_TOWN}/rules/compare")
        assert page.eval_on_selector(".columns", "e => getComputedStyle(e).display") == "flex"
    assert not csp_violations.violations  # the fixture fails the test too; this says where


@pytest.mark.browser
def test_the_csp_watch_catches_a_violation(page, live_server, csp_violations):
    """The conftest watch really sees what Chromium refuses: an inline script put into one of our pages."""
    page.goto(live_server.url + "/login")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';
                             document.body.appendChild(s); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.ran") is None
    assert any("Content Security Policy" in v for v in csp_violations.violations), csp_violations.violations
    csp_violations.violations.clear()  # seen and expected: let this test pass


@pytest.mark.browser
def test_the_csp_watch_also_sees_persistent_contexts(browser_type, browser_type_launch_args, live_server, csp_violations,
                                                      tmp_path):
    """A phone's profile (launch_persistent_context, as the restart tests use) is watched without asking."""
    context = browser_type.launch_persistent_context(tmp_path / "profile", **browser_type_launch_args)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(live_server.url + "/login")
        page.evaluate("() => { const s = document.createElement('style'); s.textContent = 'body{color:red}'; "
                      "document.head.appendChild(s); }")
        page.wait_for_timeout(300)
    finally:
        context.close()
    assert any("Content Security Policy" in v for v in csp_violations.violations), csp_violations.violations
    csp_violations.violations.clear()


# ---- behind nginx, with the real server -----------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(instance_path, **env):
    """`villageapp serve` (waitress) in a process of its own, on a copy of the demo instance."""
    port = free_port()
    environ = {**os.environ, "VILLAGEAPP_INSTANCE_PATH": str(instance_path), **env}
    process = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "villageapp"), "serve", "--host", "127.0.0.1",
                                "--port", str(port)], env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        process.stderr.close()


def ask(address, path, headers):
    connection = http.client.HTTPConnection(address, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


@pytest.mark.parametrize("trust", [0, 1])
def test_behind_nginx_the_forwarded_proto_counts_only_with_trust_proxy(instance_path, trust):
    """waitress drops X-Forwarded-* it was not told to trust: with TRUST_PROXY the app must still get them."""
    nginx = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "cun.example.gov.cn"}
    with served(instance_path, VILLAGEAPP_TRUST_PROXY=str(trust)) as address:
        response = ask(address, "/login", nginx)
    assert response.status == 200
    assert (response.getheader("Strict-Transport-Security") is not None) == bool(trust)
    assert response.getheader("Content-Security-Policy", "").startswith("default-src 'self'")
