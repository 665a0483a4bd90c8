"""The CSS and JS bundles: minified, with content-hashed names so they can be cached forever."""
import os
import pickle
import threading

from flask import current_app, request, session, url_for
from flask_assets import Bundle, Environment
from webassets.version import FileManifest

assets = Environment()
css = Bundle("css/base.css", filters="rcssmin", output="gen/app.%(version)s.css")
# uuid4.js is in both bundles: the service worker loads only the outbox (it defines it once on a page with both)
js = Bundle("js/uuid4.js", "js/app.js", filters="rjsmin", output="gen/app.%(version)s.js")
# cadres' pages only (public pages stay light): the outbox, also loaded by the service worker, and the offline forms.
# The outbox's parts, in this order (each adds to the one before; see js/outbox/storage.js), make one file
outbox = Bundle("js/uuid4.js", *(f"js/outbox/{part}.js" for part in ("storage", "lease", "transport", "records", "backup", "api")),
                filters="rjsmin", output="gen/outbox.%(version)s.js")
forms = Bundle("js/forms.js", filters="rjsmin", output="gen/forms.%(version)s.js")


class AtomicFileManifest(FileManifest):
    """webassets' file manifest, written whole or not at all: its own save rewrites the file in place, so a request
    reading it while a bundle is rebuilt (another thread or worker process) met a half-written pickle (EOFError → 500)."""
    id = "atomic-file"

    def _save_manifest(self):
        temp = f"{self.filename}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(temp, "wb") as f:
            pickle.dump(self.manifest, f, protocol=2)
        os.replace(temp, self.filename)


def init_app(app):
    # the manifest (bundle → hash) sits beside the built bundles, out of git
    app.config.setdefault("ASSETS_MANIFEST", "atomic-file:" + os.path.join(app.static_folder, "gen", ".webassets-manifest"))
    app.config.setdefault("ASSETS_CACHE", False)
    app.config.setdefault("ASSETS_URL_EXPIRE", False)
    assets.init_app(app)
    assets.register("css", css)
    assets.register("js", js)
    assets.register("outbox", outbox)
    assets.register("forms", forms)
    app.add_template_global(bundle)
    app.add_template_global(static_file)
    # runs after every other after_request hook (they run last-registered first), Flask-Login's included
    app.after_request_funcs.setdefault(None, []).insert(0, _same_for_everyone)


# files that are the same whoever asks: the session is not part of the answer (Flask-Login reads it on every
# request, which makes Flask add "Vary: Cookie", and then no cache hands the file to a new session)
SESSIONLESS = {"static", "pwa.manifest", "pwa.service_worker"}


def _same_for_everyone(response):
    if request.endpoint in SESSIONLESS:
        session._get_current_object().accessed = False
        response.vary.discard("Cookie")
    return response


def bundle_urls(app, names=("css", "js", "outbox", "forms")):
    """URLs of the built bundles (base.html's tags, the service worker's precache list). Resolved once per app and
    static folder, not per request: webassets' urls() stats every source file and reads the manifest, a third of the
    public page's time. A changed script shows after a restart; in debug mode (flask --debug, ASSETS_DEBUG) it is
    resolved on every call, so a change shows at once."""
    names = tuple(names)
    manifest = app.config.get("ASSETS_MANIFEST")  # "atomic-file:<path>", or the manifest object webassets made of it
    key = (app.static_folder, str(getattr(manifest, "filename", manifest)), names)
    cache = app.extensions.setdefault("villageapp.bundle_urls", {})
    urls = None if app.debug or app.config.get("ASSETS_DEBUG") else cache.get(key)
    if urls is None:
        with app.test_request_context():
            urls = tuple(url for name in names for url in assets[name].urls())
        cache[key] = urls
    return list(urls)


def static_file(filename):
    """For templates: url_for("static", filename=…) of a file that does not change while the app runs (icons),
    built once per app."""
    app = current_app._get_current_object()
    cache = app.extensions.setdefault("villageapp.static_urls", {})
    key = (request.script_root, filename)
    if key not in cache:
        cache[key] = url_for("static", filename=filename)
    return cache[key]


def bundle(name):
    """For templates: the URLs of one bundle ({% for url in bundle("css") %}), one in production."""
    return bundle_urls(current_app._get_current_object(), (name,))
