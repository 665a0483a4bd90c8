"""Takes the README's phone screenshots (390×844) of the demo county in Debian's Chromium.
Usage: python docs/make_screenshots.py   (writes docs/screenshots/*.png)"""
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


def main():
    os.environ["VILLAGEAPP_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="villageapp-shots-")
    sys.path.insert(0, ROOT)
    from villageapp import create_app, demo
    app = create_app()
    demo.build(app, log=lambda *_: None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1.5, locale="zh-CN")
        page.goto(base + "/v/610922104201/")
        page.screenshot(path=os.path.join(OUT, "public.png"))
        page.goto(base + "/login")
        page.screenshot(path=os.path.join(OUT, "login.png"))
        page.fill("#username", "mingxing")
        page.fill("#password", demo.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/home")
        page.screenshot(path=os.path.join(OUT, "cadre-home.png"))
        browser.close()
    server.shutdown()
    print("screenshots in", OUT)


if __name__ == "__main__":
    main()
