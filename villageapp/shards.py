"""Towns are the shards. One server may serve only some towns (`villageapp serve --towns CODE,…` or the TOWNS setting);
the others answer 404 there. The shard map (SHARDS: a JSON file, default instance/shards.json) says which server holds
which town:

    {"servers": {"a": "http://10.0.0.11:8000", "b": "http://10.0.0.12:8000"},
     "towns": {"610922104": "a", "610922100": "b"},
     "default": "a"}

From it `villageapp shards nginx` writes the nginx map that routes /t/<town>/…, /v/<village>/… and /api/v/<village>/…
to the server that holds the town (everything else — sign-in, static files, the county's pages — to the default), and
the county admin's overview reads each town it does not hold through that town's server (/t/<town>/figures.json),
with the admin's own sign-in (the directory of accounts is shared; see docs/scaling.md)."""
import json
import os
import urllib.error
import urllib.parse
import urllib.request

from flask import current_app

from .store import TOWN_CODE


class ShardMapError(ValueError):
    pass


def served_towns(app=None):
    """The towns this server serves, or None for every town (TOWNS unset)."""
    value = (app or current_app).config.get("TOWNS")
    if value in (None, "", [], ()):
        return None
    codes = value if isinstance(value, (list, tuple, set)) else str(value).split(",")
    return {str(code).strip() for code in codes if str(code).strip()}


def serves(town_code, app=None):
    towns = served_towns(app)
    return towns is None or town_code in towns


def map_path(app=None):
    app = app or current_app
    return app.config.get("SHARDS") or os.path.join(app.instance_path, "shards.json")


def load_map(path):
    """The shard map from its JSON file, checked: every server an http(s) URL, every town a 9-digit code on a known server."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    servers, towns = data.get("servers") or {}, data.get("towns") or {}
    if not servers:
        raise ShardMapError(f"{path}: no servers")
    for name, url in servers.items():
        if not (isinstance(url, str) and url.startswith(("http://", "https://")) and name.replace("_", "").isalnum()):
            raise ShardMapError(f"{path}: server {name!r} must be a word and its URL http(s)://…")
    for code, name in towns.items():
        if not TOWN_CODE.match(code) or name not in servers:
            raise ShardMapError(f"{path}: town {code!r} → {name!r}: a 9-digit code on a listed server")
    default = data.get("default") or next(iter(servers))
    if default not in servers:
        raise ShardMapError(f"{path}: default server {default!r} is not listed")
    return {"servers": servers, "towns": towns, "default": default}


def town_server(town_code, app=None):
    """The base URL of the server that holds a town this server does not serve, or None (no map, or not in it)."""
    path = map_path(app)
    if not os.path.exists(path):
        return None
    shard_map = load_map(path)
    name = shard_map["towns"].get(town_code)
    return shard_map["servers"][name].rstrip("/") if name else None


def fetch_figures(town_code, period_key, cookie, timeout=5):
    """A town's row of the county overview from the server that holds it: its /t/<town>/figures.json, asked with the
    county admin's own session cookie. None when the server cannot be reached or does not answer with the figures."""
    base = town_server(town_code)
    if base is None:
        return None
    query = urllib.parse.urlencode({"period": period_key})
    request = urllib.request.Request(f"{base}/t/{town_code}/figures.json?{query}",
                                     headers={"Cookie": cookie or "", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status != 200:
                return None
            return json.loads(response.read(1_000_000))
    except (urllib.error.URLError, OSError, ValueError):
        return None


def nginx_config(shard_map, listen=80, server_name="_"):
    """The nginx configuration (an http-block include) that routes each town's URLs to its server."""
    lines = ["# written by `villageapp shards nginx` from the shard map: do not edit by hand",
             "map $uri $villageapp_shard {", f"    default {shard_map['default']};"]
    for code, name in sorted(shard_map["towns"].items()):
        lines += [f'    "~^/t/{code}(/|\\.|$)" {name};',  # quoted: a regex with { } must be
                  f'    "~^/v/{code}[0-9]{{3}}(/|$)" {name};',
                  f'    "~^/api/v/{code}[0-9]{{3}}(/|$)" {name};']
    lines.append("}")
    for name, url in shard_map["servers"].items():
        host = urllib.parse.urlsplit(url).netloc
        lines += [f"upstream villageapp_{name} {{", f"    server {host};", "    keepalive 16;", "}"]
    lines += ["server {", f"    listen {listen};", f"    server_name {server_name};", "    client_max_body_size 25m;",
              "    location / {",
              "        proxy_pass http://villageapp_$villageapp_shard;",
              "        proxy_http_version 1.1;",
              "        proxy_set_header Connection \"\";",
              "        proxy_set_header Host $http_host;",
              "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
              "        proxy_set_header X-Forwarded-Proto $scheme;",
              "        proxy_set_header X-Forwarded-Host $http_host;",
              "        proxy_buffering off;  # exports stream",
              "    }", "}"]
    return "\n".join(lines) + "\n"


# ---- the command line: `villageapp shards nginx` ------------------------------------------------------------------

def command():
    import click
    from flask.cli import with_appcontext

    @click.group("shards")
    def shards():
        """Towns as shards: the shard map and nginx's routing (docs/scaling.md)."""

    @shards.command("nginx")
    @click.option("--map", "path", type=click.Path(exists=True, dir_okay=False), help="shard map (default: SHARDS)")
    @click.option("--listen", default="80", show_default=True, help="nginx's listen (port, or address:port)")
    @click.option("--server-name", default="_", show_default=True)
    @with_appcontext
    def nginx(path, listen, server_name):
        """Print the nginx config that routes each town's URLs to the server that holds it."""
        try:
            shard_map = load_map(path or map_path())
        except (OSError, ValueError) as error:
            raise click.ClickException(str(error)) from None
        click.echo(nginx_config(shard_map, listen, server_name), nl=False)

    return shards
