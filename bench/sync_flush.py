"""Time to flush records queued offline once the signal returns, in headless Chromium (target: 500 in < 10 s).

    python bench/sync_flush.py [--records 500] [--runs 1]

Builds a demo county in a temp folder, serves it from a thread (werkzeug, threaded) and drives Debian's Chromium
(/usr/bin/chromium) with Playwright: cadre mingxing logs in, opens 待发送, the phone goes offline, N valid meeting
minutes are queued through window.VillageOutbox.queue() (as 保存 does), the phone goes online (the `online` event
starts the send) and the clock runs until the phone's outbox is empty AND the town file holds N meetings.
Prints the seconds, the requests made, and how much of the time was the outbox's backoff wait (the first
POST after reconnect) versus sending. Prints figures; it is not a test."""
import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from collections import Counter

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from villageapp import create_app  # noqa: E402
from villageapp import demo  # noqa: E402
from villageapp.store import open_town  # noqa: E402

TARGET_SECONDS = 10.0
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VILLAGE, TOWN = "610922104201", "610922104"

QUEUE = """async ([n, village, council, tag]) => {
  for (let i = 0; i < n; i++) {
    const uuid = VillageOutbox.uuid4();
    await VillageOutbox.queue({uuid, type: 'meeting', village, base_version: null, title: `${tag} ${i}`, url: '/outbox',
      payload: [['council', council], ['date', '2026-03-02'], ['time', '14:30'], ['place', `${tag}-${i}`],
                ['host', '张德明'], ['recorder', '王会计'], ['present', '5'], ['others', ''],
                ['agenda-0-title', '修村道'], ['agenda-0-discussion', '大家同意先修东头，费用按户分摊。'],
                ['agenda-0-decision', '下月动工'], ['agenda-0-votes_for', '4'], ['agenda-0-votes_against', '0'],
                ['agenda-0-votes_abstain', '1']]});
  }
  return (await VillageOutbox.outbox()).length;
}"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    os.environ["VILLAGEAPP_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="sync-flush-")
    app = create_app({"SECRET_KEY": "bench"})
    demo.build(app, households=6, log=lambda *_: None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    def stored(tag):
        with app.app_context():
            db = open_town(TOWN, app)
            try:
                return db.execute("select count(*) from meetings where place like ?", [tag + "-%"]).fetchone()[0]
            finally:
                db.close()

    with app.app_context():
        db = open_town(TOWN, app)
        council = db.execute("select uuid from councils where village_code = ? and name = '村民议事会'", [VILLAGE]).fetchone()[0]
        db.close()

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for run in range(args.runs):
            context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("#username", "mingxing")
            page.fill("#password", demo.PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/home")
            page.goto(base + "/outbox")
            page.wait_for_function("() => !!window.VillageOutbox")

            tag = f"bench{run}"
            context.set_offline(True)
            t = time.perf_counter()
            queued = page.evaluate(QUEUE, [args.records, VILLAGE, council, tag])
            queue_seconds = time.perf_counter() - t
            assert queued == args.records, queued
            before = page.evaluate("VillageOutbox.outbox()")
            attempts = Counter(e["attempts"] for e in before)

            requests, first_post = Counter(), []

            def seen(request, requests=requests, first_post=first_post):
                path = request.url.split(base, 1)[-1]
                key = f"{request.method} {'/api/v/…/edits' if path.endswith('/edits') else path}"
                requests[key] += 1
                if key.endswith("/edits") and not first_post:
                    first_post.append(time.perf_counter())

            context.on("request", seen)
            start = time.perf_counter()
            context.set_offline(False)  # the `online` event starts the send
            while True:
                left = page.evaluate("async () => (await VillageOutbox.outbox()).length")
                if left == 0 and stored(tag) == args.records:
                    break
                if time.perf_counter() - start > 600:
                    raise SystemExit(f"gave up after 600 s: {left} still on the phone, {stored(tag)} on the server")
                page.wait_for_timeout(20)
            seconds = time.perf_counter() - start
            wait = (first_post[0] - start) if first_post else float("nan")
            receipts = page.evaluate("async () => (await VillageOutbox.receipts()).length")
            results.append(seconds)
            print(f"run {run + 1}: {args.records} records queued offline in {queue_seconds:.1f} s "
                  f"(failed tries while offline per record: {dict(sorted(attempts.items()))})")
            print(f"  reconnect → outbox empty and {stored(tag)} meetings on the server: {seconds:.2f} s "
                  f"(target < {TARGET_SECONDS:.0f} s) {'OK' if seconds < TARGET_SECONDS else 'MISSED'}")
            print(f"  of which waiting for the backoff before the first POST: {wait:.2f} s; sending: {seconds - wait:.2f} s")
            print(f"  requests: {sum(requests.values())} — " + ", ".join(f"{k} × {v}" for k, v in sorted(requests.items())))
            print(f"  receipts on the phone: {receipts}")
            context.close()
        browser.close()
    server.shutdown()
    if len(results) > 1:
        print(f"best of {len(results)}: {min(results):.2f} s, worst {max(results):.2f} s")


if __name__ == "__main__":
    main()
