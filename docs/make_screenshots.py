"""Takes the README's phone screenshots (390×844) of the demo county in Debian's Chromium: the public village page,
the login page, each role's home (village cadre, town staff, county admin, legal adviser) and the new-minutes form.
Usage: python docs/make_screenshots.py   (writes docs/screenshots/*.png; needs fonts-noto-cjk for the Chinese)"""
import logging
import os
import sys
import tempfile
import threading

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "screenshots")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1.5, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}
VILLAGE = "610922104201"  # 明星村
HOMES = [  # (file, login): each role's first screen after signing in
    ("cadre-home.png", "mingxing"),
    ("town-home.png", "chihe"),
    ("county-home.png", "admin"),
    ("adviser-home.png", "lawyer"),
]


def sign_in(page, base, username, password):
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def shoot(page, name):
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=os.path.join(OUT, name))
    print("  ", name, page.url.split("/", 3)[-1])


def main():
    os.environ["VILLAGEAPP_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="villageapp-shots-")
    sys.path.insert(0, ROOT)
    from villageapp import create_app, demo
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app()
    demo.build(app, log=lambda *_: None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    os.makedirs(OUT, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context(**PHONE)
        page = context.new_page()
        page.goto(base + f"/v/{VILLAGE}/")
        shoot(page, "public.png")
        page.goto(base + "/login")
        shoot(page, "login.png")
        context.close()
        for name, username in HOMES:
            context = browser.new_context(**PHONE)  # one phone per person: nobody sees another's session
            page = context.new_page()
            sign_in(page, base, username, demo.PASSWORD)
            shoot(page, name)
            if username == "mingxing":  # the cadre's new minutes of the 村民代表会议
                page.goto(base + f"/v/{VILLAGE}/meetings/new")
                page.get_by_role("link", name="村民代表会议").click()
                shoot(page, "minutes-form.png")
            context.close()
        browser.close()
    server.shutdown()
    print("screenshots in", OUT)


if __name__ == "__main__":
    main()
