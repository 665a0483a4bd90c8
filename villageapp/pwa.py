"""The progressive web app shell: manifest, service worker (served from the root for its scope)
and the offline page."""
from flask import Blueprint, current_app, make_response, render_template, url_for

from .access import access
from .assets import bundle_urls
from . import kinds

bp = Blueprint("pwa", __name__)
FEATURE = kinds.Feature("pwa", bp)
CACHE_VERSION = "v1"  # bump when the caching rules in sw.js change


@bp.route("/manifest.webmanifest")
@access("public")
def manifest():
    icon = lambda name, size, purpose: {"src": url_for("static", filename=f"icons/{name}"), "sizes": size,  # noqa: E731
                                        "type": "image/png", "purpose": purpose}
    body = {
        "name": f"村务通 · {current_app.config['COUNTY_NAME']}村务自治",
        "short_name": "村务通",
        "description": "村务公开、会议记录、村规民约：离线也能用的村务工作台",
        "lang": "zh-CN",
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "background_color": "#fafaf7",
        "theme_color": "#1b5e20",
        "icons": [icon("icon-192.png", "192x192", "any"), icon("icon-512.png", "512x512", "any"),
                  icon("maskable-512.png", "512x512", "maskable")],
    }
    response = current_app.response_class(current_app.json.dumps(body, ensure_ascii=False),
                                          mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/sw.js")
@access("public")
def service_worker():
    # the cadres' bundles (outbox, forms) are not precached for every villager: the worker holds them before it keeps
    # the first page that names them (a page is kept only with every /static/ file it names, see sw.js)
    bundles = bundle_urls(current_app, ("css", "js", "outbox", "forms"))  # any of them changed: a new worker
    shell = bundle_urls(current_app, ("css", "js")) + [url_for("pwa.offline"), url_for("pwa.manifest"),
                                                       url_for("static", filename="icons/icon-192.png")]
    version = CACHE_VERSION + "-" + "-".join(u.rsplit("/", 1)[-1].split(".")[1] for u in bundles)
    outbox_url = bundle_urls(current_app, ("outbox",))[0]
    response = make_response(render_template("pwa/sw.js", shell=shell, version=version, outbox_url=outbox_url,
                                              public_pages=public_pages()))
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


def public_pages():
    """The pattern (JS syntax) of the pages anyone may read, which the service worker keeps for reading with no signal:
    the front door and each kind's public pages of a village (kinds.Public.paths)."""
    paths = [path for _kind, public in kinds.registry().collect("public") for path in public.paths]
    return r"^/(?:v/\d{12}/(?:" + "|".join(paths) + r"))?$"


@bp.app_template_global()
def record_types():
    """The record types the sync API takes (the 待发送 page refuses other types from a backup file)."""
    return sorted(kinds.synced())


@bp.route("/offline")
@access("public")
def offline():
    return render_template("pwa/offline.html", public_page=True)
