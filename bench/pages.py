"""Each main page's time at demo size and at county size, side by side (issue 14 part 1): does a page's cost grow
with the county, or only with its own rows?

    python bench/pages.py [--demo DIR] [--county DIR] [-n 30] [--towns 11 --villages 15 --households 300]

--demo / --county: instance folders to use; one that holds no directory.db yet is built there first (the demo as
`villageapp demo` builds it; the county as `villageapp demo --county` does, ~10 minutes at full size), so a second
run reuses them. Without them both are built in a temporary folder and removed afterwards.
Every page is requested through the Flask test client by the demo login that uses it (the county keeps the demo's
logins), once to warm up, then N times, demo and county in turn (so a busy machine weighs on both alike); prints the
median ms of each, and county ÷ demo. Every answer must be 200. Prints figures; it is not a test."""
import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import unicodedata

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from villageapp import county, create_app, demo

VILLAGE, TOWN = "610922104201", "610922104"   # 明星村 of 池河镇: in the demo and in the county alike
PAGES = [  # (what, login or None for the public, path)
    ("公开页 public village page", None, f"/v/{VILLAGE}/"),
    ("村首页 village home (cadre)", "mingxing", f"/v/{VILLAGE}/home"),
    ("会议记录 meetings, village", "mingxing", f"/v/{VILLAGE}/meetings/"),
    ("会议记录 meetings, town", "chihe", f"/t/{TOWN}/meetings/"),
    ("户籍 households", "mingxing", f"/v/{VILLAGE}/households/"),
    ("公开 notices list", "mingxing", f"/v/{VILLAGE}/notices/"),
    ("村规民约 rules", "mingxing", f"/v/{VILLAGE}/rules"),
    ("镇工作台 town desk", "chihe", f"/t/{TOWN}/"),
    ("操作记录 audit log", "chihe", f"/t/{TOWN}/audit/"),
    ("全县 county home", "admin", "/"),
]
COUNTS = ["villages", "households", "residents", "meetings", "notices", "objections", "audit", "revisions"]


def instance(path, build, label):
    if not os.path.exists(os.path.join(path, "directory.db")):
        started = time.monotonic()
        print(f"building the {label} in {path} …", flush=True)
        build(app_for(path))
        print(f"  built in {time.monotonic() - started:.0f} s", flush=True)
    return app_for(path)


def app_for(path):
    os.environ["VILLAGEAPP_INSTANCE_PATH"] = os.path.abspath(path)
    try:
        return create_app({"SECRET_KEY": "bench-pages"})
    finally:
        os.environ.pop("VILLAGEAPP_INSTANCE_PATH", None)


def sizes(path):
    import sqlite3
    towns = [f for f in os.listdir(os.path.join(path, "towns")) if f.endswith(".db")]
    conn = sqlite3.connect(os.path.join(path, "towns", f"{TOWN}.db"))
    try:
        town = {t: conn.execute(f"select count(*) from [{t}]").fetchone()[0] for t in COUNTS}
    finally:
        conn.close()
    return len(towns), town


def clients(app):
    """A signed-in test client per login (and one for the public)."""
    out = {None: app.test_client()}
    for username in {login for _w, login, _p in PAGES if login}:
        client = app.test_client()
        page = client.get("/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        answer = client.post("/login", data={"username": username, "password": demo.PASSWORD, "csrf_token": token})
        if answer.status_code != 302:
            raise SystemExit(f"{username} could not sign in ({answer.status_code})")
        out[username] = client
    return out


def pad(text, width):
    """Left-aligned in `width` terminal columns (a Chinese character takes two)."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - shown, 1)


def timed(client, path):
    """(wall ms, CPU ms of this thread): the test client runs the app in this thread, so its CPU time is the
    request's own, steady on a busy machine where the wall time is not."""
    started, cpu = time.perf_counter(), time.thread_time()
    answer = client.get(path)
    elapsed, used = (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{path}: {answer.status_code}")
    return elapsed, used


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo", help="the demo-size instance folder (built there if empty)")
    parser.add_argument("--county", help="the county-size instance folder (built there if empty)")
    parser.add_argument("-n", type=int, default=30, help="timed requests per page and size")
    parser.add_argument("--towns", type=int, default=11)
    parser.add_argument("--villages", type=int, default=15)
    parser.add_argument("--households", type=int, default=300)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="bench-pages-")
    try:
        quiet = lambda *_a: None
        demo_path = args.demo or os.path.join(scratch, "demo")
        county_path = args.county or os.path.join(scratch, "county")
        apps = {
            "demo": instance(demo_path, lambda app: demo.build(app, log=quiet), "demo"),
            "county": instance(county_path, lambda app: county.build(
                app, towns=args.towns, villages=args.villages, households=args.households,
                log=lambda line: print(line, flush=True)), "county"),
        }
        for label, path in (("demo", demo_path), ("county", county_path)):
            towns, town = sizes(path)
            print(f"{label:<7} {towns} towns; 池河镇: " + ", ".join(f"{k} {v}" for k, v in town.items()))
        signed = {label: clients(app) for label, app in apps.items()}
        print(f"\nmedian of {args.n} requests (Flask test client, in process): CPU ms (the steady figure), wall ms")
        print(f"{'page':<34}{'CPU demo':>9}{'county':>9}{'ratio':>8}   {'wall demo':>9}{'county':>9}{'ratio':>8}")
        for what, login, path in PAGES:
            times = {"demo": [], "county": []}
            for label in times:
                timed(signed[label][login], path)  # warm up
            for _ in range(args.n):
                for label, measured in times.items():
                    measured.append(timed(signed[label][login], path))
            cells = []
            for index in (1, 0):  # CPU, then wall
                d, c = (statistics.median(t[index] for t in times[label]) for label in ("demo", "county"))
                cells.append(f"{d:>9.1f}{c:>9.1f}{c / d:>7.1f}×")
            print(pad(what, 34) + "   ".join(cells), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
