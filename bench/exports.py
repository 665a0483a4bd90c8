"""Export speed and memory of a town's meetings list against `sqlite-utils rows --csv` on the same table.

    python bench/exports.py [--rows 100000,400000] [--repeat 3] [--no-http] [--profile] [--instance DIR]

Builds a demo county in a temp folder (6 households a village), then gives 池河镇 N meeting records: copies of a real demo
meeting with their own uuid, village and council (every council of the town), a start over two years and an agenda of
1–3 titles, inserted with sqlite-utils insert_all in batches. For each N, each command runs REPEAT times in its own
subprocess, and its time (median) and peak memory (ru_maxrss of that process, from os.wait4) are printed:
  baseline  `sqlite-utils rows TOWN.db meetings --csv` > /dev/null
  CSV       `villageapp export TOWN meetings --format csv -o /dev/null`   (goal ≤ 1.5× the baseline)
  XLSX      `villageapp export TOWN meetings --format xlsx -o /dev/null`  (goal ≤ 4× the baseline)
  startup   `villageapp export TOWN meetings --start 2000-01-01 --end 2000-01-02` (selects nothing: the app's start)
Peak memory's goal: flat, under 100 MB, for 100k and 400k rows alike.
Then (unless --no-http) a real `villageapp serve` (waitress) on the largest file: the town clerk chihe signs in and
GETs /t/<town>/exports/meetings.xlsx; prints the time to the first byte and to the last.
With --profile, runs the XLSX and CSV exports of the first N under cProfile and prints the top costs.
Prints figures; it is not a test."""
import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid as uuidlib
from datetime import datetime, timedelta

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

TOWN, CLERK = "610922104", "chihe"    # 池河镇 of the demo county and its town staff
BATCH = 5000
TITLES = ("修村道", "春耕用水安排", "低保户评议", "村规民约修订", "垃圾分类", "集体经济分红", "危房改造名单", "防汛值班",
          "人居环境整治", "产业路硬化", "合作社入股", "困难户帮扶", "红白理事会章程", "学校门口交通安全")
GOALS = {"csv": 1.5, "xlsx": 4.0}
MEMORY_GOAL_MB = 100


def bin_path(name):
    return os.path.join(os.path.dirname(sys.executable), name)


# ---- the town file --------------------------------------------------------------------------------------------

def build_instance(folder):
    from villageapp import create_app, demo
    os.environ["VILLAGEAPP_INSTANCE_PATH"] = folder
    app = create_app({"SECRET_KEY": "bench"})
    demo.build(app, households=6, log=lambda *_: None)
    return app


def add_meetings(app, count, rng):
    """COUNT more meeting rows in the town's file, copied from a real demo meeting, in batches of BATCH."""
    from villageapp.store import open_town
    with app.app_context():
        db = open_town(TOWN, app)
        try:
            model = next(db["meetings"].rows_where("state != 'draft'", order_by="starts_at"))
            councils = list(db.query("select uuid, village_code from councils"))
            first = datetime(2025, 1, 1, 8, 0)
            minutes = 2 * 365 * 24 * 60

            def rows():
                for _ in range(count):
                    council = rng.choice(councils)
                    titles = rng.sample(TITLES, rng.randint(1, 3))
                    agenda = [{"title": t, "discussion": f"大家就{t}讨论了一个多小时，意见基本一致。", "decision": "同意",
                               "votes_for": rng.randint(3, 9), "votes_against": 0, "votes_abstain": rng.randint(0, 2),
                               "actions": []} for t in titles]
                    yield {**model, "uuid": str(uuidlib.uuid4()), "village_code": council["village_code"],
                           "council_uuid": council["uuid"], "present": rng.randint(5, 40),
                           "starts_at": (first + timedelta(minutes=rng.randrange(minutes))).isoformat(timespec="minutes"),
                           "agenda": json.dumps(agenda, ensure_ascii=False), "photos": "[]"}
            t = time.perf_counter()
            db["meetings"].insert_all(rows(), batch_size=BATCH)
            seconds = time.perf_counter() - t
            db.execute("pragma wal_checkpoint(truncate)")
            return db["meetings"].count, seconds
        finally:
            db.close()


# ---- one command in its own process ----------------------------------------------------------------------------

def run(command, env):
    """(seconds, peak RSS in MB) of one command run to its end in a subprocess of its own. A forked child's ru_maxrss
    counts the memory of the process it was forked from (Linux keeps the high-water mark across exec), so the command is
    started by a small launcher (this file with --launch, stdlib only, ~10 MB) rather than by this process, which holds
    the app and the rows it built."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--launch", *command], check=False, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {out.stderr[-2000:]}")
    figures = json.loads(out.stdout)
    return figures["seconds"], figures["maxrss_kb"] / 1024


def launch(command):
    """--launch: run the command with its output to /dev/null, print its time and peak memory as JSON."""
    t = time.perf_counter()
    with open(os.devnull, "wb") as null:
        process = subprocess.Popen(command, stdout=null, stderr=subprocess.PIPE)
        err = process.stderr.read()
        _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(f"exit {code}: {err.decode('utf-8', 'replace')[-2000:]}")
        sys.exit(1)
    print(json.dumps({"seconds": seconds, "maxrss_kb": usage.ru_maxrss}))


def measure(commands, env, repeat):
    """{name: (median seconds, largest peak MB)}; the commands take turns, so a slow moment of the machine is shared."""
    times, peaks = {name: [] for name in commands}, {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            seconds, peak = run(command, env)
            times[name].append(seconds)
            peaks[name].append(peak)
    return {name: (statistics.median(times[name]), max(peaks[name])) for name in commands}


def commands_for(town_file):
    export = [bin_path("villageapp"), "export", TOWN, "meetings", "-o", os.devnull]
    return {"baseline": [bin_path("sqlite-utils"), "rows", town_file, "meetings", "--csv"],
            "csv": export + ["--format", "csv"],
            "xlsx": export + ["--format", "xlsx"],
            "startup": export + ["--format", "xlsx", "--start", "2000-01-01", "--end", "2000-01-02"]}


# ---- the HTTP export ---------------------------------------------------------------------------------------------

def http_first_byte(folder):
    """(seconds to the first byte, seconds to the last, bytes) of the town clerk's XLSX download from `villageapp serve`."""
    from writers import Browser, Server

    from villageapp import demo
    with Server(folder, threads=4) as server:
        browser = Browser(server.base)
        browser.login(CLERK, demo.PASSWORD)
        request = urllib.request.Request(f"{server.base}/t/{TOWN}/exports/meetings.xlsx")
        t = time.perf_counter()
        with browser.opener.open(request, timeout=600) as response:
            first = response.read(1)
            first_at = time.perf_counter() - t
            size = len(first)
            while block := response.read(1 << 16):
                size += len(block)
        return first_at, time.perf_counter() - t, size


def profile(app, fmt):
    runner = app.test_cli_runner()
    profiler = cProfile.Profile()
    profiler.enable()
    result = runner.invoke(args=["export", TOWN, "meetings", "--format", fmt, "-o", os.devnull])
    profiler.disable()
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print(f"\n--- cProfile of the {fmt.upper()} export, by own time ---")
    print("\n".join(out.getvalue().splitlines()[:40]))


# ---- main -----------------------------------------------------------------------------------------------------------

def main():
    if sys.argv[1:2] == ["--launch"]:
        return launch(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="100000,400000", help="meeting records in the town, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-http", action="store_true", help="skip the first-byte time of the HTTP download")
    parser.add_argument("--profile", action="store_true", help="profile the exports of the first N under cProfile")
    parser.add_argument("--instance", help="instance folder to build in and keep (default: a temp folder, removed); "
                                           "one built before is used again, with rows added up to each N")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.rows.split(","))

    folder = args.instance or tempfile.mkdtemp(prefix="bench-exports-")
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(args.seed)
    try:
        t = time.perf_counter()
        from villageapp.store import town_path
        if os.listdir(folder):
            from villageapp import create_app
            os.environ["VILLAGEAPP_INSTANCE_PATH"] = folder
            app = create_app({"SECRET_KEY": "bench"})
            print(f"using the instance in {folder}")
        else:
            app = build_instance(folder)
            print(f"demo county built in {time.perf_counter() - t:.1f} s in {folder}")
        town_file = town_path(TOWN, app)
        env = {**os.environ, "VILLAGEAPP_INSTANCE_PATH": folder, "PYTHONPATH": os.path.abspath(ROOT)}
        results = []
        with app.app_context():
            from villageapp.store import open_town
            db = open_town(TOWN, app)
            have = db["meetings"].count
            db.close()
        for n in sizes:
            total, seconds = add_meetings(app, max(0, n - have), rng)
            print(f"{total} meetings in {TOWN} (inserted {max(0, n - have)} in {seconds:.1f} s); file {os.path.getsize(town_file) / 1e6:.0f} MB;"
                  f" measuring {args.repeat}× each …", flush=True)
            have = total
            results.append((total, measure(commands_for(town_file), env, args.repeat)))
            if args.profile and n == sizes[0]:
                for fmt in ("csv", "xlsx"):
                    profile(app, fmt)

        print(f"\nExport of the meetings list (median of {args.repeat}; peak = max RSS of the process)")
        print(f"{'rows':>8} | {'baseline s':>10} | {'CSV s':>6} {'×':>5} | {'XLSX s':>6} {'×':>5} | "
              f"{'startup s':>9} | {'peak MB base/CSV/XLSX/startup':>29}")
        for total, r in results:
            base = r["baseline"][0]
            print(f"{total:>8} | {base:>10.2f} | {r['csv'][0]:>6.2f} {r['csv'][0] / base:>5.2f} | "
                  f"{r['xlsx'][0]:>6.2f} {r['xlsx'][0] / base:>5.2f} | {r['startup'][0]:>9.2f} | "
                  f"{r['baseline'][1]:>8.0f} /{r['csv'][1]:>5.0f} /{r['xlsx'][1]:>5.0f} /{r['startup'][1]:>7.0f}")
        print(f"goals: CSV ≤ {GOALS['csv']}×, XLSX ≤ {GOALS['xlsx']}× the baseline; peak memory flat and < {MEMORY_GOAL_MB} MB")
        for total, r in results:
            for fmt in ("csv", "xlsx"):
                ratio = r[fmt][0] / r["baseline"][0]
                if ratio > GOALS[fmt] or r[fmt][1] >= MEMORY_GOAL_MB:
                    print(f"  MISSED at {total} rows: {fmt.upper()} {ratio:.2f}×, {r[fmt][1]:.0f} MB")
        if len(results) > 1:
            print("memory from the smallest to the largest: " + ", ".join(
                f"{fmt.upper()} {results[0][1][fmt][1]:.0f} → {results[-1][1][fmt][1]:.0f} MB" for fmt in ("csv", "xlsx")))

        if not args.no_http:
            first, last, size = http_first_byte(folder)
            print(f"\nHTTP (villageapp serve, waitress), {CLERK} downloads meetings.xlsx of {results[-1][0]} rows: "
                  f"first byte after {first * 1000:.0f} ms, last after {last:.1f} s ({size / 1e6:.1f} MB)")
    finally:
        if not args.instance:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
