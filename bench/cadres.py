"""N cadres at once against a real `villageapp serve` (issue 14): 50 logins at once, then S seconds of work.

    python bench/cadres.py [--cadres 50] [--seconds 60] [--instance DIR] [--server gunicorn|waitress]
                           [--workers N] [--threads N] [--code DIR]

1. 50 logins at once: every cadre (a thread with its own cookie jar) fetches /login, then all post their password at
   the same moment; meanwhile an anonymous reader loads the public village page again and again. Prints p50/p95 of
   the sign-ins and of the page views during them. Run twice: the first burst also replaces hashes of an older cost
   (passwords.py), the second is the everyday case.
2. Each cadre loops for SECONDS: village home, meetings list, one minutes opened from the list, POST 5 edits (new
   minutes, as a phone syncs them) to /api/v/<village>/edits, the public village page. Prints p50/p95 per page type,
   errors, requests/s, the server's CPU (cores used), and rows written = edits accepted, read back from the town files.

The cadres are the instance's cadre accounts (one per village on a county instance: `villageapp demo --county`),
taken round-robin across towns. The instance is written to (minutes are added): use a copy. Without --instance, a
demo county is built in a temp folder. --code: the checkout whose app the server runs (default: this one), to
compare before and after on the same data."""
import argparse
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from collections import Counter, defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))

import writers  # bench/writers.py: a browser with its own cookie jar

PASSWORD = "shiquan2026"
TAG = f"cadres-{uuidlib.uuid4().hex[:8]}"  # the place of every minutes this run writes: counted afterwards


def cadres(instance, n):
    """n (username, village, council uuid) taken round-robin across towns from the instance's cadre accounts."""
    directory = sqlite3.connect(os.path.join(instance, "directory.db"))
    rows = directory.execute("select u.username, uv.village_code from users u join user_villages uv on uv.user_id = u.id "
                             "where u.role = 'cadre' and u.active = 1 order by uv.village_code, u.id").fetchall()
    directory.close()
    by_town = defaultdict(list)
    for username, village in rows:
        by_town[village[:9]].append((username, village))
    spread = [by_town[t][i] for i in range(max(map(len, by_town.values()))) for t in sorted(by_town) if i < len(by_town[t])]
    picked, councils = [], {}
    for username, village in (spread * (n // len(spread) + 1))[:n]:
        if village not in councils:
            db = sqlite3.connect(os.path.join(instance, "towns", village[:9] + ".db"))
            councils[village] = db.execute("select uuid from councils where village_code = ? order by name = '村民议事会' desc,"
                                           " uuid limit 1", [village]).fetchone()[0]
            db.close()
        picked.append((username, village, councils[village]))
    return picked


def minutes(council, i):
    fields = {"council": council, "date": "2026-03-02", "time": "14:30", "place": f"{TAG}-{i}", "host": "张德明",
              "recorder": "王会计", "present": "5", "others": "", "agenda-0-title": "修村道",
              "agenda-0-discussion": "大家同意先修东头，费用按户分摊。", "agenda-0-decision": "下月动工",
              "agenda-0-votes_for": "4", "agenda-0-votes_against": "0", "agenda-0-votes_abstain": "1"}
    return {"edit_id": str(uuidlib.uuid4()), "uuid": str(uuidlib.uuid4()), "type": "meeting", "base_version": None,
            "payload": [[k, v] for k, v in fields.items()]}


class Server:
    """`villageapp serve` of the checkout CODE on a free port; its CPU read from /proc (master and workers)."""

    def __init__(self, instance, code, args):
        self.port = writers.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.err = open(os.path.join(instance, "cadres-serve-stderr.log"), "wb")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "VILLAGEAPP_INSTANCE_PATH": instance, "PYTHONPATH": os.path.abspath(code)}
        exe = os.path.join(os.path.dirname(sys.executable), "villageapp")
        self.process = subprocess.Popen([exe, "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
                                        env=env, stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("villageapp serve stopped")
            try:
                if writers.Browser(self.base).get("/login")[0] == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("villageapp serve did not answer within 120 s")

    def cpu_seconds(self):
        tick, total = os.sysconf("SC_CLK_TCK"), 0
        pids = [self.process.pid] + [int(p) for p in filter(str.isdigit, os.listdir("/proc")) if _parent(p) == self.process.pid]
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except (FileNotFoundError, ProcessLookupError):
                pass
        return total

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.err.close()


def _parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def logins_at_once(base, accounts, public_path):
    """(sign-in times, page-view times meanwhile, statuses, browsers signed in)."""
    browsers = [writers.Browser(base) for _ in accounts]
    tokens = [b.token("/login") for b in browsers]
    barrier, times, statuses, done = threading.Barrier(len(accounts) + 1), [], Counter(), threading.Event()

    def sign_in(browser, token, username):
        barrier.wait()
        start = time.perf_counter()
        status, _text = browser.request("POST", "/login", {"username": username, "password": PASSWORD,
                                                           "remember": "y", "csrf_token": token})
        times.append(time.perf_counter() - start)
        statuses[status] += 1

    views = []

    def reader():
        anonymous = writers.Browser(base)
        barrier.wait()
        while not done.is_set():
            start = time.perf_counter()
            anonymous.get(public_path)
            views.append(time.perf_counter() - start)
    threads = [threading.Thread(target=sign_in, args=(b, t, a[0])) for b, t, a in zip(browsers, tokens, accounts)]
    watcher = threading.Thread(target=reader)
    for t in [*threads, watcher]:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watcher.join()
    return times, views, statuses, browsers


def work(base, browser, village, council, deadline, log, counter):
    """One cadre's loop until the deadline: home, meetings list, one minutes, 5 edits, the public page."""
    token = None
    anonymous = writers.Browser(base)
    while time.monotonic() < deadline:
        for kind, call in (("home", lambda: browser.get(f"/v/{village}/home")),
                           ("meetings", lambda: browser.get(f"/v/{village}/meetings/")),
                           ("minutes", None), ("edits", None),
                           ("public", lambda: anonymous.get(f"/v/{village}/"))):
            start = time.perf_counter()
            try:
                if kind == "minutes":
                    found = re.findall(rf'href="(/v/{village}/meetings/[0-9a-f-]{{36}})"', log["last_list"].get(village, ""))
                    status, text = browser.get(found[counter["n"] % len(found)]) if found else (599, "no minutes listed")
                elif kind == "edits":
                    if token is None:
                        token = re.search(r'"csrf_token":\s*"([^"]+)"', browser.get("/api/session")[1]).group(1)
                    edits = [minutes(council, f"{village}-{counter['n']}-{k}") for k in range(5)]
                    status, text = browser.request("POST", f"/api/v/{village}/edits", body={"edits": edits},
                                                   headers={"X-CSRFToken": token})
                    if status == 200:
                        counter["accepted"] += text.count('"accepted"')
                else:
                    status, text = call()
                    if kind == "meetings":
                        log["last_list"][village] = text
            except Exception as e:  # noqa: BLE001 - counted as an error of this page type
                status, text = 598, repr(e)
            log[kind].append(time.perf_counter() - start)
            log["status"][(kind, status)] += 1
            counter["n"] += 1


def rows_written(instance):
    total = 0
    for name in os.listdir(os.path.join(instance, "towns")):
        if name.endswith(".db"):
            db = sqlite3.connect(os.path.join(instance, "towns", name))
            total += db.execute("select count(*) from meetings where place like ?", [TAG + "-%"]).fetchone()[0]
            db.close()
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cadres", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--instance", help="an instance folder (written to: use a copy); default: a demo county in a temp folder")
    parser.add_argument("--server", choices=["gunicorn", "waitress"])
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--code", default=ROOT, help="the checkout the server runs (default: this one)")
    args = parser.parse_args()
    instance = args.instance
    if instance is None:
        instance = tempfile.mkdtemp(prefix="cadres-")
        writers.build_demo(instance)
    instance = os.path.abspath(instance)
    accounts = cadres(instance, args.cadres)
    serve_args = [*(["--server", args.server] if args.server else []),
                  *(["--workers", str(args.workers)] if args.workers else []),
                  *(["--threads", str(args.threads)] if args.threads else [])]
    print(f"instance {instance}: {len(accounts)} cadres of {len({a[1] for a in accounts})} villages; "
          f"villageapp serve {' '.join(serve_args) or '(defaults)'}; code {os.path.abspath(args.code)}")
    server = Server(instance, args.code, serve_args)
    try:
        for burst in ("first (older hashes upgraded)", "again"):
            cpu0, client0 = server.cpu_seconds(), time.process_time()
            times, views, statuses, browsers = logins_at_once(server.base, accounts, f"/v/{accounts[0][1]}/")
            cpu = server.cpu_seconds() - cpu0  # the sign-ins' and the reader's: an upper bound per sign-in
            client = time.process_time() - client0  # this script's own share of the same cores
            print(f"{len(accounts)} logins at once, {burst}: p50 {pct(times, 50):.2f} s, p95 {pct(times, 95):.2f} s, "
                  f"max {max(times):.2f} s, answers {dict(statuses)}, server CPU {cpu / len(accounts) * 1000:.0f} ms "
                  f"per sign-in (this client: {client:.2f} s of CPU); public page meanwhile: {len(views)} views, "
                  f"p50 {pct(views, 50) * 1000:.0f} ms, p95 {pct(views, 95) * 1000:.0f} ms")
        log = {"status": Counter(), "last_list": {}, **{k: [] for k in ("home", "meetings", "minutes", "edits", "public")}}
        counters = [Counter() for _ in accounts]
        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        deadline = t0 + args.seconds
        threads = [threading.Thread(target=work, args=(server.base, b, a[1], a[2], deadline, log, c))
                   for b, a, c in zip(browsers, accounts, counters)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed, cpu = time.monotonic() - t0, server.cpu_seconds() - cpu0
    finally:
        server.stop()
    requests = sum(log["status"].values())
    errors = {f"{k} {s}": n for (k, s), n in sorted(log["status"].items()) if not 200 <= s < 400}
    print(f"{len(accounts)} cadres for {elapsed:.0f} s: {requests} requests, {requests / elapsed:.0f} req/s, "
          f"server CPU {cpu / elapsed:.2f} cores ({cpu / max(requests, 1) * 1000:.1f} ms per request), "
          f"errors {errors or 'none'}")
    for kind in ("home", "meetings", "minutes", "edits", "public"):
        values = log[kind]
        print(f"  {kind:<9} {len(values):>6}  p50 {pct(values, 50) * 1000:6.0f} ms  p95 {pct(values, 95) * 1000:6.0f} ms"
              f"  mean {statistics.fmean(values) * 1000 if values else float('nan'):6.0f} ms")
    accepted, found = sum(c["accepted"] for c in counters), rows_written(instance)
    print(f"rows written: {found} minutes in the town files for {accepted} edits accepted"
          f"{'' if found == accepted else '  <-- MISMATCH'}")


if __name__ == "__main__":
    main()
