"""Towns as shards: a server with TOWNS serves only those towns (the others 404); `villageapp shards nginx` routes each
town's URLs to its server; two real `villageapp serve` processes with disjoint towns behind Debian's nginx: cadres of
both work, the county admin sees every town's figures (the other server's through /t/<town>/figures.json), and one
server stopped leaves the other's towns working."""
import importlib.util
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from conftest import CHENGGUAN_TOWN, CHIHE, CHIHE_TOWN, COUNTY, GUYAN, GUYAN_VILLAGE, MINGXING, MINGXING_VILLAGE, _app

from villageapp import shards

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("bench_writers", os.path.join(ROOT, "bench", "writers.py"))
writers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(writers)
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def test_a_server_with_towns_answers_404_for_the_others(instance_path, auth_for):
    app = _app(instance_path, TOWNS=CHIHE_TOWN)
    client = app.test_client()
    assert client.get(f"/v/{MINGXING_VILLAGE}/").status_code == 200
    assert client.get(f"/v/{GUYAN_VILLAGE}/").status_code == 404
    auth_for(client).login(GUYAN)
    assert client.get(f"/v/{GUYAN_VILLAGE}/home").status_code == 404
    assert client.head(f"/api/v/{GUYAN_VILLAGE}/files/{'0' * 64}").status_code == 404
    client = app.test_client()
    auth_for(client).login(CHIHE)
    assert client.get(f"/t/{CHIHE_TOWN}/").status_code == 200
    figures = client.get(f"/t/{CHIHE_TOWN}/figures.json", query_string={"period": "2026"})
    assert figures.status_code == 200 and figures.json["villages"] == 3 and figures.json["town"] == CHIHE_TOWN
    # from the environment, as `villageapp serve --towns` passes it (a single code arrives as a number)
    assert shards.served_towns(_app(instance_path, TOWNS=int(CHIHE_TOWN))) == {CHIHE_TOWN}
    assert shards.served_towns(_app(instance_path)) is None


@pytest.fixture
def auth_for():
    from conftest import Auth
    return Auth


def shard_map(tmp_path, ports):
    path = tmp_path / "shards.json"
    path.write_text(json.dumps({"servers": {"a": f"http://127.0.0.1:{ports[0]}", "b": f"http://127.0.0.1:{ports[1]}"},
                                "towns": {CHIHE_TOWN: "a", CHENGGUAN_TOWN: "b"}, "default": "a"}))
    return path


def test_the_nginx_map_routes_each_towns_urls(tmp_path):
    config = shards.nginx_config(shards.load_map(shard_map(tmp_path, (8001, 8002))), listen=8080)
    assert f'"~^/v/{CHIHE_TOWN}[0-9]{{3}}(/|$)" a;' in config and f'"~^/api/v/{CHENGGUAN_TOWN}[0-9]{{3}}(/|$)" b;' in config
    assert f'"~^/t/{CHENGGUAN_TOWN}(/|\\.|$)" b;' in config and "default a;" in config
    assert "server 127.0.0.1:8002;" in config and "listen 8080;" in config
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"servers": {"a": "ftp://x"}, "towns": {}}))
    with pytest.raises(shards.ShardMapError):
        shards.load_map(bad)


class Nginx:
    def __init__(self, tmp_path, config):
        self.dir = tmp_path / "nginx"
        self.dir.mkdir()
        self.port = writers.free_port()
        (self.dir / "shards.conf").write_text(config.replace("listen 80;", f"listen 127.0.0.1:{self.port};"))
        (self.dir / "nginx.conf").write_text(f"""
daemon off; worker_processes 1; pid {self.dir}/nginx.pid; error_log {self.dir}/error.log;
events {{ worker_connections 256; }}
http {{ access_log off; client_body_temp_path {self.dir}/body; proxy_temp_path {self.dir}/proxy;
        fastcgi_temp_path {self.dir}/fcgi; uwsgi_temp_path {self.dir}/uwsgi; scgi_temp_path {self.dir}/scgi;
        include {self.dir}/shards.conf; }}
""")
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.process = subprocess.Popen([NGINX, "-c", str(self.dir / "nginx.conf"), "-p", str(self.dir)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/login", timeout=2).close()
                return self
            except urllib.error.HTTPError:
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                if self.process.poll() is not None:
                    raise RuntimeError("nginx stopped: " + self.process.stderr.read().decode())
                time.sleep(0.2)
        raise RuntimeError("nginx did not answer")

    def __exit__(self, *_exc):
        self.process.terminate()
        self.process.wait(10)


@pytest.mark.skipif(not os.path.exists(NGINX), reason="Debian's nginx is not installed (make test installs it)")
def test_two_servers_behind_nginx_split_the_county_by_town(instance_path, tmp_path):
    ports = (writers.free_port(), writers.free_port())
    path = shard_map(tmp_path, ports)
    config = shards.nginx_config(shards.load_map(path))
    env = {"VILLAGEAPP_SHARDS": str(path), "VILLAGEAPP_TRUST_PROXY": "1"}
    a = writers.Server(instance_path, threads=4, env=env, name="a", args=("--towns", CHIHE_TOWN))  # the option
    b = writers.Server(instance_path, threads=4, env={**env, "VILLAGEAPP_TOWNS": CHENGGUAN_TOWN}, name="b")  # the setting
    a.port, a.base = ports[0], f"http://127.0.0.1:{ports[0]}"
    b.port, b.base = ports[1], f"http://127.0.0.1:{ports[1]}"
    with a, Nginx(tmp_path, config) as nginx:
        with b:
            mingxing, guyan, county = (writers.Browser(nginx.base) for _ in range(3))
            mingxing.login(MINGXING)
            guyan.login(GUYAN)
            county.login(COUNTY)
            assert mingxing.get(f"/v/{MINGXING_VILLAGE}/home")[0] == 200
            assert guyan.get(f"/v/{GUYAN_VILLAGE}/home")[0] == 200
            # each server holds only its towns: asked directly, the other's answer 404
            assert writers.Browser(a.base).get(f"/v/{GUYAN_VILLAGE}/")[0] == 404
            assert writers.Browser(b.base).get(f"/v/{MINGXING_VILLAGE}/")[0] == 404
            status, page = county.get("/?period=2026")
            assert status == 200
            for code in (CHIHE_TOWN, CHENGGUAN_TOWN):
                row = page.split(f'data-town="{code}"')[1].split("</tr>")[0]
                assert "data-figure=" in row and "data-unreachable" not in row and "data-missing" not in row, code
            remote = json.loads(county.get(f"/t/{CHENGGUAN_TOWN}/figures.json?period=2026")[1])
            assert remote["town"] == CHENGGUAN_TOWN and remote["villages"] >= 1
        # server b stopped: a's towns work on, b's answer 502 from nginx, the county page says b's town cannot be reached
        assert mingxing.get(f"/v/{MINGXING_VILLAGE}/home")[0] == 200
        assert guyan.get(f"/v/{GUYAN_VILLAGE}/home")[0] in (502, 504)
        status, page = county.get("/?period=2026")
        assert status == 200
        assert "data-unreachable" in page.split(f'data-town="{CHENGGUAN_TOWN}"')[1].split("</tr>")[0]
        assert "data-unreachable" not in page.split(f'data-town="{CHIHE_TOWN}"')[1].split("</tr>")[0]
        assert "Traceback" not in a.stderr()


def test_serve_refuses_a_town_it_does_not_have(runner):
    result = runner.invoke(args=["serve", "--towns", f"{CHIHE_TOWN},610922999"])
    assert result.exit_code == 2 and "610922999" in result.output
