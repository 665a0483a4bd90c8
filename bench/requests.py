"""The public village page served by the app vs a bare Flask + sqlite3 page rendering the same notices (goal ≥ 0.7×).

    python bench/requests.py [--requests 1000] [--rounds 3]

Builds a demo county in a temp folder. Both apps answer in-process through the Flask test client, on one thread,
in alternating rounds (the machine may be busy: CPU per request, time.process_time, is the steadier figure):
  app:  GET /v/610922104201/ of the villageapp (the whole page: rules, notices, reviews, ratings, receipts form).
  bare: ~30 lines below: one sqlite3 connection, one query for the village's public notices, one Jinja template
        padded to the same page size.
Prints req/s and CPU ms per request of each and the ratio app/bare (throughput). Prints figures; it is not a test."""
import argparse
import os
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [os.path.join(HERE, ".."), *(p for p in sys.path if os.path.abspath(p or ".") != HERE)]  # not the PyPI requests

from flask import Flask  # noqa: E402

from villageapp import create_app, demo  # noqa: E402
from villageapp.store import town_path  # noqa: E402

VILLAGE, TOWN = "610922104201", "610922104"
TARGET = 0.7
BARE_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{{ name }} · 村务公开</title>
<link rel="stylesheet" href="/static/app.css"></head><body><header>{{ name }}</header><main><h1>{{ name }} · 村务公开</h1>
<h2>公开栏</h2><ul class="cards">{% for n in notices %}<li class="card"><a href="/v/{{ code }}/notices/{{ n.uuid }}">
<span class="tag">{{ n.category }}</span> <strong>{{ n.title }}</strong></a><p class="meta">{{ n.publish_date }} 公开</p></li>
{% else %}<li class="card">还没有公开的内容。</li>{% endfor %}</ul>{{ padding }}</main></body></html>"""


def bare_app(path, padding=""):
    """A plain Flask page over the same town file: one connection, one query, one template."""
    app = Flask("bare")
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    page = app.jinja_env.from_string(BARE_PAGE)  # compiled once, as Flask's render_template would

    @app.route("/v/<code>/")
    def village(code):
        name = conn.execute("select name from villages where code = ?", [code]).fetchone()[0]
        notices = conn.execute("select uuid, title, category, publish_date from notices where village_code = ? and "
                               "status = 'published' and publish_date <= date('now') order by publish_date desc",
                               [code]).fetchall()
        return page.render(name=name, code=code, notices=notices, padding=padding)
    return app


def run(client, url, n):
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        response = client.get(url)
        assert response.status_code == 200, response.status_code
    return time.process_time() - cpu, time.perf_counter() - wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per round and app")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-requests-")
    os.environ["VILLAGEAPP_INSTANCE_PATH"] = folder
    app = create_app({"SECRET_KEY": "bench"})
    demo.build(app, households=6, log=lambda *_: None)
    url = f"/v/{VILLAGE}/"
    clients = {"app": app.test_client()}
    page = clients["app"].get(url).data
    bare_size = len(bare_app(town_path(TOWN, app)).test_client().get(url).data)
    clients["bare"] = bare_app(town_path(TOWN, app), "x" * max(0, len(page) - bare_size)).test_client()
    sizes = {name: len(client.get(url).data) for name, client in clients.items()}
    for client in clients.values():  # warm up
        run(client, url, 50)
    totals = {name: [0.0, 0.0] for name in clients}
    for _ in range(args.rounds):
        for name, client in clients.items():
            cpu, wall = run(client, url, args.requests)
            totals[name][0] += cpu
            totals[name][1] += wall
    n = args.requests * args.rounds
    print(f"public village page {url}, {n} requests each, Flask test client, one thread")
    for name, (cpu, wall) in totals.items():
        print(f"  {name:4}: {n / wall:6.0f} req/s  {cpu / n * 1000:5.2f} ms CPU per request  ({sizes[name]} bytes)")
    ratio_cpu = totals["bare"][0] / totals["app"][0]
    ratio_wall = totals["bare"][1] / totals["app"][1]
    print(f"  app / bare throughput: {ratio_cpu:.2f}× by CPU, {ratio_wall:.2f}× by wall time "
          f"(goal ≥ {TARGET}×) {'OK' if ratio_cpu >= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
