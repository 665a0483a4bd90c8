"""Lighthouse scores of what a villager and a cadre open first: the public village page, a running 公示 and the login
page, mobile preset (Lighthouse's Moto G Power screen, slow 4G and a 4× slower CPU, simulated).

    python bench/lighthouse.py [--village 610922104201] [--runs 3] [--json DIR]

Builds a demo county in a temp folder (villageapp.demo.build), serves it from a thread on 127.0.0.1 and runs Node's
`lighthouse` from the npm registry (`npx -y lighthouse@12.8.2`) against Debian's Chromium (CHROME_PATH=/usr/bin/chromium).
Prints the performance and accessibility scores of each page (the goal is 100 and 100) and, for any score under 100,
the audits that hold it back. Each page is run --runs times and the run with the median performance score is shown
(Lighthouse's own advice: total blocking time moves with whatever else the machine is doing). Needs Node ≥ 18 with npx.
It is not a test."""
import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading

from werkzeug.serving import make_server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from villageapp import create_app  # noqa: E402
from villageapp import store  # noqa: E402
from villageapp import demo  # noqa: E402

LIGHTHOUSE = "lighthouse@12.8.2"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-sync"


def running_notice(app, village):
    """The first 公示 of the village that is open for objections (the demo has one in each village)."""
    with app.app_context():
        db = store.open_town(village[:9], app)
        try:
            row = next(db.query("select uuid from notices where village_code = ? and category = '公示' "
                                "and status = 'published' order by publish_date desc", [village]), None)
        finally:
            db.close()
    return row and row["uuid"]


def lighthouse(url, out_dir, name):
    """Run Lighthouse on one URL; returns its JSON report (a dict)."""
    path = os.path.join(out_dir, f"{name}.json")
    command = ["npx", "-y", LIGHTHOUSE, url, "--output=json", f"--output-path={path}", "--form-factor=mobile",
               "--only-categories=" + ",".join(CATEGORIES), f"--chrome-flags={CHROME_FLAGS}", "--quiet"]
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=600)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def holding_back(report, category):
    """The audits of a category that did not score 1, with what they weigh and what Lighthouse says."""
    out = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = report["audits"][ref["id"]]
        if ref.get("weight", 0) and audit.get("score") is not None and audit["score"] < 1:
            out.append((ref["weight"], audit["id"], audit.get("displayValue", ""), audit["score"]))
    return sorted(out, reverse=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--village", default="610922104201")
    parser.add_argument("--runs", type=int, default=3, help="runs per page; the median one is shown (default 3)")
    parser.add_argument("--json", help="keep the Lighthouse reports (JSON) in this folder")
    args = parser.parse_args()
    if not shutil.which("npx"):
        sys.exit("npx not found: install Node.js 18 or newer (apt-get install nodejs npm)")
    if not os.path.exists(CHROMIUM):
        sys.exit(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")

    instance = tempfile.mkdtemp(prefix="villageapp-lighthouse-")
    out_dir = args.json or tempfile.mkdtemp(prefix="lighthouse-reports-")
    os.makedirs(out_dir, exist_ok=True)
    os.environ["VILLAGEAPP_INSTANCE_PATH"] = instance
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app()
    demo.build(app, log=lambda *_: None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    notice = running_notice(app, args.village)
    pages = [("public village page", f"/v/{args.village}/"),
             ("公示 page", f"/v/{args.village}/notices/{notice}"),
             ("login page", "/login")]
    results = []
    try:
        for i, (name, path) in enumerate(pages):
            runs = [lighthouse(base + path, out_dir, f"page-{i}-run-{r}") for r in range(max(1, args.runs))]
            runs.sort(key=lambda report: report["categories"]["performance"]["score"])
            report = runs[len(runs) // 2]
            scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
            scores["all"] = [round(r["categories"]["performance"]["score"] * 100) for r in runs]
            results.append((name, path, scores, report))
    finally:
        server.shutdown()
        shutil.rmtree(instance, ignore_errors=True)

    print(f"Lighthouse {LIGHTHOUSE.split('@')[1]}, mobile preset (simulated slow 4G, 4x CPU slowdown), Debian Chromium")
    print(f"{'page':<22} {'performance':>11} {'accessibility':>13}  {'performance of each run':<24} path")
    for name, path, scores, _ in results:
        each = " ".join(map(str, scores["all"]))
        print(f"{name:<22} {scores['performance']:>11} {scores['accessibility']:>13}  {each:<24} {path}")
    for name, _path, scores, report in results:
        for category in CATEGORIES:
            if scores[category] < 100:
                print(f"\n{name} · {category} {scores[category]}: what holds it back (weight, audit, value, score)")
                for weight, audit, value, score in holding_back(report, category):
                    print(f"  {weight:>3}  {audit:<32} {value:<14} {score:.2f}")
    print(f"\nreports (JSON): {out_dir}")
    return 0 if all(scores[c] == 100 for _, _, scores, _ in results for c in CATEGORIES) else 1


if __name__ == "__main__":
    sys.exit(main())
