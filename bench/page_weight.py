"""Page weight of the public village page on a phone: what a villager's first visit costs, what a repeat visit
costs once the service worker serves the shell from its cache, and whether the page then reloads offline.

    python bench/page_weight.py [--village 610922104201] [--keep]

Builds a demo county in a temp folder (villageapp.demo.build), serves it from a thread and drives Debian's
Chromium (/usr/bin/chromium, a persistent profile, 390x844) with Playwright. Bytes are counted where they leave
the server (status line + headers + body of every response; the app sends no compression), so the requests of
the service worker itself (sw.js, the precache) are counted too. Prints figures; it is not a test."""
import argparse
import gzip
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from villageapp import create_app  # noqa: E402
from villageapp import demo  # noqa: E402

TARGET_BYTES = 30 * 1024
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Meter:
    """WSGI middleware: one row per response with the bytes that went on the wire."""

    def __init__(self, app):
        self.app, self.rows, self.lock = app, [], threading.Lock()

    def __call__(self, environ, start_response):
        row = {"path": environ.get("PATH_INFO", ""), "dest": environ.get("HTTP_SEC_FETCH_DEST", "?"),
               "sw": environ.get("HTTP_SERVICE_WORKER") == "script", "status": 0, "bytes": 0, "body": 0, "gzip": 0}

        def counting_start(status, headers, exc_info=None):
            row["status"] = int(status.split()[0])
            # "HTTP/1.1 200 OK\r\n" + "Name: value\r\n"... + "\r\n" (+ Server/Date lines the server adds, ~60 bytes)
            row["bytes"] += len(f"HTTP/1.1 {status}\r\n".encode()) + 2 + 60 + sum(
                len(f"{k}: {v}\r\n".encode("latin-1", "replace")) for k, v in headers)
            return start_response(status, headers, exc_info)

        body, sent = self.app(environ, counting_start), []
        try:
            for chunk in body:
                row["bytes"] += len(chunk)
                sent.append(chunk)
                yield chunk
        finally:
            row["body"] = sum(map(len, sent))
            row["gzip"] = len(gzip.compress(b"".join(sent), 6)) if row["body"] > 200 else row["body"]
            if hasattr(body, "close"):
                body.close()
            with self.lock:
                self.rows.append(row)

    def take(self):
        """The rows since the last take()."""
        time.sleep(0.3)  # let responses still being written land
        with self.lock:
            rows, self.rows = self.rows, []
        return rows


def summary(rows):
    return sum(r["bytes"] for r in rows), len(rows)


def by_worker(rows):
    """Requests the service worker made itself (its script, its precache fetches) vs the page's own."""
    worker = [r for r in rows if r["sw"] or r["dest"] in ("serviceworker", "empty")]
    return worker, [r for r in rows if r not in worker]


def page_stats(page):
    """The browser's own view (Resource Timing): transferSize is 0 for what came from a cache or the worker."""
    return page.evaluate("""() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const all = [nav, ...performance.getEntriesByType('resource')].filter(Boolean);
      return {requests: all.length, bytes: all.reduce((s, e) => s + e.transferSize, 0),
              from_sw: all.filter(e => e.workerStart > 0 && e.transferSize === 0).length,
              body_decoded: all.reduce((s, e) => s + e.decodedBodySize, 0)};
    }""")


def wait_for_worker(page):
    return page.evaluate("""async () => {
      if (!('serviceWorker' in navigator)) return 'unsupported';
      try { await Promise.race([navigator.serviceWorker.ready, new Promise((_, no) => setTimeout(no, 10000))]); }
      catch (e) { return 'not ready'; }
      for (let i = 0; i < 50 && !navigator.serviceWorker.controller; i++) await new Promise(r => setTimeout(r, 100));
      return navigator.serviceWorker.controller ? 'controlling' : 'ready, not controlling';
    }""")


def offline_reload(ctx, page, village, running, meter):
    """Cut the network (the worker's requests too), reload, and say whether the village page is still there."""
    meter.take()
    ctx.set_offline(True)
    try:
        page.reload(wait_until="load")
        text = page.inner_text("body")
        if "现在没有网络" in text:
            verdict = "no: the offline page (现在没有网络) instead of the village page"
        elif village in text and running in text:
            verdict = "ok: village name and the running 公示 shown"
        else:
            verdict = "no: a page without " + (village if village not in text else running)
    except Exception as error:  # net::ERR_INTERNET_DISCONNECTED: nothing answered
        verdict = "no: " + str(error).splitlines()[0]
    finally:
        ctx.set_offline(False)
    return verdict, meter.take()


def kb(n):
    return f"{n / 1024:6.1f} KB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--village", default="610922104201")
    parser.add_argument("--households", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (instance and browser profile)")
    options = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")

    work = tempfile.mkdtemp(prefix="page-weight-")
    os.environ["VILLAGEAPP_INSTANCE_PATH"] = os.path.join(work, "instance")
    try:
        app = create_app({"SECRET_KEY": "bench"})
    finally:
        os.environ.pop("VILLAGEAPP_INSTANCE_PATH", None)
    demo.build(app, households=options.households, log=lambda *_: None)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    meter = Meter(app.wsgi_app)
    app.wsgi_app = meter
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    url = f"{base}/v/{options.village}/"
    with app.app_context():
        from villageapp import store
        town = store.open_town(options.village[:9], app)
        village = town["villages"].get(options.village)["name"]
        running = next(town["notices"].rows_where("village_code = ? and category = '公示' and status = 'published'",
                                                  [options.village]))["title"]
        town.close()

    results, first_rows = [], []
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                os.path.join(work, "profile"), executable_path=CHROMIUM, args=ARGS,
                viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN", is_mobile=True,
                has_touch=True)
            page = ctx.pages[0] if ctx.pages else ctx.new_page()

            # 1. first visit: empty profile; the page loads, then the service worker installs and precaches
            meter.take()
            page.goto(url, wait_until="load")
            state = wait_for_worker(page)
            page.wait_for_timeout(500)
            browser_first = page_stats(page)
            first_rows = meter.take()
            worker, own = by_worker(first_rows)
            results.append(("first visit: the page", *summary(own), browser_first["from_sw"]))
            results.append(("first visit: service worker install", *summary(worker), None))
            results.append(("first visit: total", *summary(first_rows), None))

            # 2. offline straight after that one visit (a villager who scanned the QR code, then lost the signal)
            offline_once, _ = offline_reload(ctx, page, village, running, meter)

            # 3. repeat visit: a new tab on the same phone, online
            page.close()
            page = ctx.new_page()
            page.goto(url, wait_until="load")
            page.wait_for_timeout(500)
            browser_repeat = page_stats(page)
            repeat_rows = meter.take()
            results.append(("repeat visit (worker in control)", *summary(repeat_rows), browser_repeat["from_sw"]))

            # 4. offline again, after the repeat visit
            offline_twice, offline_rows = offline_reload(ctx, page, village, running, meter)
            ctx.close()
    finally:
        server.shutdown()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)

    first_total = summary(first_rows)[0]
    print(f"Page weight of {url} ({village}), Chromium 390x844, persistent profile, no compression")
    print(f"service worker after first visit: {state}")
    print()
    print(f"{'':38} {'bytes':>10} {'requests':>9} {'from SW':>8}")
    for label, size, count, from_sw in results:
        print(f"{label:38} {kb(size):>10} {count:>9} {'' if from_sw is None else from_sw:>8}")
    print(f"{'offline reload after the repeat visit':38} {kb(summary(offline_rows)[0]):>10} {len(offline_rows):>9}"
          f"   -> {offline_twice}")
    print(f"offline reload after ONE visit only: {offline_once}")
    print()
    print(f"browser's view (Resource Timing transferSize): first visit {kb(browser_first['bytes'])} in "
          f"{browser_first['requests']} requests, repeat {kb(browser_repeat['bytes'])} in {browser_repeat['requests']} "
          f"({browser_repeat['from_sw']} answered by the service worker)")
    print()
    print("first visit, every response (largest first; body size, and what gzip -6 would make of it):")
    totals = defaultdict(lambda: [0, 0, 0, 0])
    for r in first_rows:
        row = totals[(r["path"], r["dest"], r["status"])]
        row[0] += r["bytes"]
        row[1] += 1
        row[2] += r["body"]
        row[3] += r["gzip"]
    for (path, dest, status), (size, count, body, zipped) in sorted(totals.items(), key=lambda kv: -kv[1][0]):
        print(f"  {kb(size)}  {status}  {dest:<14} {path:<32}{'x%d' % count if count > 1 else '':>3}  "
              f"body {body:>5} B, gzip {zipped:>5} B")
    headers = sum(r["bytes"] - r["body"] for r in first_rows)
    print(f"  headers of all {len(first_rows)} responses: {kb(headers).strip()}; with gzip on text the first visit "
          f"would be {kb(headers + sum(r['gzip'] for r in first_rows)).strip()}")
    met = first_total <= TARGET_BYTES
    print()
    print(f"first-visit target 30 KB: {'met' if met else 'NOT met'} ({kb(first_total).strip()} incl. the service "
          f"worker's install; the page alone {kb(results[0][1]).strip()})")


if __name__ == "__main__":
    main()
